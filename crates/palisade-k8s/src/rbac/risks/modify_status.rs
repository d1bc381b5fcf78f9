use super::{Perm, RiskCx, RiskRule};

declare_rule! {
    /// ## What it does
    /// Finds subjects that can update or patch `nodes/status`,
/// `pods/status` or `services/status`.
    ///
    /// ## Why is this bad?
    /// Status is what controllers believe: a forged node status attracts
/// or repels pods (labels, capacity, conditions), a forged pod status
/// hijacks Service endpoints, and `services/status` sets a load balancer
/// IP that intercepts traffic (CVE-2020-8554).
    ///
    /// ## Example
    /// ```yaml
    /// rules:
///   - apiGroups: [""]
///     resources: ["services/status"]
///     verbs: ["patch"]
    /// ```
    ///
    /// ## Fix
    /// Only kubelets, the node controller and load balancer controllers
/// should write status.
    ///
    /// ## References
    /// - CVE-2020-8554: Man in the middle using LoadBalancer or ExternalIPs
    pub struct ModifyStatus {
        code: "RBAC016",
        name: "modify-status",
        title: "Subject can rewrite node, pod or service status",
        severity: Medium,
        scanner: Rbac,
        references: [Url("https://github.com/kubernetes/kubernetes/issues/97076")],
        fix: "Leave status updates to the controllers and kubelets that own them.",
    }
}

const PERMS: &[Perm] = &[
    Perm::new("update", "", "nodes/status"),
    Perm::new("patch", "", "nodes/status"),
    Perm::new("update", "", "pods/status"),
    Perm::new("patch", "", "pods/status"),
    Perm::new("update", "", "services/status"),
    Perm::new("patch", "", "services/status"),
];

impl RiskRule for ModifyStatus {
    fn check(&self, cx: &mut RiskCx<'_>) {
        let grants = cx.allowing_any(PERMS);
        if !grants.is_empty() {
            cx.report(&grants, "rewrite node, pod or service status");
        }
    }
}
