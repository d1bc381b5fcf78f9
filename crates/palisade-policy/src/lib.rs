//! Policy as code for Palisade: Conftest-style Rego policies (through
//! regorus) and Kubernetes ValidatingAdmissionPolicies (CEL, evaluated
//! offline), behind one compiled, thread-safe [`PolicySet`].
//!
//! A set is compiled once (per run of `palisade scan`, per configuration of
//! the admission webhook) and then evaluates one Kubernetes object at a
//! time — its JSON, as the API server sees it — from any number of threads.
//! [`analyzer::PolicyAnalyzer`] plugs it into the scan engine, so findings
//! get exact locations and every suppression mechanism of built-in rules.

pub mod analyzer;
pub mod error;
pub mod load;
pub mod rego;
pub mod vap;
mod violation;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use palisade_core::RuleMeta;
use serde_json::Value;

pub use error::{LoadErrors, PolicyError};
pub use load::{LoadOptions, load};
pub use rego::{RegoEngine, RegoOptions, RegoSet};
pub use vap::{VapOptions, VapSet};
pub use violation::{Action, Violation};

static COMPILATIONS: AtomicUsize = AtomicUsize::new(0);

pub(crate) fn count_compilation() {
    COMPILATIONS.fetch_add(1, Ordering::Relaxed);
}

/// How many times policy sets were compiled in this process (Rego modules
/// once, VAPs once): benchmarks check it stays at one per run.
pub fn compilations() -> usize {
    COMPILATIONS.load(Ordering::Relaxed)
}

/// Rego policies and VAPs, compiled, ready to evaluate objects.
#[derive(Debug, Default)]
pub struct PolicySet {
    pub rego: Option<RegoSet>,
    pub vap: VapSet,
}

/// What evaluating one object produced.
#[derive(Debug, Default)]
pub struct Evaluation {
    pub violations: Vec<Violation>,
    /// Policies that failed to evaluate (time or cost limit, built-in
    /// error): problems of the policy, reported with its location.
    pub errors: Vec<PolicyError>,
}

impl PolicySet {
    /// Whether the set applies any rule.
    pub fn is_empty(&self) -> bool {
        self.rego.as_ref().is_none_or(|r| r.rules().is_empty()) && self.vap.is_empty()
    }

    /// Evaluates every policy against one object.
    pub fn evaluate(&self, object: &Value) -> Evaluation {
        self.evaluate_request(object, None)
    }

    /// Evaluates every policy against the object of an admission request:
    /// Rego sees the object as `input` (as in scans); VAPs also get the
    /// request's operation, user and old object (see
    /// [`VapSet::evaluate_request`]).
    pub fn evaluate_request(
        &self,
        object: &Value,
        request: Option<&vap::RequestInfo<'_>>,
    ) -> Evaluation {
        let mut out = Evaluation::default();
        if let Some(rego) = &self.rego {
            let (v, e) = rego.evaluate(object);
            out.violations.extend(v);
            out.errors.extend(e);
        }
        let (v, e) = self.vap.evaluate_request(object, request);
        out.violations.extend(v);
        out.errors.extend(e);
        out
    }

    /// Whether any policy may apply to the object.
    pub fn may_apply(&self, obj: &palisade_k8s::object::Object) -> bool {
        self.rego
            .as_ref()
            .is_some_and(|r| r.may_apply(&obj.api_version, &obj.kind))
            || self.vap.may_match_kind(obj.group(), &obj.kind)
    }

    /// Metadata of every rule the set may report.
    pub fn metas(&self) -> Vec<Arc<RuleMeta>> {
        let mut out: Vec<Arc<RuleMeta>> =
            self.rego.iter().flat_map(|r| r.metas().cloned()).collect();
        out.extend(self.vap.metas());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_are_shareable_between_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<PolicySet>();
        shareable::<analyzer::PolicyAnalyzer>();
    }
}
