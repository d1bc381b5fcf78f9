use super::{Perm, RiskCx, RiskRule};

declare_rule! {
    /// ## What it does
    /// Finds subjects with the `escalate` or `bind` verb on roles or
/// cluster roles.
    ///
    /// ## Why is this bad?
    /// RBAC normally stops subjects from granting permissions they do not
/// hold. `escalate` lifts that for editing roles, `bind` for binding them:
/// the holder can bind `cluster-admin` to itself.
    ///
    /// ## Example
    /// ```yaml
    /// rules:
///   - apiGroups: ["rbac.authorization.k8s.io"]
///     resources: ["clusterroles"]
///     verbs: ["bind", "escalate"]
    /// ```
    ///
    /// ## Fix
    /// Remove both verbs; manage RBAC through reviewed GitOps changes
/// applied by a dedicated identity.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.1.8: Limit use of the Bind, Impersonate and Escalate permissions
    /// - NSA/CISA Kubernetes Hardening Guide: Role-based access control
    /// - CWE-269: Improper Privilege Management
    pub struct EscalateOrBind {
        code: "RBAC009",
        name: "escalate-or-bind",
        title: "Subject can grant itself any permission (escalate/bind)",
        severity: Critical,
        scanner: Rbac,
        references: [Cis("5.1.8"), Nsa("Role-based access control"), Cwe("CWE-269")],
        fix: "Remove the `escalate` and `bind` verbs; let only cluster administrators manage RBAC.",
    }
}

const PERMS: &[Perm] = &[
    Perm::new("escalate", "rbac.authorization.k8s.io", "roles"),
    Perm::new("escalate", "rbac.authorization.k8s.io", "clusterroles"),
    Perm::new("bind", "rbac.authorization.k8s.io", "roles"),
    Perm::new("bind", "rbac.authorization.k8s.io", "clusterroles"),
];

impl RiskRule for EscalateOrBind {
    fn check(&self, cx: &mut RiskCx<'_>) {
        let grants = cx.allowing_any(PERMS);
        if !grants.is_empty() {
            cx.report(
                &grants,
                "escalate or bind roles (grant itself any permission)",
            );
        }
    }
}
