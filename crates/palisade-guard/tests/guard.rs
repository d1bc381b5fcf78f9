//! The guard against real overlay mounts on the running kernel (as root).
//! Each test mounts its own overlay in a unique temp dir and guards only
//! that mount, so the tests run in parallel with each other and with
//! anything else on the machine. Without root or fanotify permission events
//! each test prints a SKIPPED line and returns.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use palisade_guard::config::{AllowEntry, Decision, GuardConfig, Mode};
use palisade_guard::testing::{Ran, TestOverlay, can_run, run_with_timeout};
use palisade_guard::{Guard, StopHandle, Summary};
use serde_json::Value;

const TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Clone, Default)]
struct Events(Arc<Mutex<Vec<u8>>>);

impl Write for Events {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Events {
    fn all(&self) -> Vec<Value> {
        let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    fn kind(&self, event: &str) -> Vec<Value> {
        self.all()
            .into_iter()
            .filter(|e| e["event"] == event)
            .collect()
    }

    /// The drift event for `path`, waiting for it: the guard writes an
    /// event just after it answers, so the process may finish first.
    fn drift_for(&self, path: &str) -> Value {
        self.wait_for(&format!("drift for {path}"), |e| {
            e["event"] == "drift" && e["path"] == path
        })
    }

    /// Waits until `pred` holds for some event, and returns the first.
    fn wait_for(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + TIMEOUT;
        while Instant::now() < deadline {
            if let Some(e) = self.all().into_iter().find(&pred) {
                return e;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("no event {what} in:\n{:#?}", self.all());
    }
}

struct Running {
    stop: StopHandle,
    thread: Option<JoinHandle<Summary>>,
    events: Events,
}

impl Running {
    fn start(config: GuardConfig) -> Running {
        Running::start_with(config, |_| {})
    }

    fn start_with(
        config: GuardConfig,
        tweak: impl FnOnce(&mut palisade_guard::Settings),
    ) -> Running {
        let mut settings = config.validate().unwrap();
        tweak(&mut settings);
        let events = Events::default();
        let guard = Guard::with_sink(settings, Box::new(events.clone())).unwrap();
        let stop = guard.stop_handle();
        let thread = std::thread::spawn(move || guard.run().unwrap());
        Running {
            stop,
            thread: Some(thread),
            events,
        }
    }

    fn finish(mut self) -> Summary {
        self.stop.stop();
        self.thread.take().unwrap().join().unwrap()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // A failing test still stops its guard before its overlay goes.
        self.stop.stop();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn guard_config(mode: Mode, overlay: &TestOverlay) -> GuardConfig {
    GuardConfig {
        mode,
        mounts: vec![overlay.merged.clone()],
        ..GuardConfig::default()
    }
}

fn run(path: &Path) -> Ran {
    run_with_timeout(path, &[], TIMEOUT).unwrap()
}

fn run_args(program: &str, args: &[&str]) -> Ran {
    run_with_timeout(Path::new(program), args, TIMEOUT).unwrap()
}

/// Drift of three kinds: a new binary, a new `#!` script, a modified
/// (copied-up) image binary.
fn plant_drift(overlay: &TestOverlay) -> [PathBuf; 3] {
    let truth = std::fs::read(overlay.lower.join("bin/true")).unwrap();
    let new_binary = overlay.write_executable("bin/new", &truth).unwrap();
    let new_script = overlay
        .write_executable("bin/new.sh", b"#!/bin/sh\nexit 0\n")
        .unwrap();
    let modified = overlay.path("bin/modify-me");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&modified)
        .unwrap();
    f.write_all(b"\0").unwrap();
    drop(f);
    assert!(overlay.rw.join("upper/bin/modify-me").exists(), "copied up");
    [new_binary, new_script, modified]
}

fn transcript(label: &str, path: &Path, ran: &Ran) {
    let outcome = match ran {
        Ran::Exited(s) => format!("ran, {s}"),
        Ran::ExecFailed(e) => format!("exec failed: {e}"),
    };
    eprintln!("[{label}] {} -> {outcome}", path.display());
}

#[test]
fn enforce_denies_drift_and_allows_the_image() {
    if !can_run("enforce_denies_drift_and_allows_the_image") {
        return;
    }
    let overlay = TestOverlay::new().unwrap();
    let drift = plant_drift(&overlay);
    let guard = Running::start(guard_config(Mode::Enforce, &overlay));

    for image in [overlay.path("bin/true"), overlay.path("bin/script.sh")] {
        let ran = run(&image);
        transcript("enforce", &image, &ran);
        assert!(ran.success(), "{}: {ran:?}", image.display());
    }
    for path in &drift {
        let ran = run(path);
        transcript("enforce", path, &ran);
        assert!(ran.denied(), "{}: {ran:?}", path.display());
    }
    // A shell gets EPERM too: 126, "Operation not permitted".
    let shell = run_args("/bin/sh", &["-c", &drift[0].display().to_string()]);
    assert!(
        matches!(&shell, Ran::Exited(s) if s.code() == Some(126)),
        "{shell:?}"
    );

    let events = guard.events.clone();
    for (path, origin) in [
        ("/bin/new", "new"),
        ("/bin/new.sh", "new"),
        ("/bin/modify-me", "modified"),
    ] {
        let e = events.drift_for(path);
        eprintln!("[enforce] event {e}");
        assert_eq!(e["decision"], "deny");
        assert_eq!(e["mode"], "enforce");
        assert_eq!(e["access"], "exec");
        assert_eq!(e["origin"], origin);
        assert_eq!(e["mount"], overlay.merged.display().to_string());
        assert!(e["pid"].as_i64().unwrap() > 0);
        assert!(e["ppid"].as_i64().unwrap() > 0);
        assert!(e["uid"].is_u64());
        assert!(e["exe"].is_string(), "{e}");
        assert!(e["cmdline"].is_array(), "{e}");
        assert!(e["time"].as_str().unwrap().ends_with('Z'));
        assert!(e.get("container").is_some());
    }
    // The shell's attempt names the shell as the caller.
    let by_shell = events.wait_for("drift by the shell", |e| {
        e["event"] == "drift" && e["cmdline"][0] == "/bin/sh"
    });
    assert_eq!(by_shell["path"], "/bin/new");

    let summary = guard.finish();
    let c = &summary.counters;
    assert_eq!(c.denied, 4, "{c:?}");
    assert_eq!(c.drift_new, 3, "{c:?}");
    assert_eq!(c.drift_modified, 1, "{c:?}");
    assert!(c.allowed_image >= 2, "{c:?}");
    assert_eq!(c.errors, 0, "{c:?}");
    assert_eq!(c.mounts_guarded, 1);
    // Every event was timed, and answered well within a second.
    let times = c.decision_us.unwrap();
    assert_eq!(times.count, c.events, "{c:?}");
    assert!(times.max < 1_000_000.0, "{times:?}");
    // Shutdown removed the marks, and drift runs again.
    assert!(summary.marks_before_shutdown.unwrap() >= 1, "{summary:?}");
    assert_eq!(summary.marks_after_shutdown, Some(0), "{summary:?}");
    assert!(run(&drift[0]).success());
    let last = events.all().pop().unwrap();
    assert_eq!(last["event"], "summary");
    assert_eq!(last["marks_after_shutdown"], 0);
}

#[test]
fn known_image_files_are_forgotten_when_copied_up() {
    if !can_run("known_image_files_are_forgotten_when_copied_up") {
        return;
    }
    // Known from three execs, or (with the interpreter option) from three
    // plain reads first.
    for interpreters in [false, true] {
        let overlay = TestOverlay::new().unwrap();
        // Image files are remembered once their status is settled
        // (unchanged for a second), as in a real image.
        std::thread::sleep(palisade_guard::known::SETTLED + Duration::from_millis(200));
        let mut config = guard_config(Mode::Enforce, &overlay);
        config.interpreters = interpreters;
        let guard = Running::start(config);
        let (chmodded, reopened) = (overlay.path("bin/true"), overlay.path("bin/modify-me"));
        let identity = |path: &Path| {
            use std::os::unix::fs::MetadataExt;
            let m = std::fs::metadata(path).unwrap();
            (m.dev(), m.ino())
        };
        let before = [identity(&chmodded), identity(&reopened)];
        for _ in 0..3 {
            for path in [&chmodded, &reopened] {
                if interpreters {
                    std::fs::read(path).unwrap();
                } else {
                    assert!(run(path).success());
                }
            }
        }
        // Copy-ups that write nothing: a chmod to the same mode, and an
        // open for writing (after which a shared mapping could change the
        // file without a write event).
        let mode = std::fs::metadata(&chmodded).unwrap().permissions();
        std::fs::set_permissions(&chmodded, mode).unwrap();
        drop(
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(&reopened)
                .unwrap(),
        );
        for path in [&chmodded, &reopened] {
            let upper = overlay.rw.join("upper/bin").join(path.file_name().unwrap());
            assert!(upper.exists(), "{} copied up", path.display());
        }
        // The overlay keeps device and inode across the copy-up: only the
        // ctime tells the copy from the image file.
        assert_eq!(before, [identity(&chmodded), identity(&reopened)]);
        for path in [&chmodded, &reopened] {
            let ran = run(path);
            transcript("known, then copied up", path, &ran);
            assert!(ran.denied(), "{}: {ran:?}", path.display());
        }
        let events = guard.events.clone();
        assert_eq!(events.drift_for("/bin/true")["origin"], "modified");
        assert_eq!(events.drift_for("/bin/modify-me")["origin"], "modified");
        let c = guard.finish().counters;
        // The first access of each placed it; the other two came from
        // memory (with the interpreter option, so did the open for writing,
        // which the kernel asks about before it copies the file up).
        let known = if interpreters { 5 } else { 4 };
        assert_eq!(c.known_image, known, "interpreters {interpreters}: {c:?}");
        let execs = if interpreters { 0 } else { 6 };
        assert_eq!(c.allowed_image, execs, "interpreters {interpreters}: {c:?}");
        assert_eq!((c.drift_modified, c.denied), (2, 2), "{c:?}");
        assert_eq!(c.clock_steps, 0, "{c:?}");
    }
}

#[test]
fn audit_allows_drift_and_reports_it() {
    if !can_run("audit_allows_drift_and_reports_it") {
        return;
    }
    let overlay = TestOverlay::new().unwrap();
    let drift = plant_drift(&overlay);
    let guard = Running::start(guard_config(Mode::Audit, &overlay));
    assert!(run(&overlay.path("bin/true")).success());
    for path in &drift {
        let ran = run(path);
        transcript("audit", path, &ran);
        assert!(ran.success(), "{}: {ran:?}", path.display());
    }
    for (path, origin) in [
        ("/bin/new", "new"),
        ("/bin/new.sh", "new"),
        ("/bin/modify-me", "modified"),
    ] {
        let e = guard.events.drift_for(path);
        eprintln!("[audit] event {e}");
        assert_eq!(e["decision"], "allow");
        assert_eq!(e["mode"], "audit");
        assert_eq!(e["origin"], origin);
        assert_eq!(e["allowlisted"], false);
    }
    let events = guard.events.clone();
    let summary = guard.finish();
    // Image execs are counted, not reported (report-allowed is off).
    assert!(events.kind("exec").is_empty());
    assert_eq!(summary.counters.audited, 3);
    assert_eq!(summary.counters.denied, 0);
}

#[test]
fn allow_listed_paths_run_in_enforce_mode() {
    if !can_run("allow_listed_paths_run_in_enforce_mode") {
        return;
    }
    let overlay = TestOverlay::new().unwrap();
    let truth = std::fs::read(overlay.lower.join("bin/true")).unwrap();
    let jit = overlay.write_executable("opt/jit/code-1", &truth).unwrap();
    let other = overlay.write_executable("opt/other", &truth).unwrap();
    let mut config = guard_config(Mode::Enforce, &overlay);
    config.allow = vec![
        AllowEntry {
            mount: Some(overlay.merged.display().to_string()),
            paths: vec!["/opt/jit/**".into()],
            reason: Some("JIT code cache".into()),
        },
        // For another mount only: must not apply here.
        AllowEntry {
            mount: Some("/elsewhere/**".into()),
            paths: vec!["/opt/other".into()],
            reason: None,
        },
    ];
    let guard = Running::start(config);
    assert!(run(&jit).success());
    assert!(run(&other).denied());
    let e = guard.events.drift_for("/opt/jit/code-1");
    assert_eq!(
        (e["decision"].as_str(), e["allowlisted"].as_bool()),
        (Some("allow"), Some(true))
    );
    assert_eq!(guard.finish().counters.allowlisted, 1);
}

#[test]
fn mounts_created_after_start_are_covered_in_every_namespace() {
    if !can_run("mounts_created_after_start_are_covered_in_every_namespace") {
        return;
    }
    // Discovery by glob over a directory of this test's own.
    let parent = tempfile::tempdir().unwrap();
    let config = GuardConfig {
        mode: Mode::Enforce,
        include: vec![format!("{}/**", parent.path().display())],
        ..GuardConfig::default()
    };
    let guard = Running::start(config);
    let overlay = TestOverlay::new_in(parent.path()).unwrap();
    let merged = overlay.merged.display().to_string();
    guard.events.wait_for("guarded", |e| {
        e["action"] == "guarded" && e["mount"] == merged
    });
    let [new_binary, ..] = plant_drift(&overlay);
    assert!(run(&overlay.path("bin/true")).success());
    assert!(run(&new_binary).denied());

    // A container sees its root through a mount in its own namespace (here
    // a bind mount in a private mount namespace): the filesystem mark
    // covers it, and the guard places it from the process's mount table.
    if Path::new("/usr/bin/unshare").exists() {
        let target = parent.path().join("ns-view");
        std::fs::create_dir(&target).unwrap();
        let script = format!(
            "mount --bind {merged} {t} && {t}/bin/true && echo image-ran; {t}/bin/new; echo new-exit=$?",
            t = target.display()
        );
        let out = std::process::Command::new("/usr/bin/unshare")
            .args(["-m", "--propagation", "private", "sh", "-c", &script])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        eprintln!(
            "[namespace] {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("image-ran"), "{stdout}");
        assert!(stdout.contains("new-exit=126"), "{stdout}");
        let count = || {
            guard
                .events
                .kind("drift")
                .into_iter()
                .filter(|e| e["path"] == "/bin/new")
                .count()
        };
        let deadline = Instant::now() + TIMEOUT;
        while count() < 2 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(count(), 2, "{:#?}", guard.events.all());
    } else {
        eprintln!("SKIPPED namespace part: no /usr/bin/unshare");
    }

    drop(overlay);
    guard.events.wait_for("released", |e| {
        e["action"] == "released" && e["mount"] == merged
    });
    let summary = guard.finish();
    assert_eq!(summary.counters.mounts_guarded, 0);
    assert_eq!(summary.counters.errors, 0, "{:?}", summary.counters);
}

#[test]
fn internal_errors_are_answered_by_the_configured_default() {
    if !can_run("internal_errors_are_answered_by_the_configured_default") {
        return;
    }
    let overlay = TestOverlay::new().unwrap();
    let [new_binary, ..] = plant_drift(&overlay);
    let truth = std::fs::read(overlay.lower.join("bin/true")).unwrap();
    let crash = overlay.write_executable("bin/crash", &truth).unwrap();
    for (on_error, expect_allowed) in [(Decision::Deny, false), (Decision::Allow, true)] {
        let mut config = guard_config(Mode::Enforce, &overlay);
        config.on_error = Some(on_error);
        let guard = Running::start_with(config, |s| s.panic_on = Some("/bin/crash".into()));
        // The decision code panics: the exec is still answered, by on-error.
        let ran = run(&crash);
        assert_eq!(ran.success(), expect_allowed, "{on_error:?}: {ran:?}");
        assert_eq!(ran.denied(), !expect_allowed, "{on_error:?}: {ran:?}");
        // And the guard goes on deciding.
        assert!(run(&new_binary).denied());
        assert!(run(&overlay.path("bin/true")).success());
        let events = guard.events.clone();
        let summary = guard.finish();
        let errors = events.kind("error");
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0]["message"].as_str().unwrap().contains("panic"));
        assert_eq!((summary.counters.errors, summary.counters.panics), (1, 1));
    }
}

#[test]
fn unguarded_views_of_a_marked_overlay_get_the_default_answer() {
    if !can_run("unguarded_views_of_a_marked_overlay_get_the_default_answer") {
        return;
    }
    // The guard is told about one mount point; the same overlay is bind
    // mounted elsewhere, then the guarded mount point goes away. The mark
    // stays with the filesystem, and events through the other mount come
    // from an overlay the guard has released: answered by on-error.
    let overlay = TestOverlay::new().unwrap();
    let other = tempfile::tempdir().unwrap();
    let mut config = guard_config(Mode::Enforce, &overlay);
    config.on_error = Some(Decision::Deny);
    let guard = Running::start(config);
    rustix::mount::mount_bind(&overlay.merged, other.path()).unwrap();
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = rustix::mount::unmount(&self.0, rustix::mount::UnmountFlags::DETACH);
        }
    }
    let _bind = Unmount(other.path().to_path_buf());
    rustix::mount::unmount(&overlay.merged, rustix::mount::UnmountFlags::empty()).unwrap();
    let merged = overlay.merged.display().to_string();
    guard.events.wait_for("released", |e| {
        e["action"] == "released" && e["mount"] == merged
    });
    let ran = run(&other.path().join("bin/true"));
    assert!(ran.denied(), "{ran:?}");
    let events = guard.events.clone();
    guard.finish();
    let errors = events.kind("error");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["decision"], "deny");
}

#[test]
fn interpreter_coverage_denies_reads_of_drift_by_interpreters() {
    if !can_run("interpreter_coverage_denies_reads_of_drift_by_interpreters") {
        return;
    }
    let overlay = TestOverlay::new().unwrap();
    let [new_binary, new_script, _] = plant_drift(&overlay);
    let script = new_script.display().to_string();
    let image_script = overlay.path("bin/script.sh").display().to_string();

    // Without the option, `sh script` is a bypass (documented).
    let guard = Running::start(guard_config(Mode::Enforce, &overlay));
    assert!(run_args("/bin/sh", &[&script]).success());
    assert!(run(&new_script).denied());
    guard.finish();

    let mut config = guard_config(Mode::Enforce, &overlay);
    config.interpreters = true;
    let guard = Running::start(config);
    let ran = run_args("/bin/sh", &[&script]);
    eprintln!("[interpreters] sh {script} -> {ran:?}");
    assert!(matches!(&ran, Ran::Exited(s) if !s.success()), "{ran:?}");
    // Image scripts and image binaries still run; non-interpreters may
    // read drifted files (cat); the exec path is unchanged.
    assert!(run_args("/bin/sh", &[&image_script]).success());
    assert!(run_args("/bin/cat", &[&script]).success());
    assert!(run(&overlay.path("bin/true")).success());
    assert!(run(&new_binary).denied());
    let loader = ["/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux-aarch64.so.1"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    if let Some(loader) = loader {
        let ran = run_args(loader, &[&new_binary.display().to_string()]);
        eprintln!(
            "[interpreters] {loader} {} -> {ran:?}",
            new_binary.display()
        );
        assert!(matches!(&ran, Ran::Exited(s) if !s.success()), "{ran:?}");
    }
    let read = guard.events.wait_for("interpreter read", |e| {
        e["access"] == "interpreter-read" && e["path"] == "/bin/new.sh"
    });
    assert_eq!(read["decision"], "deny");
    let summary = guard.finish();
    assert!(summary.counters.interpreter_reads >= 1);
    assert!(summary.counters.open_events > 0);
    assert_eq!(summary.counters.errors, 0, "{:?}", summary.counters);
}

#[test]
fn guards_do_not_see_each_others_mounts() {
    if !can_run("guards_do_not_see_each_others_mounts") {
        return;
    }
    let a = TestOverlay::new().unwrap();
    let b = TestOverlay::new().unwrap();
    let [new_a, ..] = plant_drift(&a);
    let [new_b, ..] = plant_drift(&b);
    let guard = Running::start(guard_config(Mode::Enforce, &a));
    assert!(run(&new_a).denied());
    assert!(run(&new_b).success(), "b is not guarded");
    let events = guard.events.clone();
    guard.finish();
    assert_eq!(events.kind("drift").len(), 1);
    let mounts: Vec<String> = events
        .kind("mount")
        .iter()
        .filter(|e| e["action"] == "guarded")
        .map(|e| e["mount"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(mounts, vec![a.merged.display().to_string()]);
}

#[test]
fn reads_mounts_and_layers_through_another_process() {
    if !can_run("reads_mounts_and_layers_through_another_process") {
        return;
    }
    // The DaemonSet's mode (`mount-namespace-pid: 1`): the mount table of
    // another process and layer paths reached through /proc/<pid>/root.
    // Here the other process is a child in this mount namespace.
    let overlay = TestOverlay::new().unwrap();
    let [new_binary, ..] = plant_drift(&overlay);
    let mut child = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .unwrap();
    let mut config = guard_config(Mode::Enforce, &overlay);
    config.mount_namespace_pid = Some(child.id());
    let guard = Running::start(config);
    assert!(run(&overlay.path("bin/true")).success());
    assert!(run(&new_binary).denied());
    let summary = guard.finish();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!((summary.counters.denied, summary.counters.errors), (1, 0));
}
