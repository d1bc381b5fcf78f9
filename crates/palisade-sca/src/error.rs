//! The crate's one error type. Every variant names the input it is about
//! (a file, an image reference, a layer), so the binary can print it as is
//! and the run can go on with the other inputs.

use palisade_core::report::{InputError, InputErrorKind};

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong with one input.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input could not be read.
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    /// The input is malformed (syntax or structure), with a position when
    /// one is known.
    #[error("{path}{}: {message}", position(*.line, *.column))]
    Parse {
        path: String,
        line: Option<u32>,
        column: Option<u32>,
        message: String,
    },
    /// The input is over a size, count or depth limit.
    #[error("{path}: {message}")]
    Limit { path: String, message: String },
    /// A well-formed input of a kind or version Palisade does not handle
    /// (media types, SBOM spec versions, platforms).
    #[error("{path}: {message}")]
    Unsupported { path: String, message: String },
    /// A path in an archive tried to leave the extraction root.
    #[error("{path}: {message}")]
    Escape { path: String, message: String },
    /// The registry refused or failed the request (auth, not found, network).
    #[error("{reference}: {message}")]
    Registry { reference: String, message: String },
}

fn position(line: Option<u32>, column: Option<u32>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(":{l}:{c}"),
        (Some(l), None) => format!(":{l}"),
        _ => String::new(),
    }
}

impl Error {
    pub fn io(path: impl Into<String>, err: &std::io::Error) -> Error {
        let message = match err.kind() {
            std::io::ErrorKind::NotFound => "no such file or directory".to_owned(),
            std::io::ErrorKind::PermissionDenied => "cannot read: permission denied".to_owned(),
            std::io::ErrorKind::UnexpectedEof => "truncated: unexpected end of data".to_owned(),
            _ => format!("cannot read: {err}"),
        };
        Error::Io {
            path: path.into(),
            message,
        }
    }

    pub fn parse(path: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Parse {
            path: path.into(),
            line: None,
            column: None,
            message: message.into(),
        }
    }

    pub fn parse_at(path: impl Into<String>, line: usize, message: impl Into<String>) -> Error {
        Error::Parse {
            path: path.into(),
            line: u32::try_from(line).ok(),
            column: None,
            message: message.into(),
        }
    }

    /// A JSON syntax or shape error, with serde_json's line and column.
    pub fn json(path: impl Into<String>, err: &serde_json::Error) -> Error {
        let line = u32::try_from(err.line()).ok().filter(|l| *l > 0);
        let column = u32::try_from(err.column()).ok().filter(|_| line.is_some());
        // serde_json appends " at line L column C"; the position is ours to print.
        let msg = err.to_string();
        let msg = msg
            .rsplit_once(" at line ")
            .map_or(msg.as_str(), |(m, _)| m)
            .to_owned();
        Error::Parse {
            path: path.into(),
            line,
            column,
            message: format!("invalid JSON: {msg}"),
        }
    }

    pub fn limit(path: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Limit {
            path: path.into(),
            message: message.into(),
        }
    }

    pub fn unsupported(path: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Unsupported {
            path: path.into(),
            message: message.into(),
        }
    }

    /// The input this error is about.
    pub fn path(&self) -> &str {
        match self {
            Error::Io { path, .. }
            | Error::Parse { path, .. }
            | Error::Limit { path, .. }
            | Error::Unsupported { path, .. }
            | Error::Escape { path, .. } => path,
            Error::Registry { reference, .. } => reference,
        }
    }

    /// The message without the path.
    pub fn message(&self) -> &str {
        match self {
            Error::Io { message, .. }
            | Error::Parse { message, .. }
            | Error::Limit { message, .. }
            | Error::Unsupported { message, .. }
            | Error::Escape { message, .. }
            | Error::Registry { message, .. } => message,
        }
    }
}

impl From<Error> for InputError {
    fn from(e: Error) -> InputError {
        let kind = match &e {
            Error::Io { .. } | Error::Registry { .. } => InputErrorKind::Io,
            Error::Parse { .. } => InputErrorKind::Syntax,
            Error::Limit { .. } => InputErrorKind::Limit,
            Error::Unsupported { .. } | Error::Escape { .. } => InputErrorKind::Invalid,
        };
        let span = match &e {
            Error::Parse {
                line: Some(l),
                column,
                ..
            } => Some(palisade_core::Span::point(*l, column.unwrap_or(1))),
            _ => None,
        };
        InputError::new(e.path(), kind, e.message()).at(span)
    }
}
