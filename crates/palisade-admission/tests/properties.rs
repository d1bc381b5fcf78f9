#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Property tests of the parsers that read untrusted input: the
//! AdmissionReview envelope, image references, the configuration, and the
//! evaluation of arbitrary objects (never a panic; answers keep the uid).

use std::path::Path;

use palisade_admission::compiled::Compiled;
use palisade_admission::config::Config;
use palisade_admission::image_ref::ImageRef;
use palisade_admission::review;
use proptest::prelude::*;
use serde_json::{Value, json};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "[a-zA-Z0-9:/@._-]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("apiVersion".to_string()),
                    Just("kind".to_string()),
                    Just("metadata".to_string()),
                    Just("spec".to_string()),
                    Just("containers".to_string()),
                    Just("image".to_string()),
                    Just("securityContext".to_string()),
                    Just("template".to_string()),
                    "[a-z]{1,8}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = review::parse(&bytes);
    }

    #[test]
    fn arbitrary_requests_parse_or_fail_cleanly(request in json_value(), op in "(CREATE|UPDATE|DELETE|CONNECT|PATCH)") {
        let mut request = request;
        if let Value::Object(m) = &mut request {
            m.insert("uid".into(), json!("u"));
            m.insert("operation".into(), json!(op));
        }
        let body = serde_json::to_vec(&json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request})).unwrap();
        match review::parse(&body) {
            Ok(r) => prop_assert_eq!(r.uid, "u"),
            Err(e) => prop_assert!(e.uid().is_none() || e.uid() == Some("u")),
        }
    }

    #[test]
    fn arbitrary_objects_evaluate_without_panics(object in json_value(), kind in "(Pod|Deployment|CronJob|Namespace|Job)") {
        let compiled = Compiled::default_config().unwrap();
        let mut object = object;
        if let Value::Object(m) = &mut object {
            m.insert("kind".into(), json!(kind));
            m.entry("apiVersion").or_insert(json!("v1"));
        }
        let body = serde_json::to_vec(&json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
            "uid": "u", "kind": {"group": "", "version": "v1", "kind": kind},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "operation": "CREATE", "object": object}})).unwrap();
        if let Ok(r) = review::parse(&body) {
            let _ = compiled.evaluate(&r);
        }
    }

    #[test]
    fn image_references_never_panic(s in "\\PC{0,80}") {
        if let Some(r) = ImageRef::parse(&s) {
            prop_assert!(!r.repository.is_empty());
            prop_assert!(r.full_name().starts_with(&r.registry));
        }
    }

    #[test]
    fn configurations_never_panic(s in "\\PC{0,200}") {
        let _ = Config::parse("c.yaml", &s);
    }
}

#[test]
fn compiled_default_config_has_the_documented_defaults() {
    let c = Compiled::compile(Config::default(), None, Path::new(".")).unwrap();
    assert_eq!(c.config.exemptions.namespaces, vec!["kube-system"]);
    assert!(c.rule_count > 50);
}
