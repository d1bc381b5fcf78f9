//! What the guard reports: one JSON object per line (docs/guard.md lists
//! the fields), and the summary counters.

use std::io::Write;

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
    /// Event lines that could not be written.
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

/// Where event lines go.
pub struct Sink {
    out: Box<dyn Write + Send>,
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sink")
    }
}

impl Sink {
    pub fn new(out: Box<dyn Write + Send>) -> Sink {
        Sink { out }
    }

    /// Writes one line and flushes it; false when it could not be written
    /// (the guard keeps answering events regardless).
    pub fn emit<T: Serialize>(&mut self, value: &T) -> bool {
        let mut line = match serde_json::to_vec(value) {
            Ok(line) => line,
            Err(_) => return false,
        };
        line.push(b'\n');
        self.out
            .write_all(&line)
            .and_then(|()| self.out.flush())
            .is_ok()
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
