//! The `secret` scanner of `palisade scan`: builds the rule set (built-in
//! rules, `--secret-rules` files, disabled rules), plugs the Kubernetes
//! analyzer into the engine, scans the text of the YAML/JSON files the
//! engine reads, then every other file of the targets.
//!
//! A YAML file is read once: its text goes through the engine (objects,
//! with the analyzer) and through the file-level scan. A file-level finding
//! on a line that an object-level finding already covers is dropped, so one
//! secret in a manifest is reported once, with its object and key.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use palisade_core::report::InputErrorKind;
use palisade_core::source::{self, Input, WalkOptions, human_bytes};
use palisade_core::{Finding, InputError};
use palisade_k8s::{Engine, Outcome, RuleSelection};
use palisade_secrets::{RuleSet, RuleSetBuilder, ScanOptions, Scanner};

use super::scan::{FileResult, scan_input as scan_manifest, unreadable};
use crate::analyzers::k8s_secrets::K8sSecrets;
use crate::cli::{ScanArgs, ScannerName};
use crate::{diagnostics, progress};

/// The secret scanner of one run.
pub(crate) struct SecretScan {
    scanner: Scanner,
    /// Whether another scanner reads the YAML files (their parse errors are
    /// that scanner's to report; the secret scanner reads any text).
    manifests_scanned: bool,
    /// YAML/JSON files whose text was scanned with the manifests.
    done: Mutex<HashSet<PathBuf>>,
    /// Files of the walk only the secret scanner reads, and the manifest
    /// files (read by the file-level pass when the manifest pass could not).
    rest: Mutex<(Vec<Input>, Vec<Input>)>,
}

/// Builds the rule set; `None` when `--scanners` does not include
/// `secret`. Entries of `--enable`/`--disable` (and `rules:` in
/// palisade.yaml) that name secret rules are taken out of `selection`, so
/// the Kubernetes rule selection never sees them.
pub(crate) fn setup(
    args: &ScanArgs,
    selection: &mut RuleSelection,
    max_file_size: u64,
) -> Result<Option<SecretScan>> {
    let mut builder = RuleSetBuilder::new().builtin(!args.no_builtin_secret_rules);
    for file in &args.secret_rules {
        builder = builder.add_file(file)?;
    }
    // Which names belong to secret rules: every rule that could be loaded
    // (compiled only when a selection names rules at all).
    let all = if selection.enable.is_empty() && selection.disable.is_empty() {
        None
    } else {
        Some(
            args.secret_rules
                .iter()
                .try_fold(RuleSetBuilder::new(), |b, f| b.add_file(f))?
                .build()?,
        )
    };
    let is_secret_rule =
        |s: &String| s != "*" && all.as_ref().is_some_and(|a| a.find_rule(s).is_some());
    let disabled: Vec<String> = selection
        .disable
        .iter()
        .filter(|s| is_secret_rule(s))
        .cloned()
        .collect();
    selection.disable.retain(|s| !is_secret_rule(s));
    selection.enable.retain(|s| !is_secret_rule(s));
    if !args.scanners.contains(&ScannerName::Secret) {
        return Ok(None);
    }
    let rules = builder
        .disable(disabled)
        .build()
        .context("cannot load secret rules")?;
    Ok(Some(SecretScan {
        scanner: Scanner::new(
            Arc::new(rules),
            ScanOptions {
                max_file_size,
                show_secrets: args.show_secrets,
            },
        ),
        manifests_scanned: args
            .scanners
            .iter()
            .any(|s| matches!(s, ScannerName::Config | ScannerName::Rbac)),
        done: Mutex::new(HashSet::new()),
        rest: Mutex::new((Vec::new(), Vec::new())),
    }))
}

/// The inputs of the manifest pass. With the secret scanner the targets are
/// walked once for every file (hidden ones too, `.git` excepted) and split:
/// YAML/JSON files outside hidden directories, and files named on the
/// command line, go to the manifest pass as without it; the secret scanner
/// keeps the rest for its file-level pass.
pub(crate) fn collect(
    targets: &[PathBuf],
    secrets: Option<&SecretScan>,
) -> (Vec<Input>, Vec<InputError>) {
    let defaults = WalkOptions::default();
    let Some(s) = secrets else {
        return source::collect(targets, &defaults);
    };
    let options = WalkOptions {
        extensions: Vec::new(),
        skip: palisade_secrets::binary_by_name,
        hidden: true,
        ..WalkOptions::default()
    };
    let (all, errors) = source::collect(targets, &options);
    let mut manifests = Vec::new();
    let mut rest = Vec::new();
    // The walk leaves out `.git` below a target; a target inside one (a
    // bare repository) keeps only the files named on the command line.
    let target_in_git = targets.iter().any(|t| in_git_dir(t));
    for input in all {
        let Input::File { path, .. } = &input else {
            manifests.push(input);
            continue;
        };
        let named = targets.iter().any(|t| t == path);
        if !named && target_in_git && in_git_dir(path) {
            continue;
        }
        let yaml = path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
            defaults
                .extensions
                .iter()
                .any(|x| x.eq_ignore_ascii_case(e))
        });
        if named || (yaml && !hidden_below(path, targets)) {
            manifests.push(input);
        } else {
            rest.push(input);
        }
    }
    if let Ok(mut r) = s.rest.lock() {
        *r = (rest, manifests.clone());
    }
    (manifests, errors)
}

/// Whether a walked file is inside a hidden directory (or hidden itself)
/// below the target it was found under.
fn hidden_below(path: &Path, targets: &[PathBuf]) -> bool {
    targets
        .iter()
        .filter_map(|t| path.strip_prefix(t).ok())
        .any(|rel| {
            rel.components().any(|c| {
                let name = c.as_os_str().to_string_lossy();
                name.starts_with('.') && name != "." && name != ".."
            })
        })
}

/// The engine with the Kubernetes secrets analyzer plugged in, if the
/// secret scanner runs.
pub(crate) fn attach(engine: Engine, secrets: Option<&SecretScan>) -> Engine {
    match secrets {
        Some(s) => engine.with_analyzer(Box::new(K8sSecrets::new(
            Arc::clone(s.scanner.rules()),
            s.scanner.options().show_secrets,
        ))),
        None => engine,
    }
}

/// Scans one YAML/JSON input with the engine and, when the secret scanner
/// runs, its text for secrets too.
pub(crate) fn scan_input(
    engine: &Engine,
    secrets: Option<&SecretScan>,
    input: &Input,
    max_file_size: u64,
    color: bool,
) -> FileResult {
    let Some(s) = secrets else {
        return scan_manifest(engine, input, max_file_size, color);
    };
    let text = match source::read_text(input, max_file_size) {
        Ok(text) => text,
        // Another scanner owns manifest read errors; otherwise the file is
        // left to the file-level pass, which reads binary and non-UTF-8
        // content its own way. Stdin cannot be read twice.
        Err(_) if !s.manifests_scanned && *input != Input::Stdin => {
            return FileResult {
                outcome: Outcome::default(),
                diagnostics: Vec::new(),
            };
        }
        // Stdin is gone once read: its error is the answer, and binary
        // content is skipped by the secret scanner as a file's would be.
        Err(e) if *input == Input::Stdin => {
            if !s.manifests_scanned && e.kind == InputErrorKind::Binary {
                return FileResult {
                    outcome: Outcome::default(),
                    diagnostics: Vec::new(),
                };
            }
            return unreadable(e, color);
        }
        Err(_) => return scan_manifest(engine, input, max_file_size, color),
    };
    if let (Ok(mut done), Input::File { path, .. }) = (s.done.lock(), input) {
        done.insert(path.clone());
    }
    let display = input.display();
    // Alone, the secret scanner parses only what may hold Kubernetes
    // objects: JSON data files are common and costly to parse.
    let mut outcome = if s.manifests_scanned || may_hold_objects(&text) {
        engine.scan_text(Arc::clone(&display), &text)
    } else {
        let mut o = Outcome::default();
        o.stats.files = 1;
        o
    };
    if !s.manifests_scanned {
        outcome.errors.clear();
    }
    let raw = s.scanner.scan_bytes(&display, text.as_bytes());
    let covered = object_spans(&outcome.findings, s.scanner.rules());
    outcome.findings.extend(raw.into_iter().filter(|f| {
        let line = f.location.line();
        !covered.iter().any(|&(a, b)| a <= line && line <= b)
    }));
    // Code frames quote the file: its secrets are masked there as in the
    // report (CI logs keep stderr).
    let framed = if outcome.errors.is_empty() || s.scanner.options().show_secrets {
        std::borrow::Cow::Borrowed(text.as_str())
    } else {
        std::borrow::Cow::Owned(masked(&text, s.scanner.rules(), &display))
    };
    let diagnostics = outcome
        .errors
        .iter()
        .map(|e| {
            (
                e.path.clone(),
                e.span.map_or(0, |s| s.start.line),
                diagnostics::input_error(e, Some(&framed), color),
            )
        })
        .collect();
    FileResult {
        outcome,
        diagnostics,
    }
}

/// `text` with every secret the rules detect replaced by `*`, one per
/// character, so that lines and columns stay where they were.
fn masked(text: &str, rules: &RuleSet, path: &str) -> String {
    let mut ranges: Vec<(usize, usize)> = rules
        .detect(path, text.as_bytes())
        .iter()
        .map(|d| (d.start, d.end))
        .collect();
    ranges.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut next = ranges.iter().peekable();
    for (i, c) in text.char_indices() {
        // Ranges are sorted: skip those that ended before `i`.
        while next.peek().is_some_and(|&&(_, end)| end <= i) {
            next.next();
        }
        let secret = next.peek().is_some_and(|&&(start, _)| start <= i);
        out.push(if secret && !c.is_whitespace() { '*' } else { c });
    }
    out
}

/// Whether a text names an `apiVersion` and a `kind`, as every Kubernetes
/// object does.
fn may_hold_objects(text: &str) -> bool {
    text.contains("apiVersion") && text.contains("kind")
}

/// Line ranges of the object-level secret findings of a file.
fn object_spans(findings: &[Finding], rules: &RuleSet) -> Vec<(u32, u32)> {
    findings
        .iter()
        .filter(|f| f.field.is_some() && rules.find_rule(&f.code).is_some())
        .filter_map(|f| f.location.span.map(|s| (s.start.line, s.end.line)))
        .collect()
}

impl SecretScan {
    pub(crate) fn scanner(&self) -> &Scanner {
        &self.scanner
    }

    /// Scans every file of the targets that the manifest pass did not
    /// read, in parallel, adding findings, errors and counters to
    /// `outcome`.
    pub(crate) fn scan_rest(&self, quiet: bool, no_progress: bool, outcome: &mut Outcome) {
        let (rest, manifests) = self
            .rest
            .lock()
            .map(|mut r| std::mem::take(&mut *r))
            .unwrap_or_default();
        let done = self.done.lock().map(|d| d.clone()).unwrap_or_default();
        // Unsorted: the report sorts findings and errors (and the list of
        // large files is sorted below).
        let mut inputs = rest;
        inputs.extend(manifests.into_iter().filter(|i| match i {
            Input::File { path, .. } => !done.contains(path),
            Input::Stdin => false,
        }));
        let bar = progress::files(inputs.len(), || 0, !quiet && !no_progress);
        let mut result = self.scanner.scan_inputs(&inputs, &|| bar.inc(1));
        result.too_large.sort();
        bar.finish_and_clear();
        outcome.findings.extend(result.findings);
        outcome.errors.extend(result.errors);
        outcome.stats.files += result.files;
        if !quiet {
            if !result.too_large.is_empty() {
                diagnostics::warn(&format!(
                    "secret scan: skipped {} file(s) larger than {} (raise with --max-file-size): {}",
                    result.too_large.len(),
                    human_bytes(self.scanner.options().max_file_size),
                    list_some(&result.too_large)
                ));
            }
            if result.binary_skipped > 0 && std::env::var_os("PALISADE_VERBOSE").is_some() {
                diagnostics::warn(&format!(
                    "secret scan: skipped {} binary file(s)",
                    result.binary_skipped
                ));
            }
        }
    }
}

/// Files inside a `.git` directory: the repository's object store, not
/// the tree (hidden files are walked for `.env` and friends).
fn in_git_dir(path: &Path) -> bool {
    path.components().any(|c| c.as_os_str() == ".git")
}

/// The first few names of a list, and how many more there are.
fn list_some(names: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut out = names
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        out.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    out
}
