//! Inputs: walking directories (in parallel, honouring `.gitignore` and
//! `.palisadeignore`), reading files and stdin with a size limit, and
//! rejecting what is not UTF-8 text. Every problem becomes an
//! [`InputError`] for that input; the other inputs go on.

#![deny(clippy::indexing_slicing)]

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::Span;
use crate::report::{InputError, InputErrorKind};

/// How `--stdin` input is named in findings.
pub const STDIN_NAME: &str = "<stdin>";

/// One input to read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Input {
    Stdin,
    File {
        path: PathBuf,
        /// How findings name it: as the user wrote it, `./` stripped.
        display: Arc<str>,
    },
}

impl Input {
    pub fn display(&self) -> Arc<str> {
        match self {
            Input::Stdin => STDIN_NAME.into(),
            Input::File { display, .. } => Arc::clone(display),
        }
    }
}

/// What to collect when walking directories.
#[derive(Debug, Clone)]
pub struct WalkOptions {
    /// File extensions (without the dot) to pick up in directories; empty
    /// picks up every file. Files named explicitly are always read.
    pub extensions: Vec<String>,
    /// Files left out in directories, even when `extensions` is empty:
    /// what a scanner knows by name it would skip, so it is not even
    /// listed.
    pub skip: fn(&Path) -> bool,
    /// Honour `.gitignore`, `.ignore` and `.palisadeignore` files.
    pub respect_ignore_files: bool,
    /// Walk hidden files and directories too, except `.git` below the
    /// root (repository internals are not inputs; skipping the directory
    /// saves walking every object of a large repository).
    pub hidden: bool,
}

impl Default for WalkOptions {
    fn default() -> Self {
        WalkOptions {
            extensions: vec!["yaml".into(), "yml".into(), "json".into()],
            skip: |_| false,
            respect_ignore_files: true,
            hidden: false,
        }
    }
}

fn display_of(path: &Path) -> Arc<str> {
    let s = path.to_string_lossy();
    let s = s.strip_prefix("./").unwrap_or(&s);
    s.into()
}

fn io_error(display: &str, err: &io::Error) -> InputError {
    let message = match err.raw_os_error() {
        Some(40) => "cannot read: too many levels of symbolic links (symlink loop)".to_string(),
        _ => match err.kind() {
            io::ErrorKind::NotFound => "no such file or directory".to_string(),
            io::ErrorKind::PermissionDenied => "cannot read: permission denied".to_string(),
            _ => format!("cannot read: {err}"),
        },
    };
    InputError::new(display, InputErrorKind::Io, message)
}

/// Expands the user's arguments (`-` is stdin) into the inputs to read,
/// sorted, plus errors for arguments that cannot be used.
pub fn collect(args: &[PathBuf], options: &WalkOptions) -> (Vec<Input>, Vec<InputError>) {
    // Inputs with their sort keys, computed by the walker's threads.
    let mut keyed = Vec::new();
    let mut errors = Vec::new();
    for arg in args {
        if arg.as_os_str() == "-" {
            keyed.push(keyed_input(Input::Stdin));
            continue;
        }
        let display = display_of(arg);
        match fs::metadata(arg) {
            Err(e) => errors.push(io_error(&display, &e)),
            Ok(m) if m.is_dir() => walk(arg, options, &mut keyed, &mut errors),
            Ok(_) => keyed.push(keyed_input(Input::File {
                path: arg.clone(),
                display,
            })),
        }
    }
    let mut inputs = sorted(keyed);
    // `scan . e.yaml` or `scan a/e.yaml a/../a/e.yaml` name one file twice:
    // the same file (device and inode; else the same path without `.`
    // components) is scanned once. (Not the display path: names differing
    // in invalid UTF-8 display alike.)
    // One argument walks each file once: no `stat` per file for that.
    if args.len() > 1 {
        let mut seen = std::collections::HashSet::new();
        inputs.retain(|i| match i {
            Input::Stdin => true,
            Input::File { path, .. } => seen.insert(file_identity(path)),
        });
    }
    (inputs, errors)
}

/// An input and its [`order_key`].
type Keyed = (Vec<u8>, Input);

fn keyed_input(input: Input) -> Keyed {
    (order_key(&input), input)
}

/// Sorted in `Input`'s order (stdin first, then paths compared component
/// by component), duplicates dropped. A byte key computed once per input:
/// `Path`'s comparison re-parses components on every call, and sorting a
/// 46,000-file tree that way took ~0.1 s alone on one core before any file
/// was scanned.
fn sorted(mut keyed: Vec<Keyed>) -> Vec<Input> {
    keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    keyed.dedup_by(|later, first| later.0 == first.0 && later.1 == first.1);
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// Bytes that compare as `Input`'s order: each path component as a kind
/// byte (in `Component`'s order) and its name, separated by NUL, which no
/// name holds, so a name sorts before its extensions as in `OsStr`'s order.
/// Equal keys leave the order to `Input::cmp` (the display name).
fn order_key(input: &Input) -> Vec<u8> {
    let Input::File { path, .. } = input else {
        return Vec::new();
    };
    let mut key = Vec::with_capacity(path.as_os_str().len() + 8);
    for c in path.components() {
        if !key.is_empty() {
            key.push(0);
        }
        let kind = match c {
            std::path::Component::Prefix(_) => 1,
            std::path::Component::RootDir => 2,
            std::path::Component::CurDir => 3,
            std::path::Component::ParentDir => 4,
            std::path::Component::Normal(_) => 5,
        };
        key.push(kind);
        key.extend_from_slice(c.as_os_str().as_encoded_bytes());
    }
    key
}

/// What makes two paths the same file.
#[derive(Debug, PartialEq, Eq, Hash)]
enum FileIdentity {
    Inode(u64, u64),
    Path(PathBuf),
}

fn file_identity(path: &Path) -> FileIdentity {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let Ok(m) = fs::metadata(path) {
            return FileIdentity::Inode(m.dev(), m.ino());
        }
    }
    FileIdentity::Path(
        path.components()
            .filter(|c| *c != std::path::Component::CurDir)
            .collect(),
    )
}

fn walk(root: &Path, options: &WalkOptions, inputs: &mut Vec<Keyed>, errors: &mut Vec<InputError>) {
    let found = Mutex::new((Vec::new(), Vec::new()));
    let walker = ignore::WalkBuilder::new(root)
        .follow_links(true)
        .hidden(!options.hidden)
        .git_ignore(options.respect_ignore_files)
        .git_global(false)
        .git_exclude(options.respect_ignore_files)
        .ignore(options.respect_ignore_files)
        .parents(options.respect_ignore_files)
        .require_git(false)
        .add_custom_ignore_filename(".palisadeignore")
        .filter_entry(|entry| entry.depth() == 0 || entry.file_name() != ".git")
        .build_parallel();
    walker.run(|| {
        let mut batch = Batch {
            inputs: Vec::new(),
            errors: Vec::new(),
            shared: &found,
        };
        Box::new(move |entry| {
            let wanted = |path: &Path| {
                !(options.skip)(path)
                    && (options.extensions.is_empty()
                        || path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                            options.extensions.iter().any(|x| x.eq_ignore_ascii_case(e))
                        }))
            };
            match entry {
                Ok(entry) => {
                    let is_file = entry.file_type().is_some_and(|t| t.is_file());
                    if is_file && wanted(entry.path()) {
                        batch.inputs.push(keyed_input(Input::File {
                            path: entry.path().to_path_buf(),
                            display: display_of(entry.path()),
                        }));
                    }
                }
                // A broken symlink (dangling, or looping on itself) is not
                // an error when its name says it is no input (`README`):
                // there is nothing behind it to scan. Directory loops are.
                Err(err) if is_unwanted_broken_link(&err, &wanted) => {}
                Err(err) => batch.errors.push(walk_error(root, &err)),
            }
            ignore::WalkState::Continue
        })
    });
    if let Ok((mut found_inputs, found_errors)) = found.into_inner() {
        inputs.append(&mut found_inputs);
        errors.extend(found_errors);
    }
}

/// What one walker thread found, added to the shared lists when the thread
/// ends: one lock per thread instead of one per file.
struct Batch<'a> {
    inputs: Vec<Keyed>,
    errors: Vec<InputError>,
    shared: &'a Mutex<(Vec<Keyed>, Vec<InputError>)>,
}

impl Drop for Batch<'_> {
    fn drop(&mut self) {
        if let Ok(mut shared) = self.shared.lock() {
            shared.0.append(&mut self.inputs);
            shared.1.append(&mut self.errors);
        }
    }
}

/// Whether `err` is about an entry that cannot be stat'ed (a broken
/// symlink) whose name `wanted` rejects.
fn is_unwanted_broken_link(err: &ignore::Error, wanted: &dyn Fn(&Path) -> bool) -> bool {
    match innermost(err) {
        (Some(path), ignore::Error::Io(_)) => {
            fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) && !wanted(path)
        }
        _ => false,
    }
}

/// The path an error is about (the deepest one named) and its cause.
fn innermost(err: &ignore::Error) -> (Option<&Path>, &ignore::Error) {
    match err {
        ignore::Error::WithPath { path, err } => {
            let (p, e) = innermost(err);
            (p.or(Some(path.as_path())), e)
        }
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            innermost(err)
        }
        other => (None, other),
    }
}

fn walk_error(root: &Path, err: &ignore::Error) -> InputError {
    let (path, inner) = innermost(err);
    let display = display_of(path.unwrap_or(root));
    match inner {
        ignore::Error::Loop { ancestor, child } => InputError::new(
            display_of(child).as_ref(),
            InputErrorKind::Io,
            format!("symlink loop: leads back to `{}`", display_of(ancestor)),
        ),
        ignore::Error::Io(e) => io_error(&display, e),
        other => InputError::new(display.as_ref(), InputErrorKind::Io, other.to_string()),
    }
}

/// Reads an input as UTF-8 text, refusing files over `max_bytes`, binary
/// content and invalid UTF-8. A UTF-8 byte order mark is dropped.
pub fn read_text(input: &Input, max_bytes: u64) -> Result<String, InputError> {
    let display = input.display();
    let bytes = match input {
        Input::Stdin => {
            let mut buf = Vec::new();
            io::stdin()
                .lock()
                .take(max_bytes.saturating_add(1))
                .read_to_end(&mut buf)
                .map_err(|e| io_error(&display, &e))?;
            if buf.is_empty() {
                return Err(InputError::new(
                    display.as_ref(),
                    InputErrorKind::Io,
                    "stdin is empty (pipe manifests in, e.g. `helm template . | palisade scan -`)",
                ));
            }
            buf
        }
        Input::File { path, .. } => read_limited(path, &display, max_bytes)?,
    };
    if bytes.len() as u64 > max_bytes {
        // Reading stopped one byte past the limit: the real size is unknown
        // (a pipe), or was known and checked before reading (a file).
        let size = matches!(input, Input::File { .. }).then_some(bytes.len() as u64);
        return Err(too_large(&display, size, max_bytes));
    }
    decode(bytes, &display)
}

/// `size` is `None` when only "more than the limit" is known.
fn too_large(display: &str, size: Option<u64>, max: u64) -> InputError {
    let size = size.map_or_else(String::new, |s| format!(" ({})", human_bytes(s)));
    InputError::new(
        display,
        InputErrorKind::TooLarge,
        format!(
            "file is larger than the {} limit{size}; raise it with --max-file-size",
            human_bytes(max),
        ),
    )
}

fn read_limited(path: &Path, display: &str, max_bytes: u64) -> Result<Vec<u8>, InputError> {
    let file = fs::File::open(path).map_err(|e| io_error(display, &e))?;
    let meta = file.metadata().map_err(|e| io_error(display, &e))?;
    if meta.is_dir() {
        return Err(InputError::new(
            display,
            InputErrorKind::Io,
            "is a directory",
        ));
    }
    if meta.len() > max_bytes {
        return Err(too_large(display, Some(meta.len()), max_bytes));
    }
    let mut buf = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|e| io_error(display, &e))?;
    Ok(buf)
}

/// Bytes sniffed for NUL to tell binary files (as git does).
const SNIFF_BYTES: usize = 8000;

/// Decodes UTF-8 text; binary and other encodings are input errors naming
/// the position of the first bad byte.
pub fn decode(mut bytes: Vec<u8>, display: &str) -> Result<String, InputError> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(InputError::new(
            display,
            InputErrorKind::Encoding,
            "file is UTF-16 encoded; convert it to UTF-8",
        ));
    }
    let head = bytes.get(..SNIFF_BYTES.min(bytes.len())).unwrap_or(&[]);
    if memchr::memchr(0, head).is_some() {
        return Err(InputError::new(
            display,
            InputErrorKind::Binary,
            "binary file (contains NUL bytes), not YAML or JSON",
        ));
    }
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        bytes.drain(..3);
    }
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let at = e.utf8_error().valid_up_to();
        let valid = bytes.get(..at).unwrap_or(&[]);
        let line = memchr::memchr_iter(b'\n', valid).count() as u32 + 1;
        let line_start = memchr::memrchr(b'\n', valid).map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(valid.get(line_start..).unwrap_or(&[]))
            .chars()
            .count() as u32
            + 1;
        let byte = bytes.get(at).copied().unwrap_or(0);
        InputError::new(
            display,
            InputErrorKind::Encoding,
            format!(
                "invalid UTF-8 (byte 0x{byte:02X} at offset {at}); files must be UTF-8 encoded"
            ),
        )
        .at(Some(Span::point(line, column)))
    })
}

/// `128 MiB`, `1.5 KiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    let name = UNITS.get(unit).copied().unwrap_or("B");
    if unit == 0 || value.fract() == 0.0 {
        format!("{value:.0} {name}")
    } else {
        format!("{value:.1} {name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Position;

    #[test]
    fn decodes_and_rejects() {
        assert_eq!(decode(b"\xEF\xBB\xBFa: 1".to_vec(), "f").unwrap(), "a: 1");
        let e = decode(b"a: 1\nb: \xFF".to_vec(), "f").unwrap_err();
        assert_eq!(e.kind, InputErrorKind::Encoding);
        assert_eq!(e.span.unwrap().start, Position::new(2, 4));
        assert_eq!(
            decode(b"a\0b".to_vec(), "f").unwrap_err().kind,
            InputErrorKind::Binary
        );
        assert_eq!(
            decode(b"\xFF\xFEa\0".to_vec(), "f").unwrap_err().kind,
            InputErrorKind::Encoding
        );
    }

    #[test]
    fn formats_sizes() {
        assert_eq!(human_bytes(128 * 1024 * 1024), "128 MiB");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(10), "10 B");
    }

    proptest::proptest! {
        /// The byte key sorts and de-duplicates exactly as `Input`'s
        /// derived order does, redundant separators and `.` included.
        #[test]
        fn sorted_is_the_derived_order(
            paths in proptest::collection::vec("(/|\\./|\\.\\./)?([ab.\\-]{1,3}/{1,2}){0,3}[ab.\\-]{0,3}", 0..40),
            stdin in proptest::bool::ANY,
        ) {
            let mut inputs: Vec<Input> = paths
                .iter()
                .map(|p| Input::File { path: PathBuf::from(p), display: display_of(Path::new(p)) })
                .collect();
            if stdin {
                inputs.push(Input::Stdin);
            }
            let mut expected = inputs.clone();
            expected.sort();
            expected.dedup();
            let inputs = sorted(inputs.into_iter().map(keyed_input).collect());
            proptest::prop_assert_eq!(inputs, expected);
        }
    }
}
