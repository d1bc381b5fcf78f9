//! Text from inputs on its way to a terminal.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io;

/// `s` with every character a terminal would act on instead of printing
/// written as an escape (`\u{1b}`): control characters (ESC starts colour,
/// title and clipboard sequences; CR and BS overwrite what was printed)
/// and the bidirectional overrides that reorder text as displayed. Names,
/// paths and messages from scanned files go through this before a
/// terminal report prints them.
pub fn printable(s: &str) -> Cow<'_, str> {
    escaped(s, needs_escape)
}

/// [`printable`], with line breaks and tabs kept: for whole reports.
pub fn printable_lines(s: &str) -> Cow<'_, str> {
    escaped(s, |c| needs_escape(c) && !matches!(c, '\n' | '\t'))
}

/// `s` with the characters `escape` picks written as `\u{…}`.
fn escaped(s: &str, escape: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !s.chars().any(&escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if escape(c) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A writer that passes what it is given through [`printable_lines`] when
/// `on` (text reports without colours of their own), unchanged otherwise
/// (JSON escapes for itself).
#[derive(Debug)]
pub struct PrintableWriter<W: io::Write> {
    inner: W,
    on: bool,
    /// The start of a character split between two writes.
    pending: Vec<u8>,
}

impl<W: io::Write> PrintableWriter<W> {
    pub fn new(inner: W, on: bool) -> Self {
        PrintableWriter {
            inner,
            on,
            pending: Vec::new(),
        }
    }
}

impl<W: io::Write> io::Write for PrintableWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !self.on {
            return self.inner.write(buf);
        }
        self.pending.extend_from_slice(buf);
        let mut rest: &[u8] = &self.pending;
        let mut out = String::new();
        loop {
            match std::str::from_utf8(rest) {
                Ok(s) => {
                    out.push_str(&printable_lines(s));
                    rest = &[];
                    break;
                }
                Err(e) => {
                    let (good, bad) = rest.split_at(e.valid_up_to());
                    out.push_str(&printable_lines(&String::from_utf8_lossy(good)));
                    match e.error_len() {
                        Some(n) => {
                            out.push(char::REPLACEMENT_CHARACTER);
                            rest = bad.get(n..).unwrap_or_default();
                        }
                        None => {
                            rest = bad;
                            break;
                        }
                    }
                }
            }
        }
        self.pending = rest.to_vec();
        self.inner.write_all(out.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_a_terminal_would_act_on() {
        assert!(matches!(printable("nginx-7f9c/ü"), Cow::Borrowed(_)));
        assert_eq!(
            printable("x\u{1b}]0;OWNED\u{7}\u{1b}[2Jy"),
            "x\\u{1b}]0;OWNED\\u{7}\\u{1b}[2Jy"
        );
        assert_eq!(printable("a\r\nb\t\u{9b}"), "a\\u{d}\\u{a}b\\u{9}\\u{9b}");
        assert_eq!(printable("ab\u{202e}cd"), "ab\\u{202e}cd");
    }

    #[test]
    fn lines_keep_their_breaks_also_across_split_writes() {
        use std::io::Write as _;
        assert_eq!(
            printable_lines("a\tb\n\u{1b}c\r\n"),
            "a\tb\n\\u{1b}c\\u{d}\n"
        );
        let mut out = Vec::new();
        let mut w = PrintableWriter::new(&mut out, true);
        let text = "é\u{1b}[2J\n";
        let bytes = text.as_bytes();
        // Split inside `é` (two bytes).
        w.write_all(bytes.get(..1).unwrap()).unwrap();
        w.write_all(bytes.get(1..).unwrap()).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "é\\u{1b}[2J\n");
        let mut raw = Vec::new();
        PrintableWriter::new(&mut raw, false)
            .write_all(b"\x1b")
            .unwrap();
        assert_eq!(raw, b"\x1b");
    }
}
