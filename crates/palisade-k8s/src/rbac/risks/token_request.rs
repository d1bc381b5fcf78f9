use super::{Perm, RiskCx, RiskRule};

declare_rule! {
    /// ## What it does
    /// Finds subjects that can request tokens for service accounts
/// (`create` on `serviceaccounts/token`).
    ///
    /// ## Why is this bad?
    /// A TokenRequest returns a valid token for any service account in
/// scope: the holder becomes that account, with all its permissions, for
/// as long as it asks.
    ///
    /// ## Example
    /// ```yaml
    /// rules:
///   - apiGroups: [""]
///     resources: ["serviceaccounts/token"]
///     verbs: ["create"]
    /// ```
    ///
    /// ## Fix
    /// Remove it; workloads receive their own tokens through projected
/// volumes without any RBAC grant.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.1.13: Minimize access to the service account token creation
    /// - NSA/CISA Kubernetes Hardening Guide: Protecting Pod service account tokens
    pub struct TokenRequest {
        code: "RBAC011",
        name: "token-request",
        title: "Subject can mint service account tokens",
        severity: High,
        scanner: Rbac,
        references: [Cis("5.1.13"), Nsa("Protecting Pod service account tokens")],
        fix: "Remove `create` on `serviceaccounts/token`; only the kubelet needs it.",
    }
}

const PERMS: &[Perm] = &[Perm::new("create", "", "serviceaccounts/token")];

impl RiskRule for TokenRequest {
    fn check(&self, cx: &mut RiskCx<'_>) {
        let grants = cx.allowing_any(PERMS);
        if !grants.is_empty() {
            cx.report(
                &grants,
                "mint tokens for service accounts (serviceaccounts/token)",
            );
        }
    }
}
