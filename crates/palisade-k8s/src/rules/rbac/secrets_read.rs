use crate::rules::rbac::policy_rules;
use crate::rules::{Cx, Rule};

declare_rule! {
    /// ## What it does
    /// Finds Roles and ClusterRoles that grant `get`, `list` or `watch` on
    /// Secrets (core API group).
    ///
    /// ## Why is this bad?
    /// Secrets hold database passwords, API keys, TLS private keys and
    /// service account tokens. `list` and `watch` are not "metadata only":
    /// they return every Secret's full content in the namespace (or the
    /// cluster, for a ClusterRoleBinding). A token of another, more
    /// privileged service account found there is an escalation path.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: rbac.authorization.k8s.io/v1
    /// kind: ClusterRole
    /// metadata: {name: config-reader}
    /// rules:
    ///   - apiGroups: [""]
    ///     resources: ["configmaps", "secrets"]
    ///     verbs: ["get", "list", "watch"]
    /// ```
    ///
    /// ## Fix
    /// Drop Secrets from the rule, or allow `get` on the named Secrets the
    /// workload needs only:
    /// ```yaml
    /// rules:
    ///   - apiGroups: [""]
    ///     resources: ["secrets"]
    ///     resourceNames: ["shop-db"]
    ///     verbs: ["get"]
    /// ```
    /// Better still, mount the Secret as a volume so the pod needs no API
    /// access at all.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.1.2: Minimize access to secrets
    /// - NSA/CISA Kubernetes Hardening Guide: Authentication and authorization — Role-based access control
    /// - CWE-200: Exposure of Sensitive Information to an Unauthorized Actor
    pub struct SecretsRead {
        code: "K8S051",
        name: "rbac-secrets-read",
        title: "Role can read Secrets",
        severity: High,
        references: [Cis("5.1.2"), Nsa("Role-based access control"), Cwe("CWE-200")],
        fix: "Remove read access to Secrets, or limit it to `get` on the named Secrets needed.",
    }
}

impl Rule for SecretsRead {
    fn check(&self, cx: &mut Cx<'_>) {
        for rule in policy_rules(cx.obj) {
            let Some(granted) = rule.granted(&["get", "list", "watch"], &[("", "secrets")]) else {
                continue;
            };
            let bulk = granted.verbs.iter().any(|v| *v != "get");
            let impact = if bulk && rule.resource_names.is_empty() {
                "; list and watch return the content of every Secret, not just their names"
            } else {
                ""
            };
            let message = format!(
                "{} grants {}{}{impact}",
                cx.describe(),
                granted.describe(),
                rule.names_note()
            );
            cx.report(cx.at_item(&["rules"], rule.index, &["resources"]), message);
        }
    }
}
