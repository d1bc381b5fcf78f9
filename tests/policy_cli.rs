//! End-to-end tests of policies in `palisade scan` (Rego with --policy and
//! --data, ValidatingAdmissionPolicies from --policy and from the scanned
//! inputs, suppression, policy errors) and of `palisade policy test`.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write as _;
use std::fs;

use assert_cmd::Command;
use serde_json::Value;

const APP: &str = "tests/fixtures/policy/app.yaml";
const VAP_IN_INPUTS: &str = "tests/fixtures/policy/vap-in-inputs.yaml";

fn palisade() -> Command {
    let mut cmd = Command::cargo_bin("palisade").unwrap();
    cmd.env("NO_COLOR", "1").env_remove("PALISADE_TODAY");
    cmd
}

/// `palisade scan APP --scanners policy` and then `extra`.
fn policy_scan(extra: &[&str]) -> Command {
    let mut cmd = palisade();
    cmd.args(["scan", APP, "--scanners", "policy"]).args(extra);
    cmd
}

fn with_examples(cmd: &mut Command) -> &mut Command {
    cmd.args([
        "--policy",
        "examples/policies/rego",
        "--policy",
        "examples/policies/vap",
        "--data",
        "examples/policies/data",
    ])
}

fn json_of(output: &[u8]) -> Value {
    serde_json::from_slice(output)
        .unwrap_or_else(|e| panic!("invalid JSON ({e}): {}", String::from_utf8_lossy(output)))
}

/// One line per finding: what a reviewer needs to see in a snapshot.
fn summary(report: &Value) -> String {
    let mut out = String::new();
    for f in report["findings"].as_array().unwrap() {
        let loc = &f["location"];
        writeln!(
            out,
            "{}:{}:{} {} {} {}{}\n    {}",
            loc["path"].as_str().unwrap(),
            loc["startLine"],
            loc["startColumn"],
            f["code"].as_str().unwrap(),
            f["severity"].as_str().unwrap(),
            f.get("field").and_then(Value::as_str).unwrap_or("-"),
            f.get("suppressed")
                .map(|s| format!(" [suppressed: {}]", s["kind"].as_str().unwrap()))
                .unwrap_or_default(),
            f["message"].as_str().unwrap(),
        )
        .unwrap();
    }
    out
}

/// The JSON report of the example policies over the app and the VAPs in
/// the inputs (they find something: exit 1).
fn examples_report(extra: &[&str]) -> Value {
    let out = with_examples(palisade().args([
        "scan",
        APP,
        VAP_IN_INPUTS,
        "--scanners",
        "policy",
        "--format",
        "json",
    ]))
    .args(extra)
    .assert()
    .code(1)
    .get_output()
    .stdout
    .clone();
    json_of(&out)
}

#[test]
fn scan_applies_rego_and_vaps_with_exact_locations() {
    let report = examples_report(&[]);
    insta::assert_snapshot!("policy_scan_json", summary(&report));
    // Findings carry the policies' metadata like a built-in rule's.
    let finding = |code: &str| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == code)
            .unwrap()
            .clone()
    };
    assert_eq!(
        finding("ACME-013")["title"],
        "Services must not expose administrative ports"
    );
    let privileged = finding("ACME-001");
    assert_eq!(
        privileged["fix"],
        "Remove securityContext.privileged or set it to false."
    );
    assert_eq!(
        privileged["references"][0],
        "https://kubernetes.io/docs/concepts/security/pod-security-standards/"
    );
}

#[test]
fn table_output() {
    let out = with_examples(&mut policy_scan(&["--show-suppressed"]))
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    insta::assert_snapshot!("policy_scan_table", String::from_utf8(out).unwrap());
}

#[test]
fn policies_run_with_the_builtin_rules_by_default() {
    let out = with_examples(palisade().args(["scan", APP, "--format", "json"]))
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let report = json_of(&out);
    let codes: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"K8S001"), "built-in rules run: {codes:?}");
    assert!(codes.contains(&"ACME-013"), "policies run: {codes:?}");
    // Without `policy` among explicit scanners, policies are left out.
    let out =
        with_examples(palisade().args(["scan", APP, "--scanners", "config", "--format", "json"]))
            .assert()
            .get_output()
            .clone();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("ACME-"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--policy is ignored"));
}

#[test]
fn vaps_in_the_scanned_inputs_apply_without_policy_flags() {
    // The default scanners, named or not, in either order.
    for scanners in [
        &[][..],
        &["--scanners", "config,rbac"],
        &["--scanners", "rbac,config"],
    ] {
        let out = palisade()
            .args(["scan", APP, VAP_IN_INPUTS, "--format", "json"])
            .args(scanners)
            .assert()
            .get_output()
            .stdout
            .clone();
        let report = json_of(&out);
        let vap: Vec<&Value> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["code"] == "no-nodeport.example.com")
            .collect();
        assert_eq!(vap.len(), 1, "{scanners:?}: {report:#}");
        assert_eq!(vap[0]["severity"], "MEDIUM", "Warn binding");
        assert_eq!(vap[0]["location"]["path"], APP);
    }
}

#[test]
fn suppression_works_as_for_builtin_rules() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("palisade.yaml");
    fs::write(
        &config,
        "ignore:\n- id: ACME-013\n  reason: the bastion is a NodePort on purpose\n",
    )
    .unwrap();
    let out = with_examples(&mut policy_scan(&[
        "--format",
        "json",
        "--config",
        config.to_str().unwrap(),
    ]))
    .assert()
    .get_output()
    .stdout
    .clone();
    let report = json_of(&out);
    let kind = |code: &str| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == code)
            .and_then(|f| f.get("suppressed"))
            .map(|s| s["kind"].as_str().unwrap().to_string())
    };
    assert_eq!(kind("ACME-001").as_deref(), Some("inline"));
    assert_eq!(kind("ACME-007").as_deref(), Some("annotation"));
    assert_eq!(kind("ACME-013").as_deref(), Some("config"));
    assert_eq!(kind("ACME-011"), None);

    // Baselines: record today's findings, then nothing new is reported.
    let baseline = dir.path().join("baseline.json");
    with_examples(&mut policy_scan(&[
        "--quiet",
        "--write-baseline",
        baseline.to_str().unwrap(),
    ]))
    .assert()
    .code(1);
    with_examples(&mut policy_scan(&[
        "--quiet",
        "--baseline",
        baseline.to_str().unwrap(),
    ]))
    .assert()
    .code(0);
}

#[test]
fn configuration_names_policies_and_data() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::env::current_dir().unwrap();
    let config = dir.path().join("palisade.yaml");
    fs::write(
        &config,
        format!(
            "policies:\n- {0}/examples/policies/rego\ndata:\n- {0}/examples/policies/data\n",
            root.display()
        ),
    )
    .unwrap();
    let out = policy_scan(&["--format", "json", "--config"])
        .arg(&config)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    assert!(String::from_utf8_lossy(&out).contains("ACME-013"));
}

/// Both Rego engines report the same findings; they differ in what an
/// error inside a rule does: the interpreter reports it (exit 2), the VM
/// makes the rule undefined. `rego-engine:` in palisade.yaml picks the VM
/// too, and the flag wins over it.
#[test]
fn rego_engines_agree_except_on_errors() {
    let scan = |extra: &[&str]| summary(&examples_report(extra));
    let interpreted = scan(&[]);
    assert!(interpreted.contains("ACME-013"), "{interpreted}");
    assert_eq!(scan(&["--rego-engine", "vm"]), interpreted);

    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("types.rego");
    fs::write(
        &policy,
        "package main\nimport rego.v1\n\ndeny contains msg if {\n  n := input.metadata.name + 1\n  msg := sprintf(\"%v\", [n])\n}\n\ndeny contains \"always\" if input.kind\n",
    )
    .unwrap();
    let config = dir.path().join("palisade.yaml");
    fs::write(&config, "rego-engine: vm\n").unwrap();
    let run = |extra: &[&str], code: i32| {
        policy_scan(&["--format", "json", "--policy"])
            .arg(&policy)
            .args(extra)
            .assert()
            .code(code)
            .get_output()
            .clone()
    };
    let strict = run(&[], 2);
    let stderr = String::from_utf8_lossy(&strict.stderr);
    assert!(stderr.contains("types.rego:5:"), "{stderr}");
    let lenient = run(&["--rego-engine", "vm"], 1);
    assert!(String::from_utf8_lossy(&lenient.stdout).contains("always"));
    assert!(!String::from_utf8_lossy(&lenient.stderr).contains("types.rego"));
    let config_arg = config.to_str().unwrap();
    run(&["--config", config_arg], 1);
    run(&["--config", config_arg, "--rego-engine", "interpreter"], 2);

    // A set the VM cannot run safely stays on the interpreter, and says so.
    let recursive = dir.path().join("recursive.rego");
    fs::write(
        &recursive,
        "package main\nimport rego.v1\n\na if b\nb if a\n\ndeny contains \"x\" if a\n",
    )
    .unwrap();
    let out = policy_scan(&["--rego-engine", "vm", "--policy"])
        .arg(&recursive)
        .assert()
        .code(2)
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "--rego-engine vm: these policies run on the interpreter: its rules can call themselves"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("recursive.rego"),
        "the recursion is reported: {stderr}"
    );
}

#[test]
fn namespace_selects_rego_packages() {
    let out = policy_scan(&[
        "--policy",
        "examples/policies/rego",
        "--data",
        "examples/policies/data",
        "--namespace",
        "lib.kubernetes",
    ])
    .assert()
    .code(0)
    .get_output()
    .clone();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no deny, violation or warn rules"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn policy_errors_name_file_line_and_column_and_exit_2() {
    let out = palisade()
        .args(["scan", APP, "--policy", "tests/fixtures/policy/bad.rego"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("tests/fixtures/policy/bad.rego:6:10"),
        "{stderr}"
    );
    assert!(stderr.contains("`http.send`"), "{stderr}");
    assert!(
        stderr.contains("resp := http.send("),
        "code frame: {stderr}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn policy_test_passes_and_fails_like_opa_test() {
    let out = palisade()
        .args([
            "policy",
            "test",
            "examples/policies/rego",
            "--data",
            "examples/policies/data",
        ])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let stdout = String::from_utf8(out).unwrap();
    assert!(
        stdout.contains("\n7 passed, 0 failed, 0 skipped\n"),
        "{stdout}"
    );

    let out = palisade()
        .args([
            "policy",
            "test",
            "tests/fixtures/policy/failing-tests",
            "-v",
        ])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let stdout = String::from_utf8(out).unwrap();
    assert!(
        stdout.contains("PASS data.main.test_pods_are_denied"),
        "{stdout}"
    );
    assert!(
        stdout.contains("FAIL data.main.test_services_are_denied (line 11"),
        "{stdout}"
    );
    assert!(stdout.contains("1 passed, 1 failed, 0 skipped"), "{stdout}");

    palisade()
        .args(["policy", "test", "tests/fixtures/policy/bad.rego"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("bad.rego:6:10"));
}

/// Missing params with `parameterNotFoundAction: Deny` are a failure of
/// the policy, which its `failurePolicy` decides: `Ignore` admits.
#[test]
fn missing_params_follow_the_failure_policy() {
    let dir = tempfile::tempdir().unwrap();
    let deployment = dir.path().join("dep.yaml");
    std::fs::write(
        &deployment,
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d1, namespace: ns1}\nspec:\n  replicas: 5\n  selector: {matchLabels: {app: a}}\n  template:\n    metadata: {labels: {app: a}}\n    spec:\n      containers: [{name: c, image: nginx}]\n",
    )
    .unwrap();
    let vap = |failure: &str| {
        format!(
            "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {{name: max-replicas}}\nspec:\n  failurePolicy: {failure}\n  paramKind: {{apiVersion: v1, kind: ConfigMap}}\n  matchConstraints:\n    resourceRules:\n    - {{apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}}\n  validations:\n  - expression: object.spec.replicas <= int(params.data.max)\n---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {{name: max-replicas-b}}\nspec:\n  policyName: max-replicas\n  validationActions: [Deny]\n  paramRef: {{name: limits, parameterNotFoundAction: Deny}}\n"
        )
    };
    for (failure, code) in [("Ignore", 0), ("Fail", 1)] {
        let policy = dir.path().join(format!("{failure}.yaml"));
        std::fs::write(&policy, vap(failure)).unwrap();
        palisade()
            .arg("scan")
            .arg(&deployment)
            .args(["--scanners", "policy", "--policy"])
            .arg(&policy)
            .assert()
            .code(code);
    }
}

/// A VAP without a binding, and a binding naming no loaded policy, are
/// reported even when nothing else is loaded.
#[test]
fn unbound_policies_are_reported_alone_too() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("nobind.yaml");
    std::fs::write(
        &policy,
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: nobind}\nspec:\n  matchConstraints:\n    resourceRules:\n    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}\n  validations:\n  - expression: \"false\"\n---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {name: orphan-b}\nspec:\n  policyName: missing-policy\n  validationActions: [Deny]\n",
    )
    .unwrap();
    let out = policy_scan(&[])
        .arg("--policy")
        .arg(&policy)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("`nobind` has no ValidatingAdmissionPolicyBinding"),
        "{stderr}"
    );
    assert!(
        stderr.contains("`orphan-b` names policy `missing-policy`"),
        "{stderr}"
    );
}
