//! `palisade guard`: the runtime drift guard (palisade-guard), and
//! `palisade guard manifests`.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use palisade_core::Span;
use palisade_guard::{Guard, GuardConfig, Mode};
use palisade_k8s::yaml::{Limits, parse_stream};

use crate::cli::{GuardArgs, GuardCommand, GuardMode};
use crate::config::ConfigError;

pub fn run(args: GuardArgs) -> Result<ExitCode> {
    if let Some(GuardCommand::Manifests) = args.command {
        let mut out = std::io::stdout().lock();
        out.write_all(palisade_guard::manifests::daemonset().as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut config = match &args.config {
        Some(path) => load(path)?,
        None => GuardConfig::default(),
    };
    // Flags override the file.
    if let Some(mode) = args.mode {
        config.mode = match mode {
            GuardMode::Enforce => Mode::Enforce,
            GuardMode::Audit => Mode::Audit,
        };
    }
    if !args.mounts.is_empty() {
        config.mounts = args.mounts.clone();
    }
    if args.output.is_some() {
        config.output = args.output.clone();
    }
    let settings = config.validate().map_err(|e| {
        let path = args
            .config
            .as_ref()
            .map_or_else(|| "command line".to_string(), |p| p.display().to_string());
        anyhow::anyhow!(
            "{path}: invalid guard configuration at `{}`: {}",
            e.field,
            e.message
        )
    })?;
    let guard = Guard::new(settings)?;
    guard
        .stop_handle()
        .stop_on_signals()
        .context("cannot install the SIGINT/SIGTERM handlers")?;
    let summary = guard.run()?;
    let c = &summary.counters;
    eprintln!(
        "palisade guard: stopped; {} events, {} drift denied, {} drift reported (audit), {} allow-listed, {} errors; marks removed: {}",
        c.events,
        c.denied,
        c.audited,
        c.allowlisted,
        c.errors,
        summary.marks_after_shutdown == Some(0)
    );
    Ok(ExitCode::SUCCESS)
}

/// Reads the YAML configuration; errors point into the file.
fn load(path: &Path) -> Result<GuardConfig> {
    let display = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read guard configuration {display}"))?;
    let error = |span: Option<Span>, message: String| ConfigError {
        path: display.clone(),
        span,
        message,
        text: Some(text.clone()),
    };
    let mut root = None;
    let errors = parse_stream(&text, &Limits::default(), 0, |doc| {
        if root.is_none() {
            root = doc.root;
        }
    });
    if let Some(e) = errors.into_iter().next() {
        return Err(error(Some(e.span), e.message).into());
    }
    let Some(root) = root.filter(|r| !r.is_null()) else {
        return Ok(GuardConfig::default());
    };
    let value = root.to_json();
    serde_path_to_error::deserialize::<_, GuardConfig>(&value).map_err(|e| {
        let pointer: String = e
            .path()
            .iter()
            .map(|seg| match seg {
                serde_path_to_error::Segment::Seq { index } => format!("/{index}"),
                serde_path_to_error::Segment::Map { key } => format!("/{key}"),
                _ => String::new(),
            })
            .collect();
        let span = root.span_at(&pointer).or(Some(root.span));
        error(
            span,
            format!(
                "invalid guard configuration at `{}`: {}",
                e.path(),
                e.inner()
            ),
        )
        .into()
    })
}
