//! One accessor for the pod spec and containers of every workload kind, with
//! the JSON pointer of each, so rules are written once for all of them.

use std::fmt;

use palisade_core::Span;

use crate::object::Object;
use crate::yaml::{Entry, Node, escape_pointer_token};

/// Where the pod template sits in each workload kind.
const POD_SPEC_PATHS: &[(&str, &[&str])] = &[
    ("Pod", &[]),
    ("Deployment", &["spec", "template"]),
    ("StatefulSet", &["spec", "template"]),
    ("DaemonSet", &["spec", "template"]),
    ("ReplicaSet", &["spec", "template"]),
    ("ReplicationController", &["spec", "template"]),
    ("Job", &["spec", "template"]),
    ("CronJob", &["spec", "jobTemplate", "spec", "template"]),
    ("PodTemplate", &["template"]),
];

/// Whether objects of this kind run pods.
pub fn is_workload_kind(kind: &str) -> bool {
    POD_SPEC_PATHS.iter().any(|(k, _)| *k == kind)
}

/// A pod spec: `spec` of a Pod, or of a workload's pod template.
#[derive(Debug, Clone, Copy)]
pub struct PodSpec<'a> {
    /// The `spec` mapping of the pod (template).
    pub node: &'a Node,
    /// Its `spec` entry (key and value), for locating missing fields.
    pub entry: Option<&'a Entry>,
    /// JSON pointer to `node` within the object (e.g. `/spec/template/spec`).
    pub pointer: &'static str,
    /// The pod (template) metadata, if any.
    pub metadata: Option<&'a Node>,
    pub metadata_pointer: &'static str,
}

/// Which list of the pod spec a container is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ContainerKind {
    Init,
    Regular,
    Ephemeral,
}

impl ContainerKind {
    pub fn field(self) -> &'static str {
        match self {
            ContainerKind::Init => "initContainers",
            ContainerKind::Regular => "containers",
            ContainerKind::Ephemeral => "ephemeralContainers",
        }
    }
}

impl fmt::Display for ContainerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ContainerKind::Init => "init container",
            ContainerKind::Regular => "container",
            ContainerKind::Ephemeral => "ephemeral container",
        })
    }
}

/// A container of a pod spec.
#[derive(Debug, Clone)]
pub struct Container<'a> {
    pub kind: ContainerKind,
    pub index: usize,
    pub node: &'a Node,
    /// JSON pointer within the object (`/spec/template/spec/containers/0`).
    pub pointer: String,
    pub name: &'a str,
}

/// A place in an object for a finding: span, JSON pointer (relative to the
/// object) and the container concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loc {
    pub span: Span,
    pub pointer: String,
    pub container: Option<String>,
}

/// Locates `path` under `node` (at `base`): the span of the deepest entry
/// of the path that exists (the field itself when present, else the nearest
/// parent), or `fallback` when none does. The pointer always names the
/// whole path, present or not.
pub fn locate(node: &Node, base: &str, path: &[&str], fallback: Span) -> (Span, String) {
    let mut span = fallback;
    let mut current = Some(node);
    let mut pointer = String::with_capacity(base.len() + 32);
    pointer.push_str(base);
    for key in path {
        pointer.push('/');
        pointer.push_str(&escape_pointer_token(key));
        if let Some(entry) = current.and_then(|n| n.entry(key)) {
            span = entry.span();
            current = Some(&entry.value);
        } else {
            current = None;
        }
    }
    (span, pointer)
}

/// Locates field `rest` of item `index` of the sequence at `path` under
/// `node` (at `base`), like [`locate`]: a missing item or field falls back
/// to the sequence (or its nearest existing parent); the pointer always
/// names the whole path.
pub fn locate_item(
    node: &Node,
    base: &str,
    path: &[&str],
    index: usize,
    rest: &[&str],
    fallback: Span,
) -> (Span, String) {
    let (seq_span, seq_pointer) = locate(node, base, path, fallback);
    let item_pointer = format!("{seq_pointer}/{index}");
    match node.path(path).and_then(|n| n.items().get(index)) {
        Some(item) => locate(item, &item_pointer, rest, item.span),
        None => {
            let mut pointer = item_pointer;
            for key in rest {
                pointer.push('/');
                pointer.push_str(&escape_pointer_token(key));
            }
            (seq_span, pointer)
        }
    }
}

/// A point span at the start of `span`'s first line: for "missing field"
/// findings that point at a whole container or spec.
fn head(span: Span) -> Span {
    Span::new(span.start, span.start)
}

impl<'a> PodSpec<'a> {
    /// The pod spec of a workload object, if it is one and has a spec.
    pub fn of(obj: &'a Object) -> Option<PodSpec<'a>> {
        let (_, path) = POD_SPEC_PATHS.iter().find(|(k, _)| *k == obj.kind)?;
        let template = obj.root.path(path)?;
        let entry = template.entry("spec")?;
        entry.value.as_map()?;
        let (pointer, metadata_pointer) = match obj.kind.as_str() {
            "Pod" => ("/spec", "/metadata"),
            "CronJob" => (
                "/spec/jobTemplate/spec/template/spec",
                "/spec/jobTemplate/spec/template/metadata",
            ),
            "PodTemplate" => ("/template/spec", "/template/metadata"),
            _ => ("/spec/template/spec", "/spec/template/metadata"),
        };
        Some(PodSpec {
            node: &entry.value,
            entry: Some(entry),
            pointer,
            metadata: template.get("metadata"),
            metadata_pointer,
        })
    }

    pub fn get(&self, key: &str) -> Option<&'a Node> {
        self.node.get(key)
    }

    /// Every container: init, regular, then ephemeral.
    pub fn containers(&self) -> impl Iterator<Item = Container<'a>> + 'a {
        let spec = self.node;
        let pointer = self.pointer;
        [
            ContainerKind::Init,
            ContainerKind::Regular,
            ContainerKind::Ephemeral,
        ]
        .into_iter()
        .flat_map(move |kind| {
            spec.get(kind.field())
                .map(Node::items)
                .unwrap_or_default()
                .iter()
                .enumerate()
                .filter(|(_, n)| n.as_map().is_some())
                .map(move |(index, node)| Container {
                    kind,
                    index,
                    node,
                    pointer: format!("{pointer}/{}/{index}", kind.field()),
                    name: node
                        .get("name")
                        .and_then(Node::as_str)
                        .unwrap_or("<unnamed>"),
                })
        })
    }

    /// Regular and init containers: those that run for the pod's lifetime or
    /// before it (ephemeral containers cannot declare resources or probes).
    pub fn runtime_containers(&self) -> impl Iterator<Item = Container<'a>> + 'a {
        self.containers()
            .filter(|c| c.kind != ContainerKind::Ephemeral)
    }

    /// The pod's `securityContext` field `key`.
    pub fn security(&self, key: &str) -> Option<&'a Node> {
        self.node.get("securityContext")?.get(key)
    }

    /// A location for `path` under the pod spec.
    pub fn at(&self, path: &[&str]) -> Loc {
        let fallback = self
            .entry
            .map_or(head(self.node.span), |e| head(e.key_span));
        let (span, pointer) = locate(self.node, self.pointer, path, fallback);
        Loc {
            span,
            pointer,
            container: None,
        }
    }

    /// A location for field `rest` of item `index` of the sequence at
    /// `path` under the pod spec (`at_item(&["volumes"], 2, &["hostPath"])`).
    pub fn at_item(&self, path: &[&str], index: usize, rest: &[&str]) -> Loc {
        let fallback = self
            .entry
            .map_or(head(self.node.span), |e| head(e.key_span));
        let (span, pointer) = locate_item(self.node, self.pointer, path, index, rest, fallback);
        Loc {
            span,
            pointer,
            container: None,
        }
    }

    /// Whether the pod declares it runs on Windows (`spec.os.name: windows`),
    /// which exempts it from the Linux-only Pod Security Standards controls.
    pub fn is_windows(&self) -> bool {
        self.node
            .path(&["os", "name"])
            .and_then(Node::as_str)
            .is_some_and(|n| n.eq_ignore_ascii_case("windows"))
    }

    /// An annotation of the pod (template).
    pub fn annotation(&self, key: &str) -> Option<&'a str> {
        self.metadata?.get("annotations")?.get(key)?.as_str()
    }

    /// A location for an annotation of the pod (template) metadata.
    pub fn annotation_at(&self, key: &str) -> Loc {
        let fallback = self
            .entry
            .map_or(head(self.node.span), |e| head(e.key_span));
        let (span, pointer) = match self.metadata {
            Some(m) => locate(
                m,
                self.metadata_pointer,
                &["annotations", key],
                head(m.span),
            ),
            None => (
                fallback,
                format!(
                    "{}/annotations/{}",
                    self.metadata_pointer,
                    escape_pointer_token(key)
                ),
            ),
        };
        Loc {
            span,
            pointer,
            container: None,
        }
    }

    /// Volumes of the pod, with their pointers.
    pub fn volumes(&self) -> impl Iterator<Item = (usize, &'a Node)> + 'a {
        self.node
            .get("volumes")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .enumerate()
    }
}

impl<'a> Container<'a> {
    pub fn get(&self, path: &[&str]) -> Option<&'a Node> {
        self.node.path(path)
    }

    /// The container's `securityContext` field `key`.
    pub fn security(&self, key: &str) -> Option<&'a Node> {
        self.node.get("securityContext")?.get(key)
    }

    /// A location for `path` under the container; missing fields point at
    /// the container's `name` (how people find a container in a file).
    pub fn at(&self, path: &[&str]) -> Loc {
        let fallback = self
            .node
            .entry("name")
            .map_or(head(self.node.span), |e| e.span());
        let (span, pointer) = locate(self.node, &self.pointer, path, fallback);
        Loc {
            span,
            pointer,
            container: Some(self.name.to_string()),
        }
    }

    /// A location for field `rest` of item `index` of the sequence at
    /// `path` under the container (`at_item(&["env"], 0, &["value"])`).
    pub fn at_item(&self, path: &[&str], index: usize, rest: &[&str]) -> Loc {
        let fallback = self
            .node
            .entry("name")
            .map_or(head(self.node.span), |e| e.span());
        let (span, pointer) = locate_item(self.node, &self.pointer, path, index, rest, fallback);
        Loc {
            span,
            pointer,
            container: Some(self.name.to_string()),
        }
    }

    /// "container `web`", "init container `setup`".
    pub fn describe(&self) -> String {
        format!("{} `{}`", self.kind, self.name)
    }

    /// The image reference, if set.
    pub fn image(&self) -> Option<&'a str> {
        self.node.get("image").and_then(Node::as_str)
    }
}

/// Reads `securityContext` fields with the container overriding the pod, as
/// the kubelet does.
pub fn effective<'a>(pod: &PodSpec<'a>, container: &Container<'a>, key: &str) -> Option<&'a Node> {
    container
        .security(key)
        .filter(|n| !n.is_null())
        .or_else(|| pod.security(key).filter(|n| !n.is_null()))
}

/// Like [`effective`], with the location of the field that decides: the
/// container's own field, or the pod's it inherits (attributed to the
/// container).
pub fn effective_at<'a>(
    pod: &PodSpec<'a>,
    container: &Container<'a>,
    key: &str,
) -> Option<(&'a Node, Loc)> {
    if let Some(n) = container.security(key).filter(|n| !n.is_null()) {
        return Some((n, container.at(&["securityContext", key])));
    }
    let n = pod.security(key).filter(|n| !n.is_null())?;
    let mut loc = pod.at(&["securityContext", key]);
    loc.container = Some(container.name.to_string());
    Some((n, loc))
}
