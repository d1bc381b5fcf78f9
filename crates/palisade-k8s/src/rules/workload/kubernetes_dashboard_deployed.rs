use crate::rules::workload::image_repository;
use crate::rules::{Cx, Rule};

declare_rule! {
    /// ## What it does
    /// Finds workloads running the Kubernetes Dashboard (images
    /// `kubernetesui/dashboard*` or `*/kubernetes-dashboard*`).
    ///
    /// ## Why is this bad?
    /// The dashboard is a web front end to the API server. It is regularly
    /// installed with a powerful service account, exposed through a Service
    /// or Ingress, and — in older versions or with `--enable-skip-login` —
    /// usable without logging in: Tesla's 2018 cryptojacking incident began
    /// at an unauthenticated dashboard. Even with login, it is one more
    /// internet-facing path to cluster credentials.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: kubernetes-dashboard
    ///     image: kubernetesui/dashboard:v2.7.0
    ///     args: ["--enable-skip-login"]
    /// ```
    ///
    /// ## Fix
    /// Remove the dashboard and use `kubectl` or a local client with the
    /// user's own credentials. If it must stay, keep it on a private network,
    /// require login, and bind its service account to read-only roles.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Role-based access control
    /// - CWE-284: Improper Access Control
    /// - https://github.com/kubernetes/dashboard/blob/master/docs/user/access-control/README.md
    pub struct KubernetesDashboardDeployed {
        code: "K8S060",
        name: "kubernetes-dashboard-deployed",
        title: "Kubernetes Dashboard is deployed",
        severity: Medium,
        references: [
            Nsa("Role-based access control"),
            Cwe("CWE-284"),
            Url("https://github.com/kubernetes/dashboard/blob/master/docs/user/access-control/README.md"),
        ],
        fix: "Remove the Kubernetes Dashboard, or keep it private, behind login, with a read-only service account.",
    }
}

/// Whether `image` is a Kubernetes Dashboard component.
fn is_dashboard(image: &str) -> bool {
    let repo = image_repository(image);
    let last = repo.rsplit('/').next().unwrap_or_default();
    repo.ends_with("kubernetesui/dashboard")
        || repo.contains("kubernetesui/dashboard-")
        || last.starts_with("kubernetes-dashboard")
}

impl Rule for KubernetesDashboardDeployed {
    fn check(&self, cx: &mut Cx<'_>) {
        let Some(pod) = cx.pod() else { return };
        for c in pod.containers() {
            let Some(image) = c.image().filter(|i| is_dashboard(i)) else {
                continue;
            };
            cx.report(
                c.at(&["image"]),
                format!(
                    "{} of {} runs the Kubernetes Dashboard ({image})",
                    c.describe(),
                    cx.describe()
                ),
            );
        }
    }
}
