//! Rules on RBAC objects one at a time: what a Role or ClusterRole grants,
//! and who a binding grants it to. (Subject-level analysis — who can do
//! what through which bindings — is `palisade rbac`.)

mod wildcard_permissions;

pub use wildcard_permissions::WildcardPermissions;

use super::Rule;

/// This group's rules, in code order.
pub(super) static RULES: &[&dyn Rule] = &[&WildcardPermissions];

use crate::object::Object;
use crate::yaml::Node;

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// One entry of a Role's `rules`.
#[derive(Debug, Clone)]
pub struct PolicyRule<'a> {
    pub index: usize,
    pub node: &'a Node,
    pub verbs: Vec<&'a str>,
    pub api_groups: Vec<&'a str>,
    pub resources: Vec<&'a str>,
    pub resource_names: Vec<&'a str>,
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

impl PolicyRule<'_> {
    /// Whether the rule grants `verb` (or `*`).
    pub fn has_verb(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| *v == "*" || *v == verb)
    }

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
    pub fn path(&self) -> [String; 2] {
        ["rules".to_string(), self.index.to_string()]
    }
}
