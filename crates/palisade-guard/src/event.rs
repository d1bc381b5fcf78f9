//! What the guard reports: one JSON object per line (docs/guard.md lists
//! the fields), and the summary counters.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::Duration;

use serde::Serialize;

use crate::cgroup::Container;
use crate::config::{Decision, Mode};
use crate::layers::Origin;

/// How the file was used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Access {
    /// `execve` of the file (`FAN_OPEN_EXEC_PERM`).
    Exec,
    /// Opened by an interpreter or the dynamic loader (`FAN_OPEN_PERM`,
    /// the `interpreters` option).
    InterpreterRead,
}

/// A decision on a file: drift (always reported) or, with
/// `report-allowed`, an allowed exec from the image.
#[derive(Debug, Clone, Serialize)]
pub struct FileEvent {
    pub time: String,
    /// `"drift"` or `"exec"` (an allowed file from the image).
    pub event: &'static str,
    pub decision: Decision,
    pub mode: Mode,
    pub access: Access,
    pub origin: Origin,
    /// Allowed because the allow-list names it.
    pub allowlisted: bool,
    /// The path inside the overlay (the container's path for its root).
    pub path: String,
    /// The guarded overlay's mount point, as the guard sees it.
    pub mount: String,
    pub container: Option<Container>,
    pub pid: i32,
    pub ppid: Option<i32>,
    /// The program that made the call (for an exec: the caller, since the
    /// exec has not happened when it is decided).
    pub exe: Option<String>,
    pub cmdline: Option<Vec<String>>,
    pub uid: Option<u32>,
}

/// The guard could not decide an event and answered by `on-error`.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorEvent {
    pub time: String,
    pub event: &'static str,
    pub decision: Decision,
    pub message: String,
    pub pid: i32,
}

/// An overlay started or stopped being guarded, or could not be.
#[derive(Debug, Clone, Serialize)]
pub struct MountEvent {
    pub time: String,
    pub event: &'static str,
    /// `guarded`, `released` or `skipped`.
    pub action: &'static str,
    pub mount: String,
    pub dev: String,
    pub upperdir: Option<String>,
    pub reason: Option<String>,
}

/// The guard started.
#[derive(Debug, Clone, Serialize)]
pub struct StartEvent {
    pub time: String,
    pub event: &'static str,
    pub version: &'static str,
    pub mode: Mode,
    pub on_error: Decision,
    pub interpreters: bool,
}

/// Counters since start.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Counters {
    /// Permission events read.
    pub events: u64,
    pub exec_events: u64,
    pub open_events: u64,
    /// Execs of image files, allowed.
    pub allowed_image: u64,
    /// Events answered from the files already known to be from the image
    /// (by device, inode and ctime), without placing the file again.
    pub known_image: u64,
    /// 1 once the realtime clock was found set: the memory of image files
    /// is then off for the rest of the run (src/known.rs).
    pub clock_steps: u64,
    /// Drift by origin.
    pub drift_new: u64,
    pub drift_modified: u64,
    pub drift_other: u64,
    /// Drift denied (enforce mode).
    pub denied: u64,
    /// Drift allowed and reported (audit mode).
    pub audited: u64,
    /// Drift allowed by the allow-list.
    pub allowlisted: u64,
    /// Drift found by the interpreter option (reads, not execs).
    pub interpreter_reads: u64,
    /// Events the guard could not decide, answered by `on-error`.
    pub errors: u64,
    /// Events answered after a panic in the decision code (also errors).
    pub panics: u64,
    /// Answers the kernel refused (the process is gone, or the guard bug).
    pub response_failures: u64,
    pub queue_overflows: u64,
    /// Overlays guarded now, and mark failures since start.
    pub mounts_guarded: u64,
    pub mark_failures: u64,
    /// Event lines that could not be written, or were dropped because
    /// nothing read them (a full queue).
    pub output_errors: u64,
    /// The guard's own time per permission event, from taking it up to
    /// writing the answer (µs): what it adds to an exec besides the
    /// kernel's hand-off and the scheduler.
    pub decision_us: Option<Latency>,
}

/// A latency distribution, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Latency {
    pub count: u64,
    pub mean: f64,
    pub median: f64,
    pub p99: f64,
    pub max: f64,
}

/// Decision times in 1 µs buckets up to 10 ms (the last bucket holds the
/// rest): exact enough for percentiles, fixed memory, no allocation per
/// event.
#[derive(Debug, Clone)]
pub struct DecisionTimes {
    buckets: Vec<u64>,
    count: u64,
    total_ns: u128,
    max_ns: u64,
}

const BUCKETS: usize = 10_001;

impl Default for DecisionTimes {
    fn default() -> Self {
        DecisionTimes {
            buckets: vec![0; BUCKETS],
            count: 0,
            total_ns: 0,
            max_ns: 0,
        }
    }
}

impl DecisionTimes {
    pub fn record(&mut self, elapsed: std::time::Duration) {
        let ns = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        let bucket = usize::try_from(ns / 1000)
            .unwrap_or(usize::MAX)
            .min(BUCKETS - 1);
        if let Some(b) = self.buckets.get_mut(bucket) {
            *b += 1;
        }
        self.count += 1;
        self.total_ns += u128::from(ns);
        self.max_ns = self.max_ns.max(ns);
    }

    /// `None` before the first event.
    pub fn summary(&self) -> Option<Latency> {
        if self.count == 0 {
            return None;
        }
        let quantile = |q: f64| {
            let rank = ((self.count as f64) * q).ceil().max(1.0) as u64;
            let mut seen = 0;
            for (us, n) in self.buckets.iter().enumerate() {
                seen += n;
                if seen >= rank {
                    // The bucket's middle.
                    return us as f64 + 0.5;
                }
            }
            self.max_ns as f64 / 1000.0
        };
        Some(Latency {
            count: self.count,
            mean: self.total_ns as f64 / self.count as f64 / 1000.0,
            median: quantile(0.5),
            p99: quantile(0.99),
            max: self.max_ns as f64 / 1000.0,
        })
    }
}

/// The final summary.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryEvent<'a> {
    pub time: String,
    pub event: &'static str,
    /// Marks of this guard before and after shutdown removed them (from
    /// `/proc/self/fdinfo`); `None` while running.
    pub marks_before_shutdown: Option<usize>,
    pub marks_after_shutdown: Option<usize>,
    pub counters: &'a Counters,
}

/// Where event lines go: a thread of its own writes them, so that a reader
/// that stops reading (a full pipe) never holds up the answer to an exec.
/// Lines that do not fit in the queue are dropped and counted.
pub struct Sink {
    queue: Option<SyncSender<Vec<u8>>>,
    /// Signalled by the writer when it has written everything and ended.
    done: Receiver<()>,
    /// Lines the writer failed to write.
    failed: Arc<AtomicU64>,
}

/// Lines waiting for the writer at most (about 2 MB of events).
const QUEUE_LINES: usize = 8192;

/// How long shutdown waits for queued lines to be written.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sink")
    }
}

impl Sink {
    pub fn new(mut out: Box<dyn Write + Send>) -> Sink {
        let (queue, lines) = sync_channel::<Vec<u8>>(QUEUE_LINES);
        let (finished, done) = sync_channel(1);
        let failed = Arc::new(AtomicU64::new(0));
        let failures = Arc::clone(&failed);
        let spawned = std::thread::Builder::new()
            .name("guard-events".into())
            .spawn(move || {
                for line in lines {
                    // A failed write loses the line; the guard goes on.
                    if out.write_all(&line).and_then(|()| out.flush()).is_err() {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
                let _ = finished.send(());
            });
        Sink {
            queue: spawned.is_ok().then_some(queue),
            done,
            failed,
        }
    }

    /// Lines the writer could not write so far.
    pub fn failed_writes(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }

    /// Queues one line; false when it could not be (the queue is full
    /// because nothing reads the output, or the writer is gone).
    pub fn emit<T: Serialize>(&mut self, value: &T) -> bool {
        let Some(queue) = &self.queue else {
            return false;
        };
        let mut line = match serde_json::to_vec(value) {
            Ok(line) => line,
            Err(_) => return false,
        };
        line.push(b'\n');
        queue.try_send(line).is_ok()
    }
}

impl Drop for Sink {
    /// Gives the writer a moment to write what is queued (the summary
    /// last), but never waits on a reader that stopped reading.
    fn drop(&mut self) {
        if self.queue.take().is_some() {
            let _ = self.done.recv_timeout(DRAIN_TIMEOUT);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decision_time_percentiles() {
        let mut t = DecisionTimes::default();
        assert!(t.summary().is_none());
        for us in 1..=100u64 {
            t.record(std::time::Duration::from_micros(us));
        }
        t.record(std::time::Duration::from_secs(1));
        let s = t.summary().unwrap();
        assert_eq!(s.count, 101);
        assert_eq!(s.median, 51.5);
        assert_eq!(s.p99, 100.5);
        assert_eq!(s.max, 1_000_000.0);
    }

    /// A reader that stops reading never holds up `emit`: lines beyond the
    /// queue are dropped (and counted by the caller), and shutdown does not
    /// wait for the stalled writer beyond its drain timeout.
    #[test]
    fn a_stalled_output_never_blocks_emitting() {
        struct Stalled(std::sync::mpsc::Receiver<()>);
        impl Write for Stalled {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                let _ = self.0.recv(); // blocks until the test ends
                Ok(0)
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let (_release, stalled) = std::sync::mpsc::channel();
        let mut sink = Sink::new(Box::new(Stalled(stalled)));
        let started = std::time::Instant::now();
        let queued = (0..QUEUE_LINES + 100)
            .filter(|i| sink.emit(&serde_json::json!({ "n": i })))
            .count();
        // One line is with the writer, the queue holds the others.
        assert!(
            (QUEUE_LINES..=QUEUE_LINES + 1).contains(&queued),
            "{queued}"
        );
        drop(sink);
        assert!(started.elapsed() < DRAIN_TIMEOUT + Duration::from_secs(2));
    }

    #[test]
    fn event_lines_are_json() {
        let event = FileEvent {
            time: "t".into(),
            event: "drift",
            decision: Decision::Deny,
            mode: Mode::Enforce,
            access: Access::Exec,
            origin: Origin::Modified,
            allowlisted: false,
            path: "/bin/x".into(),
            mount: "/m".into(),
            container: None,
            pid: 5,
            ppid: Some(1),
            exe: Some("/bin/sh".into()),
            cmdline: Some(vec!["sh".into()]),
            uid: Some(0),
        };
        let buf = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl Write for Shared {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut sink = Sink::new(Box::new(Shared(buf.clone())));
        assert!(sink.emit(&event));
        drop(sink); // written by the sink's thread: wait for it
        let text = String::from_utf8(buf.lock().unwrap().clone()).unwrap();
        assert!(text.ends_with('\n'));
        let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(v["decision"], "deny");
        assert_eq!(v["origin"], "modified");
        assert_eq!(v["access"], "exec");
        assert_eq!(v["mode"], "enforce");
        assert_eq!(v["cmdline"][0], "sh");
    }
}
