//! JSON-lines logging: every decision worth keeping (denials, warnings,
//! audits, errors, every immutability decision with the user and the pod)
//! and every operational event (start, reload, certificate change) is one
//! JSON object per line, for the cluster's log pipeline.

use std::io::Write as _;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

/// Where log lines go.
pub trait LogSink: Send + Sync {
    fn write(&self, line: Value);
}

/// Standard output, one line per event.
#[derive(Debug, Default)]
pub struct Stdout;

impl LogSink for Stdout {
    fn write(&self, line: Value) {
        // Formatted whole first: through stdout's line buffer (1 KiB) a
        // denial listing a dozen violations took several writes.
        let Ok(mut bytes) = serde_json::to_vec(&line) else {
            return;
        };
        bytes.push(b'\n');
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(&bytes);
        let _ = out.flush();
    }
}

/// Keeps lines in memory (tests, embedding).
#[derive(Debug, Default)]
pub struct Memory(pub Mutex<Vec<Value>>);

impl LogSink for Memory {
    fn write(&self, line: Value) {
        if let Ok(mut lines) = self.0.lock() {
            lines.push(line);
        }
    }
}

impl Memory {
    pub fn lines(&self) -> Vec<Value> {
        self.0.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

/// An event: `{"ts": …, "level": …, "event": …, …fields}`.
pub fn event(level: &str, event: &str, fields: Value) -> Value {
    let mut m = Map::new();
    m.insert("ts".into(), Value::String(timestamp(SystemTime::now())));
    m.insert("level".into(), Value::String(level.into()));
    m.insert("event".into(), Value::String(event.into()));
    if let Value::Object(f) = fields {
        m.extend(f);
    }
    Value::Object(m)
}

/// RFC 3339 UTC with milliseconds.
pub fn timestamp(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let date = palisade_core::date::Date::from_days_since_epoch((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        date.year,
        date.month,
        date.day,
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        d.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_timestamps() {
        let t = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        assert_eq!(timestamp(t), "2023-11-14T22:13:20.123Z");
        let e = event("info", "start", serde_json::json!({"a": 1}));
        assert_eq!(e["event"], "start");
        assert_eq!(e["a"], 1);
    }
}
