use super::{Perm, RiskCx, RiskRule};

declare_rule! {
    /// ## What it does
    /// Finds subjects that can impersonate users, groups, service
/// accounts or user extras.
    ///
    /// ## Why is this bad?
    /// Impersonation makes every request as someone else: impersonating
/// the group `system:masters` is cluster-admin, whatever RBAC says about
/// the impersonator.
    ///
    /// ## Example
    /// ```yaml
    /// rules:
///   - apiGroups: [""]
///     resources: ["users", "groups"]
///     verbs: ["impersonate"]
    /// ```
    ///
    /// ## Fix
    /// Remove it; an authenticating proxy that needs it should be limited
/// to the identities it serves with `resourceNames`.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.1.8: Limit use of the Bind, Impersonate and Escalate permissions
    /// - NSA/CISA Kubernetes Hardening Guide: Role-based access control
    /// - CWE-269: Improper Privilege Management
    pub struct Impersonate {
        code: "RBAC010",
        name: "impersonate",
        title: "Subject can impersonate other users, groups or service accounts",
        severity: Critical,
        scanner: Rbac,
        references: [Cis("5.1.8"), Nsa("Role-based access control"), Cwe("CWE-269")],
        fix: "Remove `impersonate`; if a proxy needs it, restrict it with `resourceNames`.",
    }
}

const PERMS: &[Perm] = &[
    Perm::new("impersonate", "", "users"),
    Perm::new("impersonate", "", "groups"),
    Perm::new("impersonate", "", "serviceaccounts"),
    Perm::new("impersonate", "authentication.k8s.io", "uids"),
    Perm::new("impersonate", "authentication.k8s.io", "userextras/scopes"),
];

impl RiskRule for Impersonate {
    fn check(&self, cx: &mut RiskCx<'_>) {
        let grants = cx.allowing_any(PERMS);
        if !grants.is_empty() {
            cx.report(&grants, "impersonate users, groups or service accounts");
        }
    }
}
