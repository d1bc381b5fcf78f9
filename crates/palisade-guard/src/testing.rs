//! Test support (feature `test-support`): real overlay mounts in unique
//! temporary directories, unmounted on drop, and a check that says why the
//! tests that need them cannot run here.

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::sync::mpsc;
use std::time::Duration;

use rustix::mount::{MountFlags, UnmountFlags};

/// Why guard tests cannot run here (`None`: they can): they need root with
/// CAP_SYS_ADMIN in the initial user namespace, fanotify permission events
/// and overlayfs.
pub fn skip_reason() -> Option<String> {
    if !rustix::process::geteuid().is_root() {
        return Some("not running as root".into());
    }
    if let Err(e) = crate::check_privileges() {
        return Some(e.to_string());
    }
    if let Err(e) = crate::fanotify::Fanotify::init() {
        return Some(format!("fanotify permission events unavailable: {e:?}"));
    }
    let filesystems = std::fs::read_to_string("/proc/filesystems").unwrap_or_default();
    if !filesystems
        .lines()
        .any(|l| l.trim_end().ends_with("\toverlay"))
    {
        return Some("the kernel has no overlayfs".into());
    }
    None
}

/// True when guard tests can run; otherwise prints a SKIPPED line and
/// returns false. The line is written to stderr directly, not through
/// `eprintln!`, which the test harness captures (and shows only for
/// failures): a skip must be seen in a plain `cargo test` run.
pub fn can_run(test: &str) -> bool {
    match skip_reason() {
        None => true,
        Some(reason) => {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr().lock(),
                "SKIPPED {test}: {reason} (guard tests need root and fanotify permission events)"
            );
            false
        }
    }
}

/// An overlay mounted for a test: `lower` is the "image" (a copy of
/// `/bin/true` as `bin/true` and `bin/modify-me`, and a `#!/bin/sh` script
/// `bin/script.sh`), the upper and work directories are on a tmpfs of its
/// own, and `merged` is the mount.
#[derive(Debug)]
pub struct TestOverlay {
    _dir: tempfile::TempDir,
    pub lower: PathBuf,
    pub rw: PathBuf,
    pub merged: PathBuf,
    /// Mounted by this value, in order; unmounted in reverse on drop.
    mounted: Vec<PathBuf>,
}

impl TestOverlay {
    /// A new overlay in a unique directory under the system temp dir.
    pub fn new() -> io::Result<TestOverlay> {
        TestOverlay::new_in(&std::env::temp_dir())
    }

    /// A new overlay in a unique directory under `parent`.
    pub fn new_in(parent: &Path) -> io::Result<TestOverlay> {
        let dir = tempfile::Builder::new()
            .prefix("palisade-guard-")
            .tempdir_in(parent)?;
        let base = dir.path().to_path_buf();
        let lower = base.join("lower");
        let rw = base.join("rw");
        let merged = base.join("merged");
        for d in [
            lower.join("bin"),
            lower.join("opt/jit"),
            rw.clone(),
            merged.clone(),
        ] {
            std::fs::create_dir_all(d)?;
        }
        let truth = which_true()?;
        std::fs::copy(&truth, lower.join("bin/true"))?;
        std::fs::copy(&truth, lower.join("bin/modify-me"))?;
        write_executable(&lower.join("bin/script.sh"), b"#!/bin/sh\nexit 0\n")?;
        let mut overlay = TestOverlay {
            _dir: dir,
            lower,
            rw,
            merged,
            mounted: Vec::new(),
        };
        rustix::mount::mount(
            "tmpfs",
            &overlay.rw,
            "tmpfs",
            MountFlags::empty(),
            c"mode=0755",
        )
        .map_err(io::Error::from)?;
        overlay.mounted.push(overlay.rw.clone());
        std::fs::create_dir(overlay.rw.join("upper"))?;
        std::fs::create_dir(overlay.rw.join("work"))?;
        let options = format!(
            "lowerdir={},upperdir={},workdir={}",
            overlay.lower.display(),
            overlay.rw.join("upper").display(),
            overlay.rw.join("work").display()
        );
        rustix::mount::mount(
            "overlay",
            &overlay.merged,
            "overlay",
            MountFlags::empty(),
            std::ffi::CString::new(options)?.as_c_str(),
        )
        .map_err(io::Error::from)?;
        overlay.mounted.push(overlay.merged.clone());
        Ok(overlay)
    }

    /// A path in the merged view.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.merged.join(rel)
    }

    /// Writes an executable file through the overlay (it lands in upper).
    pub fn write_executable(&self, rel: &str, content: &[u8]) -> io::Result<PathBuf> {
        let path = self.path(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        write_executable(&path, content)?;
        Ok(path)
    }

    /// Unmounts now (also done on drop).
    pub fn unmount(&mut self) {
        while let Some(target) = self.mounted.pop() {
            if rustix::mount::unmount(&target, UnmountFlags::empty()).is_err() {
                // Still busy (a process the test left behind): detach so
                // the test run does not leak the mount.
                let _ = rustix::mount::unmount(&target, UnmountFlags::DETACH);
            }
        }
    }
}

impl Drop for TestOverlay {
    fn drop(&mut self) {
        self.unmount();
    }
}

fn which_true() -> io::Result<PathBuf> {
    ["/usr/bin/true", "/bin/true"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no /bin/true to copy"))
}

fn write_executable(path: &Path, content: &[u8]) -> io::Result<()> {
    std::fs::write(path, content)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
}

/// How a command ended.
#[derive(Debug)]
pub enum Ran {
    /// It ran and exited.
    Exited(ExitStatus),
    /// `execve` failed (EPERM when the guard denied it).
    ExecFailed(io::Error),
}

impl Ran {
    pub fn success(&self) -> bool {
        matches!(self, Ran::Exited(s) if s.success())
    }

    pub fn denied(&self) -> bool {
        matches!(self, Ran::ExecFailed(e) if e.raw_os_error() == Some(libc::EPERM))
    }
}

/// Runs `program args…` and waits at most `timeout` for it to start and
/// end; `Err` when it is stuck (which a test must report, not wait out).
pub fn run_with_timeout(program: &Path, args: &[&str], timeout: Duration) -> io::Result<Ran> {
    let (tx, rx) = mpsc::channel();
    let shown = program.display().to_string();
    let program = program.to_path_buf();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    std::thread::spawn(move || {
        let result = Command::new(&program).args(&args).spawn().map(|mut child| {
            let pid = child.id();
            let _ = tx.send(Err(pid));
            child.wait()
        });
        let _ = tx.send(Ok(result));
    });
    let deadline = std::time::Instant::now() + timeout;
    let mut child_pid = None;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(Err(pid)) => child_pid = Some(pid),
            Ok(Ok(Ok(Ok(status)))) => return Ok(Ran::Exited(status)),
            Ok(Ok(Ok(Err(e)))) => return Err(e),
            Ok(Ok(Err(e))) => return Ok(Ran::ExecFailed(e)),
            Err(_) => {
                if let Some(pid) = child_pid {
                    let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
                }
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("{shown} did not finish within {timeout:?}"),
                ));
            }
        }
    }
}
