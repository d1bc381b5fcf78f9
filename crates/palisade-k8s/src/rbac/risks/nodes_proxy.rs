use super::{Perm, RiskCx, RiskRule};

declare_rule! {
    /// ## What it does
    /// Finds subjects that can proxy requests to kubelets (`get` or
/// `create` on `nodes/proxy`).
    ///
    /// ## Why is this bad?
    /// The kubelet API runs commands in any container on the node
/// (`/exec`, `/run`) and reads logs and pod specs; through the API server
/// proxy it bypasses admission and most audit detail. `get` alone is
/// enough for WebSocket-based exec.
    ///
    /// ## Example
    /// ```yaml
    /// rules:
///   - apiGroups: [""]
///     resources: ["nodes/proxy"]
///     verbs: ["get"]
    /// ```
    ///
    /// ## Fix
    /// Remove it; monitoring agents can use `nodes/metrics` and
/// `nodes/stats`.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.1.10: Minimize access to the proxy sub-resource of nodes
    /// - NSA/CISA Kubernetes Hardening Guide: Control plane hardening
    pub struct NodesProxy {
        code: "RBAC015",
        name: "nodes-proxy",
        title: "Subject can reach the kubelet API through nodes/proxy",
        severity: Critical,
        scanner: Rbac,
        references: [Cis("5.1.10"), Nsa("Control plane hardening")],
        fix: "Remove `nodes/proxy`; read node metrics through the metrics API instead.",
    }
}

const PERMS: &[Perm] = &[
    Perm::new("get", "", "nodes/proxy"),
    Perm::new("create", "", "nodes/proxy"),
];

impl RiskRule for NodesProxy {
    fn check(&self, cx: &mut RiskCx<'_>) {
        let grants = cx.allowing_any(PERMS);
        if !grants.is_empty() {
            cx.report(&grants, "reach every kubelet's API (nodes/proxy)");
        }
    }
}
