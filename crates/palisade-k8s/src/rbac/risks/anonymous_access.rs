use palisade_core::Severity;

use super::{RiskCx, RiskRule};
use crate::rbac::policy::Principal;

/// Roles Kubernetes itself binds to these groups by default.
const BOOTSTRAP_ROLES: &[&str] = &[
    "system:public-info-viewer",
    "system:discovery",
    "system:basic-user",
];

declare_rule! {
    /// ## What it does
    /// Finds permissions granted to `system:anonymous`,
    /// `system:unauthenticated` or `system:authenticated`, beyond the
    /// discovery roles Kubernetes binds to them by default.
    ///
    /// ## Why is this bad?
    /// `system:unauthenticated` and `system:anonymous` are anyone who can
    /// reach the API server. `system:authenticated` is every identity the
    /// cluster knows — every service account of every namespace, and on
    /// managed clusters often every account of the cloud provider.
    ///
    /// ## Example
    /// ```yaml
    /// subjects:
    ///   - kind: Group
    ///     name: system:authenticated
    ///     apiGroup: rbac.authorization.k8s.io
    /// roleRef: {kind: ClusterRole, name: view}
    /// ```
    ///
    /// ## Fix
    /// Bind roles to named users, groups and service accounts.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Authentication and authorization
    /// - CWE-284: Improper Access Control
    pub struct AnonymousAccess {
        code: "RBAC018",
        name: "anonymous-access",
        title: "Permissions granted to anonymous or all authenticated users",
        severity: Critical,
        scanner: Rbac,
        references: [Nsa("Role-based access control"), Cwe("CWE-284")],
        fix: "Bind roles to named subjects instead of system:anonymous, system:unauthenticated or system:authenticated.",
    }
}

impl RiskRule for AnonymousAccess {
    fn check(&self, cx: &mut RiskCx<'_>) {
        let (who, severity) = match cx.principal {
            Principal::User(n) if n == "system:anonymous" => {
                ("anyone (unauthenticated)", Severity::Critical)
            }
            Principal::Group(n) if n == "system:unauthenticated" => {
                ("anyone (unauthenticated)", Severity::Critical)
            }
            Principal::Group(n) if n == "system:authenticated" => {
                ("every authenticated identity", Severity::High)
            }
            _ => return,
        };
        let evidence: Vec<_> = cx
            .grants
            .iter()
            .filter(|(_, g)| {
                cx.policy
                    .role(g.role)
                    .is_some_and(|r| !BOOTSTRAP_ROLES.contains(&r.name.as_str()))
            })
            .collect();
        if !evidence.is_empty() {
            cx.report_with(
                severity,
                &evidence,
                &format!("use permissions granted to {who}"),
            );
        }
    }
}
