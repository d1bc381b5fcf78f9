//! Where a finding is: a file and a line/column span in it.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// A 1-based line and 1-based column (counted in Unicode scalar values).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Position {
    pub line: u32,
    pub column: u32,
}

impl Position {
    pub const fn new(line: u32, column: u32) -> Self {
        Position { line, column }
    }
}

/// A half-open range `[start, end)` in a file.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Span {
    pub start: Position,
    pub end: Position,
}

impl Span {
    pub const fn new(start: Position, end: Position) -> Self {
        Span { start, end }
    }

    /// A span covering a single point.
    pub const fn point(line: u32, column: u32) -> Self {
        let p = Position::new(line, column);
        Span { start: p, end: p }
    }

    /// The smallest span covering both.
    pub fn join(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// A file (as the user named it) and, where known, the span in it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Location {
    pub path: Arc<str>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub span: Option<Span>,
}

impl Location {
    pub fn new(path: Arc<str>, span: Option<Span>) -> Self {
        Location { path, span }
    }

    /// The first line, or 0 when the location is a whole file.
    pub fn line(&self) -> u32 {
        self.span.map_or(0, |s| s.start.line)
    }

    /// The first column, or 0 when the location is a whole file.
    pub fn column(&self) -> u32 {
        self.span.map_or(0, |s| s.start.column)
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.span {
            Some(s) => write!(f, "{}:{}:{}", self.path, s.start.line, s.start.column),
            None => f.write_str(&self.path),
        }
    }
}
