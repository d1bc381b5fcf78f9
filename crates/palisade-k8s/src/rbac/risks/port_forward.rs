use super::{Perm, RiskCx, RiskRule};

declare_rule! {
    /// ## What it does
    /// Finds subjects that can open tunnels to pods' ports
/// (`pods/portforward`).
    ///
    /// ## Why is this bad?
    /// Port-forwarding reaches a pod's ports from the API server, bypassing
/// NetworkPolicies and any ingress authentication: admin ports, debug
/// endpoints and databases bound to localhost become reachable.
    ///
    /// ## Example
    /// ```yaml
    /// rules:
///   - apiGroups: [""]
///     resources: ["pods/portforward"]
///     verbs: ["create"]
    /// ```
    ///
    /// ## Fix
    /// Remove it from standing roles; reach services through their
/// Services, governed by NetworkPolicies.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Network separation and hardening
    pub struct PortForward {
        code: "RBAC008",
        name: "port-forward",
        title: "Subject can port-forward into pods",
        severity: Medium,
        scanner: Rbac,
        references: [Nsa("Network policies")],
        fix: "Remove `pods/portforward`; expose what must be reachable through Services with NetworkPolicies.",
    }
}

const PERMS: &[Perm] = &[
    Perm::new("create", "", "pods/portforward"),
    Perm::new("get", "", "pods/portforward"),
];

impl RiskRule for PortForward {
    fn check(&self, cx: &mut RiskCx<'_>) {
        let grants = cx.allowing_any(PERMS);
        if !grants.is_empty() {
            cx.report(&grants, "port-forward into pods");
        }
    }
}
