#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `palisade sbom` end to end: formats, determinism, exit codes, errors.

use assert_cmd::Command;
use predicates::prelude::*;

const FX: &str = "crates/palisade-sca/tests/fixtures";

fn palisade() -> Command {
    Command::cargo_bin("palisade").unwrap()
}

#[test]
fn cyclonedx_is_the_default_and_deterministic() {
    let run = || {
        palisade()
            .args(["sbom", &format!("{FX}/langs")])
            .assert()
            .code(2)
            .get_output()
            .stdout
            .clone()
    };
    let a = run();
    assert_eq!(a, run(), "same input, same bytes");
    let doc: serde_json::Value = serde_json::from_slice(&a).unwrap();
    assert_eq!(doc["specVersion"], "1.6");
    assert!(doc["metadata"].get("timestamp").is_none());
    assert!(doc["components"].as_array().unwrap().len() > 20);
}

#[test]
fn formats_timestamp_and_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sbom.spdx.json");
    palisade()
        .args([
            "sbom",
            "--rootfs",
            &format!("{FX}/rootfs"),
            "--format",
            "spdx-json",
            "--timestamp",
            "-o",
        ])
        .arg(&out)
        .assert()
        .success()
        .stderr(predicate::str::contains("7 components (7 deb) written to"));
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(doc["spdxVersion"], "SPDX-2.3");
    assert_ne!(doc["creationInfo"]["created"], "1970-01-01T00:00:00Z");
    palisade()
        .args([
            "sbom",
            "--rootfs",
            &format!("{FX}/rootfs"),
            "--format",
            "table",
        ])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("bsdutils").and(predicate::str::contains(
                "7 components: 7 deb (OS: debian 12)",
            )),
        );
}

#[test]
fn reads_sboms_made_by_other_tools() {
    palisade()
        .args([
            "sbom",
            &format!("{FX}/sbom/trivy-0.59.1-image.cdx.json"),
            "--format",
            "table",
        ])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("util-linux")
                .not()
                .and(predicate::str::contains("bsdutils")),
        );
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"bomFormat": "CycloneDX", "specVersion": "9.9"}"#).unwrap();
    palisade()
        .arg("sbom")
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("CycloneDX 9.9 is not supported"));
}

#[test]
fn input_errors_are_reported_and_set_the_exit_code() {
    palisade()
        .args(["sbom", &format!("{FX}/project"), "--format", "table"])
        .assert()
        .code(2)
        .stdout(predicate::str::contains("express"))
        .stderr(
            predicate::str::contains("broken/package-lock.json")
                .and(predicate::str::contains("invalid JSON")),
        );
    palisade()
        .args([
            "sbom",
            &format!("{FX}/project"),
            "--format",
            "table",
            "--skip-invalid",
        ])
        .assert()
        .success();
    palisade()
        .args(["sbom", "does/not/exist"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "does/not/exist: no such file or directory",
        ));
}
