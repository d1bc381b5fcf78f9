#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Untrusted policies end with clear errors instead of hanging, and broken
//! policies are reported with their file, line and column.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use palisade_core::Position;
use palisade_k8s::yaml::Limits;
use palisade_policy::{LoadOptions, PolicyError, PolicySet, RegoOptions};
use serde_json::json;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn load_with(dir: &Path, time_limit: Duration) -> Result<PolicySet, Vec<PolicyError>> {
    let options = LoadOptions {
        rego: RegoOptions {
            time_limit,
            ..RegoOptions::default()
        },
        ..LoadOptions::default()
    };
    palisade_policy::load(&[dir.to_path_buf()], &[], &options).map_err(|e| e.0)
}

fn load_errors(name: &str, text: &str) -> Vec<PolicyError> {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), name, text);
    load_with(dir.path(), Duration::from_secs(1))
        .map(|_| ())
        .expect_err("the policy must be refused")
}

fn start(e: &PolicyError) -> Position {
    e.span.expect("located").start
}

#[test]
fn huge_range_ends_with_a_limit_error() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "range.rego",
        "package main\nimport rego.v1\n\ndeny contains msg if {\n  n := count([x | some x in numbers.range(1, 1000000000)])\n  msg := sprintf(\"%d\", [n])\n}\n",
    );
    let set = load_with(dir.path(), Duration::from_secs(5)).unwrap();
    let started = Instant::now();
    let evaluation = set.evaluate(&json!({"kind": "Pod"}));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let e = &evaluation.errors[0];
    assert!(
        e.message.contains("exceed Palisade's limit of 1000000"),
        "{e}"
    );
    assert_eq!(start(e).line, 5, "{e}");
}

#[test]
fn huge_comprehension_ends_with_a_time_limit_error() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "huge.rego",
        "package main\nimport rego.v1\n\ndeny contains msg if {\n  n := count([[x, y] | some x in numbers.range(1, 1000000); some y in numbers.range(1, 1000000)])\n  msg := sprintf(\"%d\", [n])\n}\n",
    );
    let set = load_with(dir.path(), Duration::from_millis(300)).unwrap();
    let started = Instant::now();
    let evaluation = set.evaluate(&json!({"kind": "Pod"}));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert!(evaluation.violations.is_empty());
    let e = &evaluation.errors[0];
    assert!(e.message.contains("time limit"), "{e}");
    assert!(e.path.ends_with("huge.rego"), "{e}");
}

/// Six looping rules cost at most about twice the limit per object (the
/// combined evaluation, then the rules one by one within one more), not a
/// limit per rule; the rule that spent it is named, the others counted.
#[test]
fn looping_rules_share_the_time_limit() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("package main\nimport rego.v1\n");
    for name in ["deny", "deny_b", "deny_c", "deny_d", "warn", "violation"] {
        text.push_str(&format!(
            "\n{name} contains msg if {{\n  n := count([[x, y] | some x in numbers.range(1, 1000000); some y in numbers.range(1, 1000000)])\n  msg := sprintf(\"%d\", [n])\n}}\n"
        ));
    }
    write(dir.path(), "loops.rego", &text);
    let limit = Duration::from_millis(300);
    let set = load_with(dir.path(), limit).unwrap();
    let started = Instant::now();
    let evaluation = set.evaluate(&json!({"kind": "Pod"}));
    let took = started.elapsed();
    // One limit per rule would be 7 × 300 ms.
    assert!(took < limit * 5, "took {took:?}");
    let messages: Vec<&str> = evaluation
        .errors
        .iter()
        .map(|e| e.message.as_str())
        .collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(
        messages[0].contains("took longer than the time limit"),
        "{messages:?}"
    );
    assert!(
        messages[1].contains("5 more rule(s) not evaluated"),
        "{messages:?}"
    );
}

#[test]
fn nested_walks_over_input_end_with_a_time_limit_error() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "walk.rego",
        "package main\nimport rego.v1\n\ndeny contains msg if {\n  pairs := [[a, b, c] | walk(input, [_, a]); walk(input, [_, b]); walk(input, [_, c])]\n  msg := sprintf(\"%d\", [count(pairs)])\n}\n",
    );
    let set = load_with(dir.path(), Duration::from_millis(300)).unwrap();
    let items: Vec<i64> = (0..2000).collect();
    let started = Instant::now();
    let evaluation = set.evaluate(&json!({"kind": "ConfigMap", "data": items}));
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        evaluation.errors[0].message.contains("time limit"),
        "{:?}",
        evaluation.errors
    );
}

#[test]
fn recursion_is_an_error_not_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "loop.rego",
        "package main\nimport rego.v1\n\na if b\nb if a\n\ndeny contains \"x\" if a\n",
    );
    let errors = match load_with(dir.path(), Duration::from_secs(1)) {
        Err(e) => e,
        Ok(set) => set.evaluate(&json!({"kind": "Pod"})).errors,
    };
    assert!(!errors.is_empty());
    assert!(errors[0].path.ends_with("loop.rego"), "{errors:?}");
}

#[test]
fn syntax_errors_point_at_file_line_and_column() {
    let errors = load_errors(
        "bad.rego",
        "package main\n\ndeny[msg] {\n  input.kind ==\n}\n",
    );
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].path.ends_with("bad.rego"));
    // regorus points at the body that does not close; a v0 policy gets
    // the v0 parser's message.
    assert_eq!(start(&errors[0]), Position::new(3, 11), "{}", errors[0]);
    assert!(!errors[0].message.contains("`if`"), "{}", errors[0]);
}

#[test]
fn unknown_builtins_are_refused_at_load_even_when_unreachable() {
    let errors = load_errors(
        "net.rego",
        "package main\nimport rego.v1\n\ndeny contains msg if {\n  input.kind == \"Never\"\n  resp := http.send({\"method\": \"get\", \"url\": \"https://example.com\"})\n  msg := resp.body\n}\n\nwarn contains msg if {\n  msg := no_such.function(input)\n}\n",
    );
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(start(&errors[0]), Position::new(6, 11), "{}", errors[0]);
    assert!(errors[0].message.contains("`http.send`"), "{}", errors[0]);
    assert!(errors[0].message.contains("offline"), "{}", errors[0]);
    assert_eq!(start(&errors[1]), Position::new(11, 10), "{}", errors[1]);
    assert!(
        errors[1].message.contains("no_such.function"),
        "{}",
        errors[1]
    );
}

#[test]
fn functions_called_through_an_import_alias_are_known() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "lib.rego",
        "package lib.k8s\nimport rego.v1\nis_pod(x) if x.kind == \"Pod\"\n",
    );
    write(
        dir.path(),
        "p.rego",
        "package main\nimport rego.v1\nimport data.lib.k8s as kk\ndeny contains \"pod\" if kk.is_pod(input)\nwarn contains 1 if kk.missing(input)\n",
    );
    let errors = load_with(dir.path(), Duration::from_secs(1))
        .map(|_| ())
        .expect_err("kk.missing does not exist");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].message.contains("`kk.missing`"), "{}", errors[0]);
    assert_eq!(start(&errors[0]), Position::new(5, 20), "{}", errors[0]);
}

#[test]
fn type_errors_are_reported_with_their_location() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "types.rego",
        "package main\nimport rego.v1\n\ndeny contains msg if {\n  x := input.spec.replicas + \"one\"\n  msg := sprintf(\"%v\", [x])\n}\n",
    );
    let set = load_with(dir.path(), Duration::from_secs(1)).unwrap();
    let evaluation = set.evaluate(&json!({"kind": "Deployment", "spec": {"replicas": 1}}));
    let e = &evaluation.errors[0];
    assert!(e.path.ends_with("types.rego"), "{e}");
    assert_eq!(start(e).line, 5, "{e}");
}

#[test]
fn bad_metadata_is_refused() {
    let errors = load_errors(
        "meta.rego",
        "package main\nimport rego.v1\n\n# METADATA\n# custom:\n#   severity: apocalyptic\ndeny contains \"x\" if true\n",
    );
    assert!(errors[0].message.contains("severity"), "{errors:?}");
    assert_eq!(start(&errors[0]).line, 4);
}

const VAP_HEAD: &str = "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata:\n  name: p\nspec:\n  matchConstraints:\n    resourceRules:\n    - {apiGroups: [\"\"], apiVersions: [v1], operations: [CREATE], resources: [configmaps]}\n  validations:\n";
const BINDING: &str = "---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata:\n  name: b\nspec:\n  policyName: p\n  validationActions: [Deny]\n";

fn vap(validation: &str) -> String {
    format!("{VAP_HEAD}{validation}{BINDING}")
}

#[test]
fn cel_syntax_errors_point_into_the_yaml() {
    let errors = load_errors("vap.yaml", &vap("  - expression: \"object.data.x ==\"\n"));
    assert!(
        errors[0].message.contains("invalid CEL expression"),
        "{errors:?}"
    );
    // Line 10; the expression starts at column 18 and ends at 33: the
    // error is at its end.
    assert_eq!(start(&errors[0]), Position::new(10, 34), "{}", errors[0]);
}

#[test]
fn unsupported_cel_functions_are_named() {
    for (expr, name) in [
        (
            "authorizer.group('').resource('pods').check('get').allowed()",
            "authorizer",
        ),
        ("ip(object.data.addr).family() == 4", "ip"),
        ("object.data.x.frobnicate()", "frobnicate"),
    ] {
        let errors = load_errors("vap.yaml", &vap(&format!("  - expression: \"{expr}\"\n")));
        assert!(
            errors[0].message.contains(&format!("`{name}`")),
            "{expr}: {errors:?}"
        );
        assert_eq!(start(&errors[0]).line, 10);
    }
}

#[test]
fn huge_cel_comprehension_ends_with_a_cost_error() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "vap.yaml",
        &vap(
            "  - expression: \"lists.range(1000000).all(i, lists.range(1000000).all(j, i + j >= 0))\"\n",
        ),
    );
    let mut set = load_with(dir.path(), Duration::from_secs(1)).unwrap();
    set.link();
    let started = Instant::now();
    let evaluation =
        set.evaluate(&json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(evaluation.violations.is_empty());
    assert!(
        evaluation.errors[0]
            .message
            .contains("exceeds the cost limit"),
        "{:?}",
        evaluation.errors
    );
    assert_eq!(start(&evaluation.errors[0]).line, 10);
}

#[test]
fn cel_cost_scales_with_the_input() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "vap.yaml",
        &vap(
            "  - expression: \"object.data.items.split(',').all(a, object.data.items.split(',').all(b, object.data.items.split(',').all(c, true)))\"\n",
        ),
    );
    let mut set = load_with(dir.path(), Duration::from_secs(1)).unwrap();
    set.link();
    let cm = |n: usize| {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
               "data": {"items": vec!["x"; n].join(",")}})
    };
    assert!(set.evaluate(&cm(10)).errors.is_empty());
    let big = set.evaluate(&cm(5000));
    assert!(
        big.errors[0].message.contains("cost limit"),
        "{:?}",
        big.errors
    );
}

#[test]
fn failure_policy_decides_what_an_evaluation_error_does() {
    for (policy, expect) in [("Fail", 1), ("Ignore", 0)] {
        let dir = tempfile::tempdir().unwrap();
        let text = vap("  - expression: \"object.data.missing == 'x'\"\n").replace(
            "spec:\n  matchConstraints",
            &format!("spec:\n  failurePolicy: {policy}\n  matchConstraints"),
        );
        write(dir.path(), "vap.yaml", &text);
        let mut set = load_with(dir.path(), Duration::from_secs(1)).unwrap();
        set.link();
        let e = set.evaluate(&json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {}}));
        assert_eq!(e.violations.len(), expect, "{policy}: {e:?}");
        if expect == 1 {
            assert!(
                e.violations[0].message.contains("resulted in error"),
                "{}",
                e.violations[0].message
            );
        }
    }
}

#[test]
fn cel_libraries_behave_like_kubernetes() {
    let cases = [
        ("quantity('1Gi') == quantity('1024Mi')", true),
        ("quantity('500m').isLessThan(quantity('1'))", true),
        ("quantity('2Gi').compareTo(quantity('1Gi')) == 1", true),
        (
            "quantity('1.5').isInteger() == false && quantity('3').asInteger() == 3",
            true,
        ),
        (
            "quantity('1').add(quantity('500m')) == quantity('1500m')",
            true,
        ),
        ("isQuantity('1Zi') == false", true),
        (
            "'abc 123 def 456'.findAll('[0-9]+') == ['123', '456']",
            true,
        ),
        ("'abc 123'.find('[0-9]+') == '123'", true),
        ("'abc'.find('[0-9]+') == ''", true),
        ("[1, 2, 3].isSorted() && ![3, 1].isSorted()", true),
        (
            "[1, 2, 3].sum() == 6 && [1, 5, 3].max() == 5 && [4, 2].min() == 2",
            true,
        ),
        (
            "[1, 2, 1].indexOf(1) == 0 && [1, 2, 1].lastIndexOf(1) == 2 && [1].indexOf(9) == -1",
            true,
        ),
        (
            "url('https://example.com:8443/a?x=1').getHostname() == 'example.com'",
            true,
        ),
        (
            "url('https://example.com:8443/a?x=1').getPort() == '8443'",
            true,
        ),
        (
            "url('https://example.com/a?x=1&x=2').getQuery()['x'] == ['1', '2']",
            true,
        ),
        ("isURL('not a url') == false", true),
        (
            "'a,b'.split(',').size() == 2 && 'Hello'.lowerAscii() == 'hello'",
            true,
        ),
        (
            "[3, 1, 2].sort() == [1, 2, 3] && math.greatest(1, 5, 3) == 5",
            true,
        ),
        (
            "optional.of(1).orValue(2) == 1 && object.?data.?nope.orValue('d') == 'd'",
            true,
        ),
        (
            "has(object.metadata.name) && !has(object.metadata.labels)",
            true,
        ),
        ("base64.decode('aGk=') == b'hi'", true),
    ];
    for (expr, want) in cases {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "vap.yaml",
            &vap(&format!("  - expression: \"{expr}\"\n")),
        );
        let mut set = match load_with(dir.path(), Duration::from_secs(1)) {
            Ok(s) => s,
            Err(e) => panic!("{expr}: {e:?}"),
        };
        set.link();
        let e = set.evaluate(&json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {}}));
        assert_eq!(e.violations.is_empty(), want, "{expr}: {:?}", e.violations);
    }
}

#[test]
fn real_world_gke_policies() {
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gke");
    let mut set = palisade_policy::load(&[fixtures], &[], &LoadOptions::default()).unwrap();
    let kinds = set.link();
    assert_eq!(kinds, ["ConfigMap", "Namespace"]);
    set.discover_context(
        "ns.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: FORBIDDEN_NAMESPACE\n",
        &kinds,
        &Limits::default(),
    );
    let pod = |ns: &str, tolerations: serde_json::Value| {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": ns},
               "spec": {"containers": [{"name": "c", "image": "i"}], "tolerations": tolerations}})
    };
    let codes = |v: &serde_json::Value| -> Vec<String> {
        set.evaluate(v)
            .violations
            .iter()
            .map(|v| v.rule.code.to_string())
            .collect()
    };
    let cc = json!([{"key": "cloud.google.com/compute-class", "operator": "Equal", "value": "autopilot"}]);
    // The matchCondition is a folded scalar, where `'\\n'` stays two
    // characters: CEL splits on a backslash and an `n`, never on newlines,
    // so (as in a cluster) the condition never holds and the policy never
    // applies.
    assert_eq!(codes(&pod("foo", cc.clone())), Vec::<String>::new());
    assert_eq!(codes(&pod("shop", cc)), Vec::<String>::new());
    // Wildcard tolerations only in the selected namespace.
    let wildcard = json!([{"operator": "Exists"}]);
    assert_eq!(
        codes(&pod("FORBIDDEN_NAMESPACE", wildcard.clone())),
        ["restrict-wildcard-toleration"]
    );
    assert_eq!(codes(&pod("shop", wildcard)), Vec::<String>::new());
}
