//! The RBAC objects as owned data, gathered during the object pass (the YAML
//! trees are dropped afterwards), each with where it was written.

use palisade_core::Span;

use crate::object::Object;
use crate::rules::Subject;
use crate::selector::{LabelSelector, Labels, labels_of};
use crate::workload::locate_item;
use crate::yaml::Node;

pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// One rule of a Role or ClusterRole.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PolicyRule {
    pub verbs: Vec<String>,
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub resource_names: Vec<String>,
    pub non_resource_urls: Vec<String>,
}

/// Role or ClusterRole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RoleKind {
    Role,
    ClusterRole,
}

impl RoleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RoleKind::Role => "Role",
            RoleKind::ClusterRole => "ClusterRole",
        }
    }
}

/// A rule as written, with its position in its role.
#[derive(Debug, Clone)]
pub struct WrittenRule {
    pub rule: PolicyRule,
    pub index: usize,
    pub span: Span,
}

/// A Role or ClusterRole.
#[derive(Debug, Clone)]
pub struct Role {
    pub kind: RoleKind,
    /// Empty for ClusterRoles.
    pub namespace: String,
    pub name: String,
    pub labels: Labels,
    pub rules: Vec<WrittenRule>,
    /// `aggregationRule.clusterRoleSelectors` (ClusterRoles only).
    pub aggregation: Option<Vec<LabelSelector>>,
    pub origin: Subject,
}

/// Who a binding names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SubjectKind {
    User,
    Group,
    ServiceAccount,
}

impl SubjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::User => "User",
            SubjectKind::Group => "Group",
            SubjectKind::ServiceAccount => "ServiceAccount",
        }
    }
}

/// One subject of a binding.
#[derive(Debug, Clone)]
pub struct BindingSubject {
    pub kind: SubjectKind,
    pub name: String,
    /// For service accounts: the subject's namespace, else the binding's.
    pub namespace: String,
    pub index: usize,
    pub span: Span,
}

/// A subject the API server would reject, kept to report it: a kind it
/// does not know, or a ServiceAccount of a ClusterRoleBinding without a
/// namespace (which names no account: `system:serviceaccount::NAME`).
#[derive(Debug, Clone)]
pub struct UnknownSubject {
    pub kind: String,
    pub name: String,
    pub span: Span,
    pub no_namespace: bool,
}

/// RoleBinding or ClusterRoleBinding.
#[derive(Debug, Clone)]
pub struct Binding {
    pub cluster: bool,
    /// Empty for ClusterRoleBindings.
    pub namespace: String,
    pub name: String,
    pub role_kind: RoleKind,
    pub role_name: String,
    pub role_ref_span: Span,
    pub subjects: Vec<BindingSubject>,
    pub unknown_subjects: Vec<UnknownSubject>,
    pub origin: Subject,
}

impl Binding {
    pub fn kind_str(&self) -> &'static str {
        if self.cluster {
            "ClusterRoleBinding"
        } else {
            "RoleBinding"
        }
    }
}

/// A ServiceAccount object.
#[derive(Debug, Clone)]
pub struct ServiceAccount {
    pub namespace: String,
    pub name: String,
    pub origin: Subject,
}

/// A workload and the service account its pods run as.
#[derive(Debug, Clone)]
pub struct WorkloadRef {
    pub namespace: String,
    pub service_account: String,
    pub origin: Subject,
}

/// Every RBAC-relevant object of a run.
#[derive(Debug, Clone, Default)]
pub struct RbacData {
    pub roles: Vec<Role>,
    pub bindings: Vec<Binding>,
    pub service_accounts: Vec<ServiceAccount>,
    pub workloads: Vec<WorkloadRef>,
}

fn strings(node: &Node, key: &str) -> Vec<String> {
    node.get(key)
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .filter_map(|n| n.scalar().map(|s| s.text.to_string()))
        .collect()
}

impl RbacData {
    pub fn extend(&mut self, other: RbacData) {
        self.roles.extend(other.roles);
        self.bindings.extend(other.bindings);
        self.service_accounts.extend(other.service_accounts);
        self.workloads.extend(other.workloads);
    }

    /// Records `obj` if it is a Role, ClusterRole, binding or ServiceAccount.
    /// Namespaced objects without a namespace are placed in
    /// `default_namespace`, as `kubectl apply -n` would.
    pub fn observe(&mut self, obj: &Object, subject: &Subject, default_namespace: &str) {
        let namespace = obj
            .namespace
            .clone()
            .unwrap_or_else(|| default_namespace.to_string());
        let name = obj.name.clone().unwrap_or_default();
        match (obj.group(), obj.kind.as_str()) {
            (RBAC_GROUP, kind @ ("Role" | "ClusterRole")) => {
                let kind = if kind == "Role" {
                    RoleKind::Role
                } else {
                    RoleKind::ClusterRole
                };
                let rules = obj
                    .root
                    .get("rules")
                    .map(Node::items)
                    .unwrap_or_default()
                    .iter()
                    .enumerate()
                    .map(|(index, n)| WrittenRule {
                        rule: PolicyRule {
                            verbs: strings(n, "verbs"),
                            api_groups: strings(n, "apiGroups"),
                            resources: strings(n, "resources"),
                            resource_names: strings(n, "resourceNames"),
                            non_resource_urls: strings(n, "nonResourceURLs"),
                        },
                        index,
                        span: n.span,
                    })
                    .collect();
                let aggregation = (kind == RoleKind::ClusterRole)
                    .then(|| obj.root.path(&["aggregationRule", "clusterRoleSelectors"]))
                    .flatten()
                    .map(|sel| {
                        sel.items()
                            .iter()
                            .map(|s| LabelSelector::parse(Some(s)))
                            .collect()
                    });
                self.roles.push(Role {
                    kind,
                    namespace: if kind == RoleKind::Role {
                        namespace
                    } else {
                        String::new()
                    },
                    name,
                    labels: labels_of(obj.metadata().and_then(|m| m.get("labels"))),
                    rules,
                    aggregation,
                    origin: subject.clone(),
                });
            }
            (RBAC_GROUP, kind @ ("RoleBinding" | "ClusterRoleBinding")) => {
                let cluster = kind == "ClusterRoleBinding";
                let role_ref = obj.root.get("roleRef");
                let role_kind = match role_ref.and_then(|r| r.get("kind")).and_then(Node::as_str) {
                    Some("Role") => RoleKind::Role,
                    _ => RoleKind::ClusterRole,
                };
                let role_name = role_ref
                    .and_then(|r| r.get("name"))
                    .and_then(Node::as_str)
                    .unwrap_or_default()
                    .to_string();
                let role_ref_span = obj
                    .root
                    .entry("roleRef")
                    .map_or(subject.anchor, |e| e.span());
                let mut subjects = Vec::new();
                let mut unknown_subjects = Vec::new();
                for (index, s) in obj
                    .root
                    .get("subjects")
                    .map(Node::items)
                    .unwrap_or_default()
                    .iter()
                    .enumerate()
                {
                    let kind = s.get("kind").and_then(Node::as_str).unwrap_or_default();
                    let subject_name = s
                        .get("name")
                        .and_then(Node::as_str)
                        .unwrap_or_default()
                        .to_string();
                    let (span, _) =
                        locate_item(&obj.root, "", &["subjects"], index, &[], subject.anchor);
                    let kind = match kind {
                        "User" => SubjectKind::User,
                        "Group" => SubjectKind::Group,
                        "ServiceAccount" => SubjectKind::ServiceAccount,
                        other => {
                            unknown_subjects.push(UnknownSubject {
                                kind: other.to_string(),
                                name: subject_name,
                                span,
                                no_namespace: false,
                            });
                            continue;
                        }
                    };
                    let written_ns = s.get("namespace").and_then(Node::as_str);
                    let subject_ns = match (kind, written_ns) {
                        (SubjectKind::ServiceAccount, Some(ns)) => ns.to_string(),
                        // Only a RoleBinding lends its namespace.
                        (SubjectKind::ServiceAccount, None) if cluster => {
                            unknown_subjects.push(UnknownSubject {
                                kind: "ServiceAccount".into(),
                                name: subject_name,
                                span,
                                no_namespace: true,
                            });
                            continue;
                        }
                        (SubjectKind::ServiceAccount, None) => namespace.clone(),
                        _ => String::new(),
                    };
                    subjects.push(BindingSubject {
                        kind,
                        name: subject_name,
                        namespace: subject_ns,
                        index,
                        span,
                    });
                }
                self.bindings.push(Binding {
                    cluster,
                    namespace: if cluster { String::new() } else { namespace },
                    name,
                    role_kind,
                    role_name,
                    role_ref_span,
                    subjects,
                    unknown_subjects,
                    origin: subject.clone(),
                });
            }
            ("", "ServiceAccount") => self.service_accounts.push(ServiceAccount {
                namespace,
                name,
                origin: subject.clone(),
            }),
            _ => {}
        }
    }

    /// Records a workload's service account.
    pub fn observe_workload(
        &mut self,
        obj: &Object,
        pod_spec: &Node,
        subject: &Subject,
        default_namespace: &str,
    ) {
        let service_account = pod_spec
            .get("serviceAccountName")
            .or_else(|| pod_spec.get("serviceAccount"))
            .and_then(Node::as_str)
            .unwrap_or("default")
            .to_string();
        self.workloads.push(WorkloadRef {
            namespace: obj
                .namespace
                .clone()
                .unwrap_or_else(|| default_namespace.to_string()),
            service_account,
            origin: subject.clone(),
        });
    }
}
