//! Prometheus metrics in the text exposition format (0.0.4), kept with
//! atomics and small maps: requests, decisions, decisions by rule, errors,
//! a latency histogram, reloads and the signature cache.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Upper bounds (seconds) of the latency histogram buckets: fine below
/// 10 ms, where the webhook should live, coarse up to the timeout.
pub const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// Distinct label sets kept per labelled counter; beyond it, new label
/// values are folded into `other` (rule codes come from configuration,
/// but a policy could generate many).
const MAX_SERIES: usize = 2_000;

#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<String, u64>>,
    decisions: Mutex<BTreeMap<(String, String), u64>>,
    rules: Mutex<BTreeMap<(String, String), u64>>,
    errors: Mutex<BTreeMap<String, u64>>,
    reloads: Mutex<BTreeMap<(String, String), u64>>,
    buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_micros: AtomicU64,
    pub inflight: AtomicI64,
    pub signature_cache_hits: AtomicU64,
    pub signature_cache_misses: AtomicU64,
}

fn bump<K: Ord + Clone>(map: &Mutex<BTreeMap<K, u64>>, key: K, other: K) {
    if let Ok(mut m) = map.lock() {
        let key = if m.len() >= MAX_SERIES && !m.contains_key(&key) {
            other
        } else {
            key
        };
        *m.entry(key).or_insert(0) += 1;
    }
}

impl Metrics {
    pub fn request(&self, operation: &str) {
        bump(&self.requests, operation.to_string(), "other".into());
    }

    /// `decision`: allowed | denied; `reason`: the kind of decision
    /// (`rules`, `exempt`, `failure-policy`, `break-glass`, `audit-mode`).
    pub fn decision(&self, decision: &str, reason: &str) {
        bump(
            &self.decisions,
            (decision.to_string(), reason.to_string()),
            ("other".into(), "other".into()),
        );
    }

    pub fn rule(&self, code: &str, action: &str) {
        bump(
            &self.rules,
            (code.to_string(), action.to_string()),
            ("other".into(), action.to_string()),
        );
    }

    /// `kind`: bad_request | too_large | evaluation | deadline | registry | overloaded.
    pub fn error(&self, kind: &str) {
        bump(&self.errors, kind.to_string(), "other".into());
    }

    /// `what`: config | certificate; `result`: success | failure.
    pub fn reload(&self, what: &str, result: &str) {
        bump(
            &self.reloads,
            (what.to_string(), result.to_string()),
            ("other".into(), "other".into()),
        );
    }

    pub fn observe(&self, latency: Duration) {
        let secs = latency.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound
                && let Some(b) = self.buckets.get(i)
            {
                b.fetch_add(1, Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Relaxed);
        self.latency_sum_micros.fetch_add(
            u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
            Relaxed,
        );
    }

    /// Requests counted so far (all operations).
    pub fn total_requests(&self) -> u64 {
        self.requests.lock().map(|m| m.values().sum()).unwrap_or(0)
    }

    /// The exposition text.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        counter(
            &mut out,
            "palisade_admission_requests_total",
            "Admission requests received, by operation.",
            &self.requests,
            |k| vec![("operation", k.clone())],
        );
        counter(
            &mut out,
            "palisade_admission_decisions_total",
            "Admission decisions, by outcome and what decided.",
            &self.decisions,
            |(d, r)| vec![("decision", d.clone()), ("reason", r.clone())],
        );
        counter(
            &mut out,
            "palisade_admission_rule_decisions_total",
            "Violations, by rule and the action taken.",
            &self.rules,
            |(c, a)| vec![("rule", c.clone()), ("action", a.clone())],
        );
        counter(
            &mut out,
            "palisade_admission_errors_total",
            "Requests that could not be evaluated normally, by kind.",
            &self.errors,
            |k| vec![("kind", k.clone())],
        );
        counter(
            &mut out,
            "palisade_admission_reloads_total",
            "Configuration and certificate reloads, by result.",
            &self.reloads,
            |(w, r)| vec![("what", w.clone()), ("result", r.clone())],
        );
        let name = "palisade_admission_request_duration_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} Time from reading a request to answering it.\n# TYPE {name} histogram"
        );
        for (i, bound) in BUCKETS.iter().enumerate() {
            let n = self.buckets.get(i).map_or(0, |b| b.load(Relaxed));
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {n}");
        }
        let count = self.latency_count.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.latency_sum_micros.load(Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {count}");
        let _ = writeln!(
            out,
            "# HELP palisade_admission_inflight_requests Requests being evaluated.\n# TYPE palisade_admission_inflight_requests gauge\npalisade_admission_inflight_requests {}",
            self.inflight.load(Relaxed)
        );
        for (metric, help, v) in [
            (
                "palisade_admission_signature_cache_hits_total",
                "Signature verifications answered from the cache.",
                &self.signature_cache_hits,
            ),
            (
                "palisade_admission_signature_cache_misses_total",
                "Signature verifications that asked the registry.",
                &self.signature_cache_misses,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {metric} {help}\n# TYPE {metric} counter\n{metric} {}",
                v.load(Relaxed)
            );
        }
        out
    }
}

fn counter<K>(
    out: &mut String,
    name: &str,
    help: &str,
    map: &Mutex<BTreeMap<K, u64>>,
    labels: impl Fn(&K) -> Vec<(&'static str, String)>,
) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
    let Ok(m) = map.lock() else { return };
    for (k, v) in m.iter() {
        let l: Vec<String> = labels(k)
            .into_iter()
            .map(|(n, v)| format!("{n}=\"{}\"", escape(&v)))
            .collect();
        let _ = writeln!(out, "{name}{{{}}} {v}", l.join(","));
    }
}

/// Label value escaping: backslash, quote and newline.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histogram() {
        let m = Metrics::default();
        m.request("CREATE");
        m.request("CREATE");
        m.decision("denied", "rules");
        m.rule("K8S001", "deny");
        m.rule("we\"ird", "warn");
        m.error("deadline");
        m.observe(Duration::from_micros(800));
        m.observe(Duration::from_millis(30));
        let text = m.render();
        assert!(text.contains("palisade_admission_requests_total{operation=\"CREATE\"} 2"));
        assert!(text.contains(
            "palisade_admission_rule_decisions_total{rule=\"K8S001\",action=\"deny\"} 1"
        ));
        assert!(text.contains("rule=\"we\\\"ird\""));
        assert!(
            text.contains("palisade_admission_request_duration_seconds_bucket{le=\"0.001\"} 1")
        );
        assert!(text.contains("palisade_admission_request_duration_seconds_bucket{le=\"0.05\"} 2"));
        assert!(text.contains("palisade_admission_request_duration_seconds_count 2"));
        assert!(text.contains("palisade_admission_errors_total{kind=\"deadline\"} 1"));
        assert_eq!(m.total_requests(), 2);
    }
}
