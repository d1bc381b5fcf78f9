//! Facts about objects that cross-object rules need, gathered during the
//! per-object pass so the trees themselves can be dropped early.

use crate::object::Object;
use crate::rbac::RbacData;
use crate::rules::Subject;
use crate::selector::{LabelSelector, Labels, labels_of};
use crate::settings::Settings;
use crate::workload::{Loc, PodSpec, locate};
use crate::yaml::Node;

/// A workload and the labels of its pods.
#[derive(Debug, Clone)]
pub struct WorkloadFact {
    pub subject: Subject,
    pub namespace: String,
    pub pod_labels: Labels,
    /// `spec.replicas` of Deployments, StatefulSets and ReplicaSets.
    pub replicas: Option<i64>,
    /// Whether a Deployment/StatefulSet (the kinds a PDB protects).
    pub replicated: bool,
}

/// A NetworkPolicy's pod selector.
#[derive(Debug, Clone)]
pub struct NetworkPolicyFact {
    pub subject: Subject,
    pub namespace: String,
    pub selector: LabelSelector,
    pub selector_loc: Loc,
}

/// A Service's pod selector, when it has one.
#[derive(Debug, Clone)]
pub struct ServiceFact {
    pub subject: Subject,
    pub namespace: String,
    pub name: String,
    pub selector: Option<(LabelSelector, Loc)>,
}

/// The Services an Ingress routes to.
#[derive(Debug, Clone)]
pub struct IngressFact {
    pub subject: Subject,
    pub namespace: String,
    pub backends: Vec<(String, Loc)>,
}

/// What a HorizontalPodAutoscaler scales.
#[derive(Debug, Clone)]
pub struct HpaFact {
    pub subject: Subject,
    pub namespace: String,
    pub target_kind: String,
    pub target_name: String,
    pub target_loc: Loc,
}

/// A PodDisruptionBudget's selector.
#[derive(Debug, Clone)]
pub struct PdbFact {
    pub namespace: String,
    pub selector: LabelSelector,
}

/// Everything cross-object rules look at.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub workloads: Vec<WorkloadFact>,
    pub network_policies: Vec<NetworkPolicyFact>,
    pub services: Vec<ServiceFact>,
    pub ingresses: Vec<IngressFact>,
    pub hpas: Vec<HpaFact>,
    pub pdbs: Vec<PdbFact>,
    /// Roles, bindings, service accounts and workloads' service accounts.
    pub rbac: RbacData,
}

fn namespace(obj: &Object) -> String {
    obj.namespace.clone().unwrap_or_default()
}

fn loc_at(obj: &Object, node: &Node, base: &str, path: &[&str]) -> Loc {
    let (span, pointer) = locate(node, base, path, obj.anchor());
    // `locate` does not step into sequences (Ingress `rules/0/...`); the
    // exact pointer does, when the field exists.
    let span = pointer
        .strip_prefix(base)
        .and_then(|p| node.span_at(p))
        .unwrap_or(span);
    Loc {
        span,
        pointer,
        container: None,
    }
}

impl Inventory {
    pub fn extend(&mut self, other: Inventory) {
        self.workloads.extend(other.workloads);
        self.network_policies.extend(other.network_policies);
        self.services.extend(other.services);
        self.ingresses.extend(other.ingresses);
        self.hpas.extend(other.hpas);
        self.pdbs.extend(other.pdbs);
        self.rbac.extend(other.rbac);
    }

    /// Records what cross-object rules need from `obj`.
    pub fn observe(
        &mut self,
        obj: &Object,
        pod: Option<&PodSpec<'_>>,
        subject: &Subject,
        settings: &Settings,
    ) {
        let default_ns = settings.default_namespace.as_str();
        if let Some(pod) = pod {
            self.rbac
                .observe_workload(obj, pod.node, subject, default_ns);
            let replicated = matches!(obj.kind.as_str(), "Deployment" | "StatefulSet");
            self.workloads.push(WorkloadFact {
                subject: subject.clone(),
                namespace: namespace(obj),
                pod_labels: labels_of(pod.metadata.and_then(|m| m.get("labels"))),
                replicas: matches!(
                    obj.kind.as_str(),
                    "Deployment" | "StatefulSet" | "ReplicaSet"
                )
                .then(|| {
                    obj.root
                        .path(&["spec", "replicas"])
                        .map_or(Some(1), Node::as_i64)
                })
                .flatten(),
                replicated,
            });
            return;
        }
        self.rbac.observe(obj, subject, default_ns);
        let root = &obj.root;
        match (obj.group(), obj.kind.as_str()) {
            ("networking.k8s.io", "NetworkPolicy") => {
                self.network_policies.push(NetworkPolicyFact {
                    subject: subject.clone(),
                    namespace: namespace(obj),
                    selector: LabelSelector::parse(root.path(&["spec", "podSelector"])),
                    selector_loc: loc_at(obj, root, "", &["spec", "podSelector"]),
                })
            }
            ("", "Service") => {
                let selector = root
                    .path(&["spec", "selector"])
                    .filter(|s| !s.entries().is_empty())
                    .map(|s| {
                        (
                            LabelSelector::from_labels(labels_of(Some(s))),
                            loc_at(obj, root, "", &["spec", "selector"]),
                        )
                    });
                self.services.push(ServiceFact {
                    subject: subject.clone(),
                    namespace: namespace(obj),
                    name: obj.name.clone().unwrap_or_default(),
                    selector,
                });
            }
            ("networking.k8s.io" | "extensions", "Ingress") => {
                let mut backends = Vec::new();
                let spec = root.get("spec");
                for (path, node) in ingress_backends(spec) {
                    if let Some(name) = node.and_then(Node::as_str) {
                        backends.push((
                            name.to_string(),
                            loc_at(
                                obj,
                                root,
                                "",
                                &path.iter().map(String::as_str).collect::<Vec<_>>(),
                            ),
                        ));
                    }
                }
                self.ingresses.push(IngressFact {
                    subject: subject.clone(),
                    namespace: namespace(obj),
                    backends,
                });
            }
            ("autoscaling", "HorizontalPodAutoscaler") => {
                let target = root.path(&["spec", "scaleTargetRef"]);
                if let (Some(kind), Some(name)) = (
                    target.and_then(|t| t.get("kind")).and_then(Node::as_str),
                    target.and_then(|t| t.get("name")).and_then(Node::as_str),
                ) {
                    self.hpas.push(HpaFact {
                        subject: subject.clone(),
                        namespace: namespace(obj),
                        target_kind: kind.to_string(),
                        target_name: name.to_string(),
                        target_loc: loc_at(obj, root, "", &["spec", "scaleTargetRef"]),
                    });
                }
            }
            ("policy", "PodDisruptionBudget") => self.pdbs.push(PdbFact {
                namespace: namespace(obj),
                selector: LabelSelector::parse(root.path(&["spec", "selector"])),
            }),
            _ => {}
        }
    }
}

/// Every backend service name of an Ingress (networking.k8s.io/v1 and the
/// older `serviceName` form), with the path to it.
fn ingress_backends(spec: Option<&Node>) -> Vec<(Vec<String>, Option<&Node>)> {
    fn push<'n>(
        out: &mut Vec<(Vec<String>, Option<&'n Node>)>,
        mut path: Vec<String>,
        backend: &'n Node,
    ) {
        if let Some(name) = backend.path(&["service", "name"]) {
            path.extend(["service".to_string(), "name".to_string()]);
            out.push((path, Some(name)));
        } else if let Some(name) = backend.get("serviceName") {
            path.push("serviceName".to_string());
            out.push((path, Some(name)));
        }
    }
    let mut out = Vec::new();
    let Some(spec) = spec else {
        return out;
    };
    for key in ["defaultBackend", "backend"] {
        if let Some(b) = spec.get(key) {
            push(&mut out, vec!["spec".into(), key.into()], b);
        }
    }
    for (i, rule) in spec
        .get("rules")
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        for (j, path) in rule
            .path(&["http", "paths"])
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            if let Some(b) = path.get("backend") {
                let base = [
                    "spec",
                    "rules",
                    &i.to_string(),
                    "http",
                    "paths",
                    &j.to_string(),
                    "backend",
                ]
                .iter()
                .map(|s| s.to_string())
                .collect();
                push(&mut out, base, b);
            }
        }
    }
    out
}
