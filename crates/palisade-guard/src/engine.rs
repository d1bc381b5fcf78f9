//! The guard: follows overlay mounts, keeps a fanotify filesystem mark on
//! each, and answers every permission event.
//!
//! One thread does everything, in order: the answer to an event never waits
//! for anything but the few `statx`/`openat2`/`readlink` calls that place
//! and classify the file (and, for drift, reading the process's details
//! from `/proc` so they describe the caller, not the program it becomes).

#![deny(clippy::indexing_slicing)]

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use rustix::event::{PollFd, PollFlags};
use rustix::fs::{Mode as FileMode, OFlags};

use crate::GuardError;
use crate::config::{Decision, Mode, Settings};
use crate::event::{
    Access, Counters, DecisionTimes, ErrorEvent, FileEvent, MountEvent, Sink, StartEvent,
    SummaryEvent,
};
use crate::fanotify::{self, Fanotify, OPEN_EXEC_PERM, OPEN_PERM, Q_OVERFLOW, RawEvent};
use crate::known::{ClockWatch, KnownImageFiles};
use crate::layers::{LayerDirs, Origin};
use crate::mountinfo::{self, DevId, MountEntry};
use crate::overlay::{self, OverlayMount};
use crate::procinfo;
use crate::resolve::{MountView, ResolveError, Resolver};
use crate::time;

/// Bytes read from the fanotify descriptor at once.
const READ_BUFFER: usize = 64 * 1024;

/// Stops a running guard (from another thread, or a signal handler).
#[derive(Debug, Clone)]
pub struct StopHandle {
    tx: Arc<OwnedFd>,
}

impl StopHandle {
    /// Asks the guard to stop; it removes its marks, answers what is
    /// pending and returns from [`Guard::run`].
    pub fn stop(&self) {
        // A full pipe already holds a stop request.
        let _ = rustix::io::write(&*self.tx, &[1]);
    }

    /// Stops the guard on SIGINT and SIGTERM.
    pub fn stop_on_signals(&self) -> io::Result<()> {
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            let fd = self.tx.try_clone()?;
            signal_hook::low_level::pipe::register(signal, fd)?;
        }
        // SIGHUP (a closed terminal, `logrotate`'s `postrotate kill -HUP`)
        // would end the guard without a summary and leave the node
        // unguarded: it is received and ignored (rotate with copytruncate).
        signal_hook::flag::register(
            signal_hook::consts::SIGHUP,
            std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)),
        )?;
        Ok(())
    }
}

/// What a run ends with.
#[derive(Debug, Clone)]
pub struct Summary {
    pub counters: Counters,
    /// The guard's marks just before and after shutdown removed them.
    pub marks_before_shutdown: Option<usize>,
    pub marks_after_shutdown: Option<usize>,
}

/// An overlay being guarded.
#[derive(Debug)]
struct Guarded {
    /// The first mount seen and its upper layer: a different pair under the
    /// same device number is a new overlay (device numbers are reused).
    key: (u64, PathBuf),
    mount_point: PathBuf,
    dirs: LayerDirs,
    known: KnownImageFiles,
}

/// What to say about an event once it is answered.
enum Report {
    None,
    File(Box<FileEvent>),
    Error(String),
}

struct Verdict {
    decision: Decision,
    report: Report,
}

/// Why an event could not be decided.
#[derive(Debug, thiserror::Error)]
enum DecideError {
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    #[error("overlay {0} is not guarded (unmounted while a process used it?)")]
    UnknownOverlay(DevId),
    #[error("cannot look up `{path}` in the layers: {source}")]
    Lookup { path: String, source: io::Error },
}

/// The guard.
#[derive(Debug)]
pub struct Guard {
    settings: Settings,
    fan: Fanotify,
    mask: u64,
    mountinfo: File,
    /// `/proc/<pid>/root` when mounts are read from another namespace.
    prefix: Option<PathBuf>,
    overlays: HashMap<DevId, Guarded>,
    /// Skipped mounts already reported, so each is reported once.
    noted: HashSet<(PathBuf, String)>,
    resolver: Resolver,
    counters: Counters,
    times: DecisionTimes,
    sink: Sink,
    stop_rx: OwnedFd,
    stop: StopHandle,
    own_root: Option<DevId>,
    /// The last allowed exec (pid, inode, device): the open event that
    /// follows it for the same file is the same access.
    last_exec: Option<(i32, u64, (u32, u32))>,
    /// Watches the clock while image files are remembered; `None` once it
    /// was set (or cannot be watched): the memory is then off.
    clock: Option<ClockWatch>,
    path_buf: Vec<u8>,
    read_buf: Vec<u8>,
}

impl Guard {
    /// Checks privileges and kernel support, then starts guarding the
    /// overlays the settings select. Events go to `settings.output`, or
    /// stdout.
    pub fn new(settings: Settings) -> Result<Guard, GuardError> {
        let out: Box<dyn Write + Send> = match &settings.output {
            Some(path) => Box::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| GuardError::io(format!("cannot open {}", path.display()), e))?,
            ),
            None => Box::new(io::stdout()),
        };
        Guard::with_sink(settings, out)
    }

    /// Like [`Guard::new`], with events written to `out`.
    pub fn with_sink(settings: Settings, out: Box<dyn Write + Send>) -> Result<Guard, GuardError> {
        crate::check_privileges()?;
        let fan = Fanotify::init().map_err(|e| match e {
            fanotify::InitError::NotPermitted(e) => GuardError::NotPermitted {
                detail: format!("fanotify_init(FAN_CLASS_CONTENT) was refused: {e}"),
            },
            fanotify::InitError::Unsupported(e) => GuardError::Unsupported {
                detail: format!(
                    "fanotify permission events are not available (fanotify_init: {e}); the kernel needs CONFIG_FANOTIFY_ACCESS_PERMISSIONS"
                ),
            },
            fanotify::InitError::Other(e) => GuardError::io("fanotify_init", e),
        })?;
        let mask = if settings.interpreters {
            OPEN_EXEC_PERM | OPEN_PERM
        } else {
            OPEN_EXEC_PERM
        };
        probe(&fan, mask)?;
        raise_fd_limit();
        let (mountinfo_path, prefix) = match settings.mount_namespace_pid {
            Some(pid) => (
                PathBuf::from(format!("/proc/{pid}/mountinfo")),
                Some(PathBuf::from(format!("/proc/{pid}/root"))),
            ),
            None => (PathBuf::from("/proc/self/mountinfo"), None),
        };
        let mountinfo = File::open(&mountinfo_path)
            .map_err(|e| GuardError::io(format!("cannot open {}", mountinfo_path.display()), e))?;
        let (stop_rx, tx) = rustix::pipe::pipe_with(
            rustix::pipe::PipeFlags::CLOEXEC | rustix::pipe::PipeFlags::NONBLOCK,
        )
        .map_err(|e| GuardError::io("pipe", e.into()))?;
        let own_root = rustix::fs::stat("/").ok().map(|st| DevId {
            major: rustix::fs::major(st.st_dev),
            minor: rustix::fs::minor(st.st_dev),
        });
        let mut guard = Guard {
            settings,
            fan,
            mask,
            mountinfo,
            prefix,
            overlays: HashMap::new(),
            noted: HashSet::new(),
            resolver: Resolver::default(),
            counters: Counters::default(),
            times: DecisionTimes::default(),
            sink: Sink::new(out),
            stop_rx,
            stop: StopHandle { tx: Arc::new(tx) },
            own_root,
            last_exec: None,
            clock: ClockWatch::new().ok(),
            path_buf: Vec::with_capacity(4096),
            read_buf: vec![0; READ_BUFFER],
        };
        guard.emit(&StartEvent {
            time: time::now(),
            event: "start",
            version: palisade_core::TOOL_VERSION,
            mode: guard.settings.mode,
            on_error: guard.settings.on_error,
            interpreters: guard.settings.interpreters,
        });
        guard.refresh()?;
        Ok(guard)
    }

    /// A handle that stops [`Guard::run`].
    pub fn stop_handle(&self) -> StopHandle {
        self.stop.clone()
    }

    /// The overlays guarded now (mount points).
    pub fn guarded_mounts(&self) -> Vec<PathBuf> {
        let mut mounts: Vec<PathBuf> = self
            .overlays
            .values()
            .map(|g| g.mount_point.clone())
            .collect();
        mounts.sort();
        mounts
    }

    /// Runs until stopped, then removes the marks, answers anything still
    /// queued and writes the summary.
    pub fn run(mut self) -> Result<Summary, GuardError> {
        let result = self.event_loop();
        let summary = self.shutdown();
        result.map(|()| summary)
    }

    fn event_loop(&mut self) -> Result<(), GuardError> {
        let interval = Duration::from_secs(self.settings.summary_interval);
        let mut next_summary = Instant::now() + interval;
        loop {
            let timeout = if interval.is_zero() {
                None
            } else {
                let left = next_summary.saturating_duration_since(Instant::now());
                Some(rustix::event::Timespec {
                    tv_sec: left.as_secs() as i64,
                    tv_nsec: i64::from(left.subsec_nanos()),
                })
            };
            let (fan_ready, mounts_changed, stop) = {
                let mut fds = [
                    PollFd::new(&self.fan, PollFlags::IN),
                    PollFd::new(&self.mountinfo, PollFlags::PRI),
                    PollFd::new(&self.stop_rx, PollFlags::IN),
                ];
                match rustix::event::poll(&mut fds, timeout.as_ref()) {
                    Ok(_) => {}
                    Err(rustix::io::Errno::INTR) => continue,
                    Err(e) => return Err(GuardError::io("poll", e.into())),
                }
                let [fan, mounts, stop] = &fds;
                (
                    !fan.revents().is_empty(),
                    mounts.revents().intersects(PollFlags::PRI | PollFlags::ERR),
                    !stop.revents().is_empty(),
                )
            };
            // Pending execs first: they are what waits.
            if fan_ready {
                self.drain()?;
            }
            if mounts_changed {
                self.refresh()?;
            }
            if stop {
                return Ok(());
            }
            if !interval.is_zero() && Instant::now() >= next_summary {
                next_summary = Instant::now() + interval;
                self.counters.decision_us = self.times.summary();
                let counters = self.counters_now();
                self.emit(&SummaryEvent {
                    time: time::now(),
                    event: "summary",
                    marks_before_shutdown: None,
                    marks_after_shutdown: None,
                    counters: &counters,
                });
            }
        }
    }

    /// Reads and answers every queued event.
    fn drain(&mut self) -> Result<(), GuardError> {
        loop {
            let n = match self.fan.read(&mut self.read_buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(GuardError::io("read of fanotify events", e)),
            };
            if n == 0 {
                return Ok(());
            }
            // After the read: a clock set before any of these events was
            // made is seen before they are answered.
            if self.clock.as_ref().is_some_and(ClockWatch::was_set) {
                self.forget_known_files();
            }
            let (events, error) = fanotify::decode(self.read_buf.get(..n).unwrap_or_default());
            for event in events {
                self.handle(event);
            }
            if let Some(error) = error {
                return Err(GuardError::Decode(error));
            }
        }
    }

    /// Answers one event, whatever happens while deciding it.
    fn handle(&mut self, event: RawEvent) {
        let started = Instant::now();
        self.counters.events += 1;
        let Some(fd) = event.fd else {
            if event.mask & Q_OVERFLOW != 0 {
                self.counters.queue_overflows += 1;
            }
            return;
        };
        let exec = event.mask & OPEN_EXEC_PERM != 0;
        if exec {
            self.counters.exec_events += 1;
        } else {
            self.counters.open_events += 1;
        }
        let on_error = self.settings.on_error;
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            self.decide(fd.as_fd(), event.pid, exec)
        }));
        let verdict = match outcome {
            Ok(Ok(verdict)) => verdict,
            Ok(Err(e)) => {
                self.counters.errors += 1;
                Verdict {
                    decision: on_error,
                    report: Report::Error(e.to_string()),
                }
            }
            Err(_) => {
                self.counters.errors += 1;
                self.counters.panics += 1;
                Verdict {
                    decision: on_error,
                    report: Report::Error("internal error (panic) while deciding".into()),
                }
            }
        };
        // Timed up to the answer, not through it: writing the answer wakes
        // the waiting process, which may take this CPU before the write
        // returns, and that wait adds nothing to the exec.
        self.times.record(started.elapsed());
        if self
            .fan
            .respond(fd.as_fd(), verdict.decision.is_allow())
            .is_err()
        {
            self.counters.response_failures += 1;
        }
        drop(fd);
        match verdict.report {
            Report::None => {}
            Report::File(event) => self.emit(&*event),
            Report::Error(message) => self.emit(&ErrorEvent {
                time: time::now(),
                event: "error",
                decision: verdict.decision,
                message,
                pid: event.pid,
            }),
        }
    }

    /// Turns the memory of image files off for the rest of the run.
    fn forget_known_files(&mut self) {
        self.clock = None;
        self.counters.clock_steps += 1;
        for guarded in self.overlays.values_mut() {
            guarded.known = KnownImageFiles::default();
        }
    }

    fn decide(&mut self, fd: BorrowedFd<'_>, pid: i32, exec: bool) -> Result<Verdict, DecideError> {
        let quiet_allow = Verdict {
            decision: Decision::Allow,
            report: Report::None,
        };
        let facts = self.resolver.facts(fd)?;
        let this_file = (pid, facts.ino, facts.dev);
        if !exec && self.last_exec == Some(this_file) {
            // The open that goes with the exec just decided.
            self.last_exec = None;
            return Ok(quiet_allow);
        }
        let view = self.resolver.view(fd, &facts, pid)?;
        let guarded = self
            .overlays
            .get_mut(&view.dev)
            .ok_or(DecideError::UnknownOverlay(view.dev))?;
        let remembering = self.clock.is_some() && !self.settings.report_allowed;
        let identity = facts.identity().filter(|_| remembering);
        if facts.nlink != 0 && identity.is_some_and(|id| guarded.known.contains(&id)) {
            self.counters.known_image += 1;
            if exec {
                self.counters.allowed_image += 1;
                self.last_exec = Some(this_file);
            }
            return Ok(quiet_allow);
        }
        self.resolver.path(fd, &view, &mut self.path_buf)?;
        let rel = self.path_buf.get(1..).unwrap_or_default();
        let lookup_error = |source| DecideError::Lookup {
            path: String::from_utf8_lossy(rel).into_owned(),
            source,
        };
        let mut origin = if facts.nlink == 0 {
            Origin::Deleted
        } else {
            guarded.dirs.classify(rel, exec).map_err(lookup_error)?
        };
        // Placed by its path: the event's file must also be the image's
        // file at that path (a raced rename of a parent directory can make
        // the path name another file).
        let is_image_file =
            |dirs: &mut LayerDirs| dirs.lower_file_matches(rel, |lower| facts.shows(lower));
        if exec
            && origin == Origin::Image
            && !is_image_file(&mut guarded.dirs).map_err(lookup_error)?
        {
            origin = Origin::Unknown;
        }
        let access = if exec {
            Access::Exec
        } else {
            if !origin.is_drift() {
                // Not in the upper layer: allowed. An executable proven to
                // be the image's file is known from now on, so the next
                // open or exec of it costs a `statx` alone (data files are
                // not remembered: they would crowd the programs out).
                if let Some(id) = identity
                    && facts.executable()
                    && is_image_file(&mut guarded.dirs).unwrap_or(false)
                {
                    guarded.known.remember(id, SystemTime::now());
                }
                return Ok(quiet_allow);
            }
            // A drifted file opened: only an interpreter's or the loader's
            // read counts.
            let is_interpreter =
                procinfo::exe(pid).is_some_and(|exe| self.settings.is_interpreter(&exe));
            if !is_interpreter {
                return Ok(quiet_allow);
            }
            if origin != Origin::Deleted {
                origin = guarded.dirs.classify(rel, true).map_err(lookup_error)?;
                if origin == Origin::Image
                    && !is_image_file(&mut guarded.dirs).map_err(lookup_error)?
                {
                    origin = Origin::Unknown;
                }
            }
            if !origin.is_drift() {
                return Ok(quiet_allow);
            }
            Access::InterpreterRead
        };
        let path = Path::new(std::ffi::OsStr::from_bytes(&self.path_buf));
        let mount_point = guarded.mount_point.clone();
        #[cfg(feature = "test-support")]
        if let Some(suffix) = &self.settings.panic_on
            && path.to_string_lossy().ends_with(suffix.as_str())
        {
            #[allow(clippy::panic)]
            {
                panic!("injected fault for {}", path.display());
            }
        }
        if !origin.is_drift() {
            if let Some(id) = identity {
                guarded.known.remember(id, SystemTime::now());
            }
            self.counters.allowed_image += 1;
            self.last_exec = Some(this_file);
            if !self.settings.report_allowed {
                return Ok(quiet_allow);
            }
            let event = self.file_event(
                "exec",
                Decision::Allow,
                access,
                origin,
                false,
                path,
                &mount_point,
                pid,
            );
            return Ok(Verdict {
                decision: Decision::Allow,
                report: Report::File(Box::new(event)),
            });
        }
        match origin {
            Origin::New => self.counters.drift_new += 1,
            Origin::Modified => self.counters.drift_modified += 1,
            _ => self.counters.drift_other += 1,
        }
        if access == Access::InterpreterRead {
            self.counters.interpreter_reads += 1;
        }
        let allowlisted = self.settings.allows(&mount_point, path);
        let decision = if allowlisted {
            self.counters.allowlisted += 1;
            Decision::Allow
        } else if self.settings.mode == Mode::Enforce {
            self.counters.denied += 1;
            Decision::Deny
        } else {
            self.counters.audited += 1;
            Decision::Allow
        };
        if decision.is_allow() && exec {
            self.last_exec = Some(this_file);
        }
        let event = self.file_event(
            "drift",
            decision,
            access,
            origin,
            allowlisted,
            path,
            &mount_point,
            pid,
        );
        Ok(Verdict {
            decision,
            report: Report::File(Box::new(event)),
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn file_event(
        &self,
        kind: &'static str,
        decision: Decision,
        access: Access,
        origin: Origin,
        allowlisted: bool,
        path: &Path,
        mount_point: &Path,
        pid: i32,
    ) -> FileEvent {
        // Read now, before the answer: after it the process runs on (or
        // becomes the new program) and its details change.
        let info = procinfo::process_info(pid);
        FileEvent {
            time: time::now(),
            event: kind,
            decision,
            mode: self.settings.mode,
            access,
            origin,
            allowlisted,
            path: path.to_string_lossy().into_owned(),
            mount: mount_point.to_string_lossy().into_owned(),
            container: info.container,
            pid,
            ppid: info.ppid,
            exe: info.exe,
            cmdline: info.cmdline,
            uid: info.uid,
        }
    }

    /// Re-reads the mount table: guards new overlays, forgets gone ones.
    fn refresh(&mut self) -> Result<(), GuardError> {
        let mut text = Vec::new();
        self.mountinfo
            .seek(SeekFrom::Start(0))
            .and_then(|_| {
                (&mut self.mountinfo)
                    .take(crate::resolve::MAX_MOUNTINFO as u64)
                    .read_to_end(&mut text)
            })
            .map_err(|e| GuardError::io("cannot read the mount table", e))?;
        let table = mountinfo::parse(&text);
        let mut present: HashMap<DevId, &MountEntry> = HashMap::new();
        for entry in table.entries.iter().filter(|e| overlay::is_overlay(e)) {
            if !self.settings.selects(&entry.mount_point) {
                continue;
            }
            if Some(entry.dev) == self.own_root {
                self.note_skip(entry, "the guard's own root filesystem".into());
                continue;
            }
            present.entry(entry.dev).or_insert(entry);
        }
        let gone: Vec<DevId> = self
            .overlays
            .keys()
            .filter(|dev| !present.contains_key(dev))
            .copied()
            .collect();
        for dev in gone {
            if let Some(g) = self.overlays.remove(&dev) {
                // Its mark goes with the filesystem when the last mount of
                // it goes (or at shutdown).
                self.emit(&MountEvent {
                    time: time::now(),
                    event: "mount",
                    action: "released",
                    mount: g.mount_point.to_string_lossy().into_owned(),
                    dev: dev.to_string(),
                    upperdir: Some(g.dirs.upper_path.to_string_lossy().into_owned()),
                    reason: None,
                });
            }
        }
        let mut fresh: Vec<&MountEntry> = present
            .values()
            .filter(|e| {
                let upper = overlay::layers(&e.super_options).ok().and_then(|l| l.upper);
                self.overlays
                    .get(&e.dev)
                    .is_none_or(|g| g.key.0 != e.mount_id || Some(&g.key.1) != upper.as_ref())
            })
            .copied()
            .collect();
        fresh.sort_by(|a, b| a.mount_point.cmp(&b.mount_point));
        for entry in fresh {
            self.guard_overlay(entry);
        }
        // Explicit mounts not there (yet): say so once.
        for mount in self.settings.mounts.clone() {
            if self.overlays.values().any(|g| g.mount_point == mount) {
                continue;
            }
            let reason = match table.entries.iter().rev().find(|e| e.mount_point == mount) {
                Some(e) if !overlay::is_overlay(e) => {
                    format!("not an overlay mount (filesystem type {})", e.fs_type)
                }
                Some(_) => continue,
                None => "not mounted yet: guarded as soon as an overlay is mounted there".into(),
            };
            if self.noted.insert((mount.clone(), reason.clone())) {
                self.emit(&MountEvent {
                    time: time::now(),
                    event: "mount",
                    action: "skipped",
                    mount: mount.to_string_lossy().into_owned(),
                    dev: String::new(),
                    upperdir: None,
                    reason: Some(reason),
                });
            }
        }
        let own: HashMap<u64, MountView> = table
            .entries
            .iter()
            .filter(|e| self.overlays.contains_key(&e.dev))
            .map(|e| (e.mount_id, MountView::from_entry(e)))
            .collect();
        self.resolver.set_own(own);
        self.counters.mounts_guarded = self.overlays.len() as u64;
        Ok(())
    }

    fn guard_overlay(&mut self, entry: &MountEntry) {
        let result = self.try_guard(entry);
        match result {
            Ok((guarded, upper)) => {
                self.noted.retain(|(p, _)| p != &entry.mount_point);
                self.emit(&MountEvent {
                    time: time::now(),
                    event: "mount",
                    action: "guarded",
                    mount: entry.mount_point.to_string_lossy().into_owned(),
                    dev: entry.dev.to_string(),
                    upperdir: Some(upper),
                    reason: None,
                });
                self.overlays.insert(entry.dev, guarded);
            }
            Err((reason, failure)) => {
                if failure {
                    self.counters.mark_failures += 1;
                }
                self.overlays.remove(&entry.dev);
                self.note_skip(entry, reason);
            }
        }
    }

    /// Opens the layers and marks the overlay; the error says why not, and
    /// whether it is a failure (rather than an overlay with nothing to do).
    fn try_guard(&self, entry: &MountEntry) -> Result<(Guarded, String), (String, bool)> {
        let overlay = OverlayMount::from_entry(entry).map_err(|e| (e.to_string(), false))?;
        let dirs = match LayerDirs::open(&overlay.layers, self.prefix.as_deref()) {
            Ok(Some(dirs)) => dirs,
            Ok(None) => return Err(("read-only overlay: nothing in it can drift".into(), false)),
            Err(e) => return Err((e.to_string(), true)),
        };
        let target = match &self.prefix {
            Some(prefix) => prefix.join(
                entry
                    .mount_point
                    .strip_prefix("/")
                    .unwrap_or(&entry.mount_point),
            ),
            None => entry.mount_point.clone(),
        };
        // Mark what is checked to be this overlay: the mount point may
        // have been unmounted (or covered) since the table was read, and
        // marking the filesystem under it instead would put every exec on
        // that filesystem behind the guard.
        let dir = rustix::fs::open(
            &target,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            FileMode::empty(),
        )
        .map_err(|e| (format!("cannot open mount point: {e}"), true))?;
        let st =
            rustix::fs::fstat(&dir).map_err(|e| (format!("cannot stat mount point: {e}"), true))?;
        let dev = DevId {
            major: rustix::fs::major(st.st_dev),
            minor: rustix::fs::minor(st.st_dev),
        };
        if dev != entry.dev {
            return Err((
                format!(
                    "mount point now shows device {dev}, not the overlay's {}",
                    entry.dev
                ),
                false,
            ));
        }
        self.fan
            .mark_filesystem(self.mask, dir.as_fd())
            .map_err(|e| (format!("fanotify_mark: {e}"), true))?;
        let upper = dirs.upper_path.to_string_lossy().into_owned();
        Ok((
            Guarded {
                key: (entry.mount_id, dirs.upper_path.clone()),
                mount_point: entry.mount_point.clone(),
                dirs,
                known: KnownImageFiles::default(),
            },
            upper,
        ))
    }

    fn note_skip(&mut self, entry: &MountEntry, reason: String) {
        if self
            .noted
            .insert((entry.mount_point.clone(), reason.clone()))
        {
            self.emit(&MountEvent {
                time: time::now(),
                event: "mount",
                action: "skipped",
                mount: entry.mount_point.to_string_lossy().into_owned(),
                dev: entry.dev.to_string(),
                upperdir: None,
                reason: Some(reason),
            });
        }
    }

    /// Removes the marks, answers what is still queued, reports.
    fn shutdown(&mut self) -> Summary {
        let before = self.count_marks();
        let _ = self.fan.flush_filesystem_marks();
        let after = self.count_marks();
        // Events queued before the flush still need answers.
        let _ = self.drain();
        self.counters.decision_us = self.times.summary();
        let counters = self.counters_now();
        self.emit(&SummaryEvent {
            time: time::now(),
            event: "summary",
            marks_before_shutdown: before,
            marks_after_shutdown: after,
            counters: &counters,
        });
        Summary {
            counters,
            marks_before_shutdown: before,
            marks_after_shutdown: after,
        }
    }

    /// The group's marks, from `/proc/self/fdinfo` (one `fanotify …` line
    /// per mark after the `fanotify flags:` line).
    fn count_marks(&self) -> Option<usize> {
        let path = format!("/proc/self/fdinfo/{}", self.fan.as_fd().as_raw_fd());
        let text = std::fs::read_to_string(path).ok()?;
        Some(
            text.lines()
                .filter(|l| l.starts_with("fanotify ") && !l.starts_with("fanotify flags:"))
                .count(),
        )
    }

    /// The counters, with the event lines the writer failed to write.
    fn counters_now(&self) -> Counters {
        let mut counters = self.counters.clone();
        counters.output_errors += self.sink.failed_writes();
        counters
    }

    fn emit<T: serde::Serialize>(&mut self, value: &T) {
        if !self.sink.emit(value) {
            self.counters.output_errors += 1;
        }
    }
}

/// Adds and removes a mark with the events the guard needs on an inode
/// (`/`, without `FAN_ONDIR`, so it produces no event), to fail at start on
/// a kernel that has fanotify but not these events.
fn probe(fan: &Fanotify, mask: u64) -> Result<(), GuardError> {
    let root = Path::new("/");
    fan.mark_inode(true, mask, root).map_err(|e| {
        if e.raw_os_error() == Some(libc::EINVAL) {
            GuardError::Unsupported {
                detail: format!(
                    "the kernel rejects FAN_OPEN_EXEC_PERM{} marks ({e}); Linux 5.0 or later with CONFIG_FANOTIFY_ACCESS_PERMISSIONS is needed",
                    if mask & OPEN_PERM != 0 { "/FAN_OPEN_PERM" } else { "" }
                ),
            }
        } else if e.raw_os_error() == Some(libc::EPERM) {
            GuardError::NotPermitted {
                detail: format!("fanotify_mark was refused: {e}"),
            }
        } else {
            GuardError::io("fanotify_mark probe", e)
        }
    })?;
    fan.mark_inode(false, mask, root)
        .map_err(|e| GuardError::io("fanotify_mark probe removal", e))
}

/// Each guarded overlay keeps a descriptor per layer: raise the soft limit
/// to the hard one. Failure only means fewer overlays fit.
fn raise_fd_limit() {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        let _ = setrlimit(
            Resource::Nofile,
            rustix::process::Rlimit {
                current: limit.maximum,
                maximum: limit.maximum,
            },
        );
    }
}
