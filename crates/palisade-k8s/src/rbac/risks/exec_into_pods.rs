use super::{Perm, RiskCx, RiskRule};

declare_rule! {
    /// ## What it does
    /// Finds subjects that can open a shell in running containers
/// (`create` on `pods/exec`; `get` suffices on API servers before 1.35,
/// which accept exec over WebSocket with `get`).
    ///
    /// ## Why is this bad?
    /// A shell in a container is everything the container holds: its
/// mounted Secrets, its service account token, its network position.
/// Exec also bypasses the image's immutability: anything can be run
/// there without going through CI or admission.
    ///
    /// ## Example
    /// ```yaml
    /// rules:
///   - apiGroups: [""]
///     resources: ["pods/exec"]
///     verbs: ["create"]
    /// ```
    ///
    /// ## Fix
    /// Remove `pods/exec` from standing roles; grant it through a
/// time-limited break-glass group, and deny it at admission
/// (`palisade admission serve`) outside that group.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Role-based access control
    /// - CWE-269: Improper Privilege Management
    pub struct ExecIntoPods {
        code: "RBAC005",
        name: "exec-into-pods",
        title: "Subject can execute commands in pods",
        severity: High,
        scanner: Rbac,
        references: [Nsa("Role-based access control"), Cwe("CWE-269")],
        fix: "Remove `pods/exec`; debug through logs and ephemeral debug workflows with break-glass access.",
    }
}

const PERMS: &[Perm] = &[
    Perm::new("create", "", "pods/exec"),
    Perm::new("get", "", "pods/exec"),
];

impl RiskRule for ExecIntoPods {
    fn check(&self, cx: &mut RiskCx<'_>) {
        let grants = cx.allowing_any(PERMS);
        if !grants.is_empty() {
            cx.report(&grants, "run commands in pods (pods/exec)");
        }
    }
}
