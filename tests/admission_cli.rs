//! End-to-end tests of `palisade admission`: `certs` and `manifests` (whose
//! output must pass `palisade scan`), `config`, and `serve` as a process —
//! start log, health port, SIGHUP reload, SIGTERM drain, bad configuration.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_palisade"))
}

fn certs(dir: &Path) {
    let out = Command::new(bin())
        .args(["admission", "certs", "--out-dir"])
        .arg(dir)
        .args(["--san", "127.0.0.1"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in ["ca.crt", "ca.key", "tls.crt", "tls.key"] {
        assert!(dir.join(f).is_file(), "{f}");
    }
}

fn manifests(dir: &Path, config: Option<&Path>) -> String {
    let mut cmd = Command::new(bin());
    cmd.args([
        "admission",
        "manifests",
        "--namespace",
        "palisade",
        "--ca-bundle",
    ])
    .arg(dir.join("ca.crt"));
    if let Some(c) = config {
        cmd.arg("--config").arg(c);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn scan(dir: &Path, yaml: &str) -> (i32, Value) {
    let file = dir.join("manifests.yaml");
    std::fs::write(&file, yaml).unwrap();
    let out = Command::new(bin())
        .args(["scan", file.to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        serde_json::from_slice(&out.stdout).unwrap(),
    )
}

#[test]
fn generated_manifests_install_the_webhook_and_pass_palisade_scan() {
    let dir = tempfile::tempdir().unwrap();
    certs(dir.path());
    let yaml = manifests(dir.path(), None);
    let ca = std::fs::read_to_string(dir.path().join("ca.crt")).unwrap();
    let bundle = base64::engine::general_purpose::STANDARD.encode(ca.trim());
    for needle in [
        "kind: Namespace",
        "kind: ServiceAccount",
        "automountServiceAccountToken: false",
        "kind: ConfigMap",
        "exemptions:\n      namespaces: [kube-system]",
        "kind: Deployment",
        "replicas: 2",
        "runAsNonRoot: true",
        "readOnlyRootFilesystem: true",
        "kind: PodDisruptionBudget",
        "kind: Service",
        "kind: NetworkPolicy",
        "kind: ClusterRole",
        "kind: ValidatingWebhookConfiguration",
        "sideEffects: None",
        "timeoutSeconds: 5",
        "failurePolicy: Fail",
        "admissionReviewVersions: [v1]",
        "values: [\"kube-system\", \"palisade\"]",
        "resources: [pods, pods/ephemeralcontainers, replicationcontrollers]",
        "operations: [CONNECT]",
        "resources: [pods/exec, pods/attach, pods/portforward]",
        "resources: [deployments, statefulsets, daemonsets, replicasets]",
        "resources: [jobs, cronjobs]",
        "path: /validate",
    ] {
        assert!(yaml.contains(needle), "{needle} missing:\n{yaml}");
    }
    assert!(yaml.contains(&format!("caBundle: {bundle}")));
    let (code, report) = scan(dir.path(), &yaml);
    assert_eq!(code, 0, "{report:#}");
    let findings = report["findings"].as_array().unwrap();
    assert!(
        findings.iter().all(|f| f.get("suppressed").is_some()),
        "{findings:#?}"
    );
    // Every suppression carries its reason.
    for f in findings {
        assert!(
            f["suppressed"]["reason"]
                .as_str()
                .is_some_and(|r| r.len() > 20),
            "{f:#}"
        );
    }

    // A configuration with fail-open, label exemptions and break-glass
    // identities: all of it shows in the manifests, which still pass.
    let config = dir.path().join("palisade-admission.yaml");
    std::fs::write(
        &config,
        "failure-policy: ignore\ntimeout-seconds: 3\nexemptions:\n  namespaces: [kube-system, monitoring]\n  namespace-selectors:\n    - matchExpressions: [{key: palisade.dev/exempt, operator: Exists}]\nimmutability:\n  break-glass:\n    groups: [sre-oncall]\n",
    )
    .unwrap();
    let yaml = manifests(dir.path(), Some(&config));
    for needle in [
        "failurePolicy: Ignore",
        "timeoutSeconds: 3",
        "values: [\"kube-system\", \"monitoring\", \"palisade\"]",
        "- key: \"palisade.dev/exempt\"\n          operator: DoesNotExist",
        "kind: ClusterRoleBinding",
        "name: \"sre-oncall\"",
    ] {
        assert!(yaml.contains(needle), "{needle} missing:\n{yaml}");
    }
    let (code, report) = scan(dir.path(), &yaml);
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn manifests_and_config_refuse_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.crt"), "not a certificate").unwrap();
    let out = Command::new(bin())
        .args(["admission", "manifests", "--ca-bundle"])
        .arg(dir.path().join("ca.crt"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a PEM certificate"));

    let config = dir.path().join("bad.yaml");
    std::fs::write(&config, "mode: enforce\ntimeout-seconds: 99\n").unwrap();
    let out = Command::new(bin())
        .args(["admission", "config", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.yaml:2:"), "{stderr}");
    assert!(stderr.contains("between 1 and 30"), "{stderr}");

    // Without --config: the defaults, written out (kube-system visible).
    let out = Command::new(bin())
        .args(["admission", "config"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("namespaces: [kube-system]"));

    let out = Command::new(bin())
        .args(["admission", "certs", "--service", "Bad_Name", "--out-dir"])
        .arg(dir.path().join("c"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));

    // A name kubectl would refuse fails here, before anything is printed.
    let out = Command::new(bin())
        .args([
            "admission",
            "manifests",
            "--namespace",
            "Bad_NS",
            "--ca-bundle",
        ])
        .arg(dir.path().join("ca.crt"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a valid Kubernetes name"));
    // A Service name starts with a letter.
    let out = Command::new(bin())
        .args(["admission", "manifests", "--name", "1hook", "--ca-bundle"])
        .arg(dir.path().join("ca.crt"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A plain HTTP/1.1 GET on the health port.
fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, text))
}

struct Served {
    child: Child,
    lines: mpsc::Receiver<Value>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Served {
    fn wait_for(&self, event: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) if line["event"] == event => return line,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        panic!("no `{event}` log line");
    }
}

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

#[test]
fn serve_reloads_on_sighup_and_drains_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    certs(dir.path());
    let config = dir.path().join("palisade-admission.yaml");
    std::fs::write(&config, "mode: enforce\n").unwrap();
    let (port, health) = (free_port(), free_port());
    let mut child = Command::new(bin())
        .args(["admission", "serve", "--config"])
        .arg(&config)
        .arg("--cert")
        .arg(dir.path().join("tls.crt"))
        .arg("--key")
        .arg(dir.path().join("tls.key"))
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--health-listen",
            &format!("127.0.0.1:{health}"),
            // Only SIGHUP may trigger the reload below.
            "--poll-interval",
            "3600",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let Ok(v) = serde_json::from_str::<Value>(&line) else {
                panic!("log line is not JSON: {line}")
            };
            if tx.send(v).is_err() {
                break;
            }
        }
    });
    let served = Served { child, lines: rx };
    let start = served.wait_for("start");
    assert_eq!(start["mode"], "enforce");
    assert_eq!(start["exempt_namespaces"][0], "kube-system");
    let ready = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(50));
        get(health, "/readyz").is_some_and(|(s, _)| s == 200)
    });
    assert!(ready);
    let (status, metrics) = get(health, "/metrics").unwrap();
    assert_eq!(status, 200);
    assert!(metrics.contains("palisade_admission_request_duration_seconds_bucket"));

    std::fs::write(&config, "mode: audit\n").unwrap();
    signal(served.child.id(), "-HUP");
    let reloaded = served.wait_for("config-reloaded");
    assert_eq!(reloaded["mode"], "audit");
    std::fs::write(&config, "mode: sometimes\n").unwrap();
    signal(served.child.id(), "-HUP");
    let failed = served.wait_for("config-reload-failed");
    assert!(
        failed["error"].as_str().unwrap().contains("mode"),
        "{failed}"
    );

    signal(served.child.id(), "-TERM");
    let stopped = served.wait_for("stopped");
    assert_eq!(stopped["drained"], true);
    let mut served = served;
    let status = served.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

#[test]
fn serve_refuses_to_start_without_usable_certificates_or_config() {
    let dir = tempfile::tempdir().unwrap();
    certs(dir.path());
    let bad_config = dir.path().join("bad.yaml");
    std::fs::write(&bad_config, "rules:\n  actions:\n    nope: deny\n").unwrap();
    for (config, cert, needle) in [
        (
            Some(bad_config.as_path()),
            dir.path().join("tls.crt"),
            "nope",
        ),
        (None, dir.path().join("missing.crt"), "missing.crt"),
        (None, dir.path().join("ca.key"), "ca.key"),
    ] {
        let mut cmd = Command::new(bin());
        cmd.args([
            "admission",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--health-listen",
            "127.0.0.1:0",
        ])
        .arg("--cert")
        .arg(&cert)
        .arg("--key")
        .arg(dir.path().join("tls.key"));
        if let Some(c) = config {
            cmd.arg("--config").arg(c);
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{needle}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(needle), "{needle}: {stderr}");
    }
}
