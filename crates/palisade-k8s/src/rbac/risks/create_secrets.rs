use super::{Perm, RiskCx, RiskRule};

declare_rule! {
    /// ## What it does
    /// Finds subjects that can create Secrets.
    ///
    /// ## Why is this bad?
    /// Creating a Secret of type `kubernetes.io/service-account-token`
/// annotated with a service account's name makes the token controller
/// fill it with a long-lived token for that account: the creator becomes
/// any service account of the namespace.
    ///
    /// ## Example
    /// ```yaml
    /// rules:
///   - apiGroups: [""]
///     resources: ["secrets"]
///     verbs: ["create"]
    /// ```
    ///
    /// ## Fix
    /// Grant Secret creation only to the controllers that own those
/// Secrets, and watch for token Secrets at admission.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Protecting Pod service account tokens
    pub struct CreateSecrets {
        code: "RBAC012",
        name: "create-secrets",
        title: "Subject can create Secrets (and service account token Secrets)",
        severity: High,
        scanner: Rbac,
        references: [Nsa("Protecting Pod service account tokens")],
        fix: "Restrict Secret creation to the automation that owns those Secrets.",
    }
}

const PERMS: &[Perm] = &[Perm::new("create", "", "secrets")];

impl RiskRule for CreateSecrets {
    fn check(&self, cx: &mut RiskCx<'_>) {
        let grants = cx.allowing_any(PERMS);
        if !grants.is_empty() {
            cx.report(
                &grants,
                "create Secrets, including service account token Secrets",
            );
        }
    }
}
