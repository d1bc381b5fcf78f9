//! Splits a large YAML stream at document boundaries so its documents can be
//! parsed in parallel. A `---` (or `...`) at the start of a line can only be
//! a document marker (YAML forbids them at column 0 inside any scalar), so
//! splitting before such a line never changes what the documents mean.

#![deny(clippy::indexing_slicing)]

/// A slice of the stream holding whole documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk<'a> {
    pub text: &'a str,
    /// Lines before the chunk (add to the chunk's 1-based lines).
    pub line_offset: u32,
    /// Index of the chunk's first document in the whole stream.
    pub first_document: u32,
}

enum Line {
    Blank,
    Directive,
    Start,
    End,
    Content,
}

fn classify(line: &str) -> Line {
    let t = line.trim_end_matches(['\r', '\n']);
    let marker = |m: &str| {
        t.strip_prefix(m)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
    };
    if marker("---") {
        return Line::Start;
    }
    if marker("...") {
        return Line::End;
    }
    if t.starts_with('%') {
        return Line::Directive;
    }
    let trimmed = t.trim_start();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        Line::Blank
    } else {
        Line::Content
    }
}

/// Cuts `text` into chunks of roughly `target` bytes or more. Small streams
/// come back as one chunk.
pub fn split_documents(text: &str, target: usize) -> Vec<Chunk<'_>> {
    let whole = Chunk {
        text,
        line_offset: 0,
        first_document: 0,
    };
    // A lone CR is a line break to YAML but not to this line splitter:
    // such (rare) streams are parsed whole rather than risk wrong lines.
    if text.len() <= target || has_lone_cr(text) {
        return vec![whole];
    }
    let mut chunks = Vec::new();
    let mut chunk_start = 0usize;
    let mut chunk_line = 0u32;
    let mut chunk_doc = 0u32;
    let mut docs = 0u32;
    let mut open = false;
    // Where the directives before the next `---` begin (they belong to it).
    let mut directive_at: Option<(usize, u32)> = None;
    let mut offset = 0usize;
    for (line_no, line) in (0u32..).zip(text.split_inclusive('\n')) {
        let kind = classify(line);
        match kind {
            Line::Start => {
                let (cut, cut_line) = directive_at.take().unwrap_or((offset, line_no));
                if cut - chunk_start >= target
                    && cut > chunk_start
                    && let Some(slice) = text.get(chunk_start..cut)
                {
                    chunks.push(Chunk {
                        text: slice,
                        line_offset: chunk_line,
                        first_document: chunk_doc,
                    });
                    chunk_start = cut;
                    chunk_line = cut_line;
                    chunk_doc = docs;
                }
                docs += 1;
                open = true;
            }
            Line::End => open = false,
            Line::Directive => {
                if directive_at.is_none() {
                    directive_at = Some((offset, line_no));
                }
            }
            Line::Content => {
                if !open {
                    docs += 1;
                    open = true;
                }
            }
            Line::Blank => {}
        }
        offset += line.len();
    }
    match text.get(chunk_start..) {
        Some(rest) if !rest.is_empty() => chunks.push(Chunk {
            text: rest,
            line_offset: chunk_line,
            first_document: chunk_doc,
        }),
        _ => {}
    }
    if chunks.is_empty() {
        vec![whole]
    } else {
        chunks
    }
}

fn has_lone_cr(text: &str) -> bool {
    let bytes = text.as_bytes();
    memchr::memchr_iter(b'\r', bytes).any(|i| bytes.get(i + 1) != Some(&b'\n'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Limits, parse_stream};

    fn docs_with_lines(text: &str, target: usize) -> Vec<(u32, u32, String)> {
        let mut out = Vec::new();
        for chunk in split_documents(text, target) {
            let mut local = 0;
            let errors = parse_stream(chunk.text, &Limits::default(), chunk.line_offset, |d| {
                if let Some(root) = d.root {
                    out.push((
                        chunk.first_document + d.index,
                        root.span.start.line,
                        format!("{:?}", root.to_json()),
                    ));
                }
                local += 1;
            });
            assert!(errors.is_empty(), "{errors:?}");
        }
        out
    }

    #[test]
    fn chunked_parse_matches_whole_parse() {
        let mut text = String::from("# header\nfirst: 0\n");
        for i in 1..50 {
            text.push_str(&format!("---\nkey: {i}\nlist:\n- a\n- |\n  block {i}\n"));
            if i % 7 == 0 && i < 49 {
                text.push_str("...\n%YAML 1.2\n");
            }
        }
        let whole = docs_with_lines(&text, usize::MAX);
        assert_eq!(whole.len(), 50);
        for target in [1, 10, 64, 300] {
            assert_eq!(docs_with_lines(&text, target), whole, "target {target}");
        }
        assert!(split_documents(&text, 64).len() > 5);
    }

    #[test]
    fn streams_with_lone_carriage_returns_are_not_split() {
        let text = "a: 1\rb: 2\n---\nc: 3\n---\nd: 4\n";
        assert_eq!(split_documents(text, 1).len(), 1);
        assert!(split_documents("a: 1\r\n---\r\nb: 2\r\n", 1).len() > 1);
    }
}
