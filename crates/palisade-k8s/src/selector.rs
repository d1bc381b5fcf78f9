//! Kubernetes label selectors (`matchLabels` + `matchExpressions`, or the
//! plain map a Service uses).

use std::collections::BTreeMap;

use crate::yaml::Node;

/// Labels of an object, from a `labels` mapping.
pub type Labels = BTreeMap<String, String>;

/// Reads a string→string mapping (labels, a Service selector).
pub fn labels_of(node: Option<&Node>) -> Labels {
    node.map(|n| {
        n.entries()
            .iter()
            .filter_map(|e| Some((e.key.to_string(), e.value.scalar()?.text.to_string())))
            .collect()
    })
    .unwrap_or_default()
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    DoesNotExist,
}

/// A `metav1.LabelSelector`. The empty selector matches everything; an
/// unknown operator matches nothing (as the API server would refuse it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    match_labels: Labels,
    expressions: Vec<(String, Option<Op>)>,
}

impl LabelSelector {
    /// Parses a `LabelSelector` node (`matchLabels`, `matchExpressions`).
    pub fn parse(node: Option<&Node>) -> LabelSelector {
        let Some(node) = node else {
            return LabelSelector::default();
        };
        let match_labels = labels_of(node.get("matchLabels"));
        let expressions = node
            .get("matchExpressions")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .map(|e| {
                let key = e
                    .get("key")
                    .and_then(Node::as_str)
                    .unwrap_or_default()
                    .to_string();
                let values: Vec<String> = e
                    .get("values")
                    .map(Node::items)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|v| v.scalar().map(|s| s.text.to_string()))
                    .collect();
                let op = match e.get("operator").and_then(Node::as_str) {
                    Some("In") => Some(Op::In(values)),
                    Some("NotIn") => Some(Op::NotIn(values)),
                    Some("Exists") => Some(Op::Exists),
                    Some("DoesNotExist") => Some(Op::DoesNotExist),
                    _ => None,
                };
                (key, op)
            })
            .collect();
        LabelSelector {
            match_labels,
            expressions,
        }
    }

    /// A selector from a plain map (Service `spec.selector`).
    pub fn from_labels(match_labels: Labels) -> LabelSelector {
        LabelSelector {
            match_labels,
            expressions: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.expressions.is_empty()
    }

    pub fn matches(&self, labels: &Labels) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.expressions.iter().all(|(key, op)| match op {
                Some(Op::In(values)) => labels.get(key).is_some_and(|v| values.contains(v)),
                Some(Op::NotIn(values)) => labels.get(key).is_none_or(|v| !values.contains(v)),
                Some(Op::Exists) => labels.contains_key(key),
                Some(Op::DoesNotExist) => !labels.contains_key(key),
                None => false,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Limits, parse_stream};

    fn selector(text: &str) -> LabelSelector {
        let mut root = None;
        parse_stream(text, &Limits::default(), 0, |d| root = d.root);
        LabelSelector::parse(root.as_ref())
    }

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn matches_labels_and_expressions() {
        let s = selector(
            "matchLabels: {app: web}\nmatchExpressions:\n- {key: tier, operator: In, values: [fe, be]}\n- {key: canary, operator: DoesNotExist}\n",
        );
        assert!(s.matches(&labels(&[("app", "web"), ("tier", "fe")])));
        assert!(!s.matches(&labels(&[("app", "web"), ("tier", "db")])));
        assert!(!s.matches(&labels(&[("app", "web"), ("tier", "fe"), ("canary", "1")])));
        assert!(selector("{}").matches(&labels(&[])));
        assert!(
            !selector("matchExpressions: [{key: a, operator: Bogus}]")
                .matches(&labels(&[("a", "1")]))
        );
    }
}
