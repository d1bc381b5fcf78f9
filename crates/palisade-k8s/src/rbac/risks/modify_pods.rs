use super::{Perm, RiskCx, RiskRule};

declare_rule! {
    /// ## What it does
    /// Finds subjects that can update or patch pods.
    ///
    /// ## Why is this bad?
    /// A pod's container images are mutable: patching the image of a
/// running pod runs new code with that pod's service account and
/// volumes, without a new rollout, CI or most admission policies looking.
    ///
    /// ## Example
    /// ```yaml
    /// rules:
///   - apiGroups: [""]
///     resources: ["pods"]
///     verbs: ["patch"]
    /// ```
    ///
    /// ## Fix
    /// Change workloads through their controllers (Deployments, …);
/// Palisade's admission webhook denies in-place image changes.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Role-based access control
    pub struct ModifyPods {
        code: "RBAC019",
        name: "modify-pods",
        title: "Subject can modify running pods",
        severity: High,
        scanner: Rbac,
        references: [Nsa("Role-based access control")],
        fix: "Roll changes out through the owning controller; remove `update`/`patch` on pods.",
    }
}

const PERMS: &[Perm] = &[
    Perm::new("update", "", "pods"),
    Perm::new("patch", "", "pods"),
];

impl RiskRule for ModifyPods {
    fn check(&self, cx: &mut RiskCx<'_>) {
        let grants = cx.allowing_any(PERMS);
        if !grants.is_empty() {
            cx.report(&grants, "modify running pods (update or patch pods)");
        }
    }
}
