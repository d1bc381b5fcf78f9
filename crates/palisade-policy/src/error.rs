//! Policy errors: what is wrong with a policy file (syntax, unknown
//! built-in, bad object), with the file, line and column.

use std::fmt;

use palisade_core::{Position, Span};

/// A policy that cannot be used, or an evaluation that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    /// The policy file as the user named it.
    pub path: String,
    pub span: Option<Span>,
    pub message: String,
}

impl PolicyError {
    pub fn new(path: impl Into<String>, span: Option<Span>, message: impl Into<String>) -> Self {
        PolicyError {
            path: path.into(),
            span,
            message: message.into(),
        }
    }

    pub fn at(path: impl Into<String>, line: u32, column: u32, message: impl Into<String>) -> Self {
        PolicyError::new(path, Some(Span::point(line, column)), message)
    }

    /// From one of regorus' errors, which read
    /// `\n--> file:line:col\n  |\n…\nerror: message`; `fallback` names the
    /// file when the error has no location.
    pub fn from_regorus(fallback: &str, err: &dyn fmt::Display) -> Self {
        let text = err.to_string();
        let located = text
            .lines()
            .find_map(|l| l.trim_start().strip_prefix("--> "));
        let message = text
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix("error: "))
            .map(str::to_string)
            .unwrap_or_else(|| text.trim().to_string());
        if let Some(loc) = located {
            let mut parts = loc.rsplitn(3, ':');
            let col = parts.next().and_then(|c| c.trim().parse::<u32>().ok());
            let line = parts.next().and_then(|l| l.trim().parse::<u32>().ok());
            let path = parts.next();
            if let (Some(col), Some(line), Some(path)) = (col, line, path) {
                return PolicyError::at(path, line, col, message);
            }
        }
        PolicyError::new(fallback, None, message)
    }

    pub fn line(&self) -> u32 {
        self.span.map_or(0, |s| s.start.line)
    }

    /// Moves the error by a position: for an error inside an expression
    /// that is itself written at `origin` in a file.
    pub fn offset_from(mut self, origin: Position) -> Self {
        if let Some(span) = self.span.as_mut() {
            let shift = |p: Position| {
                if p.line <= 1 {
                    Position::new(origin.line, origin.column + p.column.saturating_sub(1))
                } else {
                    Position::new(origin.line + p.line - 1, p.column)
                }
            };
            *span = Span::new(shift(span.start), shift(span.end));
        } else {
            self.span = Some(Span::new(origin, origin));
        }
        self
    }
}

impl fmt::Display for PolicyError {
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

impl std::error::Error for PolicyError {}

/// Every problem found while loading a policy set (all of them, not just
/// the first, so one run shows everything to fix).
#[derive(Debug, Clone, Default, thiserror::Error)]
#[error("{} policy error(s)", .0.len())]
pub struct LoadErrors(pub Vec<PolicyError>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_regorus_locations() {
        let e = PolicyError::from_regorus(
            "x.rego",
            &"\n--> dir/c.rego:3:11\n  |\n3 | deny[msg] {\n  |           ^\nerror: expecting }",
        );
        assert_eq!(e.path, "dir/c.rego");
        assert_eq!(e.span.map(|s| s.start), Some(Position::new(3, 11)));
        assert_eq!(e.message, "expecting }");
        let e = PolicyError::from_regorus("x.rego", &"not a valid rule path");
        assert_eq!(e.to_string(), "x.rego: not a valid rule path");
    }

    #[test]
    fn offsets_expression_errors() {
        let e = PolicyError::at("v.yaml", 1, 12, "bad").offset_from(Position::new(20, 19));
        assert_eq!(e.span.map(|s| s.start), Some(Position::new(20, 30)));
        let e = PolicyError::at("v.yaml", 2, 3, "bad").offset_from(Position::new(20, 19));
        assert_eq!(e.span.map(|s| s.start), Some(Position::new(21, 3)));
    }
}
