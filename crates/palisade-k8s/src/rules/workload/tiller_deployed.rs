use crate::rules::workload::image_repository;
use crate::rules::{Cx, Rule};

declare_rule! {
    /// ## What it does
    /// Finds workloads running Tiller, the in-cluster server of Helm v2
    /// (an image whose path ends in `/tiller`, such as
    /// `gcr.io/kubernetes-helm/tiller`).
    ///
    /// ## Why is this bad?
    /// Tiller installs charts with its own service account, usually bound to
    /// `cluster-admin`, and by default serves its gRPC API on port 44134 with
    /// no authentication. Any pod that can reach it can install a chart —
    /// a privileged DaemonSet, a new ClusterRoleBinding — and so owns the
    /// cluster. Helm v2 has been unsupported since November 2020 and gets
    /// no security fixes.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Deployment
    /// metadata: {name: tiller-deploy, namespace: kube-system}
    /// spec:
    ///   template:
    ///     spec:
    ///       containers:
    ///         - name: tiller
    ///           image: gcr.io/kubernetes-helm/tiller:v2.16.12
    /// ```
    ///
    /// ## Fix
    /// Migrate releases to Helm 3 (`helm 2to3`), which runs no server in the
    /// cluster and uses the caller's own credentials, then delete the Tiller
    /// Deployment, Service and its ClusterRoleBinding.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Upgrading and application security practices
    /// - CWE-306: Missing Authentication for Critical Function
    /// - https://helm.sh/blog/helm-v2-deprecation-timeline/
    pub struct TillerDeployed {
        code: "K8S059",
        name: "tiller-deployed",
        title: "Helm v2 Tiller is deployed",
        severity: High,
        references: [
            Nsa("Upgrading and application security practices"),
            Cwe("CWE-306"),
            Url("https://helm.sh/blog/helm-v2-deprecation-timeline/"),
        ],
        fix: "Migrate to Helm 3 and remove Tiller and its service account bindings.",
    }
}

/// Whether `image` is Helm v2's Tiller.
fn is_tiller(image: &str) -> bool {
    let repo = image_repository(image);
    repo == "tiller" || repo.ends_with("/tiller") || repo.contains("kubernetes-helm/tiller")
}

impl Rule for TillerDeployed {
    fn check(&self, cx: &mut Cx<'_>) {
        let Some(pod) = cx.pod() else { return };
        for c in pod.containers() {
            let Some(image) = c.image().filter(|i| is_tiller(i)) else {
                continue;
            };
            cx.report(
                c.at(&["image"]),
                format!(
                    "{} of {} runs Helm v2 Tiller ({image})",
                    c.describe(),
                    cx.describe()
                ),
            );
        }
    }
}
