//! The crate's error type: store, I/O and download failures. Problems
//! with individual advisories are not errors: they are counted per source
//! ([`crate::store::SourceInfo`]); findings are data.

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The store file cannot be opened, read or written.
    #[error("advisory database {path}: {message}")]
    Store { path: String, message: String },
    /// The store was written by an incompatible version of Palisade.
    #[error(
        "advisory database {path} has schema version {found}, this Palisade reads version {expected}: run `palisade db update` or re-import"
    )]
    Schema {
        path: String,
        found: String,
        expected: u32,
    },
    /// No store at the path.
    #[error(
        "no advisory database at {path}: run `palisade db update` (network) or `palisade db import PATH…` (offline)"
    )]
    Missing { path: String },
    /// An input (file, directory, archive) cannot be read.
    #[error("{path}: {message}")]
    Input { path: String, message: String },
    /// A download failed.
    #[error("{url}: {message}")]
    Download { url: String, message: String },
}

impl Error {
    pub(crate) fn store(path: &std::path::Path, e: impl std::fmt::Display) -> Error {
        Error::Store {
            path: path.display().to_string(),
            message: e.to_string(),
        }
    }

    pub(crate) fn input(path: impl std::fmt::Display, e: impl std::fmt::Display) -> Error {
        Error::Input {
            path: path.to_string(),
            message: e.to_string(),
        }
    }
}
