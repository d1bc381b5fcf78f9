//! Property tests of the YAML loader: it never panics, reads JSON exactly as
//! a JSON parser does, and parses chunked streams exactly as whole ones.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palisade_k8s::yaml::{Limits, parse_stream, split_documents};
use proptest::prelude::*;
use serde_json::Value;

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1.0e9f64..1.0e9)
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,12}".prop_map(Value::String),
        prop_oneof![
            Just("yes"),
            Just("~"),
            Just("0x1F"),
            Just("- a"),
            Just("a: b"),
            Just("#x"),
            Just("---"),
            Just("<<")
        ]
        .prop_map(|s| Value::String(s.to_string())),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(".{0,8}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn parse_all(text: &str) -> (Vec<Option<Value>>, usize) {
    let mut docs = Vec::new();
    let errors = parse_stream(text, &Limits::default(), 0, |d| {
        docs.push(d.root.map(|r| r.to_json()))
    });
    (docs, errors.len())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn never_panics_on_arbitrary_text(text in "\\PC{0,400}") {
        let _ = parse_all(&text);
        let _ = split_documents(&text, 8);
    }

    #[test]
    fn never_panics_on_yamlish_text(text in "([-:\\[\\]{},&*!|>'\"#%@` \\n\\t]|[a-z0-9]){0,300}") {
        let _ = parse_all(&text);
    }

    #[test]
    fn reads_json_like_a_json_parser(value in json_value()) {
        for text in [serde_json::to_string(&value).unwrap(), serde_json::to_string_pretty(&value).unwrap()] {
            let (docs, errors) = parse_all(&text);
            prop_assert_eq!(errors, 0, "{}", text);
            prop_assert_eq!(docs.len(), 1);
            prop_assert_eq!(docs[0].as_ref(), Some(&value), "{}", text);
        }
    }

    #[test]
    fn chunked_parse_equals_whole_parse(values in prop::collection::vec(json_value(), 1..12), chunk in 1usize..200) {
        let text: String = values
            .iter()
            .map(|v| format!("---\n{}\n", serde_json::to_string_pretty(v).unwrap()))
            .collect();
        let mut whole = Vec::new();
        let errors = parse_stream(&text, &Limits::default(), 0, |d| whole.push((d.index, d.root)));
        prop_assert!(errors.is_empty());
        let mut chunked = Vec::new();
        for c in split_documents(&text, chunk) {
            let errors = parse_stream(c.text, &Limits::default(), c.line_offset, |d| chunked.push((c.first_document + d.index, d.root)));
            prop_assert!(errors.is_empty());
        }
        prop_assert_eq!(whole, chunked);
    }
}
