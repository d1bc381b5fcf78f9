//! `palisade scan --scanners secret --image`: secrets in every layer of an
//! image, including files a later layer deletes, with the layer named;
//! binaries skipped; clear errors for what is not an image. The images are
//! built here (OCI layouts and a docker-archive); every secret is
//! synthetic.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../crates/palisade-sca/tests/common/mod.rs"]
mod image_kit;

use std::path::Path;

use assert_cmd::Command;
use image_kit::{Entry, digest, gz_layer, layout, tar};
use serde_json::Value;

/// 36 characters after `ghp_`, obviously made up.
const GH: &str = "ghp_Pal1sadeSynthet1cT0kenN0tRea1K3yZq8w";
/// A Slack bot token, made up.
const SLACK: &str = "xoxb-2741639802-4917362518342-Pal1sadeFakeT0ken9Zq7XwM";

fn palisade() -> Command {
    let mut cmd = Command::cargo_bin("palisade").unwrap();
    cmd.env("NO_COLOR", "1");
    cmd
}

type Layer = (Vec<u8>, &'static str, Vec<u8>);

/// Layer 1 writes a .env with a token, a binary holding the same token and
/// a config; layer 2 deletes the .env; layer 3 adds a file with a Slack
/// token and rewrites the config unchanged.
fn layers() -> Vec<Layer> {
    let env = format!("# build-time settings\nGITHUB_TOKEN={GH}\n");
    let mut binary = b"\x7fELF\x02\x01\x01\x00\x00\x00".to_vec();
    binary.extend_from_slice(GH.as_bytes());
    let config = format!("slack:\n  token: {SLACK}\n");
    let l1 = gz_layer(&[
        Entry::Dir("app/"),
        Entry::File("app/.env", env.as_bytes(), 0o600),
        Entry::File("usr/bin/tool", &binary, 0o755),
        Entry::File("etc/app/config.yaml", config.as_bytes(), 0o644),
    ]);
    let l2_raw = tar(&[Entry::File("app/.wh..env", b"", 0o644)]);
    let l3_raw = tar(&[
        Entry::File(
            "srv/notify.sh",
            format!("#!/bin/sh\ncurl -H 'Authorization: token {GH}' https://api.github.com/\n")
                .as_bytes(),
            0o755,
        ),
        Entry::File("etc/app/config.yaml", config.as_bytes(), 0o644),
    ]);
    vec![
        l1,
        (
            l2_raw.clone(),
            "application/vnd.oci.image.layer.v1.tar",
            l2_raw,
        ),
        (
            l3_raw.clone(),
            "application/vnd.oci.image.layer.v1.tar",
            l3_raw,
        ),
    ]
}

fn scan(image: &Path, extra: &[&str]) -> (Value, i32, String) {
    let out = palisade()
        .args([
            "scan",
            "--scanners",
            "secret",
            "--format",
            "json",
            "--image",
        ])
        .arg(image)
        .args(extra)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        report,
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn found(report: &Value) -> Vec<(String, u64, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["location"]["path"].as_str().unwrap().to_owned(),
                f["location"]["startLine"].as_u64().unwrap(),
                f["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn every_layer_is_scanned_and_deleted_files_still_count() {
    let dir = tempfile::tempdir().unwrap();
    let layers = layers();
    layout(dir.path(), &layers);
    let (report, code, stderr) = scan(dir.path(), &[]);
    assert_eq!(code, 1, "{stderr}");
    let image = dir.path().display().to_string();
    let found = found(&report);
    let paths: Vec<(&str, u64)> = found.iter().map(|(p, l, _)| (p.as_str(), *l)).collect();
    assert_eq!(
        paths,
        [
            (format!("{image}!/app/.env").as_str(), 2),
            (format!("{image}!/etc/app/config.yaml").as_str(), 2),
            (format!("{image}!/srv/notify.sh").as_str(), 2),
        ],
        "{found:#?}"
    );
    let message = |suffix: &str| {
        found
            .iter()
            .find(|(p, _, _)| p.ends_with(suffix))
            .map(|(_, _, m)| m.clone())
            .unwrap()
    };
    let l1 = digest(&layers[0].0);
    let l3 = digest(&layers[2].0);
    // Deleted by layer 2, still in layer 1's blob.
    let env = message("app/.env");
    assert!(
        env.contains(&format!("layer 1 of 3, {}", &l1[..19])),
        "{env}"
    );
    assert!(
        env.contains("deleted or replaced by a later layer"),
        "{env}"
    );
    // Rewritten unchanged by layer 3: one finding, at its first layer, and
    // still in the final filesystem.
    let config = message("config.yaml");
    assert!(config.contains("layer 1 of 3"), "{config}");
    assert!(!config.contains("deleted"), "{config}");
    let notify = message("notify.sh");
    assert!(
        notify.contains(&format!("layer 3 of 3, {}", &l3[..19])),
        "{notify}"
    );
    // Redacted by default; the binary is skipped.
    assert!(!report.to_string().contains(GH), "secrets must be redacted");
    assert!(!report.to_string().contains("usr/bin/tool"));
}

/// Layer files whose extension names a binary format are skipped by name,
/// as in directories, even when their content is text.
#[test]
fn binary_formats_are_skipped_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let line = format!("GITHUB_TOKEN = \"{GH}\"\n");
    let raw = tar(&[
        Entry::File("app/settings.py", line.as_bytes(), 0o644),
        Entry::File(
            "app/__pycache__/settings.cpython-311.pyc",
            line.as_bytes(),
            0o644,
        ),
        Entry::File("app/static/logo.png", line.as_bytes(), 0o644),
    ]);
    layout(
        dir.path(),
        &[(raw.clone(), "application/vnd.oci.image.layer.v1.tar", raw)],
    );
    let (report, code, stderr) = scan(dir.path(), &[]);
    assert_eq!(code, 1, "{stderr}");
    let paths: Vec<String> = found(&report).into_iter().map(|(p, _, _)| p).collect();
    assert_eq!(paths.len(), 1, "{paths:?}");
    assert!(paths[0].ends_with("!/app/settings.py"), "{paths:?}");
}

#[test]
fn findings_are_identical_across_runs_and_suppressible_by_baseline() {
    let dir = tempfile::tempdir().unwrap();
    layout(dir.path(), &layers());
    let (a, _, _) = scan(dir.path(), &[]);
    let (b, _, _) = scan(dir.path(), &[]);
    assert_eq!(a, b);
    let baseline = dir.path().join("baseline.json");
    let (_, code, stderr) = scan(
        dir.path(),
        &["--write-baseline", baseline.to_str().unwrap()],
    );
    assert_eq!(code, 1, "{stderr}");
    let (_, code, stderr) = scan(dir.path(), &["--baseline", baseline.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn docker_archives_are_read_too() {
    let dir = tempfile::tempdir().unwrap();
    let layer = tar(&[Entry::File(
        "root/.git-credentials",
        format!("https://bot:{GH}@github.com\n").as_bytes(),
        0o600,
    )]);
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let manifest = serde_json::json!([{
        "Config": "config.json",
        "RepoTags": ["example/app:1"],
        "Layers": ["layer/layer.tar"],
    }]);
    let mut b = ::tar::Builder::new(Vec::new());
    for (name, data) in [
        ("manifest.json", manifest.to_string().into_bytes()),
        ("config.json", config.to_vec()),
        ("layer/layer.tar", layer),
    ] {
        let mut h = ::tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, &data[..]).unwrap();
    }
    let archive = dir.path().join("app.tar");
    std::fs::write(&archive, b.into_inner().unwrap()).unwrap();
    let (report, code, stderr) = scan(&archive, &[]);
    assert_eq!(code, 1, "{stderr}");
    let found = found(&report);
    // The token, once: it is also the URL's password (one secret, one
    // finding).
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found
            .iter()
            .all(|(p, l, m)| p.ends_with("app.tar!/root/.git-credentials")
                && *l == 1
                && m.contains("layer 1 of 1")),
        "{found:#?}"
    );
}

#[test]
fn what_is_not_an_image_is_an_input_error_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good");
    std::fs::create_dir(&good).unwrap();
    layout(&good, &layers());
    let not_image = dir.path().join("notes.txt");
    std::fs::write(&not_image, "hello\n").unwrap();
    let (report, code, stderr) = scan(&not_image, &["--image", good.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(found(&report).len(), 3);
    let errors = report["errors"].to_string();
    assert!(
        errors.contains("notes.txt") && errors.contains("not an image"),
        "{errors}"
    );
}

#[test]
fn image_needs_the_secret_scanner() {
    let out = palisade()
        .args(["scan", "--image", "alpine.tar"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--scanners secret"), "{stderr}");
}
