use crate::rules::{Cx, Rule};
use crate::yaml::Node;

declare_rule! {
    /// ## What it does
    /// Finds pod specs that do not set `automountServiceAccountToken: false`
    /// (missing or `true`), so the kubelet mounts an API token of the pod's
    /// service account into every container.
    ///
    /// Setting the field to `false` on the ServiceAccount also prevents the
    /// mount, but only the pod's field is authoritative (it overrides the
    /// ServiceAccount's), so this rule asks for it on the pod.
    ///
    /// ## Why is this bad?
    /// Most applications never call the Kubernetes API, yet each of their
    /// containers holds a bearer token at
    /// `/var/run/secrets/kubernetes.io/serviceaccount/token`. Anyone who
    /// gets code execution or a file-read bug in the container can use it
    /// to talk to the API server with the service account's permissions,
    /// and to probe the cluster even when those are minimal.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   serviceAccountName: web
    ///   containers:
    ///     - name: web
    ///       image: registry.example.com/web:3.2.0
    /// ```
    ///
    /// ## Fix
    /// Opt out, and mount a token explicitly (projected volume) only in pods
    /// that need the API:
    /// ```yaml
    /// spec:
    ///   serviceAccountName: web
    ///   automountServiceAccountToken: false
    /// ```
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.1.6: Ensure that Service Account Tokens are only mounted where necessary
    /// - NSA/CISA Kubernetes Hardening Guide: Protecting Pod service account tokens
    pub struct ServiceAccountTokenAutomount {
        code: "K8S043",
        name: "service-account-token-automount",
        title: "Service account token is mounted automatically",
        severity: Low,
        references: [Cis("5.1.6"), Nsa("Protecting Pod service account tokens")],
        fix: "Set `automountServiceAccountToken: false` in the pod spec unless the pod calls the Kubernetes API.",
    }
}

impl Rule for ServiceAccountTokenAutomount {
    fn check(&self, cx: &mut Cx<'_>) {
        let Some(pod) = cx.pod() else { return };
        let value = pod
            .get("automountServiceAccountToken")
            .and_then(Node::as_bool);
        let message = match value {
            Some(false) => return,
            Some(true) => format!(
                "{} mounts its service account token into every container (automountServiceAccountToken: true)",
                cx.describe()
            ),
            None => format!(
                "{} mounts its service account token into every container (automountServiceAccountToken is not false)",
                cx.describe()
            ),
        };
        cx.report(pod.at(&["automountServiceAccountToken"]), message);
    }
}
