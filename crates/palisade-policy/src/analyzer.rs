//! The policy set as an analyzer of the scan engine: each object's JSON is
//! evaluated, and each violation becomes a finding through
//! [`Subject::finding_with`], so it gets the object's location (the field's
//! when the policy names one) and inline comments, the
//! `palisade.dev/ignore` annotation, `palisade.yaml` ignores and baselines
//! apply as to built-in rules.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use palisade_core::{Finding, RuleMeta, SuppressionKind};
use palisade_k8s::rules::Subject;
use palisade_k8s::workload::Loc;
use palisade_k8s::{Object, ObjectAnalyzer};

use crate::PolicySet;
use crate::error::PolicyError;
use crate::vap::model;

/// An evaluation error by place and text, with how many objects hit it.
type ErrorCounts = BTreeMap<(String, Option<palisade_core::Span>, String), u64>;

/// Distinct evaluation errors kept (the rest are counted).
const MAX_ERRORS: usize = 200;

/// Evaluates a shared [`PolicySet`] on every scanned object.
#[derive(Debug)]
pub struct PolicyAnalyzer {
    set: Arc<PolicySet>,
    metas: Vec<Arc<RuleMeta>>,
    errors: Mutex<ErrorCounts>,
    undiscovered: Mutex<Vec<String>>,
    objects: AtomicU64,
}

impl PolicyAnalyzer {
    pub fn new(set: Arc<PolicySet>) -> PolicyAnalyzer {
        let metas = set.metas();
        PolicyAnalyzer {
            set,
            metas,
            errors: Mutex::new(BTreeMap::new()),
            undiscovered: Mutex::new(Vec::new()),
            objects: AtomicU64::new(0),
        }
    }

    /// Evaluation errors seen so far, each with how many objects hit it.
    pub fn errors(&self) -> Vec<(PolicyError, u64)> {
        self.errors
            .lock()
            .map(|e| {
                e.iter()
                    .map(|((path, span, message), n)| {
                        (PolicyError::new(path.clone(), *span, message.clone()), *n)
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Policy objects met during the scan that were not known before it
    /// (on stdin, which is read once): they were not applied.
    pub fn undiscovered(&self) -> Vec<String> {
        self.undiscovered
            .lock()
            .map(|u| u.clone())
            .unwrap_or_default()
    }

    /// Objects evaluated.
    pub fn objects(&self) -> u64 {
        self.objects.load(Ordering::Relaxed)
    }

    fn record(&self, error: PolicyError) {
        if let Ok(mut errors) = self.errors.lock() {
            let key = (error.path, error.span, error.message);
            if let Some(n) = errors.get_mut(&key) {
                *n += 1;
            } else if errors.len() < MAX_ERRORS {
                errors.insert(key, 1);
            }
        }
    }
}

impl ObjectAnalyzer for PolicyAnalyzer {
    fn rules(&self) -> Vec<RuleMeta> {
        self.metas.iter().map(|m| (**m).clone()).collect()
    }

    fn analyze(&self, obj: &Object, subject: &Subject, out: &mut Vec<Finding>) {
        self.objects.fetch_add(1, Ordering::Relaxed);
        if obj.group() == model::GROUP
            && (obj.kind == model::POLICY_KIND || obj.kind == model::BINDING_KIND)
            && obj.file.path.as_ref() == palisade_core::source::STDIN_NAME
            && let Ok(mut u) = self.undiscovered.lock()
        {
            u.push(format!(
                "{} {} on stdin",
                obj.kind,
                obj.name.as_deref().unwrap_or("<unnamed>")
            ));
        }
        if !self.set.may_apply(obj) {
            return;
        }
        let json = obj.root.to_json();
        let evaluation = self.set.evaluate(&json);
        for e in evaluation.errors {
            self.record(e);
        }
        for v in evaluation.violations {
            let loc = match &v.pointer {
                Some(p) => locate(obj, subject, p),
                None => subject.at_anchor(),
            };
            let message = v.message;
            let mut finding = subject.finding_with(&v.rule, v.severity, loc, message.clone());
            // A policy may report several problems on one field (or on the
            // object itself): the message is part of the identity.
            finding.fingerprint = Finding::fingerprint_of(&[&finding.fingerprint, &message]);
            if let Some(reason) = v.exception {
                finding.suppress(SuppressionKind::Config, Some(reason));
            }
            out.push(finding);
        }
    }
}

/// The span of the field `pointer` names, or of its nearest existing
/// parent; the pointer is kept whole.
fn locate(obj: &Object, subject: &Subject, pointer: &str) -> Loc {
    let mut p = pointer;
    let span = loop {
        if let Some(span) = obj.root.span_at(p) {
            break if p.is_empty() { subject.anchor } else { span };
        }
        match p.rfind('/') {
            Some(i) => p = p.get(..i).unwrap_or_default(),
            None => break subject.anchor,
        }
    };
    Loc {
        span,
        pointer: pointer.to_string(),
        container: None,
    }
}
