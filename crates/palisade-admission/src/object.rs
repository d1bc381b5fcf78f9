//! An admission request's object as a Palisade [`Object`], so the built-in
//! rules that `palisade scan` runs on manifests run on it unchanged.
//!
//! The API server sends JSON; the rules read the span-carrying YAML tree.
//! Building the tree straight from the JSON value avoids printing and
//! re-parsing it. Spans are all zero (there is no file), and scalars keep
//! JSON's types: strings are quoted scalars (never read as booleans or
//! numbers), numbers, booleans and null are plain ones.

use std::sync::Arc;

use compact_str::CompactString;
use palisade_core::Span;
use palisade_k8s::object::{Object, SourceFile};
use palisade_k8s::yaml::{Entry, Map, Node, NodeKind, Scalar};
use serde_json::Value;

/// The display path of findings on admission objects.
pub const ADMISSION_PATH: &str = "<admission>";

/// The YAML tree of a JSON value. serde_json's recursion limit (128) bounds
/// the depth of parsed input; deeper values built in code are cut off at
/// `MAX_DEPTH` rather than recursing without bound.
pub fn to_node(value: &Value) -> Node {
    node(value, 0)
}

const MAX_DEPTH: usize = 256;

fn node(value: &Value, depth: usize) -> Node {
    let scalar = |text: CompactString, plain: bool| NodeKind::Scalar(Scalar { text, plain });
    let kind = match value {
        Value::Null => scalar("null".into(), true),
        Value::Bool(b) => scalar(if *b { "true" } else { "false" }.into(), true),
        Value::Number(n) => scalar(CompactString::from(n.to_string()), true),
        Value::String(s) => scalar(CompactString::from(s.as_str()), false),
        _ if depth >= MAX_DEPTH => scalar("null".into(), true),
        Value::Array(items) => NodeKind::Seq(items.iter().map(|v| node(v, depth + 1)).collect()),
        Value::Object(map) => NodeKind::Map(Map {
            entries: map
                .iter()
                .map(|(k, v)| Entry {
                    key: CompactString::from(k.as_str()),
                    key_span: Span::default(),
                    value: node(v, depth + 1),
                })
                .collect(),
        }),
    };
    Node {
        span: Span::default(),
        kind,
    }
}

/// The Kubernetes object of a JSON value: `None` when it has no string
/// `apiVersion` and `kind` (or is a `List`, which the API server never
/// sends for admission).
pub fn to_object(value: &Value, file: &Arc<SourceFile>) -> Option<Object> {
    let root = to_node(value);
    let mut extracted = Object::extract(root, file, 0);
    if extracted.objects.len() != 1 {
        return None;
    }
    extracted.objects.pop()
}

/// The shared, comment-free "file" admission objects come from.
pub fn admission_file() -> Arc<SourceFile> {
    Arc::new(SourceFile::new(ADMISSION_PATH, ""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_json_types() {
        let v = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"hostNetwork": true, "x": "true", "n": 3, "z": null,
                     "containers": [{"name": "c", "image": "nginx"}]}});
        let obj = to_object(&v, &admission_file()).unwrap();
        assert_eq!(obj.kind, "Pod");
        assert_eq!(obj.name.as_deref(), Some("p"));
        let spec = obj.root.get("spec").unwrap();
        assert_eq!(spec.get("hostNetwork").and_then(Node::as_bool), Some(true));
        assert_eq!(spec.get("x").and_then(Node::as_bool), None);
        assert_eq!(spec.get("n").and_then(Node::as_i64), Some(3));
        assert!(spec.get("z").unwrap().is_null());
        assert_eq!(obj.root.to_json(), v);
    }

    #[test]
    fn refuses_non_objects() {
        assert!(to_object(&json!({"kind": "Pod"}), &admission_file()).is_none());
        assert!(to_object(&json!([1, 2]), &admission_file()).is_none());
        assert!(
            to_object(
                &json!({"apiVersion": "v1", "kind": "List", "items": []}),
                &admission_file()
            )
            .is_none()
        );
    }
}
