//! Builds span-carrying trees from saphyr's event stream, with limits.
//!
//! Untrusted YAML can be made to explode: aliases that expand exponentially
//! ("billion laughs"), nesting deep enough to exhaust a stack, or millions
//! of documents. The builder is iterative (no recursion while parsing),
//! bounds nesting depth, charges every alias expansion against a node
//! budget, and reports duplicate keys (keeping the last value, as the
//! API server's lenient decoding does, so a duplicate can't hide a setting
//! from the rules). A limit exceeded inside one document drops that
//! document and parsing goes on with the next; a syntax error ends the
//! stream, keeping the documents completed before it.

#![deny(clippy::indexing_slicing)]

use std::collections::{HashMap, HashSet};

use compact_str::CompactString;
use palisade_core::report::InputErrorKind;
use palisade_core::{Position, Span};
use saphyr_parser::{Event, Marker, Parser, ScalarStyle, Span as YSpan};

use super::node::{Entry, Map, Node, NodeKind, Scalar};
use super::split::Chunk;

/// Limits on one YAML stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Deepest nesting of collections in a document.
    pub max_depth: usize,
    /// Nodes a document may gain through alias expansion.
    pub max_alias_nodes: usize,
    /// Documents in one stream.
    pub max_documents: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 128,
            max_alias_nodes: 100_000,
            max_documents: 100_000,
        }
    }
}

/// One document of a stream. `root` is `None` for empty documents.
#[derive(Debug)]
pub struct Document {
    /// Index in the parsed text (0-based).
    pub index: u32,
    pub root: Option<Node>,
}

/// A problem at a place in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub span: Span,
    pub kind: InputErrorKind,
    pub message: String,
}

/// Parses a stream, calling `on_document` for each document as soon as it
/// is complete (so a large stream never holds more than one tree).
/// `line_offset` is added to every line, for text that is a slice of a
/// larger file. Returns the problems found.
pub fn parse_stream(
    text: &str,
    limits: &Limits,
    line_offset: u32,
    on_document: impl FnMut(Document),
) -> Vec<YamlError> {
    let chunk = Chunk {
        text,
        line_offset,
        first_document: 0,
    };
    parse_stream_at(&chunk, limits, on_document)
}

/// [`parse_stream`] over a chunk of a larger stream: lines and the
/// document limit count from the chunk's place in the stream (document
/// indexes stay relative to the chunk).
pub fn parse_stream_at(
    chunk: &Chunk<'_>,
    limits: &Limits,
    mut on_document: impl FnMut(Document),
) -> Vec<YamlError> {
    let mut builder = Builder::new(limits, chunk.text, chunk.line_offset);
    builder.documents_before = chunk.first_document;
    let mut parser = Parser::new_from_str(chunk.text);
    let mut errors = Vec::new();
    while let Some(next) = parser.next_event() {
        match next {
            Ok((event, span)) => {
                let step = builder.event(event, span);
                errors.append(&mut builder.warnings);
                match step {
                    Step::Continue => {}
                    Step::Document(doc) => on_document(doc),
                    Step::DocumentError(e) => errors.push(e),
                    Step::Stop(e) => {
                        errors.push(e);
                        break;
                    }
                }
            }
            Err(e) => {
                let pos = builder.within_text(builder.position(*e.marker()));
                let (kind, message) = if e.info().contains("recursion limit") {
                    (
                        InputErrorKind::Limit,
                        "nesting too deep (flow collections nested more than 255 levels)"
                            .to_string(),
                    )
                } else {
                    (InputErrorKind::Syntax, syntax_message(e.info()))
                };
                errors.push(YamlError {
                    span: Span::new(pos, pos),
                    kind,
                    message,
                });
                break;
            }
        }
    }
    errors
}

fn syntax_message(info: &str) -> String {
    if info.contains("tab") {
        format!("invalid YAML: {info} (YAML does not allow tabs for indentation)")
    } else {
        format!("invalid YAML: {info}")
    }
}

enum Step {
    Continue,
    Document(Document),
    DocumentError(YamlError),
    Stop(YamlError),
}

enum Frame {
    Seq {
        start: Position,
        anchor: usize,
        items: Vec<Node>,
        nodes: usize,
    },
    Map {
        start: Position,
        anchor: usize,
        entries: Vec<Entry>,
        nodes: usize,
        key: Option<PendingKey>,
        merges: Vec<Node>,
        seen: Option<HashSet<CompactString>>,
    },
}

struct PendingKey {
    text: CompactString,
    span: Span,
    merge: bool,
}

/// Above this many entries, duplicate-key checks switch from a scan to a set.
const LINEAR_KEY_CHECK: usize = 16;

struct Builder<'l> {
    limits: &'l Limits,
    /// The parsed text, for the end of block scalars.
    text: &'l str,
    /// Byte offset of each line of `text`, built at the first block scalar.
    line_starts: Option<Vec<usize>>,
    line_offset: u32,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Node, usize)>,
    root: Option<Node>,
    doc_index: u32,
    /// Documents of the stream before this chunk (for the limit).
    documents_before: u32,
    in_document: bool,
    /// Set when the current document had an error: its events are skipped.
    failed: bool,
    /// Problems that do not stop the document (duplicate keys).
    warnings: Vec<YamlError>,
    alias_nodes: usize,
}

impl<'l> Builder<'l> {
    fn new(limits: &'l Limits, text: &'l str, line_offset: u32) -> Self {
        Builder {
            limits,
            text,
            line_starts: None,
            line_offset,
            stack: Vec::new(),
            anchors: HashMap::new(),
            root: None,
            doc_index: 0,
            documents_before: 0,
            in_document: false,
            failed: false,
            warnings: Vec::new(),
            alias_nodes: 0,
        }
    }

    /// `pos`, or the end of the last line when it lies past it (an error
    /// at the end of input after a final newline): reports then name a
    /// line the file has, as the code frame does.
    fn within_text(&self, pos: Position) -> Position {
        let lines = u32::try_from(self.text.lines().count()).unwrap_or(u32::MAX);
        if lines == 0 || pos.line <= self.line_offset.saturating_add(lines) {
            return pos;
        }
        let last = self.text.lines().last().map_or(0, |l| l.chars().count());
        Position::new(
            self.line_offset.saturating_add(lines),
            u32::try_from(last)
                .unwrap_or(u32::MAX - 1)
                .saturating_add(1),
        )
    }

    fn position(&self, m: Marker) -> Position {
        let line = u32::try_from(m.line()).unwrap_or(u32::MAX);
        let col = u32::try_from(m.col()).unwrap_or(u32::MAX - 1);
        Position::new(line.saturating_add(self.line_offset), col.saturating_add(1))
    }

    /// Where a block scalar (`|`, `>`) really ends: saphyr's end is the
    /// start of the next token, past trailing blank and comment lines, so a
    /// finding on the scalar would cover the comment after it. The end is
    /// the end of the last line indented as the content.
    fn block_scalar_end(&mut self, span: Span) -> Position {
        let text = self.text;
        let starts = self.line_starts.get_or_insert_with(|| {
            std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        });
        let line_text = |line: u32| -> Option<&str> {
            let index = usize::try_from(line.checked_sub(1)?).ok()?;
            let start = *starts.get(index)?;
            let end = starts.get(index + 1).copied().unwrap_or(text.len());
            text.get(start..end)
                .map(|l| l.trim_end_matches(['\n', '\r']))
        };
        let indent = |l: &str| l.len() - l.trim_start_matches(' ').len();
        // saphyr starts the span at the content, whose column is the
        // block's indentation.
        let first = span.start.line.saturating_sub(self.line_offset);
        let last = span.end.line.saturating_sub(self.line_offset);
        let content_indent = span.start.column.saturating_sub(1) as usize;
        let end_line = (first..=last).rev().find(|&n| {
            line_text(n).is_some_and(|l| !l.trim().is_empty() && indent(l) >= content_indent)
        });
        let Some(n) = end_line.filter(|_| span.start < span.end) else {
            return span.end;
        };
        let columns = line_text(n).map_or(0, |l| l.trim_end().chars().count());
        let end = Position::new(
            n.saturating_add(self.line_offset),
            u32::try_from(columns)
                .unwrap_or(u32::MAX - 1)
                .saturating_add(1),
        );
        end.min(span.end).max(span.start)
    }

    fn span(&self, s: YSpan) -> Span {
        Span::new(self.position(s.start), self.position(s.end))
    }

    fn fail(&mut self, span: Span, kind: InputErrorKind, message: String) -> Step {
        self.failed = true;
        self.stack.clear();
        self.root = None;
        Step::DocumentError(YamlError {
            span,
            kind,
            message,
        })
    }

    fn event(&mut self, event: Event<'_>, ys: YSpan) -> Step {
        match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing => Step::Continue,
            Event::DocumentStart(_) => {
                let seen = self.documents_before.saturating_add(self.doc_index);
                if seen as usize >= self.limits.max_documents {
                    let span = self.span(ys);
                    return Step::Stop(YamlError {
                        span,
                        kind: InputErrorKind::Limit,
                        message: format!(
                            "more than {} documents in one stream",
                            self.limits.max_documents
                        ),
                    });
                }
                self.in_document = true;
                self.failed = false;
                self.stack.clear();
                self.anchors.clear();
                self.root = None;
                self.alias_nodes = 0;
                Step::Continue
            }
            Event::DocumentEnd => {
                let index = self.doc_index;
                self.doc_index += 1;
                self.in_document = false;
                self.anchors.clear();
                if self.failed {
                    self.failed = false;
                    return Step::Continue;
                }
                Step::Document(Document {
                    index,
                    root: self.root.take(),
                })
            }
            _ if self.failed => Step::Continue,
            Event::Scalar(text, style, anchor, tag) => {
                let mut span = self.span(ys);
                if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded) {
                    span.end = self.block_scalar_end(span);
                }
                let forced_string = tag.as_ref().is_some_and(|t| t.suffix == "str");
                let node = Node {
                    span,
                    kind: NodeKind::Scalar(Scalar {
                        text: CompactString::from(text),
                        plain: style == ScalarStyle::Plain && !forced_string,
                    }),
                };
                if anchor > 0 {
                    self.anchors.insert(anchor, (node.clone(), 1));
                }
                self.push(node, 1)
            }
            Event::Alias(id) => {
                let span = self.span(ys);
                let Some((node, count)) = self.anchors.get(&id) else {
                    return self.fail(
                        span,
                        InputErrorKind::Syntax,
                        "alias to an unknown anchor".into(),
                    );
                };
                self.alias_nodes = self.alias_nodes.saturating_add(*count);
                if self.alias_nodes > self.limits.max_alias_nodes {
                    let message = format!(
                        "alias expansion exceeds {} nodes (a \"billion laughs\" document?)",
                        self.limits.max_alias_nodes
                    );
                    return self.fail(span, InputErrorKind::Limit, message);
                }
                let (node, count) = (node.clone(), *count);
                self.push(node, count)
            }
            Event::SequenceStart(anchor, _) => {
                let start = self.span(ys).start;
                if let Some(step) = self.check_depth(start) {
                    return step;
                }
                self.stack.push(Frame::Seq {
                    start,
                    anchor,
                    items: Vec::new(),
                    nodes: 1,
                });
                Step::Continue
            }
            Event::MappingStart(anchor, _) => {
                let start = self.span(ys).start;
                if let Some(step) = self.check_depth(start) {
                    return step;
                }
                self.stack.push(Frame::Map {
                    start,
                    anchor,
                    entries: Vec::new(),
                    nodes: 1,
                    key: None,
                    merges: Vec::new(),
                    seen: None,
                });
                Step::Continue
            }
            Event::SequenceEnd => {
                let end = self.span(ys).end;
                match self.stack.pop() {
                    Some(Frame::Seq {
                        start,
                        anchor,
                        items,
                        nodes,
                    }) => self.finish(
                        Node {
                            span: Span::new(start, end.max(start)),
                            kind: NodeKind::Seq(items),
                        },
                        anchor,
                        nodes,
                    ),
                    _ => self.fail(
                        Span::new(end, end),
                        InputErrorKind::Syntax,
                        "unbalanced sequence end".into(),
                    ),
                }
            }
            Event::MappingEnd => {
                let end = self.span(ys).end;
                match self.stack.pop() {
                    Some(Frame::Map {
                        start,
                        anchor,
                        mut entries,
                        nodes,
                        merges,
                        ..
                    }) => {
                        merge_keys(&mut entries, merges);
                        self.finish(
                            Node {
                                span: Span::new(start, end.max(start)),
                                kind: NodeKind::Map(Map { entries }),
                            },
                            anchor,
                            nodes,
                        )
                    }
                    _ => self.fail(
                        Span::new(end, end),
                        InputErrorKind::Syntax,
                        "unbalanced mapping end".into(),
                    ),
                }
            }
        }
    }

    fn check_depth(&mut self, at: Position) -> Option<Step> {
        (self.stack.len() >= self.limits.max_depth).then(|| {
            let message = format!("nesting deeper than {} levels", self.limits.max_depth);
            self.fail(Span::new(at, at), InputErrorKind::Limit, message)
        })
    }

    fn finish(&mut self, node: Node, anchor: usize, nodes: usize) -> Step {
        if anchor > 0 {
            self.anchors.insert(anchor, (node.clone(), nodes));
        }
        self.push(node, nodes)
    }

    /// Adds a completed node to its parent (or makes it the document root).
    fn push(&mut self, node: Node, count: usize) -> Step {
        let Some(top) = self.stack.last_mut() else {
            self.root = Some(node);
            return Step::Continue;
        };
        match top {
            Frame::Seq { items, nodes, .. } => {
                items.push(node);
                *nodes = nodes.saturating_add(count);
                Step::Continue
            }
            Frame::Map {
                entries,
                nodes,
                key,
                merges,
                seen,
                ..
            } => {
                *nodes = nodes.saturating_add(count);
                let Some(k) = key.take() else {
                    let NodeKind::Scalar(s) = node.kind else {
                        return self.fail(
                            node.span,
                            InputErrorKind::Invalid,
                            "mapping keys must be scalars (complex keys are not valid in Kubernetes objects)".into(),
                        );
                    };
                    *key = Some(PendingKey {
                        merge: s.plain && s.text == "<<",
                        text: s.text,
                        span: node.span,
                    });
                    return Step::Continue;
                };
                if k.merge {
                    merges.push(node);
                    return Step::Continue;
                }
                let duplicate = if entries.len() < LINEAR_KEY_CHECK {
                    entries.iter().any(|e| e.key == k.text)
                } else {
                    let set =
                        seen.get_or_insert_with(|| entries.iter().map(|e| e.key.clone()).collect());
                    !set.insert(k.text.clone())
                };
                if duplicate {
                    self.warnings.push(YamlError {
                        span: k.span,
                        kind: InputErrorKind::DuplicateKey,
                        message: format!(
                            "duplicate key `{}` in mapping (Kubernetes keeps the last value; strict validation rejects the object)",
                            k.text
                        ),
                    });
                    entries.retain(|e| e.key != k.text);
                }
                entries.push(Entry {
                    key: k.text,
                    key_span: k.span,
                    value: node,
                });
                Step::Continue
            }
        }
    }
}

/// YAML merge keys (`<<: *base` or `<<: [*a, *b]`): merged entries never
/// override explicit keys, and earlier sources win over later ones.
fn merge_keys(entries: &mut Vec<Entry>, merges: Vec<Node>) {
    for source in merges {
        let maps: Vec<Node> = match source.kind {
            NodeKind::Map(_) => vec![source],
            NodeKind::Seq(items) => items,
            NodeKind::Scalar(_) => continue,
        };
        for map in maps {
            if let NodeKind::Map(m) = map.kind {
                for e in m.entries {
                    if !entries.iter().any(|x| x.key == e.key) {
                        entries.push(e);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Vec<Document>, Vec<YamlError>) {
        let mut docs = Vec::new();
        let errors = parse_stream(text, &Limits::default(), 0, |d| docs.push(d));
        (docs, errors)
    }

    #[test]
    fn keeps_spans_of_keys_and_values() {
        let (docs, errors) = parse(
            "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    image: \"nginx\"\n",
        );
        assert!(errors.is_empty());
        let root = docs[0].root.as_ref().unwrap();
        let image = root
            .entry("spec")
            .unwrap()
            .value
            .get("containers")
            .unwrap()
            .items()[0]
            .entry("image")
            .unwrap();
        assert_eq!(image.key_span.start, Position::new(6, 5));
        assert_eq!(image.value.span.start, Position::new(6, 12));
        assert_eq!(
            root.span_at("/spec/containers/0/image").unwrap().start,
            Position::new(6, 5)
        );
        assert!(!image.value.scalar().unwrap().plain);
    }

    /// A block scalar ends with its last content line, not at the next
    /// token past the blank and comment lines that follow it.
    #[test]
    fn block_scalars_end_with_their_content() {
        let text = "data:\n  script: |\n    echo one\n      echo two\n\n  # a comment\n  other: >-\n    folded\n    text\n\n# end\n";
        let (docs, errors) = parse(text);
        assert!(errors.is_empty(), "{errors:?}");
        let data = docs[0].root.as_ref().unwrap().get("data").unwrap();
        let script = data.get("script").unwrap().span;
        assert_eq!(script.start, Position::new(3, 5));
        assert_eq!(script.end, Position::new(4, 15));
        let other = data.get("other").unwrap().span;
        assert_eq!(other.end, Position::new(9, 9));
        // Lines keep counting from the chunk's place in the file.
        let mut ends = Vec::new();
        let chunk = Chunk {
            text: "a: |\n  x\n# c\n",
            line_offset: 40,
            first_document: 0,
        };
        parse_stream_at(&chunk, &Limits::default(), |d| {
            ends.push(d.root.and_then(|r| r.get("a").map(|a| a.span.end)));
        });
        assert_eq!(ends, [Some(Position::new(42, 4))]);
    }

    #[test]
    fn splits_documents_and_continues_after_a_bad_one() {
        let deep = format!("{}{}", "[".repeat(150), "]".repeat(150));
        let (docs, errors) = parse(&format!("a: 1\n---\nb: {deep}\n---\nc: 3\n"));
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].index, 2);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].kind, InputErrorKind::Limit);
        assert_eq!(errors[0].span.start.line, 3);
    }

    #[test]
    fn reports_duplicate_keys_and_keeps_the_last_value() {
        let (docs, errors) = parse("b: 1\nc: 0\nb: 2\n");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].kind, InputErrorKind::DuplicateKey);
        assert_eq!(errors[0].span.start.line, 3);
        let root = docs[0].root.as_ref().unwrap();
        assert_eq!(root.get("b").unwrap().as_i64(), Some(2));
        assert_eq!(root.entries().len(), 2);
    }

    #[test]
    fn finds_duplicates_in_large_maps() {
        let mut text: String = (0..40).map(|i| format!("k{i}: {i}\n")).collect();
        text.push_str("k7: again\n");
        let (_, errors) = parse(&text);
        assert_eq!(errors[0].kind, InputErrorKind::DuplicateKey);
        assert_eq!(errors[0].span.start.line, 41);
    }

    #[test]
    fn applies_merge_keys() {
        let (docs, errors) = parse("base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\n");
        assert!(errors.is_empty(), "{errors:?}");
        let d = docs[0].root.as_ref().unwrap().get("derived").unwrap();
        assert_eq!(d.get("x").unwrap().as_i64(), Some(1));
        assert_eq!(d.get("y").unwrap().as_i64(), Some(3));
    }

    #[test]
    fn stops_billion_laughs() {
        let mut text = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for i in 1..10 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let (docs, errors) = parse(&text);
        assert!(docs.is_empty());
        assert_eq!(errors[0].kind, InputErrorKind::Limit);
        assert!(errors[0].message.contains("alias expansion"));
    }

    #[test]
    fn bounds_nesting() {
        for text in [
            format!("{}x{}", "[".repeat(10_000), "]".repeat(10_000)),
            format!("{}x\n", "- ".repeat(10_000)),
            (0..300).map(|i| format!("{}k:\n", " ".repeat(i))).collect(),
        ] {
            let (docs, errors) = parse(&text);
            assert!(docs.is_empty());
            assert_eq!(errors[0].kind, InputErrorKind::Limit, "{errors:?}");
        }
    }

    #[test]
    fn reports_syntax_errors_with_position() {
        let (_, errors) = parse("a:\n\tb: 1\n");
        assert_eq!(errors[0].kind, InputErrorKind::Syntax);
        assert_eq!(errors[0].span.start.line, 2);
        assert!(errors[0].message.contains("tabs"));
        let (docs, errors) = parse("a: 1\n---\nb: [1, 2\n");
        assert_eq!(docs.len(), 1);
        assert_eq!(errors.len(), 1);
        // At the end of input, after the final newline: the end of the
        // last line, not a line the file does not have.
        assert_eq!(errors[0].span.start, Position::new(3, 9), "{errors:?}");
    }

    #[test]
    fn offsets_lines() {
        let mut docs = Vec::new();
        let errors = parse_stream("a: 1\n", &Limits::default(), 100, |d| docs.push(d));
        assert!(errors.is_empty());
        assert_eq!(docs[0].root.as_ref().unwrap().span.start.line, 101);
    }
}
