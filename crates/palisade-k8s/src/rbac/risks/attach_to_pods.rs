use super::{Perm, RiskCx, RiskRule};

declare_rule! {
    /// ## What it does
    /// Finds subjects that can attach to the main process of running
/// containers (`pods/attach`).
    ///
    /// ## Why is this bad?
    /// Attaching gives the stdin and stdout of the container's process —
/// an interactive shell when the process is one — with the same reach
/// as `pods/exec`.
    ///
    /// ## Example
    /// ```yaml
    /// rules:
///   - apiGroups: [""]
///     resources: ["pods/attach"]
///     verbs: ["create", "get"]
    /// ```
    ///
    /// ## Fix
    /// Remove `pods/attach` from standing roles; grant it only through
/// break-glass access.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Role-based access control
    pub struct AttachToPods {
        code: "RBAC006",
        name: "attach-to-pods",
        title: "Subject can attach to running containers",
        severity: High,
        scanner: Rbac,
        references: [Nsa("Role-based access control")],
        fix: "Remove `pods/attach` from standing roles; use break-glass access.",
    }
}

const PERMS: &[Perm] = &[
    Perm::new("create", "", "pods/attach"),
    Perm::new("get", "", "pods/attach"),
];

impl RiskRule for AttachToPods {
    fn check(&self, cx: &mut RiskCx<'_>) {
        let grants = cx.allowing_any(PERMS);
        if !grants.is_empty() {
            cx.report(&grants, "attach to running containers (pods/attach)");
        }
    }
}
