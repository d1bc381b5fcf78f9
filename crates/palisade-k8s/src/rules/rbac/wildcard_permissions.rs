use crate::rules::rbac::policy_rules;
use crate::rules::{Cx, Rule};

declare_rule! {
    /// ## What it does
    /// Finds Roles and ClusterRoles whose rules use `*` for verbs, resources
    /// or API groups.
    ///
    /// ## Why is this bad?
    /// A wildcard grants everything that exists now and everything added
    /// later: new verbs, new subresources, every CustomResourceDefinition a
    /// future operator installs. `*` verbs on `*` resources is
    /// cluster-admin; even `*` on one resource usually includes
    /// `escalate`-like powers nobody reviewed.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: rbac.authorization.k8s.io/v1
    /// kind: ClusterRole
    /// metadata: {name: deployer}
    /// rules:
    ///   - apiGroups: ["*"]
    ///     resources: ["*"]
    ///     verbs: ["*"]
    /// ```
    ///
    /// ## Fix
    /// List the exact API groups, resources and verbs the subject needs;
    /// `palisade rbac minimize` derives them from audit logs.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.1.3: Minimize wildcard use in Roles and ClusterRoles
    /// - NSA/CISA Kubernetes Hardening Guide: Authentication and authorization — Role-based access control
    pub struct WildcardPermissions {
        code: "K8S050",
        name: "rbac-wildcard",
        title: "Role grants permissions with wildcards",
        severity: High,
        references: [Cis("5.1.3"), Nsa("Role-based access control")],
        fix: "Replace `*` with the exact verbs, resources and API groups needed.",
    }
}

impl Rule for WildcardPermissions {
    fn check(&self, cx: &mut Cx<'_>) {
        for rule in policy_rules(cx.obj) {
            let mut fields = Vec::new();
            if rule.verbs.contains(&"*") {
                fields.push("verbs");
            }
            if rule.resources.contains(&"*") {
                fields.push("resources");
            }
            if rule.api_groups.contains(&"*") {
                fields.push("apiGroups");
            }
            let Some(first) = fields.first() else {
                continue;
            };
            let message = if fields.len() == 3 {
                format!(
                    "{} grants every verb on every resource (cluster-admin equivalent)",
                    cx.describe()
                )
            } else {
                format!(
                    "{} grants `*` in {} of rule {}",
                    cx.describe(),
                    fields.join(", "),
                    rule.index + 1
                )
            };
            let loc = cx.at_item(&["rules"], rule.index, &[first]);
            cx.report(loc, message);
        }
    }
}
