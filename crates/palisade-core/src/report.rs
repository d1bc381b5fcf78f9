//! The result of a run: findings, the rules they refer to, input errors and
//! counters. Sorting and deduplication happen here, once, so every reporter
//! prints the same deterministic order.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Finding, RuleMeta, Severity, Span};

/// What went wrong with one input. The run goes on with the other inputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputError {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub span: Option<Span>,
    pub kind: InputErrorKind,
    pub message: String,
}

impl InputError {
    pub fn new(path: impl Into<String>, kind: InputErrorKind, message: impl Into<String>) -> Self {
        InputError {
            path: path.into(),
            span: None,
            kind,
            message: message.into(),
        }
    }

    pub fn at(mut self, span: Option<Span>) -> Self {
        self.span = span;
        self
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.span {
            Some(s) => write!(
                f,
                "{}:{}:{}: {}",
                self.path, s.start.line, s.start.column, self.message
            ),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

/// The class of an input error, for JSON consumers and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InputErrorKind {
    /// The file could not be read (permissions, I/O error, symlink loop).
    Io,
    /// Larger than the configured size limit.
    TooLarge,
    /// Not text: NUL bytes in the content.
    Binary,
    /// Not valid UTF-8.
    Encoding,
    /// Malformed YAML or JSON.
    Syntax,
    /// A mapping defines the same key twice.
    DuplicateKey,
    /// Nesting, alias expansion or entry count over the limits.
    Limit,
    /// Well-formed but not a valid object of its kind.
    Invalid,
    /// A policy, configuration or rule file is wrong.
    Config,
}

/// Counters of a run. Absent counters are zero.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Files read (including stdin).
    pub files: u64,
    /// YAML/JSON documents parsed.
    pub documents: u64,
    /// Kubernetes objects analysed (`List` items counted one by one).
    pub objects: u64,
    /// Documents skipped because they are not Kubernetes objects.
    pub skipped_documents: u64,
}

impl Stats {
    pub fn merge(&mut self, other: &Stats) {
        self.files += other.files;
        self.documents += other.documents;
        self.objects += other.objects;
        self.skipped_documents += other.skipped_documents;
    }
}

/// Findings per severity, unsuppressed only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityCounts {
    pub critical: u64,
    pub high: u64,
    pub medium: u64,
    pub low: u64,
    pub info: u64,
}

impl SeverityCounts {
    pub fn get(&self, s: Severity) -> u64 {
        match s {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Info => self.info,
        }
    }

    pub fn total(&self) -> u64 {
        self.critical + self.high + self.medium + self.low + self.info
    }
}

/// Everything a reporter needs.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Metadata of every rule a finding refers to, by code.
    pub rules: BTreeMap<String, RuleMeta>,
    pub findings: Vec<Finding>,
    pub errors: Vec<InputError>,
    pub stats: Stats,
}

impl Report {
    /// Sorts findings (file, line, column, code, resource, container, field)
    /// and errors (file, line), and drops findings with a fingerprint seen
    /// before. Rules no finding refers to are dropped from `rules`.
    pub fn finalize(&mut self) {
        self.findings.sort_by(|a, b| {
            (
                &a.location.path,
                a.location.span,
                &a.code,
                &a.resource,
                &a.container,
                &a.field,
                &a.message,
            )
                .cmp(&(
                    &b.location.path,
                    b.location.span,
                    &b.code,
                    &b.resource,
                    &b.container,
                    &b.field,
                    &b.message,
                ))
        });
        let mut seen = HashSet::with_capacity(self.findings.len());
        self.findings.retain(|f| seen.insert(f.fingerprint.clone()));
        self.errors
            .sort_by(|a, b| (&a.path, a.span, &a.message).cmp(&(&b.path, b.span, &b.message)));
        self.errors.dedup();
        let used: HashSet<&str> = self.findings.iter().map(|f| f.code.as_ref()).collect();
        self.rules.retain(|code, _| used.contains(code.as_str()));
    }

    /// Counts of unsuppressed findings per severity.
    pub fn counts(&self) -> SeverityCounts {
        let mut c = SeverityCounts::default();
        for f in self.findings.iter().filter(|f| !f.is_suppressed()) {
            match f.severity {
                Severity::Critical => c.critical += 1,
                Severity::High => c.high += 1,
                Severity::Medium => c.medium += 1,
                Severity::Low => c.low += 1,
                Severity::Info => c.info += 1,
            }
        }
        c
    }

    pub fn suppressed_count(&self) -> u64 {
        self.findings.iter().filter(|f| f.is_suppressed()).count() as u64
    }

    /// Whether an unsuppressed finding is at or above `threshold`.
    pub fn fails(&self, threshold: Option<Severity>) -> bool {
        threshold.is_some_and(|t| {
            self.findings
                .iter()
                .any(|f| !f.is_suppressed() && f.severity >= t)
        })
    }

    /// Keeps only findings whose severity is in `severities`.
    pub fn retain_severities(&mut self, severities: &[Severity]) {
        self.findings.retain(|f| severities.contains(&f.severity));
    }

    /// Adds another report's content (rules, findings, errors, counters).
    pub fn merge(&mut self, other: Report) {
        self.rules.extend(other.rules);
        self.findings.extend(other.findings);
        self.errors.extend(other.errors);
        self.stats.merge(&other.stats);
    }
}
