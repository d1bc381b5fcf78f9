//! Kubernetes objects: a document's tree plus where it came from and the
//! identity fields every rule needs.

use std::sync::Arc;

use palisade_core::suppress::InlineDirectives;
use palisade_core::{Location, ResourceRef, Span};

use crate::yaml::{Node, NodeKind};

/// The annotation listing rule codes (or names) to ignore on an object.
pub const IGNORE_ANNOTATION: &str = "palisade.dev/ignore";

/// A scanned file: its display path and inline suppression comments.
#[derive(Debug, Default)]
pub struct SourceFile {
    /// As the user named it (`-` becomes `<stdin>`).
    pub path: Arc<str>,
    pub directives: InlineDirectives,
}

impl SourceFile {
    pub fn new(path: impl Into<Arc<str>>, text: &str) -> Self {
        SourceFile {
            path: path.into(),
            directives: InlineDirectives::parse(text),
        }
    }
}

/// One Kubernetes object.
#[derive(Debug)]
pub struct Object {
    pub file: Arc<SourceFile>,
    /// Index of the YAML document in the file (0-based).
    pub document: u32,
    /// JSON pointer of the object inside its document: empty, or
    /// `/items/N` for an item of a `List`.
    pub prefix: String,
    pub root: Node,
    pub api_version: String,
    pub kind: String,
    pub name: Option<String>,
    pub namespace: Option<String>,
}

/// What a document held.
#[derive(Debug, Default)]
pub struct Extracted {
    pub objects: Vec<Object>,
    /// Documents or `List` items that are not Kubernetes objects.
    pub skipped: u64,
}

impl Object {
    /// Builds an object from a mapping with string `apiVersion` and `kind`.
    fn from_node(
        root: Node,
        file: &Arc<SourceFile>,
        document: u32,
        prefix: String,
    ) -> Result<Object, Node> {
        let api_version = root
            .get("apiVersion")
            .and_then(Node::as_str)
            .map(str::to_string);
        let kind = root.get("kind").and_then(Node::as_str).map(str::to_string);
        let (Some(api_version), Some(kind)) = (api_version, kind) else {
            return Err(root);
        };
        let metadata = root.get("metadata");
        let name = metadata
            .and_then(|m| m.get("name").or_else(|| m.get("generateName")))
            .and_then(Node::as_str)
            .map(str::to_string);
        let namespace = metadata
            .and_then(|m| m.get("namespace"))
            .and_then(Node::as_str)
            .map(str::to_string);
        Ok(Object {
            file: Arc::clone(file),
            document,
            prefix,
            root,
            api_version,
            kind,
            name,
            namespace,
        })
    }

    /// The objects in a document: the document itself, or the items of a
    /// `List` (`kind: List`, `PodList`, …, as `kubectl get -o yaml` prints).
    pub fn extract(root: Node, file: &Arc<SourceFile>, document: u32) -> Extracted {
        let mut out = Extracted::default();
        if !matches!(root.kind, NodeKind::Map(_)) {
            if !root.is_null() {
                out.skipped += 1;
            }
            return out;
        }
        let is_list = root
            .get("kind")
            .and_then(Node::as_str)
            .is_some_and(|k| k.ends_with("List"))
            && root.get("items").is_some_and(|i| i.as_seq().is_some());
        if !is_list {
            match Object::from_node(root, file, document, String::new()) {
                Ok(o) => out.objects.push(o),
                Err(_) => out.skipped += 1,
            }
            return out;
        }
        let NodeKind::Map(map) = root.kind else {
            return out;
        };
        for entry in map.entries {
            if entry.key != "items" {
                continue;
            }
            let NodeKind::Seq(items) = entry.value.kind else {
                continue;
            };
            for (i, item) in items.into_iter().enumerate() {
                match Object::from_node(item, file, document, format!("/items/{i}")) {
                    Ok(o) => out.objects.push(o),
                    Err(_) => out.skipped += 1,
                }
            }
        }
        out
    }

    pub fn resource(&self) -> ResourceRef {
        ResourceRef {
            api_version: Some(self.api_version.clone()),
            kind: self.kind.clone(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        }
    }

    /// `apps` for `apps/v1`, empty for the core group (`v1`).
    pub fn group(&self) -> &str {
        self.api_version.rsplit_once('/').map_or("", |(g, _)| g)
    }

    pub fn metadata(&self) -> Option<&Node> {
        self.root.get("metadata")
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.metadata()?.get("annotations")?.get(key)?.as_str()
    }

    pub fn label(&self, key: &str) -> Option<&str> {
        self.metadata()?.get("labels")?.get(key)?.as_str()
    }

    /// Rule codes or names listed in the `palisade.dev/ignore` annotation.
    pub fn ignored_rules(&self) -> Vec<String> {
        parse_ignore_annotation(self.annotation(IGNORE_ANNOTATION))
    }

    /// The line the object starts on (its first key).
    pub fn start_line(&self) -> u32 {
        self.root.span.start.line
    }

    /// Where the object's identity is written: its `kind` field.
    pub fn anchor(&self) -> Span {
        self.root.entry("kind").map_or(self.root.span, |e| e.span())
    }

    pub fn location(&self, span: Span) -> Location {
        Location::new(Arc::clone(&self.file.path), Some(span))
    }

    pub fn in_group(&self, groups: &[&str]) -> bool {
        groups.contains(&self.group())
    }
}

/// `"K8S001, privileged-container"` → `["K8S001", "privileged-container"]`.
pub fn parse_ignore_annotation(value: Option<&str>) -> Vec<String> {
    value
        .map(|v| {
            v.split([',', ' ', '\n'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}
