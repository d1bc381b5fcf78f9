//! End-to-end tests of `palisade scan --scanners secret`: files and
//! Kubernetes objects, redaction, suppression, baselines, user rules, and
//! the rule listing. Every secret here is synthetic.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

/// 36 characters after `ghp_`, obviously made up.
const GH: &str = "ghp_Pal1sadeSynthet1cT0kenN0tRea1K3yZq8w";
/// A Slack bot token, made up.
const SLACK: &str = "xoxb-2741639802-4917362518342-Pal1sadeFakeT0ken9Zq7XwM";
/// `DB_PASSWORD` value, base64 `WnE0...` below.
const DB_PASSWORD: &str = "Zq8vT2mK9pL4xR7wN3bY6cH1";

fn palisade() -> Command {
    let mut cmd = Command::cargo_bin("palisade").unwrap();
    cmd.env("NO_COLOR", "1").env_remove("PALISADE_TODAY");
    cmd
}

fn json_of(output: &[u8]) -> Value {
    serde_json::from_slice(output)
        .unwrap_or_else(|e| panic!("invalid JSON ({e}): {}", String::from_utf8_lossy(output)))
}

fn findings(report: &Value) -> Vec<Value> {
    report["findings"].as_array().unwrap().clone()
}

fn base64(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// A small project: a .env file, code, a manifest, a binary, an ignored
/// file.
fn project(dir: &Path) {
    assert_eq!(GH.len(), 40);
    fs::write(
        dir.join(".env"),
        format!("DB_PASSWORD={DB_PASSWORD}\nGITHUB_TOKEN={GH}\n"),
    )
    .unwrap();
    fs::write(
        dir.join("app.py"),
        format!(
            "import os\n\nSLACK = \"{SLACK}\"  # palisade:ignore SEC063 revoked, kept as a fixture\nKEY = \"AKIAIOSFODNN7EXAMPLE\"\n"
        ),
    )
    .unwrap();
    fs::write(
        dir.join("deploy.yaml"),
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: shop\ndata:\n  DB_PASSWORD: {}\nstringData:\n  github: {GH}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: web:1\n        env:\n        - name: GH_TOKEN\n          value: {GH}\n",
            base64(DB_PASSWORD)
        ),
    )
    .unwrap();
    let mut binary = b"\x7fELF\x00\x00".to_vec();
    binary.extend_from_slice(GH.as_bytes());
    fs::write(dir.join("tool.bin"), binary).unwrap();
    fs::write(dir.join(".gitignore"), "ignored.txt\n").unwrap();
    fs::write(dir.join("ignored.txt"), format!("token={GH}\n")).unwrap();
}

fn scan_json(dir: &Path, extra: &[&str]) -> (Value, i32) {
    let out = palisade()
        .current_dir(dir)
        .args(["scan", ".", "--scanners", "secret", "--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    (json_of(&out.stdout), out.status.code().unwrap())
}

fn summary(f: &Value) -> String {
    format!(
        "{} {}:{} {}",
        f["code"].as_str().unwrap(),
        f["location"]["path"].as_str().unwrap(),
        f["location"]["startLine"],
        f.get("field").and_then(Value::as_str).unwrap_or("-")
    )
}

/// The findings (as [`summary`] lines) of a secret scan of one file named
/// on the command line, run in `dir`.
fn named_scan(dir: &Path, file: &str) -> Vec<String> {
    let out = palisade()
        .current_dir(dir)
        .args(["scan", file, "--scanners", "secret", "--format", "json"])
        .output()
        .unwrap();
    findings(&json_of(&out.stdout))
        .iter()
        .map(summary)
        .collect()
}

/// Repository internals are not inputs: `.git` below the target (the
/// directory of a clone, the file of a submodule) is not walked, while a
/// file in it named on the command line, and the rest of a hidden
/// directory, are scanned.
#[test]
fn git_internals_are_skipped_unless_named() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let config = format!("[remote \"origin\"]\n\turl = https://x:{GH}@github.com/o/r\n");
    fs::create_dir_all(root.join(".git/refs")).unwrap();
    fs::write(root.join(".git/config"), &config).unwrap();
    fs::create_dir_all(root.join("vendor/lib")).unwrap();
    fs::write(
        root.join("vendor/lib/.git"),
        format!("gitdir: ../.git/modules/lib\n# {GH}\n"),
    )
    .unwrap();
    fs::create_dir_all(root.join(".github")).unwrap();
    fs::write(root.join(".github/ci.env"), format!("GITHUB_TOKEN={GH}\n")).unwrap();
    let (report, code) = scan_json(root, &[]);
    assert_eq!(code, 1);
    let got: Vec<String> = findings(&report).iter().map(summary).collect();
    assert_eq!(got, vec!["SEC040 .github/ci.env:1 -"]);

    let got = named_scan(root, ".git/config");
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].ends_with(".git/config:2 -"), "{got:?}");
}

/// Files whose extension names a binary format are not read in a walk
/// (even when, as here, their content is text); named, they are.
#[test]
fn binary_formats_are_skipped_by_name_in_walks() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir_all(root.join("__pycache__")).unwrap();
    let line = format!("GITHUB_TOKEN = \"{GH}\"\n");
    for name in [
        "app.py",
        "__pycache__/app.cpython-311.pyc",
        "logo.PNG",
        "model.obj",
    ] {
        fs::write(root.join(name), &line).unwrap();
    }
    let (report, code) = scan_json(root, &[]);
    assert_eq!(code, 1);
    let got: Vec<String> = findings(&report).iter().map(summary).collect();
    assert_eq!(got, vec!["SEC040 app.py:1 -", "SEC040 model.obj:1 -"]);

    assert_eq!(named_scan(root, "logo.PNG"), vec!["SEC040 logo.PNG:1 -"]);
}

#[test]
fn finds_secrets_in_files_and_objects_once_each_and_redacts_them() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path());
    let (report, code) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    let all = findings(&report);
    let mut got: Vec<String> = all
        .iter()
        .filter(|f| f.get("suppressed").is_none())
        .map(summary)
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            "SEC040 .env:2 -",
            "SEC040 deploy.yaml:24 /spec/template/spec/containers/0/env/0/value",
            "SEC040 deploy.yaml:9 /stringData/github",
            "SEC224 .env:1 -",
            "SEC224 deploy.yaml:7 /data/DB_PASSWORD",
        ],
        "{all:#?}"
    );
    // The inline directive suppresses, and says why.
    let suppressed: Vec<&Value> = all
        .iter()
        .filter(|f| f.get("suppressed").is_some())
        .collect();
    assert_eq!(suppressed.len(), 1);
    assert_eq!(suppressed[0]["code"], "SEC063");
    assert_eq!(
        suppressed[0]["suppressed"]["reason"],
        "revoked, kept as a fixture"
    );
    // Redacted everywhere: the first characters and a hash only.
    let text = report.to_string();
    assert!(!text.contains(GH) && !text.contains(DB_PASSWORD) && !text.contains(SLACK));
    let env = all
        .iter()
        .find(|f| summary(f) == "SEC040 .env:2 -")
        .unwrap();
    let message = env["message"].as_str().unwrap();
    assert!(message.contains("ghp_…(sha256:"), "{message}");
    assert_eq!(env["location"]["startColumn"], 14);
    let object = all
        .iter()
        .find(|f| summary(f).starts_with("SEC040 deploy.yaml:24"))
        .unwrap();
    assert!(
        object["message"]
            .as_str()
            .unwrap()
            .contains("Deployment shop/web container `web` env `GH_TOKEN`"),
        "{object}"
    );
    assert_eq!(object["resource"]["kind"], "Deployment");
    assert_eq!(object["name"], "github-pat");
}

#[test]
fn show_secrets_prints_them_in_full() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path());
    let (report, _) = scan_json(dir.path(), &["--show-secrets"]);
    assert!(report.to_string().contains(GH));
}

#[test]
fn fingerprints_are_stable_across_runs_and_line_shifts() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path());
    let fps = |dir: &Path| -> Vec<String> {
        let (report, _) = scan_json(dir, &[]);
        let mut v: Vec<String> = findings(&report)
            .iter()
            .map(|f| f["fingerprint"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    let first = fps(dir.path());
    assert_eq!(first, fps(dir.path()));
    let env = fs::read_to_string(dir.path().join(".env")).unwrap();
    fs::write(dir.path().join(".env"), format!("# moved down\n\n{env}")).unwrap();
    assert_eq!(first, fps(dir.path()));
}

#[test]
fn baselines_and_config_ignores_suppress_secret_findings() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path());
    let baseline = dir.path().join("baseline.json");
    let (_, code) = scan_json(
        dir.path(),
        &["--write-baseline", baseline.to_str().unwrap()],
    );
    assert_eq!(code, 1);
    let (_, code) = scan_json(dir.path(), &["--baseline", baseline.to_str().unwrap()]);
    assert_eq!(code, 0);
    // A new secret is still reported.
    fs::write(dir.path().join("new.sh"), format!("export TOKEN={GH}x\n")).unwrap();
    let sendgrid = format!(
        "SG.{}.{}",
        "Pal1sadeFakeKey0Zq8vT2", "Pal1sadeSynthet1cSendGr1dKeyN0tRea1Zq8vT2mK"
    );
    assert_eq!(sendgrid.len(), 3 + 22 + 1 + 43);
    fs::write(
        dir.path().join("late.txt"),
        format!("SENDGRID_API_KEY={sendgrid}\n"),
    )
    .unwrap();
    let (report, code) = scan_json(dir.path(), &["--baseline", baseline.to_str().unwrap()]);
    assert_eq!(code, 1);
    let mut open: Vec<String> = findings(&report)
        .iter()
        .filter(|f| f.get("suppressed").is_none())
        .map(summary)
        .collect();
    open.sort();
    // 37 characters after `ghp_` is not a GitHub token, but still a
    // high-entropy token assignment.
    assert_eq!(
        open,
        vec!["SEC092 late.txt:1 -", "SEC224 new.sh:1 -"],
        "{report:#}"
    );

    fs::write(
        dir.path().join("palisade.yaml"),
        "ignore:\n  - id: github-pat\n    paths: [\"deploy.yaml\"]\n    reason: test cluster\n",
    )
    .unwrap();
    let (report, _) = scan_json(dir.path(), &[]);
    let by_config: Vec<String> = findings(&report)
        .iter()
        .filter(|f| f["suppressed"]["kind"] == "config")
        .map(summary)
        .collect();
    assert_eq!(by_config.len(), 2, "{by_config:?}");
}

#[test]
fn user_rules_and_disabling_built_ins() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path());
    fs::write(
        dir.path().join("internal.cfg"),
        "acme = acme_q8r2m4x7z1c9v3b6n5k0w2e4\n",
    )
    .unwrap();
    let rules = dir.path().join("rules.toml");
    fs::write(
        &rules,
        r#"
[[rule]]
id = "ACME001"
name = "acme-service-token"
description = "ACME internal service token"
regex = '''\bacme_[a-z0-9]{24}\b'''
keywords = ["acme_"]
severity = "critical"
"#,
    )
    .unwrap();
    let (report, _) = scan_json(
        dir.path(),
        &[
            "--secret-rules",
            rules.to_str().unwrap(),
            "--disable",
            "SEC040,generic-secret-env",
        ],
    );
    let mut codes: Vec<String> = findings(&report)
        .iter()
        .filter(|f| f.get("suppressed").is_none())
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect();
    codes.sort();
    assert_eq!(codes, vec!["ACME001"]);
    let acme = findings(&report)
        .into_iter()
        .find(|f| f["code"] == "ACME001")
        .unwrap();
    assert_eq!(acme["severity"], "CRITICAL");

    let (report, _) = scan_json(
        dir.path(),
        &[
            "--secret-rules",
            rules.to_str().unwrap(),
            "--no-builtin-secret-rules",
        ],
    );
    assert_eq!(findings(&report).len(), 1);

    // Secret rule codes in --disable do not upset the Kubernetes scanners.
    palisade()
        .current_dir(dir.path())
        .args(["scan", ".", "--disable", "SEC040", "--fail-on", "none"])
        .assert()
        .success();

    // A broken rule file is a usage error naming the file and the rule.
    fs::write(&rules, "[[rule]]\nid = \"X1\"\nname = \"x\"\ndescription = \"d\"\nregex = '(oops'\nseverity = \"high\"\n").unwrap();
    let out = palisade()
        .current_dir(dir.path())
        .args([
            "scan",
            ".",
            "--scanners",
            "secret",
            "--secret-rules",
            "rules.toml",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("rules.toml") && err.contains("X1"), "{err}");
}

#[test]
fn config_and_secret_scanners_together_do_not_double_report() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path());
    // Hidden YAML stays out of the Kubernetes scan (as without the secret
    // scanner) but its secrets are found by the file-level pass.
    fs::create_dir(dir.path().join(".ci")).unwrap();
    fs::write(
        dir.path().join(".ci/pod.yaml"),
        format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: c\n    securityContext:\n      privileged: true\n    env:\n    - name: T\n      value: {GH}\n"),
    )
    .unwrap();
    let (report, _) = scan_json(dir.path(), &["--scanners", "config,secret"]);
    let hidden: Vec<String> = findings(&report)
        .iter()
        .filter(|f| f["location"]["path"] == ".ci/pod.yaml")
        .map(summary)
        .collect();
    assert_eq!(hidden, vec!["SEC040 .ci/pod.yaml:13 -"]);
    let secret_on_yaml: Vec<String> = findings(&report)
        .iter()
        .filter(|f| f["code"].as_str().unwrap().starts_with("SEC"))
        .filter(|f| f["location"]["path"] == "deploy.yaml")
        .map(summary)
        .collect();
    assert_eq!(secret_on_yaml.len(), 3, "{secret_on_yaml:?}");
    assert!(
        findings(&report)
            .iter()
            .any(|f| f["code"].as_str().unwrap().starts_with("K8S"))
    );
}

#[test]
fn secret_only_scans_ignore_yaml_syntax_errors_and_read_stdin() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("chart.yaml"),
        format!("{{{{- if .Values.x }}}}\ntoken: {GH}\n  bad: [\n"),
    )
    .unwrap();
    let (report, code) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1, "{report:#}");
    assert!(
        report["errors"].as_array().is_none_or(Vec::is_empty),
        "{report:#}"
    );
    assert_eq!(findings(&report).len(), 1);

    let out = palisade()
        .args(["scan", "-", "--scanners", "secret", "--format", "json"])
        .write_stdin(format!("export SLACK_TOKEN={SLACK}\n"))
        .output()
        .unwrap();
    let report = json_of(&out.stdout);
    assert_eq!(findings(&report)[0]["code"], "SEC063");
    assert_eq!(findings(&report)[0]["location"]["path"], "<stdin>");
}

#[test]
fn rules_lists_and_explains_secret_rules() {
    let out = palisade().args(["rules"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("SEC001") && text.contains("aws-access-key-id"),
        "{text}"
    );
    let out = palisade().args(["rules", "github-pat"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("# SEC040 github-pat"), "{text}");
    assert!(text.contains("Scanner: secret"));
    let out = palisade()
        .args(["rules", "--format", "json"])
        .output()
        .unwrap();
    let list = json_of(&out.stdout);
    let secret = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["scanner"] == "secret")
        .count();
    assert!(secret >= 150, "{secret}");
}

/// A token in a comment right after a block scalar holding another one is
/// its own finding: the object finding ends with the scalar's last line.
#[test]
fn a_comment_after_a_block_scalar_is_scanned_on_its_own() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("s.yaml"),
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: shop\nstringData:\n  script: |\n    export A=ghp_MSwXnAc9mV5W76QpX0CvvbN0jAW8osEtl4kt\n  # rotated? ghp_Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv1Wx2\n  other: x\n",
    )
    .unwrap();
    let (report, code) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    let lines: Vec<(i64, i64)> = findings(&report)
        .iter()
        .map(|f| {
            let l = &f["location"];
            (
                l["startLine"].as_i64().unwrap(),
                l["endLine"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(lines, [(8, 8), (9, 9)], "{report:#}");
}

/// A `palisade:ignore` comment above the key of a block scalar covers the
/// secret on the scalar's content lines; the next key is not covered.
#[test]
fn a_comment_above_a_block_scalar_key_suppresses_its_secrets() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("s.yaml"),
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: shop\nstringData:\n  # palisade:ignore SEC040 revoked, kept as a fixture\n  script: |\n    set -e\n    export A=ghp_MSwXnAc9mV5W76QpX0CvvbN0jAW8osEtl4kt\n  other: |\n    export B=ghp_Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0Uv1Wx2\n",
    )
    .unwrap();
    let (report, _) = scan_json(dir.path(), &[]);
    let states: Vec<(i64, Option<String>)> = findings(&report)
        .iter()
        .map(|f| {
            (
                f["location"]["startLine"].as_i64().unwrap(),
                f["suppressed"]["reason"].as_str().map(String::from),
            )
        })
        .collect();
    assert_eq!(
        states,
        [(9, Some("revoked, kept as a fixture".into())), (12, None)],
        "{report:#}"
    );
}

/// A code frame quotes the file: its secrets are masked there too, unless
/// --show-secrets.
#[test]
fn code_frames_do_not_print_secrets() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("bad.yaml"),
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  token: \"{GH}\" extra\n"),
    )
    .unwrap();
    let run = |extra: &[&str]| {
        let out = palisade()
            .current_dir(dir.path())
            .args([
                "scan",
                ".",
                "--scanners",
                "secret,config",
                "--format",
                "json",
            ])
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        String::from_utf8(out.stderr).unwrap()
    };
    let stderr = run(&[]);
    assert!(stderr.contains("invalid YAML"), "{stderr}");
    assert!(!stderr.contains(GH), "{stderr}");
    assert!(stderr.contains(&"*".repeat(GH.len())), "{stderr}");
    assert!(run(&["--show-secrets"]).contains(GH));
}
