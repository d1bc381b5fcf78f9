use super::{Perm, RiskCx, RiskRule};

declare_rule! {
    /// ## What it does
    /// Finds subjects that can read Secrets (`get`, `list` or `watch` on
    /// `secrets` without a `resourceNames` restriction).
    ///
    /// ## Why is this bad?
    /// Secrets hold database passwords, API keys, TLS keys and — in older
    /// clusters and for explicitly created token Secrets — service account
    /// tokens, which turn one subject into another. `list` and `watch`
    /// return every Secret's content, not only names. Cluster-wide, this is
    /// every credential in the cluster.
    ///
    /// ## Example
    /// ```yaml
    /// rules:
    ///   - apiGroups: [""]
    ///     resources: ["secrets"]
    ///     verbs: ["get", "list", "watch"]
    /// ```
    ///
    /// ## Fix
    /// Grant `get` on the named Secrets the workload needs
    /// (`resourceNames`), or mount them as volumes instead of reading them
    /// through the API.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.1.2: Minimize access to secrets
    /// - NSA/CISA Kubernetes Hardening Guide: Secrets
    /// - CWE-522: Insufficiently Protected Credentials
    pub struct ReadSecrets {
        code: "RBAC003",
        name: "read-secrets",
        title: "Subject can read Secrets",
        severity: High,
        scanner: Rbac,
        references: [Cis("5.1.2"), Nsa("Secrets"), Cwe("CWE-522")],
        fix: "Restrict Secret access to `get` on named Secrets, or mount them as volumes.",
    }
}

const PERMS: &[Perm] = &[
    Perm::new("get", "", "secrets"),
    Perm::new("list", "", "secrets"),
    Perm::new("watch", "", "secrets"),
];

impl RiskRule for ReadSecrets {
    fn check(&self, cx: &mut RiskCx<'_>) {
        let grants = cx.allowing_any(PERMS);
        if grants.is_empty() {
            return;
        }
        let cluster_wide = grants.iter().any(|(s, _)| s.is_empty());
        let what = if cluster_wide {
            "read every Secret"
        } else {
            "read the Secrets"
        };
        cx.report(&grants, what);
    }
}
