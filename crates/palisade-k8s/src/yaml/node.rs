//! The YAML tree: every node keeps its span, so any field of any object can
//! be located exactly. Scalars keep their text and whether they were plain;
//! typed views (`as_bool`, `as_i64`, JSON) resolve them the way Kubernetes'
//! YAML decoder does.

use compact_str::CompactString;
use palisade_core::Span;
use serde_json::Value;

/// A node and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub span: Span,
    pub kind: NodeKind,
}

/// A scalar, sequence or mapping.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Map),
}

/// A scalar's text and style.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scalar {
    pub text: CompactString,
    /// Plain (unquoted, not a block scalar): subject to type resolution.
    pub plain: bool,
}

/// A mapping, in source order. Kubernetes objects have few keys per map,
/// so a vector with linear lookup beats hashing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Map {
    pub entries: Vec<Entry>,
}

/// A mapping entry: the key (always a string; scalar keys are stringified)
/// with its own span, and the value.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: CompactString,
    pub key_span: Span,
    pub value: Node,
}

impl Entry {
    /// From the start of the key to the end of the value: the field.
    pub fn span(&self) -> Span {
        Span::new(
            self.key_span.start,
            self.value.span.end.max(self.key_span.end),
        )
    }
}

impl Map {
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.key == key)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Node)> {
        self.entries.iter().map(|e| (e.key.as_str(), &e.value))
    }
}

const TRUE: [&str; 11] = [
    "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y",
];
const FALSE: [&str; 11] = [
    "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N",
];

impl Scalar {
    pub fn is_null(&self) -> bool {
        self.plain && matches!(self.text.as_str(), "" | "~" | "null" | "Null" | "NULL")
    }

    /// YAML 1.1 booleans, as Kubernetes' decoder (go-yaml v2) reads them into
    /// boolean fields: `true`, `yes`, `on`, `y` and their capitalisations.
    pub fn as_bool(&self) -> Option<bool> {
        if !self.plain {
            return None;
        }
        let t = self.text.as_str();
        if TRUE.contains(&t) {
            Some(true)
        } else if FALSE.contains(&t) {
            Some(false)
        } else {
            None
        }
    }

    /// Decimal, `0x` hexadecimal or `0o` octal integers, with `_` separators;
    /// plain scalars also as YAML 1.1 reads them (Kubernetes' YAML parser):
    /// `010` is octal 8, `0b101` binary 5. Quoted numbers are accepted too,
    /// in decimal, as Kubernetes' int-or-string fields do.
    pub fn as_i64(&self) -> Option<i64> {
        let t = self.text.trim();
        let (neg, digits) = match t.as_bytes().first() {
            Some(b'-') => (true, t.get(1..)?),
            Some(b'+') => (false, t.get(1..)?),
            _ => (false, t),
        };
        let clean: String = digits.chars().filter(|&c| c != '_').collect();
        let value = if let Some(hex) = clean.strip_prefix("0x") {
            i64::from_str_radix(hex, 16).ok()?
        } else if let Some(oct) = clean.strip_prefix("0o") {
            i64::from_str_radix(oct, 8).ok()?
        } else if let Some(bin) = clean.strip_prefix("0b").filter(|_| self.plain) {
            i64::from_str_radix(bin, 2).ok()?
        } else if self.plain
            && clean.len() > 1
            && clean.starts_with('0')
            && clean.bytes().all(|b| (b'0'..=b'7').contains(&b))
        {
            i64::from_str_radix(&clean, 8).ok()?
        } else if !clean.is_empty() && clean.bytes().all(|b| b.is_ascii_digit()) {
            clean.parse().ok()?
        } else {
            return None;
        };
        Some(if neg { -value } else { value })
    }

    fn as_f64(&self) -> Option<f64> {
        if !self.plain {
            return None;
        }
        let t = self.text.as_str();
        let first = t.bytes().next()?;
        if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
            return None;
        }
        if t.contains(['e', 'E', '.']) {
            t.parse::<f64>().ok().filter(|f| f.is_finite())
        } else {
            None
        }
    }

    /// The JSON value Kubernetes' decoder gives this scalar.
    pub fn to_json(&self) -> Value {
        if !self.plain {
            return Value::String(self.text.to_string());
        }
        if self.is_null() {
            return Value::Null;
        }
        if let Some(b) = self.as_bool() {
            return Value::Bool(b);
        }
        if let Some(i) = self.as_i64() {
            return Value::from(i);
        }
        if let Some(f) = self.as_f64().and_then(serde_json::Number::from_f64) {
            return Value::Number(f);
        }
        Value::String(self.text.to_string())
    }
}

static EMPTY: [Node; 0] = [];

impl Node {
    pub fn scalar(&self) -> Option<&Scalar> {
        match &self.kind {
            NodeKind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&Map> {
        match &self.kind {
            NodeKind::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.kind {
            NodeKind::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// The items of a sequence; empty for anything else.
    pub fn items(&self) -> &[Node] {
        self.as_seq().unwrap_or(&EMPTY)
    }

    /// The entries of a mapping; empty for anything else.
    pub fn entries(&self) -> &[Entry] {
        self.as_map().map_or(&[], |m| m.entries.as_slice())
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?.get(key)
    }

    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.as_map()?.entry(key)
    }

    /// Follows mapping keys: `node.path(&["securityContext", "privileged"])`.
    pub fn path(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |n, k| n.get(k))
    }

    /// The text of a non-null scalar.
    pub fn as_str(&self) -> Option<&str> {
        self.scalar()
            .filter(|s| !s.is_null())
            .map(|s| s.text.as_str())
    }

    pub fn as_bool(&self) -> Option<bool> {
        self.scalar()?.as_bool()
    }

    pub fn as_i64(&self) -> Option<i64> {
        self.scalar()?.as_i64()
    }

    /// A null scalar (`~`, `null`, or nothing).
    pub fn is_null(&self) -> bool {
        self.scalar().is_some_and(Scalar::is_null)
    }

    /// Whether a mapping field is present with a non-null value.
    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some_and(|n| !n.is_null())
    }

    /// Resolves an RFC 6901 JSON pointer (`/spec/containers/0/image`).
    pub fn pointer(&self, pointer: &str) -> Option<&Node> {
        if pointer.is_empty() {
            return Some(self);
        }
        let rest = pointer.strip_prefix('/')?;
        rest.split('/').try_fold(self, |node, token| {
            let token = token.replace("~1", "/").replace("~0", "~");
            match &node.kind {
                NodeKind::Map(m) => m.get(&token),
                NodeKind::Seq(items) => token.parse::<usize>().ok().and_then(|i| items.get(i)),
                NodeKind::Scalar(_) => None,
            }
        })
    }

    /// The span of the field a JSON pointer names: for a mapping entry, from
    /// its key to the end of its value; for a sequence item, the item.
    pub fn span_at(&self, pointer: &str) -> Option<Span> {
        let (parent, last) = match pointer.rfind('/') {
            Some(i) => (pointer.get(..i)?, pointer.get(i + 1..)?),
            None => return (pointer.is_empty()).then_some(self.span),
        };
        let parent = self.pointer(parent)?;
        let last = last.replace("~1", "/").replace("~0", "~");
        match &parent.kind {
            NodeKind::Map(m) => m.entry(&last).map(Entry::span),
            NodeKind::Seq(items) => last
                .parse::<usize>()
                .ok()
                .and_then(|i| items.get(i))
                .map(|n| n.span),
            NodeKind::Scalar(_) => None,
        }
    }

    /// The JSON value of this node, as the Kubernetes API server sees it.
    pub fn to_json(&self) -> Value {
        match &self.kind {
            NodeKind::Scalar(s) => s.to_json(),
            NodeKind::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            NodeKind::Map(m) => Value::Object(
                m.entries
                    .iter()
                    .map(|e| (e.key.to_string(), e.value.to_json()))
                    .collect(),
            ),
        }
    }
}

/// Escapes a JSON pointer token (`~` → `~0`, `/` → `~1`).
pub fn escape_pointer_token(token: &str) -> std::borrow::Cow<'_, str> {
    if token.contains(['~', '/']) {
        token.replace('~', "~0").replace('/', "~1").into()
    } else {
        token.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(text: &str, plain: bool) -> Scalar {
        Scalar {
            text: text.into(),
            plain,
        }
    }

    #[test]
    fn resolves_scalars_like_kubernetes() {
        assert_eq!(scalar("yes", true).as_bool(), Some(true));
        assert_eq!(scalar("Off", true).as_bool(), Some(false));
        assert_eq!(scalar("true", false).as_bool(), None);
        assert_eq!(scalar("0x1F", true).as_i64(), Some(31));
        assert_eq!(scalar("-1_000", true).as_i64(), Some(-1000));
        assert_eq!(scalar("1000", false).as_i64(), Some(1000));
        // YAML 1.1, as Kubernetes reads plain scalars; quoted stays decimal.
        assert_eq!(scalar("010", true).as_i64(), Some(8));
        assert_eq!(scalar("0b101", true).as_i64(), Some(5));
        assert_eq!(scalar("010", false).as_i64(), Some(10));
        assert_eq!(scalar("0", true).as_i64(), Some(0));
        assert_eq!(scalar("010", true).to_json(), serde_json::json!(8));
        assert_eq!(scalar("~", true).to_json(), Value::Null);
        assert_eq!(scalar("1.5", true).to_json(), serde_json::json!(1.5));
        assert_eq!(scalar("1.5", false).to_json(), serde_json::json!("1.5"));
        assert_eq!(scalar(".inf", true).to_json(), serde_json::json!(".inf"));
        assert_eq!(scalar("v1.2", true).to_json(), serde_json::json!("v1.2"));
    }

    #[test]
    fn escapes_pointer_tokens() {
        assert_eq!(escape_pointer_token("a/b~c"), "a~1b~0c");
        assert_eq!(escape_pointer_token("plain"), "plain");
    }
}
