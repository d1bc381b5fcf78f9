//! End-to-end tests of the `palisade` binary: formats, exit codes,
//! suppression, and bad input.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::PredicateBooleanExt;
use serde_json::Value;

const GOOD: &str = "tests/fixtures/cli/privileged.yaml";
/// Runs only K8S001, for tests of mechanics rather than rules.
const ONLY_K8S001: [&str; 4] = ["--disable", "*", "--enable", "K8S001"];

fn palisade() -> Command {
    let mut cmd = Command::cargo_bin("palisade").unwrap();
    cmd.env("NO_COLOR", "1").env_remove("PALISADE_TODAY");
    cmd
}

fn json_of(output: &[u8]) -> Value {
    serde_json::from_slice(output)
        .unwrap_or_else(|e| panic!("invalid JSON ({e}): {}", String::from_utf8_lossy(output)))
}

fn codes(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f.get("suppressed").is_none())
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

fn schema(path: &str) -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn assert_valid(validator: &jsonschema::Validator, doc: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "schema violations:\n{}",
        errors.join("\n")
    );
}

#[test]
fn scans_a_file_and_fails_on_findings() {
    let out = palisade()
        .args(["scan", GOOD])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("tests/fixtures/cli/privileged.yaml"),
        "{text}"
    );
    assert!(text.contains("11:9"), "{text}");
    assert!(text.contains("K8S001"), "{text}");
    assert!(text.contains("[Pod/test/privileged]"), "{text}");
}

#[test]
fn fail_on_threshold_sets_the_exit_code() {
    palisade()
        .args(["scan", GOOD, "--fail-on", "none"])
        .assert()
        .code(0);
    palisade()
        .args(["scan", GOOD, "--fail-on", "critical", "--disable", "K8S001"])
        .assert()
        .code(0);
    palisade()
        .args(["scan", GOOD, "--fail-on", "critical"])
        .assert()
        .code(1);
    palisade()
        .args(["scan", GOOD, "--fail-on", "severe"])
        .assert()
        .code(2);
}

#[test]
fn usage_errors_exit_2() {
    palisade().args(["scan", "--no-such-flag"]).assert().code(2);
    palisade()
        .args(["scan", GOOD, "--enable", "K8S999"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("unknown rule `K8S999`"));
    palisade()
        .args(["scan", "does/not/exist.yaml"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("does/not/exist.yaml"));
    // `none` is a --fail-on value, not a severity: as a filter it would
    // silently keep only info findings.
    palisade()
        .args(["scan", GOOD, "--severity", "none"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("unknown severity `none`"));
    palisade()
        .args(["scan", GOOD, "--fail-on", "bogus"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("or none to never fail"));
}

#[test]
fn reads_stdin() {
    let text = fs::read_to_string(GOOD).unwrap();
    let out = palisade()
        .args(["scan", "-", "--format", "json"])
        .args(ONLY_K8S001)
        .write_stdin(text)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let report = json_of(&out);
    assert_eq!(report["findings"][0]["location"]["path"], "<stdin>");
    assert_eq!(report["findings"][0]["location"]["startLine"], 11);
}

#[test]
fn empty_stdin_is_an_input_error() {
    palisade()
        .args(["scan", "-"])
        .write_stdin("")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("stdin is empty"));
    // Reading a pipe stops past the limit: its size is not known, so it is
    // not made up.
    palisade()
        .args(["scan", "-", "--max-file-size", "1KB"])
        .write_stdin(format!("# {}\n", "x".repeat(5000)))
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "limit; raise it with --max-file-size",
        ));
    // Binary stdin is skipped by the secret scanner (as a binary file is),
    // not reported as empty after being read once.
    palisade()
        .args(["scan", "-", "--scanners", "secret", "--no-progress"])
        .write_stdin("x\0TOKEN=ghp_MSwXnAc9mV5W76QpX0CvvbN0jAW8osEtl4kt\n")
        .assert()
        .code(0)
        .stderr(predicates::str::contains("stdin is empty").not());
    palisade()
        .args(["scan", "-", "--no-progress"])
        .write_stdin("x\0y\n")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("binary file"));
}

#[test]
fn expands_lists_and_skips_non_kubernetes_yaml() {
    let out = palisade()
        .args([
            "scan",
            "tests/fixtures/cli/list.json",
            "tests/fixtures/cli/not-kubernetes.yaml",
            "--format",
            "json",
        ])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let report = json_of(&out);
    assert_eq!(report["summary"]["objects"], 2);
    assert_eq!(report["summary"]["skippedDocuments"], 1);
    let privileged: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "K8S001")
        .collect();
    assert_eq!(privileged.len(), 1);
    assert_eq!(
        privileged[0]["field"],
        "/items/1/spec/containers/0/securityContext/privileged"
    );
    assert_eq!(privileged[0]["location"]["startLine"], 18);
    assert_eq!(privileged[0]["resource"]["name"], "listed");
}

#[test]
fn json_report_matches_its_schema_and_is_deterministic() {
    let validator = schema("docs/schemas/report-v1.schema.json");
    let run = || {
        palisade()
            .args(["scan", "examples", "tests/fixtures/cli", "--format", "json"])
            .assert()
            .code(1)
            .get_output()
            .stdout
            .clone()
    };
    let first = run();
    assert_eq!(first, run(), "JSON output differs between runs");
    assert_valid(&validator, &json_of(&first));
}

#[test]
fn sarif_report_is_valid_sarif_2_1_0_and_deterministic() {
    let validator = schema("tests/fixtures/schemas/sarif-schema-2.1.0.json");
    let run = || {
        palisade()
            .args([
                "scan",
                "examples",
                "tests/fixtures/cli",
                "--format",
                "sarif",
            ])
            .assert()
            .code(1)
            .get_output()
            .stdout
            .clone()
    };
    let first = run();
    assert_eq!(first, run(), "SARIF output differs between runs");
    let sarif = json_of(&first);
    assert_valid(&validator, &sarif);
    let run0 = &sarif["runs"][0];
    let rules = run0["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules.iter().all(|r| {
        r["help"]["markdown"]
            .as_str()
            .is_some_and(|m| m.contains("## Why is this bad?"))
    }));
    for result in run0["results"].as_array().unwrap() {
        let idx = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], result["ruleId"]);
        assert!(result["partialFingerprints"]["palisade/v1"].is_string());
    }
    assert!(
        run0["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["suppressions"][0]["kind"] == "inSource")
    );
}

#[test]
fn junit_report_is_well_formed() {
    let out = palisade()
        .args(["scan", "tests/fixtures/cli", "--format", "junit"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let failures: usize = root.attribute("failures").unwrap().parse().unwrap();
    assert!(failures >= 2);
    assert!(doc.descendants().any(|n| n.has_tag_name("skipped")));
    // The root's totals are the sums of its suites' (input errors included).
    let dir = tempfile::tempdir().unwrap();
    fs::copy(GOOD, dir.path().join("pod.yaml")).unwrap();
    fs::write(dir.path().join("bad.yaml"), "a: {b\n").unwrap();
    let out = palisade()
        .args(["scan", "--format", "junit", "--fail-on", "none"])
        .arg(dir.path())
        .assert()
        .code(2)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let root = doc.root_element();
    for attr in ["tests", "failures", "errors", "skipped"] {
        let sum: usize = root
            .children()
            .filter(|n| n.has_tag_name("testsuite"))
            .map(|n| n.attribute(attr).unwrap().parse::<usize>().unwrap())
            .sum();
        assert_eq!(
            root.attribute(attr),
            Some(sum.to_string().as_str()),
            "{attr}: {text}"
        );
    }
}

#[test]
fn writes_the_report_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.json");
    palisade()
        .args(["scan", GOOD, "--format", "json"])
        .args(ONLY_K8S001)
        .arg("--output")
        .arg(&out)
        .assert()
        .code(1)
        .stdout("");
    assert_eq!(codes(&json_of(&fs::read(&out).unwrap())), vec!["K8S001"]);
}

#[test]
fn a_report_to_dev_stdout_appends_to_the_redirected_file() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.txt");
    fs::write(&log, "before\n").unwrap();
    let appending = fs::OpenOptions::new().append(true).open(&log).unwrap();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["scan", GOOD, "--format", "json", "--quiet"])
        .args(ONLY_K8S001)
        .args(["--output", "/dev/stdout"])
        .stdout(appending)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1));
    let text = fs::read_to_string(&log).unwrap();
    let report = text.strip_prefix("before\n").expect("earlier lines kept");
    assert_eq!(codes(&json_of(report.as_bytes())), vec!["K8S001"]);
}

#[test]
fn inline_and_annotation_suppressions_are_reported_as_suppressed() {
    let out = palisade()
        .args([
            "scan",
            "tests/fixtures/cli/suppressed.yaml",
            "--format",
            "json",
            "--enable",
            "K8S001",
            "--disable",
            "*",
        ])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let report = json_of(&out);
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 3, "{report:#}");
    let kinds: Vec<&str> = findings
        .iter()
        .map(|f| f["suppressed"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["inline", "inline", "annotation"]);
    assert_eq!(findings[1]["suppressed"]["reason"], "approved in SEC-123");
    assert_eq!(report["summary"]["suppressed"], 3);
    assert_eq!(report["summary"]["findings"], 0);
}

#[test]
fn config_ignores_apply_until_they_expire() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("palisade.yaml");
    fs::write(
        &config,
        "ignore:\n  - id: privileged-container\n    paths: [\"tests/fixtures/cli/*\"]\n    reason: accepted risk\n    expires: 2030-06-30\n",
    )
    .unwrap();
    let run = |today: &str| {
        let mut cmd = palisade();
        cmd.env("PALISADE_TODAY", today)
            .args(["scan", GOOD, "--format", "json"])
            .args(ONLY_K8S001)
            .arg("--config")
            .arg(&config);
        cmd
    };
    let out = run("2030-06-29")
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let report = json_of(&out);
    assert_eq!(report["findings"][0]["suppressed"]["kind"], "config");
    assert_eq!(
        report["findings"][0]["suppressed"]["reason"],
        "accepted risk"
    );
    run("2030-06-30")
        .assert()
        .code(1)
        .stderr(predicates::str::contains("expired on 2030-06-30"));
}

#[test]
fn config_errors_point_into_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("palisade.yaml");
    fs::write(&config, "settings:\n  min-replicas: many\n").unwrap();
    palisade()
        .args(["scan", GOOD, "--config"])
        .arg(&config)
        .assert()
        .code(2)
        .stderr(
            predicates::str::contains("palisade.yaml:2:3")
                .and(predicates::str::contains("min-replicas: many")),
        );
}

#[test]
fn baseline_suppresses_known_findings_only() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = dir.path().join("baseline.json");
    palisade()
        .args(["scan", GOOD, "--write-baseline"])
        .arg(&baseline)
        .assert()
        .code(1);
    palisade()
        .args(["scan", GOOD, "--baseline"])
        .arg(&baseline)
        .assert()
        .code(0);
    palisade()
        .args(["scan", GOOD, "--baseline"])
        .arg(&baseline)
        .arg("--fail-on")
        .arg("info")
        .assert()
        .code(0);
    let out = palisade()
        .args([
            "scan",
            GOOD,
            "tests/fixtures/cli/list.json",
            "--format",
            "json",
            "--baseline",
        ])
        .arg(&baseline)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let report = json_of(&out);
    let by_file: Vec<(String, bool)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "K8S001")
        .map(|f| {
            (
                f["location"]["path"].as_str().unwrap().to_string(),
                f.get("suppressed").is_some(),
            )
        })
        .collect();
    assert!(by_file.contains(&("tests/fixtures/cli/privileged.yaml".to_string(), true)));
    assert!(by_file.contains(&("tests/fixtures/cli/list.json".to_string(), false)));
}

#[test]
fn severity_filter_limits_what_is_reported() {
    let out = palisade()
        .args([
            "scan",
            "examples",
            "--format",
            "json",
            "--severity",
            "CRITICAL",
        ])
        .assert()
        .get_output()
        .stdout
        .clone();
    let report = json_of(&out);
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["severity"] == "CRITICAL")
    );
}

#[test]
fn rules_lists_and_explains() {
    palisade().args(["rules"]).assert().code(0).stdout(
        predicates::str::contains("K8S001").and(predicates::str::contains("privileged-container")),
    );
    palisade()
        .args(["rules", "privileged-container"])
        .assert()
        .code(0)
        .stdout(
            predicates::str::contains("## Why is this bad?")
                .and(predicates::str::contains("CIS Kubernetes Benchmark 5.2.2")),
        );
    // The admission webhook's own rules are listed and explained too.
    palisade()
        .args(["rules", "exec-into-pod"])
        .assert()
        .code(0)
        .stdout(
            predicates::str::contains("# ADM001 exec-into-pod")
                .and(predicates::str::contains("break-glass")),
        );
    palisade().args(["rules", "K8S999"]).assert().code(2);
    let out = palisade()
        .args(["rules", "--format", "json"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    assert!(json_of(&out).as_array().unwrap().len() > 1);
}

// ---- bad input: each gets a clear message naming the file (and line), the
// other inputs are still scanned, and the run exits 2 unless --skip-invalid.

fn bad_input(name: &str, content: &[u8], expect: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    fs::write(&path, content).unwrap();
    check_bad_path(&path, expect);
}

fn check_bad_path(path: &Path, expect: &[&str]) {
    let assert = palisade()
        .args(["scan", "--format", "json"])
        .arg(path)
        .arg(GOOD)
        .assert()
        .code(2);
    let output = assert.get_output();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let file_name = path.file_name().unwrap().to_string_lossy();
    assert!(
        stderr.contains(file_name.as_ref()),
        "stderr does not name the file:\n{stderr}"
    );
    for e in expect {
        assert!(stderr.contains(e), "stderr lacks {e:?}:\n{stderr}");
    }
    let report = json_of(&output.stdout);
    assert!(
        codes(&report).contains(&"K8S001".to_string()),
        "the good file was not scanned"
    );
    assert!(!report["errors"].as_array().unwrap().is_empty());
    palisade()
        .args(["scan", "--skip-invalid"])
        .arg(path)
        .arg(GOOD)
        .assert()
        .code(1);
}

#[test]
fn bad_input_malformed_yaml() {
    bad_input(
        "malformed.yaml",
        b"apiVersion: v1\nkind: Pod\nmetadata: {name: [x\n",
        &["invalid YAML", ":3:20"],
    );
}

#[test]
fn bad_input_duplicate_keys() {
    bad_input(
        "duplicate.yaml",
        b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  name: b\n",
        &["duplicate key `name`", ":5:3"],
    );
}

#[test]
fn bad_input_tabs_in_indentation() {
    bad_input(
        "tabs.yaml",
        b"apiVersion: v1\nkind: Pod\nmetadata:\n\tname: a\n",
        &["tabs", ":4:"],
    );
}

#[test]
fn bad_input_alias_bomb() {
    let mut text = String::from(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\ndata:\n  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
    );
    for i in 1..10 {
        let p = i - 1;
        text.push_str(&format!(
            "  a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    bad_input("laughs.yaml", text.as_bytes(), &["alias expansion exceeds"]);
}

#[test]
fn bad_input_deep_nesting() {
    let text = format!(
        "apiVersion: v1\nkind: ConfigMap\ndata:\n  x:\n  {}1\n",
        "- ".repeat(10_000)
    );
    bad_input("deep.yaml", text.as_bytes(), &["nesting deeper than"]);
    let flow = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    bad_input("deep-flow.yaml", flow.as_bytes(), &["nesting too deep"]);
}

#[test]
fn bad_input_huge_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.yaml");
    fs::File::create(&path)
        .unwrap()
        .set_len(200 * 1024 * 1024)
        .unwrap();
    check_bad_path(&path, &["larger than the 128 MiB limit", "--max-file-size"]);
    palisade()
        .args(["scan", "--max-file-size", "300MiB", "--format", "json"])
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("binary"));
}

#[test]
fn bad_input_binary_file() {
    bad_input(
        "image.yaml",
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
        &["binary file"],
    );
}

#[test]
fn bad_input_invalid_utf8() {
    bad_input(
        "latin1.yaml",
        b"apiVersion: v1\nkind: ConfigMap\ndata:\n  city: M\xfcnchen\n",
        &["invalid UTF-8", ":4:10"],
    );
}

#[test]
fn bad_input_unreadable_file() {
    let dir = tempfile::tempdir().unwrap();
    // /proc/self/mem fails to read at offset 0 (EIO) for any user, root included.
    let eio = dir.path().join("unreadable.yaml");
    std::os::unix::fs::symlink("/proc/self/mem", &eio).unwrap();
    check_bad_path(&eio, &["cannot read"]);
    // Permission bits stop everyone but root.
    use std::os::unix::fs::PermissionsExt;
    let locked = dir.path().join("locked.yaml");
    fs::write(&locked, "apiVersion: v1\nkind: Pod\n").unwrap();
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    if fs::read(&locked).is_err() {
        check_bad_path(&locked, &["permission denied"]);
    } else {
        eprintln!(
            "running as root: permission bits cannot make a file unreadable; covered by the EIO case"
        );
    }
}

#[test]
fn bad_input_symlink_loops() {
    let dir = tempfile::tempdir().unwrap();
    let file_loop = dir.path().join("loop.yaml");
    std::os::unix::fs::symlink("loop.yaml", &file_loop).unwrap();
    check_bad_path(&file_loop, &["symbolic links"]);

    let tree = dir.path().join("tree");
    fs::create_dir_all(tree.join("sub")).unwrap();
    fs::copy(GOOD, tree.join("sub/pod.yaml")).unwrap();
    std::os::unix::fs::symlink("..", tree.join("sub/back")).unwrap();
    let out = palisade()
        .args(["scan", "--format", "json"])
        .args(ONLY_K8S001)
        .arg(&tree)
        .assert()
        .code(2)
        .get_output()
        .clone();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("symlink loop"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(codes(&json_of(&out.stdout)), vec!["K8S001"]);
}

/// A broken symlink whose name is no manifest's (`README`) holds nothing
/// to scan: skipped, not an input error; one named `*.yaml` is reported.
#[test]
fn broken_links_that_are_no_inputs_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    fs::copy(GOOD, dir.path().join("pod.yaml")).unwrap();
    std::os::unix::fs::symlink("/nonexistent/target", dir.path().join("README")).unwrap();
    std::os::unix::fs::symlink("self", dir.path().join("self")).unwrap();
    palisade()
        .args(["scan", "--fail-on", "none"])
        .arg(dir.path())
        .assert()
        .code(0);
    std::os::unix::fs::symlink("/nonexistent", dir.path().join("gone.yaml")).unwrap();
    palisade()
        .args(["scan", "--fail-on", "none"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicates::str::contains("gone.yaml"));
}

/// A file named both through its directory and by itself is one input.
#[test]
fn a_file_named_twice_is_scanned_once() {
    let dir = tempfile::tempdir().unwrap();
    fs::copy(GOOD, dir.path().join("pod.yaml")).unwrap();
    let out = palisade()
        .current_dir(dir.path())
        .args([
            "scan",
            ".",
            "pod.yaml",
            "--format",
            "json",
            "--fail-on",
            "none",
        ])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let report = json_of(&out);
    assert_eq!(report["summary"]["files"], 1, "{report:#}");
    // Names that differ only in invalid UTF-8 display alike but are two
    // files: both are scanned.
    use std::os::unix::ffi::OsStrExt;
    for name in [&b"a\xfe.yaml"[..], b"a\xff.yaml"] {
        fs::copy(GOOD, dir.path().join(std::ffi::OsStr::from_bytes(name))).unwrap();
    }
    let out = palisade()
        .current_dir(dir.path())
        .args(["scan", ".", "--format", "json", "--fail-on", "none"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    assert_eq!(json_of(&out)["summary"]["files"], 3);
}

#[test]
fn walks_directories_honouring_ignore_files() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("deploy")).unwrap();
    fs::create_dir_all(dir.path().join("vendor")).unwrap();
    fs::copy(GOOD, dir.path().join("deploy/a.yaml")).unwrap();
    fs::copy(GOOD, dir.path().join("deploy/b.yml")).unwrap();
    fs::copy(GOOD, dir.path().join("deploy/c.txt")).unwrap();
    fs::copy(GOOD, dir.path().join("vendor/d.yaml")).unwrap();
    fs::write(dir.path().join(".gitignore"), "vendor/\n").unwrap();
    let out = palisade()
        .args(["scan", "--format", "json"])
        .arg(dir.path())
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let report = json_of(&out);
    assert_eq!(report["summary"]["files"], 2);
}

#[test]
fn report_snapshots_of_the_example_app() {
    for format in ["table", "json", "sarif", "junit"] {
        let out = palisade()
            .args(["scan", "examples/shop", "--format", format])
            .assert()
            .code(1)
            .get_output()
            .stdout
            .clone();
        insta::assert_snapshot!(format!("example_{format}"), String::from_utf8(out).unwrap());
    }
}

/// Errors from palisade.yaml entries and baselines say their cause once.
#[test]
fn config_and_baseline_errors_say_their_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("palisade.yaml"),
        "ignore:\n  - id: K8S001\n    reason: x\n    expires: 2027-13-45\n",
    )
    .unwrap();
    let out = palisade()
        .current_dir(dir.path())
        .args(["scan", "."])
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let stderr = String::from_utf8_lossy(&out);
    assert_eq!(
        stderr.matches("invalid date `2027-13-45`").count(),
        1,
        "{stderr}"
    );
    fs::remove_file(dir.path().join("palisade.yaml")).unwrap();
    fs::write(dir.path().join("b.json"), "{bad").unwrap();
    let out = palisade()
        .current_dir(dir.path())
        .args(["scan", ".", "--baseline", "b.json"])
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let stderr = String::from_utf8_lossy(&out);
    assert_eq!(
        stderr.matches("key must be a string").count(),
        1,
        "{stderr}"
    );
}

/// Names from a manifest reach the terminal escaped: an ESC or BEL in a
/// Pod name cannot set the window title or clear the screen.
#[test]
fn table_output_escapes_control_characters_from_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let pod = dir.path().join("esc.yaml");
    fs::write(
        &pod,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"x\\e]0;OWNED\\a\\e[2Jy\"\n  namespace: n\nspec:\n  containers: [{name: c, image: \"nginx:1.25\"}]\n",
    )
    .unwrap();
    let out = palisade()
        .args(["scan", "--color", "never"])
        .arg(&pod)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text:?}"
    );
    assert!(text.contains(r"x\u{1b}]0;OWNED\u{7}\u{1b}[2Jy"), "{text}");
    // JSON keeps the name as it is (escaped by JSON itself).
    let out = palisade()
        .args(["scan", "--format", "json"])
        .arg(&pod)
        .output()
        .unwrap();
    let report = json_of(&out.stdout);
    assert_eq!(
        report["findings"][0]["resource"]["name"],
        "x\u{1b}]0;OWNED\u{7}\u{1b}[2Jy"
    );
}

/// A baseline written by `scan .` serves `scan $PWD` and `scan ./pod.yaml`
/// (fingerprints name paths relative to the working directory), and one
/// file named by two paths is scanned once.
#[test]
fn baselines_do_not_depend_on_how_the_path_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    fs::create_dir(&repo).unwrap();
    fs::write(
        repo.join("pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: n}\nspec:\n  hostNetwork: true\n  containers: [{name: c, image: \"nginx:1.25\"}]\n",
    )
    .unwrap();
    let base = dir.path().join("base.json");
    palisade()
        .current_dir(&repo)
        .args(["scan", ".", "-q", "--write-baseline"])
        .arg(&base)
        .assert()
        .code(1);
    let abs = repo.canonicalize().unwrap();
    for target in [abs.clone(), abs.join("pod.yaml"), "./pod.yaml".into()] {
        palisade()
            .current_dir(&repo)
            .arg("scan")
            .arg(&target)
            .arg("--baseline")
            .arg(&base)
            .assert()
            .code(0);
    }
    let out = palisade()
        .current_dir(dir.path())
        .args([
            "scan",
            "repo/pod.yaml",
            "./repo/../repo/pod.yaml",
            "-f",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(json_of(&out.stdout)["summary"]["files"], 1);
}
