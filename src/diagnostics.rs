//! Errors for people: the message, and a code frame where the problem has a
//! place in a file.

use std::io::{IsTerminal, Write};

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use palisade_core::{InputError, Span};

use crate::config::ConfigError;

/// Whether stderr gets colours.
pub fn stderr_color() -> bool {
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

/// Renders an error, with a frame of `text` around its span when both are
/// known.
pub fn render(
    title: &str,
    path: &str,
    span: Option<Span>,
    text: Option<&str>,
    color: bool,
) -> String {
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let frame = span.zip(text).and_then(|(span, text)| frame(text, span));
    let report = match &frame {
        Some((source, line_start, range)) => vec![
            Level::ERROR.primary_title(title).element(
                Snippet::source(source.as_str())
                    .line_start(*line_start)
                    .path(path)
                    .annotation(AnnotationKind::Primary.span(range.clone())),
            ),
        ],
        None => {
            let located = match span {
                Some(s) if s.start.line > 0 => {
                    format!("{path}:{}:{}: {title}", s.start.line, s.start.column)
                }
                _ => format!("{path}: {title}"),
            };
            return format!(
                "{}\n",
                renderer.render(&[Group::with_title(
                    Level::ERROR.primary_title(located.as_str())
                )])
            );
        }
    };
    format!("{}\n", renderer.render(&report))
}

/// Up to two lines before the error's line and the line itself, with the
/// byte range of the error within them.
fn frame(text: &str, span: Span) -> Option<(String, usize, std::ops::Range<usize>)> {
    if span.start.line == 0 {
        return None;
    }
    let wanted = span.start.line as usize;
    let mut first = wanted.saturating_sub(2).max(1);
    let mut lines = lines_between(text, first, wanted);
    let mut span = span;
    if lines.len() < wanted - first + 1 {
        // Errors at end of input point past the last line: show the last one.
        let total = text.lines().count();
        if total == 0 {
            return None;
        }
        let last_len = text.lines().last().map_or(0, |l| l.chars().count()) as u32;
        span = Span::point(total as u32, last_len + 1);
        first = total.saturating_sub(2).max(1);
        lines = lines_between(text, first, total);
    }
    let source = lines.join("\n");
    let last = lines.last()?;
    let line_offset = source.len() - last.len();
    let col_bytes = last
        .char_indices()
        .nth((span.start.column as usize).saturating_sub(1))
        .map_or(last.len(), |(i, _)| i);
    let start = line_offset + col_bytes;
    let end = if span.end.line == span.start.line && span.end.column > span.start.column {
        let end_col = last
            .char_indices()
            .nth((span.end.column as usize).saturating_sub(1))
            .map_or(last.len(), |(i, _)| i);
        line_offset + end_col
    } else {
        (start + 1).min(source.len()).max(start)
    };
    Some((source, first, start..end))
}

/// Lines `first..=last` (1-based) of `text` as `str::lines` yields them,
/// fewer at its end. Stops at `last` and finds line ends with memchr: a
/// stream of 50 MB with errors near its end was otherwise scanned whole,
/// twice, for every error.
fn lines_between(text: &str, first: usize, last: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let ends = memchr::memchr_iter(b'\n', text.as_bytes()).chain(std::iter::once(text.len()));
    for (number, end) in (1..=last).zip(ends) {
        if start >= text.len() && end == text.len() {
            break; // no line after a final newline
        }
        if number >= first {
            let line = text.get(start..end).unwrap_or_default();
            out.push(line.strip_suffix('\r').unwrap_or(line));
        }
        start = end + 1;
    }
    out
}

/// Renders an input error, using `text` (the file's content) for the frame.
pub fn input_error(err: &InputError, text: Option<&str>, color: bool) -> String {
    render(&err.message, &err.path, err.span, text, color)
}

/// An error and its causes on one line. A cause the message already
/// quotes (`cannot listen on …: Address already in use`) is not repeated.
fn chain_message(err: &anyhow::Error) -> String {
    let mut message = err.to_string();
    for cause in err.chain().skip(1) {
        let cause = cause.to_string();
        if !message.contains(&cause) {
            message.push_str(&format!(": {cause}"));
        }
    }
    message
}

/// Prints an error that stops the command.
pub fn print_fatal(err: &anyhow::Error) {
    let color = stderr_color();
    let mut stderr = std::io::stderr().lock();
    if let Some(c) = err.downcast_ref::<ConfigError>() {
        let _ = stderr
            .write_all(render(&c.message, &c.path, c.span, c.text.as_deref(), color).as_bytes());
        return;
    }
    let message = chain_message(err);
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let _ = writeln!(
        stderr,
        "{}",
        renderer.render(&[Group::with_title(
            Level::ERROR.primary_title(message.as_str())
        )])
    );
}

/// Prints a warning line.
pub fn warn(message: &str) {
    let renderer = if stderr_color() {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    eprintln!(
        "{}",
        renderer.render(&[Group::with_title(Level::WARNING.primary_title(message))])
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_are_not_repeated() {
        #[derive(Debug, thiserror::Error)]
        #[error("cannot listen on 127.0.0.1:1: {source}")]
        struct Bind {
            source: std::io::Error,
        }
        let io = std::io::Error::new(std::io::ErrorKind::AddrInUse, "Address already in use");
        let err = anyhow::Error::new(Bind { source: io }).context("admission serve");
        assert_eq!(
            chain_message(&err),
            "admission serve: cannot listen on 127.0.0.1:1: Address already in use"
        );
    }

    #[test]
    fn lines_between_agrees_with_str_lines() {
        for text in ["", "a", "a\n", "a\n\nb", "a\r\nb\r\n", "\n\n", "x\ny\nz"] {
            let all: Vec<&str> = text.lines().collect();
            for first in 1..=5 {
                for last in first..=5 {
                    let want: Vec<&str> = all
                        .iter()
                        .skip(first - 1)
                        .take(last + 1 - first)
                        .copied()
                        .collect();
                    assert_eq!(
                        lines_between(text, first, last),
                        want,
                        "{text:?} {first}..={last}"
                    );
                }
            }
        }
    }

    #[test]
    fn frames_the_error_line() {
        let text = "a: 1\nb: 2\nc: [1, 2\nd: 4\n";
        let out = render(
            "invalid YAML",
            "x.yaml",
            Some(Span::point(3, 4)),
            Some(text),
            false,
        );
        assert!(out.contains("x.yaml:3:4"), "{out}");
        assert!(out.contains("c: [1, 2"), "{out}");
        assert!(!out.contains("d: 4"), "{out}");
        let plain = render("gone", "y.yaml", None, None, false);
        assert!(plain.contains("y.yaml: gone"), "{plain}");
    }
}
