//! Secret detection for Palisade.
//!
//! Rules are data: a TOML file (the built-in one is embedded in the
//! binary, users add their own in the same format) where each rule has a
//! stable id, a regex, keywords, an optional entropy threshold, a severity,
//! an allowlist and examples. A [`RuleSet`] compiles them into one
//! Aho-Corasick automaton over every rule's keywords (a hand-written DFA
//! searching four parts of a text at once): a file is searched for
//! keywords first, and only the regexes of the rules whose keywords occur run
//! on it, so most files never reach a regex.
//!
//! The [`Scanner`] reads files (in parallel, with a size limit, skipping
//! binary content), and turns matches into [`palisade_core::Finding`]s with
//! the secret redacted, stable fingerprints and inline `palisade:ignore`
//! suppression applied.

#![forbid(unsafe_code)]

mod entropy;
mod error;
mod keywords;
mod redact;
mod rule;
mod ruleset;
mod scanner;

pub use entropy::shannon_entropy;
pub use error::RuleError;
pub use redact::{present, redact, secret_hash};
pub use rule::{Allowlist, Examples, SecretRule};
pub use ruleset::{BUILTIN_RULES_TOML, RuleSet, RuleSetBuilder, builtin};
pub use scanner::{
    Detection, FileOutcome, ScanOptions, ScanOutcome, Scanner, Skipped, binary_by_name,
    line_column, read_text,
};
