use crate::rules::cluster::flags::{Invocation, Problems};
use crate::rules::{Cx, Rule};

declare_rule! {
    /// ## What it does
    /// Finds containers running `kube-controller-manager` with settings the
    /// CIS Kubernetes Benchmark (section 1.3) marks as insecure: profiling
    /// on, controllers sharing one service account, no service account
    /// signing key or root CA, or serving on all interfaces.
    ///
    /// ## Why is this bad?
    /// Without `--use-service-account-credentials`, every controller acts
    /// with the controller manager's own, very broad identity, so a flaw in
    /// one controller has all their permissions and audit logs cannot tell
    /// them apart. Without `--service-account-private-key-file` and
    /// `--root-ca-file`, tokens are not signed with a dedicated key and pods
    /// cannot verify the API server. A bind address other than loopback
    /// exposes its metrics, health and profiling endpoints to the network.
    ///
    /// ## Example
    /// ```yaml
    /// command:
    ///   - kube-controller-manager
    ///   - --bind-address=0.0.0.0
    ///   - --profiling=true
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    /// command:
    ///   - kube-controller-manager
    ///   - --bind-address=127.0.0.1
    ///   - --profiling=false
    ///   - --use-service-account-credentials=true
    ///   - --service-account-private-key-file=/etc/kubernetes/pki/sa.key
    ///   - --root-ca-file=/etc/kubernetes/pki/ca.crt
    /// ```
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 1.3: Controller Manager
    /// - NSA/CISA Kubernetes Hardening Guide: Control plane hardening
    /// - https://kubernetes.io/docs/reference/command-line-tools-reference/kube-controller-manager/
    pub struct InsecureControllerManagerFlag {
        code: "K8S080",
        name: "insecure-controller-manager-flag",
        title: "kube-controller-manager runs with an insecure flag",
        severity: Medium,
        references: [
            Cis("1.3"),
            Nsa("Control plane hardening"),
            Url("https://kubernetes.io/docs/reference/command-line-tools-reference/kube-controller-manager/"),
        ],
        fix: "Set the kube-controller-manager flags the CIS Benchmark section 1.3 requires, as each finding names.",
    }
}

/// Loopback addresses (CIS asks for 127.0.0.1; `::1` is as private).
pub(super) fn is_loopback(address: &str) -> bool {
    matches!(address.trim(), "127.0.0.1" | "::1")
}

impl Rule for InsecureControllerManagerFlag {
    fn check(&self, cx: &mut Cx<'_>) {
        let Some(pod) = cx.pod() else { return };
        for inv in Invocation::find(&pod, "kube-controller-manager", None) {
            let mut p = Problems::new(&inv);
            p.require_bool(
                "profiling",
                false,
                true,
                "1.3.2",
                "the /debug/pprof endpoints expose internals",
            );
            p.require_bool(
                "use-service-account-credentials",
                true,
                false,
                "1.3.3",
                "every controller acts with the controller manager's own broad identity",
            );
            p.require(
                "service-account-private-key-file",
                "1.3.4",
                "service account tokens are not signed with a dedicated key",
            );
            p.require(
                "root-ca-file",
                "1.3.5",
                "pods get no CA bundle to verify the API server",
            );
            match inv.get("bind-address") {
                Some(flag) if !is_loopback(&flag.value) => p.bad(
                    &flag,
                    "1.3.7",
                    "its endpoints are reachable from the network",
                ),
                Some(_) => {}
                None => p.missing(
                    "bind-address",
                    "=127.0.0.1",
                    "1.3.7",
                    "it listens on all interfaces",
                ),
            }
            for (loc, message) in p.found {
                cx.report(loc, message);
            }
        }
    }
}
