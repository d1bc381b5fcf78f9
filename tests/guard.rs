//! End-to-end tests of `palisade guard`: the binary against real overlay
//! mounts (as root; otherwise the tests print SKIPPED), its refusal to
//! start without privileges, and `palisade guard manifests`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use palisade_guard::testing::{Ran, TestOverlay, can_run, run_with_timeout};
use serde_json::Value;

const TIMEOUT: Duration = Duration::from_secs(20);

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_palisade"))
}

/// The guard binary, killed (SIGKILL) if a test leaves it running.
struct GuardProcess {
    child: Child,
    events: PathBuf,
}

impl GuardProcess {
    fn spawn(args: &[&str], events: &Path) -> GuardProcess {
        let child = Command::new(bin())
            .arg("guard")
            .args(args)
            .arg("--output")
            .arg(events)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        GuardProcess {
            child,
            events: events.to_path_buf(),
        }
    }

    fn events(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.events)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    fn wait_for(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + TIMEOUT;
        while Instant::now() < deadline {
            if let Some(e) = self.events().into_iter().find(&pred) {
                return e;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("no {what} event in {:#?}", self.events());
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit; its status and stderr.
    fn wait(mut self) -> (std::process::ExitStatus, String) {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut err = String::new();
                std::io::Read::read_to_string(self.child.stderr.as_mut().unwrap(), &mut err)
                    .unwrap();
                return (status, err);
            }
            assert!(Instant::now() < deadline, "guard did not exit");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for GuardProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn copy_true(overlay: &TestOverlay, rel: &str) -> PathBuf {
    let truth = std::fs::read(overlay.lower.join("bin/true")).unwrap();
    overlay.write_executable(rel, &truth).unwrap()
}

fn run(path: &Path) -> Ran {
    run_with_timeout(path, &[], TIMEOUT).unwrap()
}

#[test]
fn audit_mode_reports_drift_as_json_lines_and_shuts_down_cleanly() {
    if !can_run("audit_mode_reports_drift_as_json_lines_and_shuts_down_cleanly") {
        return;
    }
    let overlay = TestOverlay::new().unwrap();
    let new_binary = copy_true(&overlay, "usr/local/bin/dropped");
    let events = overlay.rw.join("events.jsonl");
    let merged = overlay.merged.display().to_string();
    let guard = GuardProcess::spawn(&["--mode", "audit", "--mount", &merged], &events);
    guard.wait_for("guarded", |e| {
        e["action"] == "guarded" && e["mount"] == merged
    });

    assert!(run(&overlay.path("bin/true")).success());
    let ran = run(&new_binary);
    eprintln!("[binary audit] {} -> {ran:?}", new_binary.display());
    assert!(ran.success());
    let drift = guard.wait_for("drift", |e| e["event"] == "drift");
    eprintln!("[binary audit] event {drift}");
    assert_eq!(drift["path"], "/usr/local/bin/dropped");
    assert_eq!(drift["decision"], "allow");
    assert_eq!(drift["origin"], "new");
    for field in [
        "time",
        "pid",
        "ppid",
        "exe",
        "cmdline",
        "uid",
        "container",
        "mount",
    ] {
        assert!(
            drift.get(field).is_some_and(|v| !v.is_null()),
            "{field}: {drift}"
        );
    }

    guard.signal("TERM");
    let (status, stderr) = guard.wait();
    assert!(status.success(), "{status}: {stderr}");
    assert!(stderr.contains("marks removed: true"), "{stderr}");
    let all: Vec<Value> = std::fs::read_to_string(&events)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary = all.last().unwrap();
    assert_eq!(summary["event"], "summary");
    assert_eq!(summary["marks_after_shutdown"], 0);
    assert_eq!(summary["counters"]["audited"], 1);
    // The marks are gone: execs no longer wait for anyone.
    assert!(run(&new_binary).success());
}

#[test]
fn enforce_mode_from_a_config_file() {
    if !can_run("enforce_mode_from_a_config_file") {
        return;
    }
    let overlay = TestOverlay::new().unwrap();
    let new_binary = copy_true(&overlay, "bin/dropped");
    let cache = copy_true(&overlay, "opt/jit/cache-entry");
    let config = overlay.rw.join("guard.yaml");
    std::fs::write(
        &config,
        format!(
            "mode: enforce\nmounts: [{}]\nallow:\n  - paths: [\"/opt/jit/**\"]\n    reason: JIT cache\n",
            overlay.merged.display()
        ),
    )
    .unwrap();
    let events = overlay.rw.join("events.jsonl");
    let guard = GuardProcess::spawn(&["--config", config.to_str().unwrap()], &events);
    guard.wait_for("guarded", |e| e["action"] == "guarded");
    assert!(run(&overlay.path("bin/true")).success());
    let ran = run(&new_binary);
    eprintln!("[binary enforce] {} -> {ran:?}", new_binary.display());
    assert!(ran.denied(), "{ran:?}");
    assert!(run(&cache).success());
    let denied = guard.wait_for("deny", |e| e["decision"] == "deny");
    eprintln!("[binary enforce] event {denied}");
    assert_eq!(denied["path"], "/bin/dropped");
    guard.signal("INT");
    let (status, stderr) = guard.wait();
    assert!(status.success(), "{stderr}");
}

#[test]
fn killing_the_guard_leaves_no_stuck_process() {
    if !can_run("killing_the_guard_leaves_no_stuck_process") {
        return;
    }
    let overlay = TestOverlay::new().unwrap();
    let new_binary = copy_true(&overlay, "bin/dropped");
    let events = overlay.rw.join("events.jsonl");
    let merged = overlay.merged.display().to_string();
    let guard = GuardProcess::spawn(&["--mode", "enforce", "--mount", &merged], &events);
    guard.wait_for("guarded", |e| e["action"] == "guarded");

    // Freeze the guard, then start execs: they wait for its answer.
    guard.signal("STOP");
    let (tx, rx) = mpsc::channel();
    for path in [overlay.path("bin/true"), new_binary.clone()] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            let ran = run_with_timeout(&path, &[], Duration::from_secs(30));
            tx.send((path, ran.map(|r| r.success()).map_err(|e| e.to_string())))
                .unwrap();
        });
    }
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        rx.try_recv().is_err(),
        "execs finished while the guard was stopped: they were not waiting for it"
    );
    // Kill it: the kernel answers what is pending when the group's last
    // descriptor closes (allow), so nothing stays blocked.
    guard.signal("KILL");
    let started = Instant::now();
    for _ in 0..2 {
        let (path, outcome) = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("exec stuck after the guard died");
        eprintln!(
            "[kill] {} -> {outcome:?} after {:?}",
            path.display(),
            started.elapsed()
        );
        assert_eq!(outcome, Ok(true), "{}", path.display());
    }
    let (status, _) = guard.wait();
    assert!(!status.success());
    // And later execs do not wait either.
    assert!(run(&new_binary).success());
}

#[test]
fn refuses_to_start_without_cap_sys_admin() {
    let root = rustix_is_root();
    let mut cmd = if root {
        // Drop CAP_SYS_ADMIN from every set, as a non-privileged container would.
        let mut c = Command::new("setpriv");
        c.args(["--inh-caps=-sys_admin", "--bounding-set=-sys_admin", "--"]);
        c.arg(bin());
        c
    } else {
        Command::new(bin())
    };
    let out = cmd
        .args(["guard", "--mode", "enforce", "--mount", "/nonexistent"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("[refusal] {stderr}");
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("CAP_SYS_ADMIN"), "{stderr}");
    assert!(stderr.contains("does not have CAP_SYS_ADMIN"), "{stderr}");

    // Root of a user namespace has CAP_SYS_ADMIN there, but not where it
    // counts.
    let out = Command::new("unshare")
        .args(["--user", "--map-root-user", "--"])
        .arg(bin())
        .args(["guard", "--mount", "/nonexistent"])
        .output();
    match out {
        Ok(out) if !String::from_utf8_lossy(&out.stderr).contains("unshare:") => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            eprintln!("[refusal in user namespace] {stderr}");
            assert_eq!(out.status.code(), Some(2), "{stderr}");
            assert!(stderr.contains("user namespace"), "{stderr}");
        }
        other => eprintln!("SKIPPED user-namespace part: cannot create one here ({other:?})"),
    }
}

fn rustix_is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(2))
        == Some("0")
}

#[test]
fn rejects_bad_configuration_with_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("guard.yaml");
    std::fs::write(&config, "mode: enforce\nmodee: audit\n").unwrap();
    let out = Command::new(bin())
        .args(["guard", "--config", config.to_str().unwrap()])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("modee"), "{stderr}");
    assert!(stderr.contains("guard.yaml"), "{stderr}");
    std::fs::write(&config, "allow:\n  - paths: [\"relative/*\"]\n").unwrap();
    let out = Command::new(bin())
        .args(["guard", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("allow[0].paths"), "{stderr}");
}

#[test]
fn manifests_pass_palisades_own_scan_with_explained_exceptions() {
    let out = Command::new(bin())
        .args(["guard", "manifests"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let yaml = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "kind: DaemonSet",
        "hostPID: true",
        "drop: [ALL]",
        "add: [SYS_ADMIN, SYS_PTRACE, DAC_READ_SEARCH]",
        "readOnlyRootFilesystem: true",
        "mount-namespace-pid: 1",
    ] {
        assert!(yaml.contains(needle), "{needle}");
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("guard.yaml");
    std::fs::write(&file, &yaml).unwrap();
    let out = Command::new(bin())
        .args(["scan", file.to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = report["findings"].as_array().unwrap();
    let mut suppressed = BTreeSet::new();
    for f in findings {
        let reason = f["suppressed"]["reason"].as_str();
        assert!(
            reason.is_some_and(|r| r.len() > 10),
            "unsuppressed or unexplained: {f}"
        );
        assert_eq!(f["suppressed"]["kind"], "inline", "{f}");
        suppressed.insert(f["code"].as_str().unwrap().to_string());
    }
    // Exactly the exceptions docs/guard.md explains: a new finding or a
    // stale suppression shows up here.
    let expected: BTreeSet<String> = [
        "K8S002", "K8S010", "K8S014", "K8S016", "K8S017", "K8S035", "K8S038", "K8S039",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(suppressed, expected);
    assert_eq!(report["errors"].as_array().map(Vec::len), Some(0));
}
