use crate::rules::rbac::{PolicyRule, is_cluster_role, policy_rules};
use crate::rules::{Cx, Rule};

declare_rule! {
    /// ## What it does
    /// Finds Roles and ClusterRoles that grant the RBAC privilege-escalation
    /// verbs: `escalate` or `bind` on `roles`/`clusterroles`, or
    /// `impersonate` on users, groups, service accounts, UIDs or user
    /// extras.
    ///
    /// ## Why is this bad?
    /// RBAC normally stops a subject from granting permissions it does not
    /// hold. These verbs switch that check off: `escalate` lets it edit a
    /// role to include anything, `bind` lets it bind any role (including
    /// `cluster-admin`) to itself, and `impersonate` lets it send requests
    /// as another user or group such as `system:masters`. Each is one API
    /// call away from cluster-admin.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: rbac.authorization.k8s.io/v1
    /// kind: ClusterRole
    /// metadata: {name: team-admin}
    /// rules:
    ///   - apiGroups: ["rbac.authorization.k8s.io"]
    ///     resources: ["clusterroles"]
    ///     verbs: ["bind", "escalate"]
    ///   - apiGroups: [""]
    ///     resources: ["users", "groups"]
    ///     verbs: ["impersonate"]
    /// ```
    ///
    /// ## Fix
    /// Remove these verbs. To let a team manage bindings, grant `bind` only
    /// on the named roles they may hand out (`resourceNames`), and
    /// impersonation only of specific service accounts.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.1.8: Limit use of the Bind, Impersonate and Escalate permissions in the Kubernetes cluster
    /// - NSA/CISA Kubernetes Hardening Guide: Authentication and authorization — Role-based access control
    /// - CWE-269: Improper Privilege Management
    /// - https://kubernetes.io/docs/concepts/security/rbac-good-practices/#escalate-verb
    pub struct EscalateBindImpersonate {
        code: "K8S053",
        name: "rbac-escalate-bind-impersonate",
        title: "Role can escalate, bind or impersonate",
        severity: Critical,
        references: [
            Cis("5.1.8"),
            Nsa("Role-based access control"),
            Cwe("CWE-269"),
            Url("https://kubernetes.io/docs/concepts/security/rbac-good-practices/#escalate-verb"),
        ],
        fix: "Remove the `escalate`, `bind` and `impersonate` verbs, or limit them with `resourceNames`.",
    }
}

const RBAC: &str = "rbac.authorization.k8s.io";
const AUTHN: &str = "authentication.k8s.io";

/// Impersonation targets, and whether they are cluster-scoped (a namespaced
/// Role cannot grant those).
const IMPERSONATED: &[(&str, bool)] = &[
    ("users", true),
    ("groups", true),
    ("serviceaccounts", false),
    ("uids", true),
    ("userextras", true),
];

/// The impersonation targets `rule` grants.
fn impersonated(rule: &PolicyRule<'_>, cluster_wide: bool) -> Vec<&'static str> {
    if !rule.has_verb("impersonate") || !(rule.has_group("") || rule.has_group(AUTHN)) {
        return Vec::new();
    }
    IMPERSONATED
        .iter()
        .filter(|(_, cluster_scoped)| cluster_wide || !cluster_scoped)
        .map(|(resource, _)| *resource)
        .filter(|resource| {
            if *resource == "userextras" {
                // Extras are checked per key: `userextras/<key>`.
                rule.resources.iter().any(|r| {
                    *r == "*"
                        || *r == "userextras"
                        || r.starts_with("userextras/")
                        || r.starts_with("*/")
                })
            } else {
                rule.has_resource(resource)
            }
        })
        .collect()
}

impl Rule for EscalateBindImpersonate {
    fn check(&self, cx: &mut Cx<'_>) {
        let cluster_wide = is_cluster_role(cx.obj);
        for rule in policy_rules(cx.obj) {
            let mut parts: Vec<(String, &str)> = Vec::new();
            if let Some(g) = rule.granted(
                &["escalate", "bind"],
                &[(RBAC, "roles"), (RBAC, "clusterroles")],
            ) {
                let effect = match (g.verbs.contains(&"escalate"), g.verbs.contains(&"bind")) {
                    (true, true) => "its holders can grant themselves any permission",
                    (true, false) => {
                        "its holders can add permissions they lack to roles they can edit"
                    }
                    _ => "its holders can bind roles granting more than they hold, to themselves",
                };
                parts.push((g.describe(), effect));
            }
            let targets = impersonated(&rule, cluster_wide);
            if !targets.is_empty() {
                let named = !rule.resource_names.is_empty();
                let effect = if (targets.contains(&"users") || targets.contains(&"groups")) && named
                {
                    "its holders can send requests as the users or groups it names"
                } else if targets.contains(&"users") || targets.contains(&"groups") {
                    "its holders can send requests as any user or group, system:masters included"
                } else if targets.contains(&"serviceaccounts") {
                    "its holders can send requests as the service accounts it covers"
                } else {
                    "its holders can forge the identity attributes authorizers and webhooks trust"
                };
                parts.push((format!("impersonate on {}", targets.join(", ")), effect));
            }
            let names = rule.names_note();
            let granted: Vec<String> = parts
                .iter()
                .map(|(what, effect)| format!("{what}{names}: {effect}"))
                .collect();
            if granted.is_empty() {
                continue;
            }
            let message = format!("{} grants {}", cx.describe(), granted.join("; and "));
            cx.report(cx.at_item(&["rules"], rule.index, &["verbs"]), message);
        }
    }
}
