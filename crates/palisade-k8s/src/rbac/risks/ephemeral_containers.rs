use super::{Perm, RiskCx, RiskRule};

declare_rule! {
    /// ## What it does
    /// Finds subjects that can add ephemeral (debug) containers to running
/// pods (`update` or `patch` on `pods/ephemeralcontainers`).
    ///
    /// ## Why is this bad?
    /// An ephemeral container runs any image inside an existing pod, with
/// the pod's service account, volumes and network namespace — and with a
/// security context of the requester's choosing where admission allows.
/// It is code execution in someone else's workload.
    ///
    /// ## Example
    /// ```yaml
    /// rules:
///   - apiGroups: [""]
///     resources: ["pods/ephemeralcontainers"]
///     verbs: ["patch"]
    /// ```
    ///
    /// ## Fix
    /// Grant it only to a break-glass group, and deny it at admission for
/// everyone else.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Role-based access control
    pub struct EphemeralContainers {
        code: "RBAC007",
        name: "ephemeral-containers",
        title: "Subject can add ephemeral containers to pods",
        severity: High,
        scanner: Rbac,
        references: [Nsa("Role-based access control")],
        fix: "Grant `pods/ephemeralcontainers` only through break-glass access.",
    }
}

const PERMS: &[Perm] = &[
    Perm::new("update", "", "pods/ephemeralcontainers"),
    Perm::new("patch", "", "pods/ephemeralcontainers"),
];

impl RiskRule for EphemeralContainers {
    fn check(&self, cx: &mut RiskCx<'_>) {
        let grants = cx.allowing_any(PERMS);
        if !grants.is_empty() {
            cx.report(&grants, "add ephemeral containers to running pods");
        }
    }
}
