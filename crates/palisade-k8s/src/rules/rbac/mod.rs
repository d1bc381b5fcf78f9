//! Rules on RBAC objects one at a time: what a Role or ClusterRole grants,
//! and who a binding grants it to. (Subject-level analysis — who can do
//! what through which bindings — is `palisade rbac`.)

mod anonymous_binding;
mod cluster_admin_binding;
mod create_workloads;
mod csr_approval;
mod escalate_bind_impersonate;
mod nodes_proxy;
mod pod_exec_attach;
mod secrets_read;
mod webhook_configuration;
mod wildcard_permissions;

pub use anonymous_binding::AnonymousBinding;
pub use cluster_admin_binding::ClusterAdminBinding;
pub use create_workloads::CreateWorkloads;
pub use csr_approval::CsrApproval;
pub use escalate_bind_impersonate::EscalateBindImpersonate;
pub use nodes_proxy::NodesProxy;
pub use pod_exec_attach::PodExecAttach;
pub use secrets_read::SecretsRead;
pub use webhook_configuration::WebhookConfiguration;
pub use wildcard_permissions::WildcardPermissions;

use super::Rule;

/// This group's rules, in code order.
pub(super) static RULES: &[&dyn Rule] = &[
    &ClusterAdminBinding,
    &WildcardPermissions,
    &SecretsRead,
    &PodExecAttach,
    &EscalateBindImpersonate,
    &CreateWorkloads,
    &WebhookConfiguration,
    &CsrApproval,
    &NodesProxy,
    &AnonymousBinding,
];

use crate::object::Object;
use crate::yaml::Node;

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// One entry of a Role's `rules`.
#[derive(Debug, Clone)]
pub struct PolicyRule<'a> {
    pub index: usize,
    #[allow(dead_code, reason = "part of the helper API for RBAC rules")]
    pub node: &'a Node,
    pub verbs: Vec<&'a str>,
    pub api_groups: Vec<&'a str>,
    pub resources: Vec<&'a str>,
    pub resource_names: Vec<&'a str>,
    #[allow(dead_code, reason = "part of the helper API for RBAC rules")]
    pub non_resource_urls: Vec<&'a str>,
}

fn strings<'a>(node: &'a Node, key: &str) -> Vec<&'a str> {
    node.get(key)
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .filter_map(Node::as_str)
        .collect()
}

/// Whether `obj` is a Role or ClusterRole.
pub fn is_role(obj: &Object) -> bool {
    obj.group() == RBAC_GROUP && matches!(obj.kind.as_str(), "Role" | "ClusterRole")
}

/// Whether `obj` is a ClusterRole (whose rules can grant cluster-scoped
/// resources; a namespaced Role's rules for them grant nothing).
pub fn is_cluster_role(obj: &Object) -> bool {
    obj.group() == RBAC_GROUP && obj.kind == "ClusterRole"
}

/// Whether `obj` is a RoleBinding or ClusterRoleBinding.
pub fn is_binding(obj: &Object) -> bool {
    obj.group() == RBAC_GROUP && matches!(obj.kind.as_str(), "RoleBinding" | "ClusterRoleBinding")
}

/// The rules of a Role or ClusterRole (empty for anything else).
pub fn policy_rules(obj: &Object) -> Vec<PolicyRule<'_>> {
    if !is_role(obj) {
        return Vec::new();
    }
    obj.root
        .get("rules")
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(index, node)| PolicyRule {
            index,
            node,
            verbs: strings(node, "verbs"),
            api_groups: strings(node, "apiGroups"),
            resources: strings(node, "resources"),
            resource_names: strings(node, "resourceNames"),
            non_resource_urls: strings(node, "nonResourceURLs"),
        })
        .collect()
}

/// One entry of a binding's `subjects`.
#[derive(Debug, Clone, Copy)]
pub struct BindingSubject<'a> {
    pub index: usize,
    pub kind: &'a str,
    pub name: &'a str,
    pub namespace: Option<&'a str>,
}

impl BindingSubject<'_> {
    /// `User alice`, `Group ops`, `ServiceAccount ci/deployer`.
    pub fn describe(&self) -> String {
        match self.namespace {
            Some(ns) if self.kind == "ServiceAccount" => {
                format!("{} {ns}/{}", self.kind, self.name)
            }
            _ => format!("{} {}", self.kind, self.name),
        }
    }

    pub fn is(&self, kind: &str, name: &str) -> bool {
        self.kind == kind && self.name == name
    }
}

/// The subjects of a RoleBinding or ClusterRoleBinding (empty for anything
/// else).
pub fn binding_subjects(obj: &Object) -> Vec<BindingSubject<'_>> {
    if !is_binding(obj) {
        return Vec::new();
    }
    obj.root
        .get("subjects")
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(index, node)| BindingSubject {
            index,
            kind: node.get("kind").and_then(Node::as_str).unwrap_or_default(),
            name: node.get("name").and_then(Node::as_str).unwrap_or_default(),
            namespace: node.get("namespace").and_then(Node::as_str),
        })
        .collect()
}

/// The `roleRef` of a binding: its kind (`Role` or `ClusterRole`) and name.
pub fn role_ref(obj: &Object) -> Option<(&str, &str)> {
    if !is_binding(obj) {
        return None;
    }
    let r = obj.root.get("roleRef")?;
    Some((
        r.get("kind").and_then(Node::as_str)?,
        r.get("name").and_then(Node::as_str)?,
    ))
}

/// What a rule grants out of a set of sensitive permissions: the wanted
/// verbs it has, and the wanted resources it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Granted<'w> {
    pub verbs: Vec<&'w str>,
    pub resources: Vec<&'w str>,
}

impl Granted<'_> {
    /// `get, list on secrets`.
    pub fn describe(&self) -> String {
        format!("{} on {}", self.verbs.join(", "), self.resources.join(", "))
    }
}

impl PolicyRule<'_> {
    /// Which of `verbs` on which of `targets` (`(api group, resource)`
    /// pairs) this rule grants, with RBAC matching, whatever its
    /// `resourceNames` (see [`PolicyRule::names_note`]). `None` when it
    /// grants none of them.
    pub fn granted<'w>(
        &self,
        verbs: &[&'w str],
        targets: &[(&str, &'w str)],
    ) -> Option<Granted<'w>> {
        let verbs: Vec<&'w str> = verbs
            .iter()
            .copied()
            .filter(|v| targets.iter().any(|(g, r)| self.grants(v, g, r)))
            .collect();
        let mut resources: Vec<&'w str> = Vec::new();
        for (group, resource) in targets {
            if self.grants_any(&verbs, group, resource) && !resources.contains(resource) {
                resources.push(resource);
            }
        }
        (!verbs.is_empty() && !resources.is_empty()).then_some(Granted { verbs, resources })
    }

    /// ` (only resourceNames a, b)` when the rule is limited to named
    /// objects, for messages; empty otherwise.
    pub fn names_note(&self) -> String {
        if self.resource_names.is_empty() {
            String::new()
        } else {
            format!(" (only resourceNames {})", self.resource_names.join(", "))
        }
    }

    /// Whether the rule grants `verb` (or `*`).
    pub fn has_verb(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| *v == "*" || *v == verb)
    }

    #[allow(dead_code, reason = "part of the helper API for RBAC rules")]
    pub fn has_any_verb(&self, verbs: &[&str]) -> bool {
        verbs.iter().any(|v| self.has_verb(v))
    }

    /// Whether the rule covers API group `group` (`""` is the core group).
    pub fn has_group(&self, group: &str) -> bool {
        self.api_groups.iter().any(|g| *g == "*" || *g == group)
    }

    /// Whether the rule covers `resource` (`pods` or `pods/exec`), with the
    /// RBAC authorizer's matching: `*`, exact, or `*/subresource`.
    pub fn has_resource(&self, resource: &str) -> bool {
        let sub = resource.split_once('/').map(|(_, s)| s);
        self.resources.iter().any(|r| {
            *r == "*" || *r == resource || sub.is_some_and(|s| r.strip_prefix("*/") == Some(s))
        })
    }

    /// Whether the rule grants `verb` on `group`/`resource` for every name
    /// (no `resourceNames` restriction).
    pub fn grants(&self, verb: &str, group: &str, resource: &str) -> bool {
        self.has_verb(verb) && self.has_group(group) && self.has_resource(resource)
    }

    /// Like [`PolicyRule::grants`] for any of `verbs`.
    pub fn grants_any(&self, verbs: &[&str], group: &str, resource: &str) -> bool {
        verbs.iter().any(|v| self.grants(v, group, resource))
    }

    /// The pointer path of this rule within the object.
    #[allow(dead_code, reason = "part of the helper API for RBAC rules")]
    pub fn path(&self) -> [String; 2] {
        ["rules".to_string(), self.index.to_string()]
    }
}
