//! Privilege-escalation paths: chains of steps by which one subject gains
//! another's permissions (creating a pod that runs as a service account,
//! minting its token, impersonating it) until it reaches cluster-admin or a
//! chosen subject. Each hop carries the grant that makes it possible.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fmt::Write as _;

use super::model::RBAC_GROUP;
use super::policy::{Grant, Policy, Principal, Request, rule_allows};
use super::resources::grantable_in_namespace;
use super::risks::describe_grant;

/// A node of the escalation graph.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Node {
    Principal(Principal),
    /// Every permission in the cluster.
    ClusterAdmin,
}

impl Node {
    pub fn label(&self) -> String {
        match self {
            Node::Principal(p) => p.to_string(),
            Node::ClusterAdmin => "cluster-admin".into(),
        }
    }
}

/// One step: `from` gains `to` because of `how`, allowed by `grant`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hop {
    pub from: Node,
    pub to: Node,
    pub how: String,
    pub grant: Grant,
    pub evidence: String,
}

/// A path from a source to the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    pub hops: Vec<Hop>,
}

struct Edges {
    out: HashMap<Node, Vec<Hop>>,
}

fn allows(
    policy: &Policy,
    grant: &Grant,
    scope: &str,
    verb: &str,
    group: &str,
    resource: &str,
) -> bool {
    let (base, _) = resource.split_once('/').unwrap_or((resource, ""));
    if !grantable_in_namespace(verb, group, base) && !scope.is_empty() {
        return false;
    }
    let request = Request::resource(verb, group, resource, scope);
    policy
        .rule(grant.rule)
        .is_some_and(|r| rule_allows(r, &request))
}

/// Service accounts known per namespace: ServiceAccount objects, accounts
/// named in bindings, accounts workloads run as, and `default`.
fn accounts_by_namespace(policy: &Policy) -> BTreeMap<String, BTreeSet<String>> {
    let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for sa in &policy.data.service_accounts {
        m.entry(sa.namespace.clone())
            .or_default()
            .insert(sa.name.clone());
    }
    for b in &policy.data.bindings {
        for s in &b.subjects {
            if s.kind == super::model::SubjectKind::ServiceAccount {
                m.entry(s.namespace.clone())
                    .or_default()
                    .insert(s.name.clone());
            }
        }
    }
    for w in &policy.data.workloads {
        m.entry(w.namespace.clone())
            .or_default()
            .insert(w.service_account.clone());
    }
    for set in m.values_mut() {
        set.insert("default".into());
    }
    m
}

/// The grant that gives everything cluster-wide, if any.
pub fn cluster_admin_grant(policy: &Policy, grants: &[(String, Grant)]) -> Option<Grant> {
    grants.iter().find_map(|(scope, g)| {
        let r = policy.rule(g.rule)?;
        (scope.is_empty()
            && r.verbs.iter().any(|v| v == "*")
            && r.resources.iter().any(|x| x == "*")
            && r.api_groups.iter().any(|x| x == "*")
            && r.resource_names.is_empty())
        .then_some(*g)
    })
}

fn build(policy: &Policy) -> Edges {
    let accounts = accounts_by_namespace(policy);
    let mut out: HashMap<Node, Vec<Hop>> = HashMap::new();
    for principal in policy.principals() {
        let grants = policy.direct_grants(&principal);
        let from = Node::Principal(principal.clone());
        let mut hops: Vec<Hop> = Vec::new();
        let mut push = |to: Node, how: String, grant: Grant| {
            hops.push(Hop {
                from: from.clone(),
                to,
                how,
                grant,
                evidence: describe_grant(policy, &grant),
            });
        };
        let admin = cluster_admin_grant(policy, &grants);
        if let Some(g) = admin {
            push(Node::ClusterAdmin, "holds every permission".into(), g);
        }
        // `bind` on ClusterRoles in a namespace plus creating RoleBindings there:
        // any ClusterRole (`admin`) bound to itself in that namespace, so
        // its pods and service accounts. The two may come from different
        // rules, so they are gathered per namespace first.
        let mut binders: BTreeMap<&str, Grant> = BTreeMap::new();
        let mut binding_writers: BTreeSet<&str> = BTreeSet::new();
        for (scope, grant) in grants.iter().filter(|(scope, _)| !scope.is_empty()) {
            let on = |verb: &str, resource: &str| {
                allows(policy, grant, scope, verb, RBAC_GROUP, resource)
            };
            // `bind` on Roles only binds the namespace's own Roles.
            if on("bind", "clusterroles") {
                binders.entry(scope.as_str()).or_insert(*grant);
            }
            if on("create", "rolebindings") {
                binding_writers.insert(scope.as_str());
            }
        }
        for (ns, grant) in &binders {
            if !binding_writers.contains(ns) {
                continue;
            }
            for sa in accounts.get(*ns).into_iter().flatten() {
                let to = Node::Principal(Principal::ServiceAccount {
                    namespace: (*ns).to_string(),
                    name: sa.clone(),
                });
                if to != from {
                    push(
                        to,
                        format!(
                            "can bind any ClusterRole to itself in {ns} (bind and create rolebindings there), then run pods as it"
                        ),
                        *grant,
                    );
                }
            }
        }
        for (scope, grant) in &grants {
            let namespaces: Vec<&String> = if scope.is_empty() {
                accounts.keys().collect()
            } else {
                accounts.keys().filter(|k| *k == scope).collect()
            };
            let on = |verb: &str, group: &str, resource: &str| {
                allows(policy, grant, scope, verb, group, resource)
            };
            for (verb, group, resource, how) in [
                (
                    "escalate",
                    "rbac.authorization.k8s.io",
                    "clusterroles",
                    "can escalate ClusterRoles",
                ),
                (
                    "bind",
                    "rbac.authorization.k8s.io",
                    "clusterroles",
                    "can bind cluster-admin to itself",
                ),
                (
                    "impersonate",
                    "",
                    "groups",
                    "can impersonate the group system:masters",
                ),
                ("impersonate", "", "users", "can impersonate any user"),
            ] {
                if scope.is_empty() && admin.is_none() && on(verb, group, resource) {
                    push(Node::ClusterAdmin, how.into(), *grant);
                }
            }
            let create_pods = [
                "pods",
                "deployments",
                "daemonsets",
                "statefulsets",
                "replicasets",
                "jobs",
                "cronjobs",
            ]
            .iter()
            .any(|r| {
                let group = match *r {
                    "pods" => "",
                    "jobs" | "cronjobs" => "batch",
                    _ => "apps",
                };
                on("create", group, r)
            });
            let token = on("create", "", "serviceaccounts/token");
            let secrets = on("create", "", "secrets");
            let impersonate_sa = on("impersonate", "", "serviceaccounts");
            for ns in &namespaces {
                for sa in accounts.get(*ns).into_iter().flatten() {
                    let to = Node::Principal(Principal::ServiceAccount {
                        namespace: (*ns).clone(),
                        name: sa.clone(),
                    });
                    if to == from {
                        continue;
                    }
                    if create_pods {
                        push(
                            to.clone(),
                            format!("can create a pod in {ns} running as it (and read its token)"),
                            *grant,
                        );
                    } else if token {
                        push(
                            to.clone(),
                            format!("can mint a token for it (serviceaccounts/token in {ns})"),
                            *grant,
                        );
                    } else if impersonate_sa {
                        push(to.clone(), "can impersonate it".into(), *grant);
                    } else if secrets {
                        push(
                            to.clone(),
                            format!("can create a token Secret for it in {ns}"),
                            *grant,
                        );
                    }
                }
            }
            // Executing in, or changing, running pods takes over the
            // service accounts those pods run as.
            let exec = on("create", "", "pods/exec") || on("get", "", "pods/exec");
            let patch = on("patch", "", "pods")
                || on("update", "", "pods")
                || on("patch", "", "pods/ephemeralcontainers");
            let proxy = scope.is_empty()
                && (on("get", "", "nodes/proxy") || on("create", "", "nodes/proxy"));
            if exec || patch || proxy {
                for w in &policy.data.workloads {
                    if !(proxy || scope.is_empty() || w.namespace == *scope) {
                        continue;
                    }
                    let to = Node::Principal(Principal::ServiceAccount {
                        namespace: w.namespace.clone(),
                        name: w.service_account.clone(),
                    });
                    if to == from {
                        continue;
                    }
                    let workload = crate::rules::cx::describe(&w.origin.resource);
                    let how = if proxy {
                        format!("can exec into {workload} through the kubelet (nodes/proxy)")
                    } else if exec {
                        format!("can exec into {workload}, which runs as it")
                    } else {
                        format!("can change the pods of {workload}, which run as it")
                    };
                    push(to, how, *grant);
                }
            }
        }
        hops.sort();
        hops.dedup_by(|a, b| a.to == b.to);
        out.insert(from, hops);
    }
    Edges { out }
}

/// Shortest escalation paths to `target` from `from` (or from every
/// principal that is not already the target and not a system identity).
pub fn find(
    policy: &Policy,
    from: Option<&Principal>,
    target: &Node,
    include_system: bool,
) -> Vec<Path> {
    let edges = build(policy);
    let sources: Vec<Node> = match from {
        Some(p) => vec![Node::Principal(p.clone())],
        None => {
            let mut v: Vec<Node> = edges
                .out
                .keys()
                .filter(|n| match n {
                    Node::Principal(p) => include_system || !p.is_system(),
                    Node::ClusterAdmin => false,
                })
                .cloned()
                .collect();
            v.sort();
            v
        }
    };
    let mut paths = Vec::new();
    for source in sources {
        if &source == target {
            continue;
        }
        // Breadth-first: shortest path, deterministic by sorted edges.
        let mut prev: HashMap<Node, Hop> = HashMap::new();
        let mut queue = VecDeque::from([source.clone()]);
        let mut found = false;
        while let Some(node) = queue.pop_front() {
            if &node == target {
                found = true;
                break;
            }
            for hop in edges.out.get(&node).map_or(&[][..], Vec::as_slice) {
                if hop.to != source && !prev.contains_key(&hop.to) {
                    prev.insert(hop.to.clone(), hop.clone());
                    queue.push_back(hop.to.clone());
                }
            }
        }
        if !found {
            continue;
        }
        let mut hops = Vec::new();
        let mut at = target.clone();
        while let Some(hop) = prev.get(&at) {
            hops.push(hop.clone());
            if hop.from == source {
                break;
            }
            at = hop.from.clone();
        }
        hops.reverse();
        // A direct cluster-admin holder is not an escalation.
        if !(hops.len() == 1
            && hops
                .first()
                .is_some_and(|h| h.how == "holds every permission"))
        {
            paths.push(Path { hops });
        }
    }
    paths
}

/// Text: one numbered path per source, one line per hop.
pub fn to_text(paths: &[Path]) -> String {
    let mut s = String::new();
    for (i, p) in paths.iter().enumerate() {
        let Some(first) = p.hops.first() else {
            continue;
        };
        let _ = writeln!(
            s,
            "{}. {} ({} step{})",
            i + 1,
            first.from.label(),
            p.hops.len(),
            if p.hops.len() == 1 { "" } else { "s" }
        );
        for hop in &p.hops {
            let _ = writeln!(
                s,
                "   → {}: {}\n     via {}",
                hop.to.label(),
                hop.how,
                hop.evidence
            );
        }
    }
    if paths.is_empty() {
        s.push_str("No escalation paths found.\n");
    }
    s
}

/// JSON: `[{from, to, hops: [{from, to, how, evidence}]}]`.
pub fn to_json(paths: &[Path]) -> serde_json::Value {
    serde_json::Value::Array(
        paths
            .iter()
            .map(|p| {
                serde_json::json!({
                    "from": p.hops.first().map(|h| h.from.label()),
                    "to": p.hops.last().map(|h| h.to.label()),
                    "hops": p.hops.iter().map(|h| serde_json::json!({
                        "from": h.from.label(),
                        "to": h.to.label(),
                        "how": h.how,
                        "evidence": h.evidence,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}

fn unique_hops(paths: &[Path]) -> Vec<&Hop> {
    let mut seen = BTreeSet::new();
    paths
        .iter()
        .flat_map(|p| &p.hops)
        .filter(|h| seen.insert((h.from.label(), h.to.label())))
        .collect()
}

fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Graphviz DOT of every hop on the paths.
pub fn to_dot(paths: &[Path]) -> String {
    let mut s = String::from("digraph escalation {\n  rankdir=LR;\n  node [shape=box];\n");
    for h in unique_hops(paths) {
        let _ = writeln!(
            s,
            "  \"{}\" -> \"{}\" [label=\"{}\"];",
            dot_escape(&h.from.label()),
            dot_escape(&h.to.label()),
            dot_escape(&h.how)
        );
    }
    s.push_str("}\n");
    s
}

/// Mermaid flowchart of every hop on the paths.
pub fn to_mermaid(paths: &[Path]) -> String {
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    let mut s = String::from("flowchart LR\n");
    let hops = unique_hops(paths);
    for h in &hops {
        for n in [&h.from, &h.to] {
            let label = n.label();
            let next = format!("n{}", ids.len());
            ids.entry(label).or_insert(next);
        }
    }
    for (label, id) in &ids {
        let _ = writeln!(s, "  {id}[\"{}\"]", label.replace('"', "#quot;"));
    }
    for h in hops {
        let (Some(a), Some(b)) = (ids.get(&h.from.label()), ids.get(&h.to.label())) else {
            continue;
        };
        let _ = writeln!(s, "  {a} -->|\"{}\"| {b}", h.how.replace('"', "#quot;"));
    }
    s
}
