#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The example policies of `examples/policies/` against objects that must
//! (and must not) violate them: 20 Conftest-style Rego policies and 11
//! ValidatingAdmissionPolicies.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use palisade_k8s::object::{Object, SourceFile};
use palisade_k8s::yaml::{Limits, parse_stream};
use palisade_policy::{LoadOptions, PolicySet, RegoEngine, RegoOptions};

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/policies")
}

fn objects(text: &str) -> Vec<Object> {
    let file = Arc::new(SourceFile::new("objects.yaml", text));
    let mut out = Vec::new();
    let errors = parse_stream(text, &Limits::default(), 0, |doc| {
        out.extend(Object::extract(doc.root.unwrap(), &file, doc.index).objects);
    });
    assert!(errors.is_empty(), "{errors:?}");
    out
}

fn expected(obj: &Object) -> BTreeSet<String> {
    obj.annotation("test.palisade.dev/expect")
        .expect("every fixture object says what it expects")
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn check(set: &PolicySet, text: &str) -> usize {
    let mut checked = 0;
    for obj in objects(text) {
        let evaluation = set.evaluate(&obj.root.to_json());
        assert!(evaluation.errors.is_empty(), "{:?}", evaluation.errors);
        let got: BTreeSet<String> = evaluation
            .violations
            .iter()
            .map(|v| v.rule.code.to_string())
            .collect();
        assert_eq!(
            got,
            expected(&obj),
            "{} {}: {:#?}",
            obj.kind,
            obj.name.as_deref().unwrap_or_default(),
            evaluation.violations
        );
        checked += 1;
    }
    checked
}

#[test]
fn conftest_policies_find_what_they_should() {
    for engine in [RegoEngine::Interpreter, RegoEngine::Vm] {
        let options = LoadOptions {
            rego: RegoOptions {
                engine,
                ..RegoOptions::default()
            },
            ..LoadOptions::default()
        };
        let set = palisade_policy::load(
            &[examples().join("rego")],
            &[examples().join("data")],
            &options,
        )
        .unwrap();
        let rego = set.rego.as_ref().unwrap();
        assert_eq!(
            rego.rules().len(),
            21,
            "20 policy files, one with two rules"
        );
        let text = include_str!("fixtures/rego_objects.yaml");
        assert!(check(&set, text) >= 14, "{engine:?}");

        // The Conftest exception rule marks the legacy workload's finding.
        let legacy = objects(text)
            .into_iter()
            .find(|o| o.name.as_deref() == Some("legacy"))
            .unwrap();
        let v = set.evaluate(&legacy.root.to_json()).violations;
        assert!(v.iter().all(|v| v.exception.is_some()), "{engine:?} {v:?}");
    }
}

#[test]
fn metadata_becomes_rule_metadata() {
    let set = palisade_policy::load(
        &[examples().join("rego")],
        &[examples().join("data")],
        &LoadOptions::default(),
    )
    .unwrap();
    let metas = set.metas();
    let privileged = metas.iter().find(|m| m.code == "ACME-001").unwrap();
    assert_eq!(privileged.title, "Privileged containers are not allowed");
    assert_eq!(privileged.severity, palisade_core::Severity::Critical);
    assert_eq!(
        privileged.fix,
        "Remove securityContext.privileged or set it to false."
    );
    assert_eq!(
        privileged.references[0].id,
        "https://kubernetes.io/docs/concepts/security/pod-security-standards/"
    );
    // Defaults: a warn rule without severity is medium.
    let probes = metas.iter().find(|m| m.code == "ACME-012").unwrap();
    assert_eq!(probes.severity, palisade_core::Severity::Medium);
}

#[test]
fn messages_name_fields() {
    let set = palisade_policy::load(
        &[examples().join("rego")],
        &[examples().join("data")],
        &LoadOptions::default(),
    )
    .unwrap();
    let text = include_str!("fixtures/rego_objects.yaml");
    let bad = objects(text)
        .into_iter()
        .find(|o| o.name.as_deref() == Some("bad"))
        .unwrap();
    let v = set.evaluate(&bad.root.to_json()).violations;
    let pointer = |code: &str| {
        v.iter()
            .find(|v| v.rule.code == code)
            .and_then(|v| v.pointer.clone())
    };
    // Array path, dotted path, and a plain JSON pointer.
    assert_eq!(
        pointer("ACME-001").as_deref(),
        Some("/spec/template/spec/containers/0/securityContext/privileged")
    );
    assert_eq!(
        pointer("ACME-003").as_deref(),
        Some("/spec/template/spec/containers/0/image")
    );
    assert_eq!(pointer("ACME-017").as_deref(), Some("/spec/replicas"));
    // String messages have no field.
    assert_eq!(pointer("ACME-019"), None);
}

#[test]
fn namespaces_select_packages() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("k8s.rego"),
        "package kubernetes.security\nimport rego.v1\n\ndeny contains msg if {\n  input.kind == \"Pod\"\n  msg := \"no pods\"\n}\n",
    )
    .unwrap();
    let pod = serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}});
    let load = |ns: &[&str]| {
        let options = LoadOptions {
            rego: RegoOptions {
                namespaces: ns.iter().map(|s| s.to_string()).collect(),
                ..RegoOptions::default()
            },
            ..LoadOptions::default()
        };
        palisade_policy::load(&[dir.path().to_path_buf()], &[], &options).unwrap()
    };
    assert!(load(&["main"]).evaluate(&pod).violations.is_empty());
    let set = load(&["kubernetes.security"]);
    let v = set.evaluate(&pod).violations;
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].rule.code, "kubernetes.security.deny");
    assert_eq!(v[0].message, "no pods");
    assert_eq!(load(&["*"]).evaluate(&pod).violations.len(), 1);
}

fn vap_set() -> PolicySet {
    let mut set =
        palisade_policy::load(&[examples().join("vap")], &[], &LoadOptions::default()).unwrap();
    let kinds = set.link();
    assert_eq!(kinds, ["ConfigMap", "Namespace", "ReplicaLimit"]);
    set.discover_context(
        "objects.yaml",
        include_str!("fixtures/vap_objects.yaml"),
        &kinds,
        &Limits::default(),
    );
    set
}

#[test]
fn validating_admission_policies_find_what_they_should() {
    let set = vap_set();
    assert_eq!(set.vap.policy_count(), 11);
    assert!(set.vap.warnings().is_empty(), "{:?}", set.vap.warnings());
    assert!(check(&set, include_str!("fixtures/vap_objects.yaml")) >= 15);
}

#[test]
fn binding_actions_set_severity_and_wording() {
    let set = vap_set();
    let text = include_str!("fixtures/vap_objects.yaml");
    let all = objects(text);
    let find = |name: &str| {
        let obj = all
            .iter()
            .find(|o| o.name.as_deref() == Some(name))
            .unwrap();
        set.evaluate(&obj.root.to_json()).violations
    };
    let web = find("web");
    let warn = web
        .iter()
        .find(|v| v.rule.code == "production-replicas.example.com")
        .unwrap();
    assert_eq!(warn.action, palisade_policy::Action::Warn);
    assert_eq!(warn.severity, palisade_core::Severity::Medium);
    assert!(warn.message.starts_with(
        "Validation failed for ValidatingAdmissionPolicy 'production-replicas.example.com' with binding 'production-replicas-binding': production workloads need at least 2 replicas"
    ), "{}", warn.message);
    let template = web
        .iter()
        .find(|v| v.rule.code == "deny-privileged.example.com")
        .unwrap();
    assert_eq!(template.pointer.as_deref(), Some("/spec/template"));
    assert!(
        template
            .message
            .ends_with("privileged containers are not allowed: web"),
        "messageExpression: {}",
        template.message
    );
    let audit = find("hostpath");
    assert_eq!(audit[0].severity, palisade_core::Severity::Info);
    let api = find("api");
    let limit = api
        .iter()
        .find(|v| v.rule.code == "replicalimit-policy.example.com")
        .unwrap();
    assert!(
        limit
            .message
            .ends_with("denied request: object.spec.replicas must be no greater than 3"),
        "{}",
        limit.message
    );
    assert_eq!(limit.severity, palisade_core::Severity::High);
}
