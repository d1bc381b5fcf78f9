//! Scanning: texts into detections, detections into findings, and files
//! (read in parallel, with a size limit, binary files skipped) into an
//! outcome.

#![deny(clippy::indexing_slicing)]

use std::collections::HashMap;
use std::fs;
use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;

use memchr::memmem;
use palisade_core::report::InputErrorKind;
use palisade_core::source::{Input, STDIN_NAME};
use palisade_core::suppress::InlineDirectives;
use palisade_core::{Finding, InputError, Location, Position, Span, SuppressionKind};
use rayon::prelude::*;

use crate::redact::{present, secret_hash};
use crate::rule::SecretRule;
use crate::ruleset::RuleSet;

/// Bytes sniffed for NUL to tell binary files, as git does.
const SNIFF_BYTES: usize = 8000;
const MARKER: &[u8] = b"palisade:ignore";

/// One match of a rule that passed its entropy threshold and allowlists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detection {
    /// Index of the rule in its [`RuleSet`].
    pub rule: usize,
    /// Byte range of the secret (the `secret` group, or the whole match).
    pub start: usize,
    pub end: usize,
    /// Byte range of the whole match (a PEM block's BEGIN and END lines).
    pub whole: (usize, usize),
    generic: bool,
}

impl RuleSet {
    /// Every detection in `text`, sorted by position. `path` is checked
    /// against the allowlists. Generic rules yield to specific ones matching
    /// overlapping text.
    pub fn detect(&self, path: &str, text: &[u8]) -> Vec<Detection> {
        if self.allowlist.allows_path(path) {
            return Vec::new();
        }
        let mut out = Vec::new();
        let candidates = self.candidates(text);
        for group in candidates.chunk_by(|a, b| a.0 == b.0) {
            let Some(&(index, _)) = group.first() else {
                continue;
            };
            let Some(rule) = self.rule_at(index) else {
                continue;
            };
            if rule.allows_path(path) {
                continue;
            }
            let mut push = |whole: (usize, usize), start: usize, end: usize| {
                let line_start = text
                    .get(..whole.0)
                    .and_then(|h| memchr::memrchr(b'\n', h))
                    .map_or(0, |i| i + 1);
                let line_end = text
                    .get(whole.1..)
                    .and_then(|t| memchr::memchr(b'\n', t))
                    .map_or(text.len(), |i| whole.1 + i);
                let (Some(secret), Some(line)) =
                    (text.get(start..end), text.get(line_start..line_end))
                else {
                    return;
                };
                if secret.is_empty()
                    || !rule.accepts(secret, line)
                    || self.allowlist.allows_secret(secret)
                    || self.allowlist.allows_line(line)
                {
                    return;
                }
                out.push(Detection {
                    rule: index as usize,
                    start,
                    end,
                    whole,
                    generic: rule.generic,
                });
            };
            if rule.multiline || rule.keywords.is_empty() {
                search(rule, text, 0, &mut push);
                continue;
            }
            // Only the lines holding a keyword: most of a file that merely
            // mentions `token` somewhere never reaches the regex.
            let mut done = 0usize;
            for &(_, at) in group {
                if at < done {
                    continue;
                }
                let head = text.get(..at).unwrap_or(&[]);
                let start = memchr::memrchr(b'\n', head).map_or(0, |i| i + 1);
                let tail = text.get(at..).unwrap_or(&[]);
                let end = memchr::memchr(b'\n', tail).map_or(text.len(), |i| at + i);
                if let Some(line) = text.get(start..end) {
                    search(rule, line, start, &mut push);
                }
                done = end.saturating_add(1);
            }
        }
        if out.iter().any(|d| d.generic) {
            let specific: Vec<(usize, usize)> = out
                .iter()
                .filter(|d| !d.generic)
                .map(|d| (d.start, d.end))
                .collect();
            out.retain(|d| !d.generic || !specific.iter().any(|&(s, e)| s < d.end && d.start < e));
            // Two generic rules on the same text: keep the first.
            out.sort_by_key(|d| (d.start, d.rule));
            let mut kept: Vec<Detection> = Vec::with_capacity(out.len());
            for d in out {
                let dup = d.generic
                    && kept
                        .iter()
                        .any(|k| k.generic && k.start < d.end && d.start < k.end);
                if !dup {
                    kept.push(d);
                }
            }
            out = kept;
        }
        out.sort_by_key(|d| (d.start, d.end, d.rule));
        // The same secret matched by two rules (a GitHub token as an npm
        // auth token) is one leak: the lower-numbered rule reports it.
        out.dedup_by(|later, first| later.start == first.start && later.end == first.end);
        // A secret inside a larger one of another rule (a key inside a
        // webhook URL) is the same leak: the larger finding stands.
        if out.len() > 1 {
            let spans: Vec<(usize, usize, usize)> =
                out.iter().map(|d| (d.start, d.end, d.rule)).collect();
            out.retain(|d| {
                !spans.iter().any(|&(s, e, r)| {
                    r != d.rule && s <= d.start && d.end <= e && (e - s) > (d.end - d.start)
                })
            });
        }
        out
    }
}

/// Runs a rule's regex over `text` (which starts at `base` in the file),
/// passing the secret's byte range to `push`.
fn search(
    rule: &SecretRule,
    text: &[u8],
    base: usize,
    push: &mut dyn FnMut((usize, usize), usize, usize),
) {
    match rule.secret_group {
        None => {
            for m in rule.regex.find_iter(text) {
                let whole = (base + m.start(), base + m.end());
                push(whole, whole.0, whole.1);
            }
        }
        Some(group) => {
            for caps in rule.regex.captures_iter(text) {
                let Some(all) = caps.get(0) else { continue };
                let whole = (base + all.start(), base + all.end());
                match caps.get(group) {
                    Some(m) => push(whole, base + m.start(), base + m.end()),
                    None => push(whole, whole.0, whole.1),
                }
            }
        }
    }
}

/// Line and column (1-based; columns in characters) of byte `offset`,
/// counting from `from` (a known line start at line `from_line`).
pub fn line_column(text: &[u8], offset: usize, from: usize, from_line: u32) -> (u32, u32, usize) {
    let offset = offset.min(text.len());
    let from = from.min(offset);
    let segment = text.get(from..offset).unwrap_or(&[]);
    let newlines = memchr::memchr_iter(b'\n', segment).count() as u32;
    let line_start = memchr::memrchr(b'\n', segment).map_or(from, |i| from + i + 1);
    let column = text
        .get(line_start..offset)
        .unwrap_or(&[])
        .iter()
        .filter(|&&b| (b & 0xC0) != 0x80)
        .count() as u32
        + 1;
    (from_line + newlines, column, line_start)
}

/// What to do with what is found.
#[derive(Debug, Clone, Copy)]
pub struct ScanOptions {
    /// Files larger than this are skipped.
    pub max_file_size: u64,
    /// Print secrets in full instead of redacted.
    pub show_secrets: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            max_file_size: 128 * 1024 * 1024,
            show_secrets: false,
        }
    }
}

/// Why a file was not scanned (not an error: secret scanning walks every
/// file, and binaries or huge files are expected).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skipped {
    /// NUL bytes in the first 8000 bytes, or a binary format's extension
    /// ([`binary_by_name`]).
    Binary,
    /// Over the size limit (the file's size).
    TooLarge(u64),
}

/// One file's result.
#[derive(Debug, Default)]
pub struct FileOutcome {
    pub findings: Vec<Finding>,
    pub error: Option<InputError>,
    pub skipped: Option<Skipped>,
    /// Bytes scanned (0 when skipped).
    pub bytes: u64,
}

/// The result of scanning many inputs.
#[derive(Debug, Default)]
pub struct ScanOutcome {
    pub findings: Vec<Finding>,
    pub errors: Vec<InputError>,
    /// Files scanned.
    pub files: u64,
    pub bytes: u64,
    pub binary_skipped: u64,
    /// Files over the size limit, by display name.
    pub too_large: Vec<String>,
}

impl ScanOutcome {
    fn add(&mut self, display: &str, file: FileOutcome) {
        self.findings.extend(file.findings);
        self.errors.extend(file.error);
        match file.skipped {
            Some(Skipped::Binary) => self.binary_skipped += 1,
            Some(Skipped::TooLarge(_)) => self.too_large.push(display.to_string()),
            None => {
                self.files += 1;
                self.bytes += file.bytes;
            }
        }
    }

    fn merge(mut self, other: ScanOutcome) -> ScanOutcome {
        self.findings.extend(other.findings);
        self.errors.extend(other.errors);
        self.files += other.files;
        self.bytes += other.bytes;
        self.binary_skipped += other.binary_skipped;
        self.too_large.extend(other.too_large);
        self
    }
}

/// Scans texts and files with a rule set.
#[derive(Debug, Clone)]
pub struct Scanner {
    rules: Arc<RuleSet>,
    options: ScanOptions,
}

impl Scanner {
    pub fn new(rules: Arc<RuleSet>, options: ScanOptions) -> Self {
        Scanner { rules, options }
    }

    pub fn rules(&self) -> &Arc<RuleSet> {
        &self.rules
    }

    pub fn options(&self) -> ScanOptions {
        self.options
    }

    /// Findings in one text. Inline `palisade:ignore` comments (after `#`,
    /// `//`, `--`, `;`, `/*` or `<!--`) suppress findings on their line or
    /// the next one.
    pub fn scan_bytes(&self, path: &Arc<str>, text: &[u8]) -> Vec<Finding> {
        let detections = self.rules.detect(path, text);
        if detections.is_empty() {
            return Vec::new();
        }
        let directives = if memmem::find(text, MARKER).is_some() {
            InlineDirectives::parse(&normalize_comments(text))
        } else {
            InlineDirectives::default()
        };
        let mut occurrences: HashMap<(usize, String), u32> = HashMap::new();
        let mut findings = Vec::with_capacity(detections.len());
        let (mut from, mut from_line) = (0usize, 1u32);
        for d in detections {
            let Some(rule) = self.rules.rule(d.rule) else {
                continue;
            };
            let secret = text.get(d.start..d.end).unwrap_or(&[]);
            let (line, column, line_start) = line_column(text, d.start, from, from_line);
            (from, from_line) = (line_start, line);
            let (end_line, end_column, _) = line_column(text, d.end, line_start, line);
            let hash = secret_hash(secret);
            let n = occurrences.entry((d.rule, hash.clone())).or_insert(0);
            *n += 1;
            let message = format!(
                "{}: {}",
                rule.meta.title,
                present(secret, self.options.show_secrets)
            );
            let mut finding = Finding::new(
                rule.meta.code.clone(),
                rule.meta.severity,
                message,
                Location::new(
                    Arc::clone(path),
                    Some(Span::new(
                        Position::new(line, column),
                        Position::new(end_line, end_column),
                    )),
                ),
            );
            finding.fingerprint = fingerprint(&rule.meta.code, path, &hash, *n);
            // A comment may name any line of the match: above a PEM block's
            // BEGIN line or after its END line, not only its first key line.
            let lines = if rule.multiline && d.whole != (d.start, d.end) && !directives.is_empty() {
                let breaks = |a: usize, b: usize| {
                    text.get(a..b)
                        .map_or(0, |t| memchr::memchr_iter(b'\n', t).count())
                };
                let first = line.saturating_sub(breaks(d.whole.0, d.start) as u32);
                let last = end_line.saturating_add(breaks(d.end, d.whole.1) as u32);
                first..=last
            } else {
                line..=line
            };
            if let Some(dir) = lines
                .into_iter()
                .find_map(|l| directives.find(&rule.meta.code, &rule.meta.name, l, 0))
            {
                finding.suppress(SuppressionKind::Inline, dir.reason.clone());
            }
            findings.push(finding);
        }
        findings
    }

    /// Reads and scans one file.
    pub fn scan_file(&self, path: &Path, display: &Arc<str>, buf: &mut Vec<u8>) -> FileOutcome {
        buf.clear();
        if binary_by_name(path) {
            return FileOutcome {
                skipped: Some(Skipped::Binary),
                ..FileOutcome::default()
            };
        }
        match read_file(path, display, self.options.max_file_size, buf) {
            Ok(None) => {
                let findings = self.scan_bytes(display, buf);
                FileOutcome {
                    findings,
                    error: None,
                    skipped: None,
                    bytes: buf.len() as u64,
                }
            }
            Ok(Some(skipped)) => FileOutcome {
                skipped: Some(skipped),
                ..FileOutcome::default()
            },
            Err(error) => FileOutcome {
                error: Some(error),
                ..FileOutcome::default()
            },
        }
    }

    /// Scans inputs in parallel (stdin is read in full first).
    pub fn scan_inputs(&self, inputs: &[Input], on_done: &(dyn Fn() + Sync)) -> ScanOutcome {
        inputs
            .par_iter()
            .map_init(Vec::new, |buf, input| {
                let mut out = ScanOutcome::default();
                let display = input.display();
                let file = match input {
                    Input::File { path, .. } => self.scan_file(path, &display, buf),
                    Input::Stdin => self.scan_stdin(&display),
                };
                out.add(&display, file);
                on_done();
                out
            })
            .reduce(ScanOutcome::default, ScanOutcome::merge)
    }

    fn scan_stdin(&self, display: &Arc<str>) -> FileOutcome {
        let mut buf = Vec::new();
        let limit = self.options.max_file_size;
        if let Err(e) = io::stdin()
            .lock()
            .take(limit.saturating_add(1))
            .read_to_end(&mut buf)
        {
            return FileOutcome {
                error: Some(InputError::new(
                    STDIN_NAME,
                    InputErrorKind::Io,
                    format!("cannot read: {e}"),
                )),
                ..FileOutcome::default()
            };
        }
        if buf.len() as u64 > limit {
            return FileOutcome {
                skipped: Some(Skipped::TooLarge(buf.len() as u64)),
                ..FileOutcome::default()
            };
        }
        if is_binary(&buf) {
            return FileOutcome {
                skipped: Some(Skipped::Binary),
                ..FileOutcome::default()
            };
        }
        FileOutcome {
            findings: self.scan_bytes(display, &buf),
            error: None,
            skipped: None,
            bytes: buf.len() as u64,
        }
    }
}

/// Stable across runs and line shifts: the rule, the file, the secret's
/// hash and which occurrence of that secret (for that rule) in the file it
/// is, so the same key pasted twice is two findings.
fn fingerprint(code: &str, path: &str, hash: &str, occurrence: u32) -> String {
    Finding::fingerprint_of(&[code, path, hash, &occurrence.to_string()])
}

/// Extensions of formats that are binary by construction (compiled code,
/// compressed archives, images, fonts), lower-case. Their files would fail
/// the NUL sniff anyway (each format's header holds zero bytes), so they
/// are skipped without being opened — in a Python tree, `__pycache__`
/// alone is a third of the files. Trivy's secret scanner skips most of
/// them the same way. Formats and names that may be plain text (PDF, SVG,
/// `.obj` models, `.lib` symbol libraries) are not listed.
const BINARY_EXTENSIONS: &[&str] = &[
    "7z", "a", "bmp", "bz2", "class", "deb", "dll", "dylib", "eot", "exe", "gif", "gz", "ico",
    "jar", "jpeg", "jpg", "mp3", "mp4", "o", "otf", "png", "pyc", "pyd", "pyo", "rar", "rpm", "so",
    "tgz", "tif", "tiff", "ttf", "wasm", "webp", "whl", "woff", "woff2", "xz", "zip", "zst",
];

/// Whether a file's name says it is binary (see [`BINARY_EXTENSIONS`]).
pub fn binary_by_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| BINARY_EXTENSIONS.iter().any(|b| b.eq_ignore_ascii_case(e)))
}

/// Whether the content is binary: a NUL byte in the first 8000 bytes.
pub(crate) fn is_binary(bytes: &[u8]) -> bool {
    let head = bytes.get(..SNIFF_BYTES.min(bytes.len())).unwrap_or(&[]);
    memchr::memchr(0, head).is_some()
}

fn io_error(display: &str, err: &io::Error) -> InputError {
    let message = match err.kind() {
        io::ErrorKind::NotFound => "no such file or directory".to_string(),
        io::ErrorKind::PermissionDenied => "cannot read: permission denied".to_string(),
        _ => format!("cannot read: {err}"),
    };
    InputError::new(display, InputErrorKind::Io, message)
}

/// Reads a file into `buf` with [`read_text`]. Files are read rather than
/// memory-mapped: the workspace forbids `unsafe`, and
/// a read of a page-cached file costs one copy, far below the scan itself.
fn read_file(
    path: &Path,
    display: &str,
    max: u64,
    buf: &mut Vec<u8>,
) -> Result<Option<Skipped>, InputError> {
    let file = fs::File::open(path).map_err(|e| io_error(display, &e))?;
    let meta = file.metadata().map_err(|e| io_error(display, &e))?;
    if meta.is_dir() {
        return Err(InputError::new(
            display,
            InputErrorKind::Io,
            "is a directory",
        ));
    }
    if meta.len() > max {
        return Ok(Some(Skipped::TooLarge(meta.len())));
    }
    let mut reader = file.take(max.saturating_add(1));
    read_text(&mut reader, meta.len(), max, buf).map_err(|e| io_error(display, &e))
}

/// Appends a text read from `reader` to `buf`: the first block is sniffed
/// for binary content before the rest is read, so a large binary costs one
/// small read. `size` is the expected length (0 when unknown): it sizes the
/// buffer, and a text shorter than the sniffed block is not read past it.
/// Binary or over `max` bytes: nothing is appended and why is returned.
pub fn read_text(
    reader: &mut dyn Read,
    size: u64,
    max: u64,
    buf: &mut Vec<u8>,
) -> io::Result<Option<Skipped>> {
    let mut head = [0u8; SNIFF_BYTES];
    let mut filled = 0;
    // Most files are smaller than the sniffed block: once `size` bytes or
    // the end are read, a further read would only return the end (again).
    let mut ended = false;
    while filled < SNIFF_BYTES {
        if size > 0 && filled as u64 >= size {
            ended = true;
            break;
        }
        let Some(rest) = head.get_mut(filled..) else {
            break;
        };
        match reader.read(rest) {
            Ok(0) => {
                ended = true;
                break;
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let head = head.get(..filled).unwrap_or(&[]);
    if memchr::memchr(0, head).is_some() {
        return Ok(Some(Skipped::Binary));
    }
    let start = buf.len();
    buf.reserve(usize::try_from(size).unwrap_or(0).max(filled));
    buf.extend_from_slice(head);
    if !ended && let Err(e) = reader.read_to_end(buf) {
        buf.truncate(start);
        return Err(e);
    }
    let read = buf.len().saturating_sub(start);
    if read as u64 > max {
        buf.truncate(start);
        return Ok(Some(Skipped::TooLarge(read as u64)));
    }
    Ok(None)
}

/// A copy of the text, lossily decoded, where comment openers other than
/// `#` that introduce a `palisade:ignore` directive become `#`, so the
/// shared directive parser (made for YAML) reads them in any language.
fn normalize_comments(text: &[u8]) -> String {
    let decoded = String::from_utf8_lossy(text);
    let mut out = String::with_capacity(decoded.len());
    for line in decoded.split_inclusive('\n') {
        let Some(at) = line.find("palisade:ignore") else {
            out.push_str(line);
            continue;
        };
        let (head, tail) = line.split_at(at);
        let trimmed = head.trim_end();
        let mut replaced = None;
        for opener in ["<!--", "//", "/*", "--", ";", "%", "'", "#"] {
            if let Some(before) = trimmed.strip_suffix(opener) {
                let ok = before.is_empty() || before.ends_with(char::is_whitespace);
                if ok {
                    let pad = " ".repeat(opener.len().saturating_sub(1));
                    let head = format!("{before}{pad}#{}", head.get(trimmed.len()..).unwrap_or(""));
                    replaced = Some((head, closer_of(opener)));
                }
                break;
            }
        }
        match replaced {
            Some((h, closer)) => {
                out.push_str(&h);
                out.push_str(&without_closer(tail, closer));
            }
            None => out.push_str(line),
        }
    }
    out
}

/// The text that ends a block comment opened by `opener`, if it has one.
fn closer_of(opener: &str) -> Option<&'static str> {
    match opener {
        "/*" => Some("*/"),
        "<!--" => Some("-->"),
        _ => None,
    }
}

/// `tail` with the comment's closer at its end blanked (same length, so
/// columns stay), so that it does not end up in the directive's reason.
fn without_closer(tail: &str, closer: Option<&str>) -> String {
    let content = tail.trim_end();
    match closer.and_then(|c| content.strip_suffix(c).map(|kept| (c, kept))) {
        Some((c, kept)) => format!(
            "{kept}{}{}",
            " ".repeat(c.len()),
            tail.get(content.len()..).unwrap_or("")
        ),
        None => tail.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_count_characters() {
        let text = "a\nbé c\nxyz".as_bytes();
        assert_eq!(line_column(text, 0, 0, 1), (1, 1, 0));
        let c = text.iter().position(|&b| b == b'c').unwrap();
        assert_eq!(line_column(text, c, 0, 1).0, 2);
        assert_eq!(line_column(text, c, 0, 1).1, 4);
        let (l, col, start) = line_column(text, text.len() - 1, 2, 2);
        assert_eq!((l, col), (3, 3));
        assert_eq!(start, text.len() - 3);
    }

    #[test]
    fn comment_openers_become_hashes() {
        let n = normalize_comments(b"x = 1 // palisade:ignore SEC001 test key\n");
        assert!(n.contains(" # palisade:ignore SEC001"), "{n}");
        let d = InlineDirectives::parse(&n);
        assert!(d.find("SEC001", "x", 1, 0).is_some());
        let n = normalize_comments(b"  <!-- palisade:ignore * -->\nkey\n");
        assert!(
            InlineDirectives::parse(&n)
                .find("SEC009", "x", 2, 0)
                .is_some()
        );
        let n = normalize_comments(b"url = \"http://a//palisade:ignore X\"\n");
        assert!(InlineDirectives::parse(&n).is_empty());
        // A block comment's closer is not part of the reason.
        for text in [
            &b"/* palisade:ignore SEC040 c-style */\n"[..],
            b"<!-- palisade:ignore SEC040 html -->  \n",
        ] {
            let n = normalize_comments(text);
            assert_eq!(n.len(), text.len());
            let d = InlineDirectives::parse(&n);
            let reason = d.iter().next().and_then(|d| d.reason.clone());
            assert!(
                matches!(reason.as_deref(), Some("c-style" | "html")),
                "{reason:?}"
            );
        }
    }

    #[test]
    fn binary_formats_are_known_by_name() {
        for name in [
            "a/__pycache__/m.cpython-311.pyc",
            "logo.PNG",
            "lib.so",
            "x.tar.gz",
        ] {
            assert!(binary_by_name(Path::new(name)), "{name}");
        }
        for name in [
            "m.py",
            "model.obj",
            "pyc",
            ".gz",
            "notes.pyc.txt",
            "Makefile",
        ] {
            assert!(!binary_by_name(Path::new(name)), "{name}");
        }
    }

    /// Reads from `text` in chunks and counts the calls.
    struct Counted<'a> {
        text: &'a [u8],
        chunk: usize,
        calls: usize,
    }

    impl Read for Counted<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            self.calls += 1;
            let n = self.chunk.min(out.len()).min(self.text.len());
            let (head, rest) = self.text.split_at(n);
            out[..n].copy_from_slice(head);
            self.text = rest;
            Ok(n)
        }
    }

    #[test]
    fn a_small_text_of_known_size_is_read_once() {
        let text = b"token = abc\n";
        let mut buf = Vec::new();
        let mut r = Counted {
            text,
            chunk: 1 << 20,
            calls: 0,
        };
        assert_eq!(
            read_text(&mut r, text.len() as u64, 1 << 20, &mut buf).unwrap(),
            None
        );
        assert_eq!((buf.as_slice(), r.calls), (&text[..], 1));
        // Size unknown (0), or delivered in pieces: read to the end.
        for (size, chunk, calls) in [(0, 1 << 20, 2), (text.len() as u64, 5, 3)] {
            let mut r = Counted {
                text,
                chunk,
                calls: 0,
            };
            buf.clear();
            assert_eq!(read_text(&mut r, size, 1 << 20, &mut buf).unwrap(), None);
            assert_eq!((buf.as_slice(), r.calls), (&text[..], calls));
        }
        // A text longer than the sniffed block is read whole.
        let long = vec![b'x'; SNIFF_BYTES * 3 + 7];
        let mut r = Counted {
            text: &long,
            chunk: 4096,
            calls: 0,
        };
        buf.clear();
        assert_eq!(
            read_text(&mut r, long.len() as u64, 1 << 20, &mut buf).unwrap(),
            None
        );
        assert_eq!(buf, long);
    }
}
