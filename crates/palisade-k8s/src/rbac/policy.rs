//! The RBAC authorizer's semantics over a set of roles and bindings:
//! aggregation, binding scope, and rule matching exactly as the Kubernetes
//! API server's RBAC authorizer applies them.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use super::model::{Binding, PolicyRule, RbacData, Role, RoleKind, SubjectKind};

/// Index of a role in [`RbacData::roles`].
pub type RoleId = usize;
/// Index of a binding in [`RbacData::bindings`].
pub type BindingId = usize;

/// A rule a role grants, and where it was written: `(role, index)` in that
/// role's `rules` — for aggregated ClusterRoles, the role it was aggregated
/// from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleRef {
    pub role: RoleId,
    pub index: usize,
}

/// Who is asking: a user name and groups, as the API server sees them after
/// authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    pub name: String,
    pub groups: Vec<String>,
}

/// A principal named on the command line or in a binding.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Principal {
    User(String),
    Group(String),
    ServiceAccount { namespace: String, name: String },
}

impl Principal {
    /// Parses `user:alice`, `group:devs`, `sa:ns/name`,
    /// `serviceaccount:ns/name`, or a Kubernetes user name
    /// (`system:serviceaccount:ns:name` is a service account).
    pub fn parse(s: &str) -> Result<Principal, String> {
        let s = s.trim();
        if let Some(rest) = s.strip_prefix("system:serviceaccount:") {
            return match rest.split_once(':') {
                Some((ns, name)) if !ns.is_empty() && !name.is_empty() => {
                    Ok(Principal::ServiceAccount {
                        namespace: ns.into(),
                        name: name.into(),
                    })
                }
                _ => Err(format!("invalid service account user name `{s}`")),
            };
        }
        let (kind, rest) = s.split_once(':').unwrap_or(("user", s));
        match kind.to_ascii_lowercase().as_str() {
            // The user name of a service account is that account, groups
            // and all, however it is spelled.
            "user" | "u" if rest.starts_with("system:serviceaccount:") => Principal::parse(rest),
            "user" | "u" => Ok(Principal::User(rest.into())),
            "group" | "g" => Ok(Principal::Group(rest.into())),
            "sa" | "serviceaccount" => match rest.split_once(['/', ':']) {
                Some((ns, name)) if !ns.is_empty() && !name.is_empty() => {
                    Ok(Principal::ServiceAccount {
                        namespace: ns.into(),
                        name: name.into(),
                    })
                }
                _ => Err(format!("service account `{rest}` must be NAMESPACE/NAME")),
            },
            _ => Ok(Principal::User(s.into())),
        }
    }

    /// The request identity Kubernetes gives this principal: service
    /// accounts and users are in `system:authenticated` (anonymous is in
    /// `system:unauthenticated`); a group stands for one of its members.
    pub fn user_info(&self) -> UserInfo {
        match self {
            Principal::ServiceAccount { namespace, name } => UserInfo {
                name: format!("system:serviceaccount:{namespace}:{name}"),
                groups: vec![
                    "system:serviceaccounts".into(),
                    format!("system:serviceaccounts:{namespace}"),
                    "system:authenticated".into(),
                ],
            },
            Principal::User(name) if name == "system:anonymous" => UserInfo {
                name: name.clone(),
                groups: vec!["system:unauthenticated".into()],
            },
            Principal::User(name) => UserInfo {
                name: name.clone(),
                groups: vec!["system:authenticated".into()],
            },
            Principal::Group(g) => {
                let mut groups = vec![g.clone()];
                if g != "system:unauthenticated" && g != "system:authenticated" {
                    groups.push("system:authenticated".into());
                }
                UserInfo {
                    name: String::new(),
                    groups,
                }
            }
        }
    }

    /// Identities Kubernetes itself runs as (`system:` users and groups,
    /// kube-system service accounts), not counting the catch-all groups.
    pub fn is_system(&self) -> bool {
        match self {
            Principal::User(n) => n.starts_with("system:") && n != "system:anonymous",
            Principal::Group(g) => {
                g.starts_with("system:")
                    && !matches!(
                        g.as_str(),
                        "system:authenticated" | "system:unauthenticated"
                    )
                    && !g.starts_with("system:serviceaccounts")
            }
            Principal::ServiceAccount { namespace, .. } => namespace == "kube-system",
        }
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Principal::User(n) => write!(f, "User {n}"),
            Principal::Group(n) => write!(f, "Group {n}"),
            Principal::ServiceAccount { namespace, name } => {
                write!(f, "ServiceAccount {namespace}/{name}")
            }
        }
    }
}

/// What is being asked.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Request {
    Resource {
        verb: String,
        group: String,
        resource: String,
        subresource: String,
        /// Empty for cluster-scoped requests (and all-namespace lists).
        namespace: String,
        name: String,
    },
    NonResource {
        verb: String,
        path: String,
    },
}

impl Request {
    pub fn resource(verb: &str, group: &str, resource: &str, namespace: &str) -> Request {
        let (resource, subresource) = resource.split_once('/').unwrap_or((resource, ""));
        Request::Resource {
            verb: verb.into(),
            group: group.into(),
            resource: resource.into(),
            subresource: subresource.into(),
            namespace: namespace.into(),
            name: String::new(),
        }
    }

    pub fn with_name(mut self, n: &str) -> Request {
        if let Request::Resource { name, .. } = &mut self {
            *name = n.into();
        }
        self
    }

    fn namespace(&self) -> &str {
        match self {
            Request::Resource { namespace, .. } => namespace,
            Request::NonResource { .. } => "",
        }
    }
}

/// Whether `rule` allows `request` (the authorizer's `RuleAllows`).
pub fn rule_allows(rule: &PolicyRule, request: &Request) -> bool {
    match request {
        Request::Resource {
            verb,
            group,
            resource,
            subresource,
            name,
            ..
        } => rule_allows_resource(rule, verb, group, resource, subresource, name),
        Request::NonResource { verb, path } => {
            verb_matches(rule, verb) && non_resource_url_matches(rule, path)
        }
    }
}

/// [`rule_allows`] for a resource request given as parts, without building
/// a [`Request`] (the risk analysis asks this millions of times).
pub fn rule_allows_resource(
    rule: &PolicyRule,
    verb: &str,
    group: &str,
    resource: &str,
    subresource: &str,
    name: &str,
) -> bool {
    verb_matches(rule, verb)
        && api_group_matches(rule, group)
        && resource_matches(rule, resource, subresource)
        && (rule.resource_names.is_empty() || rule.resource_names.iter().any(|n| n == name))
}

pub fn verb_matches(rule: &PolicyRule, verb: &str) -> bool {
    rule.verbs.iter().any(|v| v == "*" || v == verb)
}

/// A request group of `*` (a query for a resource whose group is unknown)
/// matches every rule group.
pub fn api_group_matches(rule: &PolicyRule, group: &str) -> bool {
    rule.api_groups
        .iter()
        .any(|g| g == "*" || g == group || group == "*")
}

/// `*`, the exact `resource[/subresource]`, or `*/subresource`.
pub fn resource_matches(rule: &PolicyRule, resource: &str, subresource: &str) -> bool {
    rule.resources.iter().any(|r| {
        if r == "*" {
            return true;
        }
        if subresource.is_empty() {
            return r == resource;
        }
        r.strip_prefix("*/") == Some(subresource)
            || (r.len() == resource.len() + 1 + subresource.len()
                && r.starts_with(resource)
                && r.as_bytes().get(resource.len()) == Some(&b'/')
                && r.ends_with(subresource))
    })
}

/// `*`, the exact path, or a prefix ending in `*` (all trailing stars go,
/// as the authorizer's `TrimRight(rule, "*")`: `/logs**` covers `/logs/x`).
pub fn non_resource_url_matches(rule: &PolicyRule, path: &str) -> bool {
    rule.non_resource_urls.iter().any(|u| {
        u == "*" || u == path || (u.ends_with('*') && path.starts_with(u.trim_end_matches('*')))
    })
}

/// Whether a binding subject names the user (the authorizer's
/// `appliesToUser`).
fn applies_to(kind: SubjectKind, name: &str, namespace: &str, user: &UserInfo) -> bool {
    match kind {
        SubjectKind::User => user.name == name,
        SubjectKind::Group => user.groups.iter().any(|g| g == name),
        SubjectKind::ServiceAccount => user
            .name
            .strip_prefix("system:serviceaccount:")
            .is_some_and(|rest| {
                rest.split_once(':')
                    .is_some_and(|(ns, n)| ns == namespace && n == name)
            }),
    }
}

/// One reason a request is allowed: the binding, the role it references
/// and the rule that matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Grant {
    pub binding: BindingId,
    pub role: RoleId,
    pub rule: RuleRef,
}

/// The answer to "can this user do this?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub grants: Vec<Grant>,
}

/// A problem with the RBAC objects themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A binding's roleRef names a role that is not in the inputs.
    MissingRole { binding: BindingId },
    /// Two roles with the same kind, namespace and name; the later wins.
    DuplicateRole { kept: RoleId, dropped: RoleId },
    /// Two bindings with the same kind, namespace and name.
    DuplicateBinding { kept: BindingId, dropped: BindingId },
    /// A Role (namespaced) with no rules, or a ClusterRole without rules
    /// or aggregation.
    EmptyRole { role: RoleId },
}

/// Whether a rule granted through a RoleBinding can allow anything: some
/// resource of it is namespaced (or `bind` on ClusterRoles, checked in the
/// RoleBinding's namespace). Non-resource URLs never can.
fn can_apply_in_namespace(rule: &PolicyRule) -> bool {
    rule.resources
        .iter()
        .any(|resource| grantable_resource(rule, resource))
}

fn grantable_resource(rule: &PolicyRule, resource: &str) -> bool {
    let base = resource.split_once('/').map_or(resource, |(b, _)| b);
    rule.api_groups.iter().any(|group| {
        rule.verbs
            .iter()
            .any(|verb| super::resources::grantable_in_namespace(verb, group, base))
    })
}

/// What a rule grants when a RoleBinding binds it: its resources that a
/// namespace can hold (a ClusterRole's `nodes` or `/metrics` beside
/// `pods` grant nothing there).
pub fn in_namespace(rule: &PolicyRule) -> PolicyRule {
    let mut part = rule.clone();
    part.resources.retain(|r| grantable_resource(rule, r));
    part.non_resource_urls.clear();
    part
}

/// Roles and bindings, resolved: roles by name, aggregated rules, and
/// bindings by subject.
#[derive(Debug)]
pub struct Policy {
    pub data: RbacData,
    roles_by_key: HashMap<(RoleKind, String, String), RoleId>,
    /// Effective rules of each role (aggregation applied).
    effective: Vec<Vec<RuleRef>>,
    /// Binding → role it references (None when missing).
    binding_roles: Vec<Option<RoleId>>,
    /// Bindings whose subjects include a user, group or service account.
    by_subject: HashMap<(SubjectKind, String, String), Vec<BindingId>>,
    dropped_bindings: HashSet<BindingId>,
    pub problems: Vec<Problem>,
}

impl Policy {
    /// The policy of `data`, with the Kubernetes bootstrap roles that
    /// `data` does not define.
    pub fn new(mut data: RbacData) -> Policy {
        super::bootstrap::add_missing(&mut data);
        let mut problems = Vec::new();
        let mut roles_by_key = HashMap::new();
        for (id, role) in data.roles.iter().enumerate() {
            let key = (role.kind, role.namespace.clone(), role.name.clone());
            if let Some(previous) = roles_by_key.insert(key, id) {
                problems.push(Problem::DuplicateRole {
                    kept: id,
                    dropped: previous,
                });
            }
            let no_rules =
                role.rules.is_empty() && role.aggregation.as_ref().is_none_or(Vec::is_empty);
            if no_rules && !super::bootstrap::is_bootstrap(role) {
                problems.push(Problem::EmptyRole { role: id });
            }
        }
        let effective = aggregate(&data.roles, &roles_by_key);
        let mut seen_bindings: HashMap<(bool, String, String), BindingId> = HashMap::new();
        let mut dropped_bindings = HashSet::new();
        for (id, b) in data.bindings.iter().enumerate() {
            if let Some(previous) =
                seen_bindings.insert((b.cluster, b.namespace.clone(), b.name.clone()), id)
            {
                dropped_bindings.insert(previous);
                problems.push(Problem::DuplicateBinding {
                    kept: id,
                    dropped: previous,
                });
            }
        }
        let mut binding_roles = Vec::with_capacity(data.bindings.len());
        let mut by_subject: HashMap<(SubjectKind, String, String), Vec<BindingId>> = HashMap::new();
        for (id, b) in data.bindings.iter().enumerate() {
            let role_ns = match b.role_kind {
                RoleKind::Role => b.namespace.clone(),
                RoleKind::ClusterRole => String::new(),
            };
            // A ClusterRoleBinding can only reference a ClusterRole.
            let role = if b.cluster && b.role_kind == RoleKind::Role {
                None
            } else {
                roles_by_key
                    .get(&(b.role_kind, role_ns, b.role_name.clone()))
                    .copied()
            };
            if role.is_none() {
                problems.push(Problem::MissingRole { binding: id });
            }
            binding_roles.push(role);
            if dropped_bindings.contains(&id) {
                continue;
            }
            for s in &b.subjects {
                by_subject
                    .entry((s.kind, s.namespace.clone(), s.name.clone()))
                    .or_default()
                    .push(id);
            }
        }
        Policy {
            data,
            roles_by_key,
            effective,
            binding_roles,
            by_subject,
            dropped_bindings,
            problems,
        }
    }

    pub fn role(&self, id: RoleId) -> Option<&Role> {
        self.data.roles.get(id)
    }

    pub fn binding(&self, id: BindingId) -> Option<&Binding> {
        self.data.bindings.get(id)
    }

    pub fn rule(&self, r: RuleRef) -> Option<&PolicyRule> {
        self.data
            .roles
            .get(r.role)?
            .rules
            .get(r.index)
            .map(|w| &w.rule)
    }

    /// The role a binding references, if it exists.
    pub fn binding_role(&self, id: BindingId) -> Option<RoleId> {
        self.binding_roles.get(id).copied().flatten()
    }

    pub fn find_role(&self, kind: RoleKind, namespace: &str, name: &str) -> Option<RoleId> {
        self.roles_by_key
            .get(&(kind, namespace.to_string(), name.to_string()))
            .copied()
    }

    /// Effective rules of a role, aggregation included.
    pub fn effective_rules(&self, role: RoleId) -> &[RuleRef] {
        self.effective.get(role).map_or(&[], Vec::as_slice)
    }

    /// Bindings that may apply to `user`: those naming the user, any of its
    /// groups, or (for service accounts) the account itself.
    pub fn bindings_for(&self, user: &UserInfo) -> Vec<BindingId> {
        let mut out: Vec<BindingId> = Vec::new();
        let mut push = |key: (SubjectKind, String, String)| {
            if let Some(ids) = self.by_subject.get(&key) {
                out.extend(ids);
            }
        };
        if !user.name.is_empty() {
            push((SubjectKind::User, String::new(), user.name.clone()));
            if let Some((ns, n)) = user
                .name
                .strip_prefix("system:serviceaccount:")
                .and_then(|r| r.split_once(':'))
            {
                push((SubjectKind::ServiceAccount, ns.to_string(), n.to_string()));
            }
        }
        for g in &user.groups {
            push((SubjectKind::Group, String::new(), g.clone()));
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Whether a binding applies to `user` for a request in `namespace`
    /// (`""` = cluster-scoped): ClusterRoleBindings everywhere,
    /// RoleBindings only in their namespace.
    fn binding_applies(&self, b: &Binding, user: &UserInfo, namespace: &str) -> bool {
        (b.cluster || (!namespace.is_empty() && b.namespace == namespace))
            && b.subjects
                .iter()
                .any(|s| applies_to(s.kind, &s.name, &s.namespace, user))
    }

    /// The RBAC decision for `user` making `request`, with every grant that
    /// allows it.
    pub fn can(&self, user: &UserInfo, request: &Request) -> Decision {
        let mut grants = Vec::new();
        for id in self.bindings_for(user) {
            let (Some(b), Some(role)) = (self.binding(id), self.binding_role(id)) else {
                continue;
            };
            if !self.binding_applies(b, user, request.namespace()) {
                continue;
            }
            for r in self.effective_rules(role) {
                if self.rule(*r).is_some_and(|rule| rule_allows(rule, request)) {
                    grants.push(Grant {
                        binding: id,
                        role,
                        rule: *r,
                    });
                }
            }
        }
        grants.sort_unstable();
        Decision {
            allowed: !grants.is_empty(),
            grants,
        }
    }

    /// Every binding subject allowed to make `request`, with the grants.
    pub fn who_can(&self, request: &Request) -> BTreeMap<Principal, Vec<Grant>> {
        let mut out: BTreeMap<Principal, Vec<Grant>> = BTreeMap::new();
        let ns = request.namespace();
        for (id, b) in self.data.bindings.iter().enumerate() {
            if self.dropped_bindings.contains(&id)
                || !(b.cluster || (!ns.is_empty() && b.namespace == ns))
            {
                continue;
            }
            let Some(role) = self.binding_role(id) else {
                continue;
            };
            let matching: Vec<RuleRef> = self
                .effective_rules(role)
                .iter()
                .copied()
                .filter(|r| self.rule(*r).is_some_and(|rule| rule_allows(rule, request)))
                .collect();
            if matching.is_empty() {
                continue;
            }
            for s in &b.subjects {
                let principal = match s.kind {
                    SubjectKind::User => Principal::User(s.name.clone()),
                    SubjectKind::Group => Principal::Group(s.name.clone()),
                    SubjectKind::ServiceAccount => Principal::ServiceAccount {
                        namespace: s.namespace.clone(),
                        name: s.name.clone(),
                    },
                };
                let entry = out.entry(principal).or_default();
                entry.extend(matching.iter().map(|r| Grant {
                    binding: id,
                    role,
                    rule: *r,
                }));
            }
        }
        for grants in out.values_mut() {
            grants.sort_unstable();
            grants.dedup();
        }
        out
    }

    /// Everything `user` is granted: `(namespace or "" for cluster-wide,
    /// grant)`, for `palisade rbac can`.
    pub fn permissions(&self, user: &UserInfo) -> Vec<(String, Grant)> {
        let mut out = Vec::new();
        for id in self.bindings_for(user) {
            let (Some(b), Some(role)) = (self.binding(id), self.binding_role(id)) else {
                continue;
            };
            let ns = if b.cluster {
                String::new()
            } else {
                b.namespace.clone()
            };
            if !b
                .subjects
                .iter()
                .any(|s| applies_to(s.kind, &s.name, &s.namespace, user))
            {
                continue;
            }
            for r in self.effective_rules(role) {
                // A RoleBinding cannot grant what has no namespace: nodes,
                // `/metrics` (listing it would contradict `who-can`).
                if !ns.is_empty() && !self.rule(*r).is_some_and(can_apply_in_namespace) {
                    continue;
                }
                out.push((
                    ns.clone(),
                    Grant {
                        binding: id,
                        role,
                        rule: *r,
                    },
                ));
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Grants through bindings that name `principal` itself (not through
    /// the groups it belongs to), with their scope: `""` for
    /// ClusterRoleBindings, else the RoleBinding's namespace.
    pub fn direct_grants(&self, principal: &Principal) -> Vec<(String, Grant)> {
        let key = match principal {
            Principal::User(n) => (SubjectKind::User, String::new(), n.clone()),
            Principal::Group(n) => (SubjectKind::Group, String::new(), n.clone()),
            Principal::ServiceAccount { namespace, name } => {
                (SubjectKind::ServiceAccount, namespace.clone(), name.clone())
            }
        };
        let mut out = Vec::new();
        for &id in self.by_subject.get(&key).map_or(&[][..], Vec::as_slice) {
            let (Some(b), Some(role)) = (self.binding(id), self.binding_role(id)) else {
                continue;
            };
            let scope = if b.cluster {
                String::new()
            } else {
                b.namespace.clone()
            };
            for r in self.effective_rules(role) {
                out.push((
                    scope.clone(),
                    Grant {
                        binding: id,
                        role,
                        rule: *r,
                    },
                ));
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Every principal named by a binding, plus every ServiceAccount object.
    pub fn principals(&self) -> Vec<Principal> {
        let mut set: HashSet<Principal> = HashSet::new();
        for b in &self.data.bindings {
            for s in &b.subjects {
                set.insert(match s.kind {
                    SubjectKind::User => Principal::User(s.name.clone()),
                    SubjectKind::Group => Principal::Group(s.name.clone()),
                    SubjectKind::ServiceAccount => Principal::ServiceAccount {
                        namespace: s.namespace.clone(),
                        name: s.name.clone(),
                    },
                });
            }
        }
        for sa in &self.data.service_accounts {
            set.insert(Principal::ServiceAccount {
                namespace: sa.namespace.clone(),
                name: sa.name.clone(),
            });
        }
        let mut v: Vec<Principal> = set.into_iter().collect();
        v.sort();
        v
    }
}

/// Effective rules per role: a ClusterRole with an `aggregationRule` has
/// the rules of every ClusterRole its selectors match, transitively, and
/// not its own written rules, which the aggregation controller overwrites
/// (they stand when it selects nothing among the inputs).
fn aggregate(
    roles: &[Role],
    by_key: &HashMap<(RoleKind, String, String), RoleId>,
) -> Vec<Vec<RuleRef>> {
    let own: Vec<Vec<RuleRef>> = roles
        .iter()
        .enumerate()
        .map(|(role, r)| {
            (0..r.rules.len())
                .map(|index| RuleRef { role, index })
                .collect()
        })
        .collect();
    // Which ClusterRoles each aggregating ClusterRole selects (the last
    // definition of a duplicated name is the one in force).
    let live: Vec<RoleId> = by_key
        .iter()
        .filter(|((k, _, _), _)| *k == RoleKind::ClusterRole)
        .map(|(_, id)| *id)
        .collect();
    let selects: Vec<Vec<RoleId>> = roles
        .iter()
        .enumerate()
        .map(|(id, r)| match &r.aggregation {
            Some(selectors) if !selectors.is_empty() => {
                let mut v: Vec<RoleId> = live
                    .iter()
                    .copied()
                    .filter(|&c| c != id)
                    .filter(|&c| {
                        roles.get(c).is_some_and(|cr| {
                            selectors
                                .iter()
                                .any(|s| !s.is_empty() && s.matches(&cr.labels))
                        })
                    })
                    .collect();
                v.sort_unstable();
                v
            }
            _ => Vec::new(),
        })
        .collect();
    let mut effective = Vec::with_capacity(roles.len());
    for id in 0..roles.len() {
        let mut rules: Vec<RuleRef> = Vec::new();
        let mut visited = HashSet::new();
        let mut stack = vec![id];
        while let Some(r) = stack.pop() {
            if !visited.insert(r) {
                continue;
            }
            // The aggregation controller replaces an aggregating role's
            // rules with those of the roles it selects: its own written
            // rules are not in force — unless none of them is among the
            // inputs (a `kubectl get -o yaml` dump, a chart writing the
            // result out), where the written rules are that result.
            let aggregating = roles
                .get(r)
                .and_then(|role| role.aggregation.as_ref())
                .is_some_and(|selectors| !selectors.is_empty())
                && selects.get(r).is_some_and(|c| !c.is_empty());
            if let Some(o) = own.get(r).filter(|_| !aggregating) {
                rules.extend(o);
            }
            if let Some(children) = selects.get(r) {
                stack.extend(children);
            }
        }
        rules.sort_unstable();
        rules.dedup();
        effective.push(rules);
    }
    effective
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(verbs: &[&str], groups: &[&str], resources: &[&str]) -> PolicyRule {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect();
        PolicyRule {
            verbs: s(verbs),
            api_groups: s(groups),
            resources: s(resources),
            resource_names: Vec::new(),
            non_resource_urls: Vec::new(),
        }
    }

    #[test]
    fn matches_subresources_like_the_authorizer() {
        let r = rule(&["get"], &[""], &["pods/*"]);
        assert!(
            !resource_matches(&r, "pods", "exec"),
            "pods/* is not a wildcard"
        );
        assert!(resource_matches(
            &rule(&["get"], &[""], &["*/scale"]),
            "deployments",
            "scale"
        ));
        assert!(resource_matches(
            &rule(&["get"], &[""], &["pods/exec"]),
            "pods",
            "exec"
        ));
        assert!(!resource_matches(
            &rule(&["get"], &[""], &["pods"]),
            "pods",
            "exec"
        ));
        assert!(!resource_matches(
            &rule(&["get"], &[""], &["pods/exec"]),
            "pods",
            ""
        ));
        assert!(!resource_matches(
            &rule(&["get"], &[""], &["podsx/exec"]),
            "pods",
            "exec"
        ));
    }

    #[test]
    fn matches_non_resource_urls_with_star_suffix() {
        let mut r = rule(&["get"], &[], &[]);
        r.non_resource_urls = vec!["/healthz".into(), "/api/*".into()];
        assert!(non_resource_url_matches(&r, "/healthz"));
        assert!(!non_resource_url_matches(&r, "/healthz/ready"));
        assert!(non_resource_url_matches(&r, "/api/v1"));
        assert!(!non_resource_url_matches(&r, "/apis"));
        r.non_resource_urls = vec!["/logs**".into()];
        assert!(non_resource_url_matches(&r, "/logs/kube-apiserver.log"));
        assert!(!non_resource_url_matches(&r, "/metrics"));
    }

    #[test]
    fn parses_principals() {
        assert_eq!(
            Principal::parse("system:serviceaccount:argocd:argocd-server"),
            Ok(Principal::ServiceAccount {
                namespace: "argocd".into(),
                name: "argocd-server".into()
            })
        );
        assert_eq!(
            Principal::parse("sa:ns/x"),
            Principal::parse("serviceaccount:ns:x")
        );
        assert_eq!(
            Principal::parse("user:system:serviceaccount:ns:x"),
            Principal::parse("sa:ns/x")
        );
        assert_eq!(
            Principal::parse("group:devs"),
            Ok(Principal::Group("devs".into()))
        );
        assert_eq!(
            Principal::parse("alice"),
            Ok(Principal::User("alice".into()))
        );
        assert_eq!(
            Principal::parse("system:kube-scheduler"),
            Ok(Principal::User("system:kube-scheduler".into()))
        );
        assert!(Principal::parse("sa:only-a-name").is_err());
    }
}
