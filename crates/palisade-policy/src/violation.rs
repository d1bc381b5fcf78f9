//! What a policy reports about one object: a violation of a rule, with the
//! action the policy asks for and, where the policy says, the field.

use std::sync::Arc;

use palisade_core::{RuleMeta, Severity};

/// What an admission controller does with a violation: Rego `deny` and
/// `violation` rules and VAP `Deny` bindings reject; `warn` rules and `Warn`
/// bindings warn; `Audit` bindings only record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    Audit,
    Warn,
    Deny,
}

impl Action {
    /// The severity a finding gets when its policy names none: Deny is an
    /// error (high), Warn a warning (medium), Audit information.
    pub fn default_severity(self) -> Severity {
        match self {
            Action::Deny => Severity::High,
            Action::Warn => Severity::Medium,
            Action::Audit => Severity::Info,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Deny => "deny",
            Action::Warn => "warn",
            Action::Audit => "audit",
        }
    }
}

/// One violated rule on one object.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// The rule's metadata (code, name, title, fix, references).
    pub rule: Arc<RuleMeta>,
    pub severity: Severity,
    pub action: Action,
    pub message: String,
    /// JSON pointer of the offending field inside the object, when the
    /// policy names one.
    pub pointer: Option<String>,
    /// Set when a Conftest `exception` rule exempts the object: the
    /// violation stays visible, marked, as every suppression does.
    pub exception: Option<String>,
}
