//! One admission review, from body to answer: parse, exemptions,
//! immutability, then rules, policies and signatures under the request's
//! deadline, with CPU-bound evaluation on the threads of a bounded pool
//! ([`crate::pool`]). Anything that cannot be evaluated is answered by the
//! failure policy; nothing here panics or waits without a bound.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use arc_swap::ArcSwap;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use crate::compiled::{Compiled, Evaluation, Violation, images_to_verify};
use crate::config::{Action, FailurePolicy, Mode};
use crate::immutability;
use crate::log::{LogSink, event};
use crate::metrics::Metrics;
use crate::pool::Pool;
use crate::review::{self, Operation, Request, Response, ReviewError};
use crate::rules::UnsignedImage;
use crate::signature::Outcome as SigOutcome;
use palisade_k8s::rules::Described;

/// Most warnings returned (the API server and kubectl print every one).
const MAX_WARNINGS: usize = 30;
/// Longest warning (characters).
const MAX_WARNING_CHARS: usize = 480;

/// An HTTP answer: status and JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Answer {
    fn review(r: &Response) -> Answer {
        Answer {
            status: 200,
            body: r.to_json(),
        }
    }

    /// A `{"message", "status"}` error body (a request that cannot be
    /// answered with an AdmissionReview: no uid to answer to).
    pub fn error(status: u16, message: &str) -> Answer {
        Answer {
            status,
            body: serde_json::to_vec(&json!({"message": message, "status": status}))
                .unwrap_or_default(),
        }
    }
}

/// The shared state of the webhook.
pub struct Admission {
    compiled: ArcSwap<Compiled>,
    pub metrics: Metrics,
    sink: Arc<dyn LogSink>,
    /// Admits requests to the evaluation pool: one per pool thread, so
    /// waiting happens here, under the request's deadline.
    workers: Arc<Semaphore>,
    pool: Pool,
}

impl std::fmt::Debug for Admission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admission").finish_non_exhaustive()
    }
}

/// Errors that decide a request by the failure policy.
#[derive(Debug, Clone)]
struct Failure {
    kind: &'static str,
    message: String,
}

impl Admission {
    /// The webhook's state, with its evaluation threads started.
    pub fn new(compiled: Compiled, sink: Arc<dyn LogSink>) -> std::io::Result<Admission> {
        let workers = compiled.config.workers();
        Ok(Admission {
            compiled: ArcSwap::from_pointee(compiled),
            metrics: Metrics::default(),
            sink,
            workers: Arc::new(Semaphore::new(workers)),
            pool: Pool::new(workers, "palisade-eval")?,
        })
    }

    /// The configuration in force.
    pub fn compiled(&self) -> Arc<Compiled> {
        self.compiled.load_full()
    }

    /// Replaces the configuration; requests already running keep theirs.
    pub fn replace(&self, compiled: Compiled) {
        self.compiled.store(Arc::new(compiled));
    }

    pub fn log(&self, line: Value) {
        self.sink.write(line);
    }

    /// Largest body accepted.
    pub fn max_body(&self) -> usize {
        self.compiled.load().config.max_request_bytes
    }

    /// Answers one request body.
    pub async fn review(&self, body: &[u8]) -> Answer {
        let start = Instant::now();
        let compiled = self.compiled();
        let deadline = start + compiled.config.deadline();
        self.metrics.inflight.fetch_add(1, Ordering::Relaxed);
        let answer = match review::parse(body) {
            Ok(req) => {
                // Shared with the evaluation pool, not copied to it.
                let req = Arc::new(req);
                self.metrics.request(&req.operation_name);
                let response = self.decide(&compiled, &req, deadline).await;
                Answer::review(&response)
            }
            Err(e) => self.bad_request(&compiled, &e, start),
        };
        self.metrics.observe(start.elapsed());
        self.metrics.inflight.fetch_sub(1, Ordering::Relaxed);
        answer
    }

    fn bad_request(&self, compiled: &Compiled, e: &ReviewError, start: Instant) -> Answer {
        self.metrics.request("invalid");
        self.metrics.error("bad_request");
        let message = e.to_string();
        self.log(event(
            "warn",
            "bad-request",
            json!({"message": message, "uid": e.uid(), "latency_ms": ms(start)}),
        ));
        match e.uid() {
            // The API server will read this answer: decide by the failure
            // policy, saying why.
            Some(uid) => {
                let failure = Failure {
                    kind: "bad_request",
                    message,
                };
                let response = self.failure_response(compiled, uid, &[failure], Vec::new());
                Answer::review(&response)
            }
            None => Answer::error(400, &message),
        }
    }

    async fn decide(
        &self,
        compiled: &Arc<Compiled>,
        req: &Arc<Request>,
        deadline: Instant,
    ) -> Response {
        let start = Instant::now();
        let Some(operation) = req.operation else {
            let failure = Failure {
                kind: "bad_request",
                message: format!("unsupported operation `{}`", req.operation_name),
            };
            return self.fail(compiled, req, &[failure], Vec::new(), start);
        };
        if let Some(ns) = req.namespace.as_deref()
            && compiled.config.is_exempt(ns, None)
        {
            self.metrics.decision("allowed", "exempt");
            return Response::allow(&req.uid);
        }
        if req.kind.name == "Namespace"
            && let Some(name) = req.name.as_deref()
        {
            let labels = req
                .object
                .as_ref()
                .and_then(|o| o.pointer("/metadata/labels"))
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                        .collect()
                });
            if compiled.config.is_exempt(name, labels.as_ref()) {
                self.metrics.decision("allowed", "exempt");
                return Response::allow(&req.uid);
            }
        }
        let immutable = immutability::check(compiled, req);
        let mut violations = immutable.violations;
        let mut failures = Vec::new();
        let evaluate = Compiled::needs_evaluation(req) && operation != Operation::Delete;
        if evaluate {
            // Each part has the deadline on its own, so what one found
            // stands when the other runs out of time (fail-open must not
            // lift the immutability or rule violations already found).
            let past_deadline = || Failure {
                kind: "deadline",
                message: format!(
                    "evaluation did not finish within the {} ms deadline",
                    compiled.config.deadline().as_millis()
                ),
            };
            let (evaluation, signatures) = tokio::join!(
                tokio::time::timeout_at(deadline.into(), self.evaluate_blocking(compiled, req)),
                tokio::time::timeout_at(
                    deadline.into(),
                    self.verify_signatures(compiled, req, deadline)
                )
            );
            match evaluation {
                Ok(Ok(e)) => {
                    violations.extend(e.violations);
                    failures.extend(e.errors.into_iter().map(|message| Failure {
                        kind: "evaluation",
                        message,
                    }));
                }
                Ok(Err(f)) => failures.push(f),
                Err(_) => failures.push(past_deadline()),
            }
            match signatures {
                Ok((v, f)) => {
                    violations.extend(v);
                    failures.extend(f);
                }
                // One deadline failure is enough to say why.
                Err(_) if failures.iter().any(|f| f.kind == "deadline") => {}
                Err(_) => failures.push(past_deadline()),
            }
        }
        if failures.is_empty() {
            self.respond(compiled, req, violations, start, immutable.relevant)
        } else {
            self.fail(compiled, req, &failures, violations, start)
        }
    }

    /// Rules and policies on a worker thread, holding a pool slot.
    async fn evaluate_blocking(
        &self,
        compiled: &Arc<Compiled>,
        req: &Arc<Request>,
    ) -> Result<Evaluation, Failure> {
        let permit = Arc::clone(&self.workers)
            .acquire_owned()
            .await
            .map_err(|_| Failure {
                kind: "overloaded",
                message: "the evaluation pool is closed (shutting down)".into(),
            })?;
        let compiled = Arc::clone(compiled);
        let req = Arc::clone(req);
        // The permit moves into the task: a slot is freed when the
        // evaluation really ends, even if the request gave up on it.
        self.pool
            .spawn(move || {
                let _permit = permit;
                compiled.evaluate(&req)
            })
            .await
            .map_err(|_| Failure {
                kind: "evaluation",
                message: "evaluation failed: it stopped without an answer".into(),
            })
    }

    async fn verify_signatures(
        &self,
        compiled: &Compiled,
        req: &Request,
        deadline: Instant,
    ) -> (Vec<Violation>, Vec<Failure>) {
        let mut violations = Vec::new();
        let mut failures = Vec::new();
        let Some(verifier) = compiled.verifier() else {
            return (violations, failures);
        };
        let Some(object) = req.object_with_type() else {
            return (violations, failures);
        };
        let (refs, invalid) = images_to_verify(verifier, &object);
        let meta = UnsignedImage.meta();
        for image in invalid {
            violations.push(compiled.admission_violation(
                meta,
                format!(
                    "image `{image}` is not a valid reference, so its signature cannot be verified"
                ),
            ));
        }
        let (hits_before, misses_before) = verifier.cache_stats();
        let checks = refs.iter().map(|r| verifier.verify(r, deadline));
        let outcomes = futures_join_all(checks).await;
        let (hits, misses) = verifier.cache_stats();
        self.metrics
            .signature_cache_hits
            .fetch_add(hits.saturating_sub(hits_before), Ordering::Relaxed);
        self.metrics
            .signature_cache_misses
            .fetch_add(misses.saturating_sub(misses_before), Ordering::Relaxed);
        for (r, outcome) in refs.iter().zip(outcomes) {
            match outcome {
                SigOutcome::Verified { .. } => {}
                SigOutcome::Unsigned { reason, .. } => violations.push(
                    compiled
                        .admission_violation(meta, format!("image `{}`: {reason}", r.full_name())),
                ),
                SigOutcome::Unavailable(e) => failures.push(Failure {
                    kind: "registry",
                    message: format!("cannot verify the signature of `{}`: {e}", r.full_name()),
                }),
            }
        }
        (violations, failures)
    }

    /// The answer when the request could be evaluated.
    fn respond(
        &self,
        compiled: &Compiled,
        req: &Request,
        violations: Vec<Violation>,
        start: Instant,
        always_log: bool,
    ) -> Response {
        let audit_mode = compiled.config.mode == Mode::Audit;
        let mut deny = Vec::new();
        let mut warnings = Vec::new();
        let mut audited = Vec::new();
        for v in &violations {
            let taken = if v.exempted.is_some() {
                "exempt"
            } else {
                v.action.as_str()
            };
            self.metrics.rule(&v.code, taken);
            if v.exempted.is_some() {
                audited.push(v.code.clone());
                continue;
            }
            match v.action {
                Action::Deny if !audit_mode => deny.push(v),
                Action::Deny => warnings.push(format!("[audit mode: would deny] {}", line(v))),
                Action::Warn => warnings.push(line(v)),
                Action::Audit => audited.push(v.code.clone()),
            }
        }
        let mut response = if deny.is_empty() {
            Response::allow(&req.uid)
        } else {
            let mut message = format!(
                "palisade denied {} ({}): {} violation{}",
                req.describe(),
                req.operation_name,
                deny.len(),
                if deny.len() == 1 { "" } else { "s" }
            );
            push_lines(&mut message, &deny);
            Response::deny(&req.uid, 403, "Forbidden", message)
        };
        response.warnings = cap_warnings(warnings);
        audited.sort();
        audited.dedup();
        if !audited.is_empty() {
            response
                .audit_annotations
                .insert("audit".into(), audited.join(","));
        }
        let reason = if audit_mode
            && violations
                .iter()
                .any(|v| v.action == Action::Deny && v.exempted.is_none())
        {
            "audit-mode"
        } else {
            "rules"
        };
        self.metrics.decision(
            if response.allowed {
                "allowed"
            } else {
                "denied"
            },
            reason,
        );
        if always_log || !violations.is_empty() {
            self.log_decision(compiled, req, &response, &violations, &[], start);
        }
        response
    }

    /// The answer when something could not be evaluated: the failure
    /// policy decides (audit mode never denies).
    fn fail(
        &self,
        compiled: &Compiled,
        req: &Request,
        failures: &[Failure],
        violations: Vec<Violation>,
        start: Instant,
    ) -> Response {
        for f in failures {
            self.metrics.error(f.kind);
        }
        let response = self.failure_response(compiled, &req.uid, failures, violations.clone());
        self.log_decision(compiled, req, &response, &violations, failures, start);
        response
    }

    fn failure_response(
        &self,
        compiled: &Compiled,
        uid: &str,
        failures: &[Failure],
        violations: Vec<Violation>,
    ) -> Response {
        let reasons: Vec<String> = failures.iter().map(|f| f.message.clone()).collect();
        let enforce = compiled.config.mode == Mode::Enforce;
        let closed = enforce && compiled.config.failure_policy == FailurePolicy::Fail;
        let denials: Vec<&Violation> = violations
            .iter()
            .filter(|v| v.action == Action::Deny && v.exempted.is_none())
            .collect();
        // Fail-open excuses what could not be checked, not what was: an
        // attacker who makes one check fail must not lift the others.
        let denied_anyway = enforce && !closed && !denials.is_empty();
        let mut response = if closed {
            let mut message = format!(
                "palisade could not evaluate the request and its failure policy is Fail (fail-closed): {}",
                reasons.join("; ")
            );
            push_lines(&mut message, &denials);
            let bad_request = failures.iter().all(|f| f.kind == "bad_request");
            let (code, reason) = if bad_request {
                (400, "BadRequest")
            } else {
                (500, "InternalError")
            };
            Response::deny(uid, code, reason, message)
        } else if denied_anyway {
            let mut message = format!(
                "palisade denied the request: {} violation{} found; failure policy Ignore (fail-open) covers only what could not be evaluated: {}",
                denials.len(),
                if denials.len() == 1 { "" } else { "s" },
                reasons.join("; ")
            );
            push_lines(&mut message, &denials);
            Response::deny(uid, 403, "Forbidden", message)
        } else {
            let mut r = Response::allow(uid);
            r.warnings.push(truncate(
                &format!(
                    "palisade could not evaluate the request; allowed by failure policy {}: {}",
                    if compiled.config.mode == Mode::Audit {
                        "(audit mode)"
                    } else {
                        "Ignore (fail-open)"
                    },
                    reasons.join("; ")
                ),
                MAX_WARNING_CHARS,
            ));
            r
        };
        for v in &violations {
            self.metrics.rule(&v.code, v.action.as_str());
            if v.action == Action::Warn && v.exempted.is_none() {
                response.warnings.push(line(v));
            }
        }
        response.warnings = cap_warnings(std::mem::take(&mut response.warnings));
        self.metrics.decision(
            if response.allowed {
                "allowed"
            } else {
                "denied"
            },
            if denied_anyway {
                "rules"
            } else {
                "failure-policy"
            },
        );
        response
    }

    fn log_decision(
        &self,
        compiled: &Compiled,
        req: &Request,
        response: &Response,
        violations: &[Violation],
        failures: &[Failure],
        start: Instant,
    ) {
        let level = if !response.allowed { "warn" } else { "info" };
        let pod = if req.resource.name == "pods" {
            req.name.clone().or_else(|| {
                req.object
                    .as_ref()
                    .and_then(|o| o.pointer("/metadata/name"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
        } else {
            None
        };
        self.log(event(
            level,
            "admission",
            json!({
                "uid": req.uid,
                "allowed": response.allowed,
                "mode": compiled.config.mode.as_str(),
                "operation": req.operation_name,
                "resource": req.resource_path(),
                "kind": req.kind.name,
                "namespace": req.namespace,
                "name": req.name,
                "pod": pod,
                "user": req.user.username,
                "groups": req.user.groups,
                "dry_run": req.dry_run,
                "violations": violations.iter().map(|v| json!({
                    "rule": v.code,
                    "name": v.name,
                    "action": v.action.as_str(),
                    "message": v.message,
                    "exempted": v.exempted,
                })).collect::<Vec<_>>(),
                "errors": failures.iter().map(|f| json!({"kind": f.kind, "message": f.message})).collect::<Vec<_>>(),
                "latency_ms": ms(start),
            }),
        ));
    }
}

fn ms(start: Instant) -> f64 {
    (start.elapsed().as_secs_f64() * 1e6).round() / 1e3
}

/// `K8S001 privileged-container: message (fix: …)`.
/// Appends one `- …` line per violation to a denial's message.
fn push_lines(message: &mut String, violations: &[&Violation]) {
    for v in violations {
        message.push_str("\n- ");
        message.push_str(&line(v));
    }
}

fn line(v: &Violation) -> String {
    let mut s = format!("{} {}: {}", v.code, v.name, v.message);
    if !v.fix.is_empty() {
        s.push_str(&format!(" (fix: {})", v.fix));
    }
    s
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
    t.push('…');
    t
}

fn cap_warnings(warnings: Vec<String>) -> Vec<String> {
    let total = warnings.len();
    let mut out: Vec<String> = warnings
        .into_iter()
        .take(MAX_WARNINGS)
        .map(|w| truncate(&w, MAX_WARNING_CHARS))
        .collect();
    if total > MAX_WARNINGS {
        out.push(format!("… and {} more warnings", total - MAX_WARNINGS));
    }
    out
}

/// Awaits futures concurrently (a request has few images).
async fn futures_join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let handles: Vec<_> = futures.map(Box::pin).collect();
    let mut out = Vec::with_capacity(handles.len());
    // Sequential awaiting of already-created futures would serialise the
    // registry calls; poll them together instead.
    let mut pending: Vec<Option<std::pin::Pin<Box<F>>>> = handles.into_iter().map(Some).collect();
    let mut results: Vec<Option<F::Output>> = (0..pending.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for (slot, result) in pending.iter_mut().zip(results.iter_mut()) {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => {
                        *result = Some(v);
                        *slot = None;
                    }
                    std::task::Poll::Pending => done = false,
                }
            }
        }
        if done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    out.extend(results.into_iter().flatten());
    out
}
