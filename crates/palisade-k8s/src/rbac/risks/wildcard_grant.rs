use super::{RiskCx, RiskRule};

declare_rule! {
    /// ## What it does
    /// Finds subjects granted `*` verbs or `*` resources (short of full
    /// access, which `full-access` reports).
    ///
    /// ## Why is this bad?
    /// A wildcard grants what exists today and everything added later:
    /// `*` verbs include `escalate`, `bind` and `impersonate` where they
    /// apply; `*` resources include every subresource (`pods/exec`) and every
    /// custom resource an operator installs next year. Nobody reviewed
    /// those grants.
    ///
    /// ## Example
    /// ```yaml
    /// rules:
    ///   - apiGroups: ["apps"]
    ///     resources: ["*"]
    ///     verbs: ["*"]
    /// ```
    ///
    /// ## Fix
    /// List the exact verbs and resources; `palisade rbac minimize` derives
    /// them from audit logs.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.1.3: Minimize wildcard use in Roles and ClusterRoles
    /// - NSA/CISA Kubernetes Hardening Guide: Role-based access control
    pub struct WildcardGrant {
        code: "RBAC002",
        name: "wildcard-grant",
        title: "Subject is granted wildcard verbs or resources",
        severity: Medium,
        scanner: Rbac,
        references: [Cis("5.1.3"), Nsa("Role-based access control")],
        fix: "Replace `*` with the exact verbs and resources needed.",
    }
}

impl RiskRule for WildcardGrant {
    fn check(&self, cx: &mut RiskCx<'_>) {
        let wild: Vec<_> = cx
            .grants
            .iter()
            .filter(|(_, g)| {
                cx.policy.rule(g.rule).is_some_and(|r| {
                    let verbs = r.verbs.iter().any(|v| v == "*");
                    let resources = r.resources.iter().any(|x| x == "*");
                    let full = verbs && resources && r.api_groups.iter().any(|x| x == "*");
                    (verbs || resources) && !full
                })
            })
            .collect();
        if !wild.is_empty() {
            cx.report(&wild, "use wildcard verbs or resources");
        }
    }
}
