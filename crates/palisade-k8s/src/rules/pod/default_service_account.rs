use crate::rules::{Cx, Rule};
use crate::yaml::Node;

declare_rule! {
    /// ## What it does
    /// Finds pod specs that run as the namespace's `default` service
    /// account: `serviceAccountName` (or the deprecated `serviceAccount`)
    /// is missing or `default`.
    ///
    /// ## Why is this bad?
    /// Every pod of the namespace that names no service account shares the
    /// `default` one. Any permission granted to it for one workload is
    /// granted to all of them, and RBAC bindings, audit logs and cloud
    /// workload identities cannot tell the workloads apart. A compromise of
    /// the least important pod then yields whatever the most privileged
    /// one needed.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   containers:
    ///     - name: api
    ///       image: registry.example.com/api:2.0.1
    /// ```
    ///
    /// ## Fix
    /// Create a ServiceAccount per workload and bind only what it needs:
    /// ```yaml
    /// spec:
    ///   serviceAccountName: api
    ///   automountServiceAccountToken: false
    /// ```
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.1.5: Ensure that default service accounts are not actively used
    /// - NSA/CISA Kubernetes Hardening Guide: Role-based access control
    pub struct DefaultServiceAccount {
        code: "K8S044",
        name: "default-service-account",
        title: "Pod uses the default service account",
        severity: Low,
        references: [Cis("5.1.5"), Nsa("Role-based access control")],
        fix: "Set `serviceAccountName` to a dedicated ServiceAccount for the workload.",
    }
}

impl Rule for DefaultServiceAccount {
    fn check(&self, cx: &mut Cx<'_>) {
        let Some(pod) = cx.pod() else { return };
        let (field, name) = match ["serviceAccountName", "serviceAccount"]
            .into_iter()
            .find_map(|f| {
                pod.get(f)
                    .and_then(Node::as_str)
                    .filter(|n| !n.is_empty())
                    .map(|n| (f, n))
            }) {
            Some((field, name)) => (field, Some(name)),
            None => ("serviceAccountName", None),
        };
        let message = match name {
            Some("default") => format!("{} runs as the `default` service account", cx.describe()),
            Some(_) => return,
            None => format!(
                "{} runs as the `default` service account (serviceAccountName is not set)",
                cx.describe()
            ),
        };
        cx.report(pod.at(&[field]), message);
    }
}
