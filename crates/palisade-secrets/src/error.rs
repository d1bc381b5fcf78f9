//! Errors of loading rule files. Scanning never fails: unreadable inputs
//! become [`palisade_core::InputError`]s, matches become findings.

/// A rule file that cannot be used, naming the file and the rule.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("{path}: cannot read rule file: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: rule file is larger than {max} bytes")]
    TooLarge { path: String, max: u64 },
    #[error("{path}: invalid rule file: {message}")]
    Syntax { path: String, message: String },
    #[error("{path}: rule `{rule}`: {message}")]
    Invalid {
        path: String,
        rule: String,
        message: String,
    },
    #[error("{path}: too many rules ({count}; at most {max})")]
    TooManyRules {
        path: String,
        count: usize,
        max: usize,
    },
    /// The built-in rule file is broken (a test guards against it).
    #[error("built-in secret rules: {0}")]
    Builtin(String),
    #[error("cannot build the keyword prefilter: {0}")]
    Prefilter(String),
}
