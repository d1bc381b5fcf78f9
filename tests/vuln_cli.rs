//! End-to-end tests of `palisade db import|info`, `palisade vuln` and
//! `palisade scan --scanners vuln` over the advisory and target fixtures
//! of `crates/palisade-vuln/tests/fixtures` (see its SOURCES.md).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_palisade"))
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/palisade-vuln/tests/fixtures")
}

fn run(db: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .env("PALISADE_DB", db)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn imported() -> tempfile::TempDir {
    let db = tempfile::tempdir().unwrap();
    let out = run(
        db.path(),
        &[
            "db",
            "import",
            fixtures().join("advisories").to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    db
}

#[test]
fn import_info_and_vuln_formats() {
    let db = imported();
    // Importing again is idempotent: same count.
    let again = run(
        db.path(),
        &[
            "db",
            "import",
            fixtures().join("advisories").to_str().unwrap(),
        ],
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("advisories"));
    let info = run(db.path(), &["db", "info", "--format", "json"]);
    assert!(info.status.success());
    let doc: Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(doc["schemaVersion"], 2);
    assert_eq!(doc["sources"].as_array().unwrap().len(), 7);
    // The fixture data is years old: the age warning is there.
    assert!(!doc["warnings"].as_array().unwrap().is_empty());
    let table = run(db.path(), &["db", "info"]);
    assert!(String::from_utf8_lossy(&table.stderr).contains("older than 7 days"));

    let target = fixtures().join("targets/rust-app");
    let t = target.to_str().unwrap();
    let json = run(db.path(), &["vuln", t, "--format", "json"]);
    assert_eq!(json.status.code(), Some(1), "findings at or above low");
    let doc: Value = serde_json::from_slice(&json.stdout).unwrap();
    let codes: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes.len(), 9, "{codes:?}");
    assert!(codes.contains(&"CVE-2020-26235"));
    let sarif = run(db.path(), &["vuln", t, "--format", "sarif"]);
    let doc: Value = serde_json::from_slice(&sarif.stdout).unwrap();
    assert_eq!(doc["runs"][0]["results"].as_array().unwrap().len(), 9);
    let vex = run(db.path(), &["vuln", t, "--format", "cyclonedx-vex"]);
    let doc: Value = serde_json::from_slice(&vex.stdout).unwrap();
    assert_eq!(doc["bomFormat"], "CycloneDX");
    assert_eq!(doc["vulnerabilities"].as_array().unwrap().len(), 9);
    let time = doc["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == "CVE-2020-26235")
        .unwrap();
    assert_eq!(time["affects"][0]["versions"][0]["version"], "0.1.43");
    // Deterministic output.
    let vex2 = run(db.path(), &["vuln", t, "--format", "cyclonedx-vex"]);
    assert_eq!(vex.stdout, vex2.stdout);
    // --fail-on critical: smallvec's CVSS 9.8 advisories still fail.
    let crit = run(db.path(), &["vuln", t, "--fail-on", "critical", "-q"]);
    assert_eq!(crit.status.code(), Some(1));
    let none = run(db.path(), &["vuln", t, "--fail-on", "none", "-q"]);
    assert_eq!(none.status.code(), Some(0));
    let table = String::from_utf8(run(db.path(), &["vuln", t, "--color", "never"]).stdout).unwrap();
    insta::assert_snapshot!("vuln_rust_app_table", table);
}

#[test]
fn vex_file_suppresses_and_reports_it() {
    let db = imported();
    let dir = tempfile::tempdir().unwrap();
    let vex = dir.path().join("triage.openvex.json");
    std::fs::write(
        &vex,
        r#"{"@context":"https://openvex.dev/ns/v0.2.0","statements":[
          {"vulnerability":{"name":"CVE-2020-26235"},"products":[{"@id":"pkg:cargo/time@0.1.43"}],
           "status":"not_affected","justification":"vulnerable_code_not_in_execute_path"}]}"#,
    )
    .unwrap();
    let t = fixtures().join("targets/rust-app");
    let out = run(
        db.path(),
        &[
            "vuln",
            t.to_str().unwrap(),
            "--vex",
            vex.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["summary"]["suppressed"], 1);
    let f = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "CVE-2020-26235")
        .unwrap();
    assert_eq!(f["suppressed"]["kind"], "vex");
    assert!(
        f["suppressed"]["reason"]
            .as_str()
            .unwrap()
            .contains("not_affected")
    );
}

#[test]
fn errors_exit_2_and_scan_runs_the_vuln_scanner() {
    let empty = tempfile::tempdir().unwrap();
    let t = fixtures().join("targets/node-app");
    let out = run(&empty.path().join("none"), &["vuln", t.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("palisade db update"));
    let db = imported();
    // An SBOM none of whose components can be matched is an error, not "clean".
    let dir = tempfile::tempdir().unwrap();
    let sbom = dir.path().join("x.cdx.json");
    std::fs::write(
        &sbom,
        r#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"type":"library","name":"x","version":"1"}]}"#,
    )
    .unwrap();
    let out = run(db.path(), &["vuln", sbom.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    // scan --scanners vuln merges vulnerability findings into the report.
    let out = run(
        db.path(),
        &[
            "scan",
            t.to_str().unwrap(),
            "--scanners",
            "vuln",
            "--format",
            "json",
        ],
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let codes: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"NSWG-ECO-516"), "{codes:?}");
    assert_eq!(out.status.code(), Some(1));
}
