//! Least privilege from audit logs: the smallest Roles and ClusterRoles
//! covering what a subject actually did (as audit2rbac does), and the
//! granted rules a subject never used.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::audit::AuditRequest;
use super::policy::{Grant, Policy, Principal, Request, rule_allows};
use super::resources::is_namespaced;

/// Options for role generation.
#[derive(Debug, Clone, Default)]
pub struct MinimizeOptions {
    /// Add `resourceNames` for requests that named an object.
    pub with_names: bool,
    /// Name of the generated roles and bindings.
    pub name: String,
    /// Grant requests the API server denied too (audit2rbac's workflow:
    /// run with no permissions, grant what failed). Off by default: a
    /// denied request may be a probe, not a need.
    pub include_denied: bool,
}

/// Where a generated rule goes: a namespace's Role, or the ClusterRole.
type Scope = String;

#[derive(Debug, Default)]
struct RuleSet {
    /// (group, resource) → verbs → names (empty set = any name).
    resources: BTreeMap<(String, String), BTreeMap<String, BTreeSet<String>>>,
    /// path → verbs
    non_resource: BTreeMap<String, BTreeSet<String>>,
}

/// The generated YAML (Roles, ClusterRole and their bindings), or `None`
/// when the subject made no requests.
pub fn minimal_roles(
    requests: &[AuditRequest],
    subject: &Principal,
    options: &MinimizeOptions,
) -> Option<String> {
    let mut scopes: BTreeMap<Scope, RuleSet> = BTreeMap::new();
    let wanted = |r: &&AuditRequest| r.made_by(subject) && (options.include_denied || !r.denied);
    for r in requests.iter().filter(wanted) {
        match &r.request {
            Request::Resource {
                verb,
                group,
                resource,
                subresource,
                namespace,
                name,
            } => {
                let full = if subresource.is_empty() {
                    resource.clone()
                } else {
                    format!("{resource}/{subresource}")
                };
                // Cluster-scoped resources and all-namespace requests need
                // a ClusterRole.
                let scope = if namespace.is_empty() || !is_namespaced(group, resource) {
                    String::new()
                } else {
                    namespace.clone()
                };
                let names = scopes
                    .entry(scope)
                    .or_default()
                    .resources
                    .entry((group.clone(), full))
                    .or_default()
                    .entry(verb.clone())
                    .or_default();
                // A request without a name (list, create, watch) needs the
                // unrestricted verb; once unrestricted, names are moot.
                if options.with_names && !name.is_empty() && verb != "create" {
                    if !names.contains("") {
                        names.insert(name.clone());
                    }
                } else {
                    names.clear();
                    names.insert(String::new());
                }
            }
            Request::NonResource { verb, path } => {
                scopes
                    .entry(String::new())
                    .or_default()
                    .non_resource
                    .entry(path.clone())
                    .or_default()
                    .insert(verb.clone());
            }
        }
    }
    if scopes.is_empty() {
        return None;
    }
    let mut out = String::new();
    for (scope, set) in &scopes {
        if !out.is_empty() {
            out.push_str("---\n");
        }
        write_role(&mut out, scope, set, options, subject);
    }
    Some(out)
}

/// `system:serviceaccount:ns:sa` → `ns-sa`, for object names.
fn sanitize(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while out.contains("--") {
        out = out.replace("--", "-");
    }
    out.trim_matches('-').to_string()
}

/// `s` as a double-quoted scalar: names such as `12345`, `null` or `on`
/// stay strings, control characters are escaped (a JSON string is a valid
/// YAML double-quoted scalar).
fn quoted(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

fn yaml_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| quoted(i)).collect();
    format!("[{}]", quoted.join(", "))
}

fn write_role(
    out: &mut String,
    scope: &str,
    set: &RuleSet,
    options: &MinimizeOptions,
    subject: &Principal,
) {
    let base = if options.name.is_empty() {
        let who = match subject {
            Principal::User(n) | Principal::Group(n) => sanitize(n),
            Principal::ServiceAccount { namespace, name } => {
                sanitize(&format!("{namespace}-{name}"))
            }
        };
        format!("palisade-minimal-{who}")
    } else {
        options.name.clone()
    };
    let (kind, binding_kind) = if scope.is_empty() {
        ("ClusterRole", "ClusterRoleBinding")
    } else {
        ("Role", "RoleBinding")
    };
    let _ = writeln!(
        out,
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: {kind}\nmetadata:\n  name: {}",
        quoted(&base)
    );
    if !scope.is_empty() {
        let _ = writeln!(out, "  namespace: {}", quoted(scope));
    }
    let _ = writeln!(
        out,
        "  labels:\n    app.kubernetes.io/managed-by: palisade-rbac-minimize\nrules:"
    );
    // Group resources with identical (group, verbs, names) into one rule.
    let mut grouped: BTreeMap<(String, Vec<String>, Vec<String>), Vec<String>> = BTreeMap::new();
    for ((group, resource), verbs) in &set.resources {
        let mut by_names: BTreeMap<Vec<String>, Vec<String>> = BTreeMap::new();
        for (verb, names) in verbs {
            let names: Vec<String> = names.iter().filter(|n| !n.is_empty()).cloned().collect();
            by_names.entry(names).or_default().push(verb.clone());
        }
        for (names, verbs) in by_names {
            grouped
                .entry((group.clone(), verbs, names))
                .or_default()
                .push(resource.clone());
        }
    }
    for ((group, verbs, names), resources) in &grouped {
        let _ = writeln!(
            out,
            "  - apiGroups: {}",
            yaml_list(std::slice::from_ref(group))
        );
        let _ = writeln!(out, "    resources: {}", yaml_list(resources));
        if !names.is_empty() {
            let _ = writeln!(out, "    resourceNames: {}", yaml_list(names));
        }
        let _ = writeln!(out, "    verbs: {}", yaml_list(verbs));
    }
    let mut by_verbs: BTreeMap<Vec<String>, Vec<String>> = BTreeMap::new();
    for (path, verbs) in &set.non_resource {
        by_verbs
            .entry(verbs.iter().cloned().collect())
            .or_default()
            .push(path.clone());
    }
    for (verbs, paths) in &by_verbs {
        let _ = writeln!(out, "  - nonResourceURLs: {}", yaml_list(paths));
        let _ = writeln!(out, "    verbs: {}", yaml_list(verbs));
    }
    let _ = writeln!(
        out,
        "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: {binding_kind}\nmetadata:\n  name: {}",
        quoted(&base)
    );
    if !scope.is_empty() {
        let _ = writeln!(out, "  namespace: {}", quoted(scope));
    }
    let _ = writeln!(
        out,
        "  labels:\n    app.kubernetes.io/managed-by: palisade-rbac-minimize"
    );
    let _ = writeln!(
        out,
        "roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: {kind}\n  name: {}\nsubjects:",
        quoted(&base)
    );
    match subject {
        Principal::User(n) => {
            let _ = writeln!(
                out,
                "  - apiGroup: rbac.authorization.k8s.io\n    kind: User\n    name: {}",
                quoted(n)
            );
        }
        Principal::Group(n) => {
            let _ = writeln!(
                out,
                "  - apiGroup: rbac.authorization.k8s.io\n    kind: Group\n    name: {}",
                quoted(n)
            );
        }
        Principal::ServiceAccount { namespace, name } => {
            let _ = writeln!(
                out,
                "  - kind: ServiceAccount\n    name: {}\n    namespace: {}",
                quoted(name),
                quoted(namespace)
            );
        }
    }
}

/// A granted rule nobody used in the log window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unused {
    pub principal: Principal,
    /// Namespace of the grant (`""` = cluster-wide).
    pub scope: String,
    pub grant: Grant,
}

/// For every principal with direct grants: the grants none of its logged
/// requests used. Principals that made no request at all are listed too
/// (every grant unused) — that is usually the most useful finding.
pub fn unused(policy: &Policy, requests: &[AuditRequest]) -> Vec<Unused> {
    let mut out = Vec::new();
    for principal in policy.principals() {
        let mine: Vec<&AuditRequest> = requests.iter().filter(|r| r.made_by(&principal)).collect();
        for (scope, grant) in policy.direct_grants(&principal) {
            let Some(rule) = policy.rule(grant.rule) else {
                continue;
            };
            let used = mine.iter().any(|r| {
                let in_scope = match &r.request {
                    Request::Resource { namespace, .. } => scope.is_empty() || *namespace == scope,
                    Request::NonResource { .. } => scope.is_empty(),
                };
                in_scope && rule_allows(rule, &r.request)
            });
            if !used {
                out.push(Unused {
                    principal: principal.clone(),
                    scope,
                    grant,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(
        user: &str,
        verb: &str,
        group: &str,
        resource: &str,
        ns: &str,
        name: &str,
    ) -> AuditRequest {
        AuditRequest {
            user: user.into(),
            groups: vec![],
            request: Request::resource(verb, group, resource, ns).with_name(name),
            timestamp: String::new(),
            denied: false,
        }
    }

    /// Names that YAML would read as numbers, null or booleans stay strings.
    #[test]
    fn names_are_quoted() {
        let yaml = minimal_roles(
            &[req("null", "get", "", "pods", "12345", "")],
            &Principal::User("null".into()),
            &MinimizeOptions::default(),
        )
        .unwrap();
        assert!(yaml.contains("  namespace: \"12345\"\n"), "{yaml}");
        assert!(yaml.contains("    name: \"null\"\n"), "{yaml}");
    }

    #[test]
    fn generates_namespaced_and_cluster_roles() {
        let requests = vec![
            req("bob", "get", "", "pods", "ns1", "p1"),
            req("bob", "list", "", "pods", "ns1", ""),
            req("bob", "get", "", "configmaps", "ns1", "c"),
            req("bob", "create", "", "pods/exec", "ns1", "p1"),
            req("bob", "list", "", "nodes", "", ""),
            req("bob", "list", "apps", "deployments", "", ""),
            req("alice", "delete", "", "secrets", "ns1", "s"),
        ];
        let yaml = minimal_roles(
            &requests,
            &Principal::User("bob".into()),
            &MinimizeOptions::default(),
        )
        .unwrap();
        assert!(yaml.contains("kind: ClusterRole\n"), "{yaml}");
        assert!(yaml.contains("kind: Role\n"), "{yaml}");
        assert!(
            yaml.contains("resources: [\"configmaps\", \"pods\"]\n    verbs: [\"get\"]")
                || yaml.contains("resources: [\"configmaps\"]"),
            "{yaml}"
        );
        assert!(yaml.contains("\"pods/exec\""), "{yaml}");
        assert!(!yaml.contains("secrets"), "{yaml}");
        assert!(!yaml.contains("resourceNames"), "{yaml}");
        let named = minimal_roles(
            &requests,
            &Principal::User("bob".into()),
            &MinimizeOptions {
                with_names: true,
                ..MinimizeOptions::default()
            },
        )
        .unwrap();
        assert!(named.contains("resourceNames: [\"c\"]"), "{named}");
    }
}
