//! `palisade scan`: collect inputs, scan them in parallel, apply
//! suppressions, report, and choose the exit code.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use palisade_core::date::Date;
use palisade_core::reporter::{self, Format, Options};
use palisade_core::rule::dedent_doc;
use palisade_core::source::{self, Input};
use palisade_core::suppress::{self, Baseline};
use palisade_core::{InputError, Report, RuleMeta, Scanner, Severity};
use palisade_k8s::{Engine, Outcome, RuleSelection};
use rayon::prelude::*;

use super::{scan_policy, scan_secrets};
use crate::cli::{ColorChoice, OutputFormat, ScanArgs, ScannerName};
use crate::config::{Config, parse_size};
use crate::{EXIT_ERROR, diagnostics, progress};

pub(crate) const DEFAULT_MAX_FILE_SIZE: u64 = 128 * 1024 * 1024;

/// Settings resolved from flags over `palisade.yaml` over defaults.
struct Resolved {
    severities: Vec<Severity>,
    fail_on: Option<Severity>,
    max_file_size: u64,
    format: Format,
}

/// A severity as written in `--severity`, `--fail-on` or palisade.yaml:
/// one of the five names. The data sources' `none`/`unknown` (read as info
/// from advisories) would silently keep only info findings here.
pub(crate) fn parse_severity(s: &str) -> Result<Severity> {
    if matches!(s.trim().to_ascii_lowercase().as_str(), "none" | "unknown") {
        anyhow::bail!(
            "unknown severity `{s}` (expected one of: info, low, medium, high, critical)"
        );
    }
    s.parse::<Severity>().map_err(anyhow::Error::from)
}

/// The context of a `--fail-on` error, which also takes `none`.
pub(crate) const FAIL_ON_VALUES: &str =
    "invalid --fail-on (info, low, medium, high, critical, or none to never fail)";

fn resolve(args: &ScanArgs, config: &Config) -> Result<Resolved> {
    let severity_list = if args.severity.is_empty() {
        &config.severity
    } else {
        &args.severity
    };
    let mut severities = severity_list
        .iter()
        .map(|s| parse_severity(s))
        .collect::<Result<Vec<_>>>()
        .context("invalid --severity")?;
    if severities.is_empty() {
        severities = Severity::ALL.to_vec();
    }
    let fail_on = match args.fail_on.as_deref().or(config.fail_on.as_deref()) {
        None => Some(Severity::Low),
        Some(s) if s.eq_ignore_ascii_case("none") => None,
        Some(s) => Some(parse_severity(s).context(FAIL_ON_VALUES)?),
    };
    let max_file_size = match args
        .max_file_size
        .as_deref()
        .or(config.limits.max_file_size.as_deref())
    {
        None => DEFAULT_MAX_FILE_SIZE,
        Some(s) => parse_size(s)
            .map_err(anyhow::Error::msg)
            .context("invalid --max-file-size")?,
    };
    let format = match args.format {
        OutputFormat::Table => Format::Table,
        OutputFormat::Json => Format::Json,
        OutputFormat::Sarif => Format::Sarif,
        OutputFormat::Junit => Format::Junit,
    };
    Ok(Resolved {
        severities,
        fail_on,
        max_file_size,
        format,
    })
}

/// One input's results, with its errors already rendered (the text is only
/// available here).
pub(crate) struct FileResult {
    pub(crate) outcome: Outcome,
    pub(crate) diagnostics: Vec<(String, u32, String)>,
}

pub fn run(mut args: ScanArgs) -> Result<ExitCode> {
    if args.targets.is_empty() && args.images.is_empty() {
        args.targets.push(".".into());
    }
    if !args.images.is_empty() && !args.scanners.contains(&ScannerName::Secret) {
        bail!("--image is read by the secret scanner: add `--scanners secret`");
    }
    let (config, _config_path) = Config::load(args.config.as_deref())?;
    let resolved = resolve(&args, &config)?;
    let mut selection: RuleSelection = config.rules.clone();
    selection.enable.extend(args.enable.iter().cloned());
    selection.disable.extend(args.disable.iter().cloned());
    let mut settings = config.settings.clone();
    settings.include_system |= args.include_system;
    if let Some(ns) = &args.default_namespace {
        settings.default_namespace = ns.clone();
    }
    let scanners: Vec<Scanner> = args
        .scanners
        .iter()
        .map(|s| match s {
            ScannerName::Config => Scanner::Config,
            ScannerName::Rbac => Scanner::Rbac,
            ScannerName::Secret => Scanner::Secret,
            ScannerName::Policy => Scanner::Policy,
            ScannerName::Vuln => Scanner::Vuln,
        })
        .collect();
    let secrets = scan_secrets::setup(&args, &mut selection, resolved.max_file_size)?;
    let engine = Engine::new(&selection, settings, config.limits.yaml_limits())
        .map_err(|e| match config.unknown_rule(&e.0) {
            Some(located) => anyhow::Error::new(located),
            None => anyhow::Error::new(e),
        })?
        .with_scanners(&scanners);
    let engine = scan_secrets::attach(engine, secrets.as_ref());
    let policies = scan_policy::setup(
        &args,
        &config,
        resolved.max_file_size,
        config.limits.yaml_limits(),
        &engine.settings().default_namespace,
    )?;
    let engine = scan_policy::attach(engine, policies.as_ref());
    let ignores = config.ignore_list(Date::today())?;
    let baseline = match &args.baseline {
        Some(path) => {
            let file = fs::File::open(path)
                .with_context(|| format!("cannot open baseline {}", path.display()))?;
            Some(
                Baseline::read(io::BufReader::new(file))
                    .with_context(|| format!("baseline {}", path.display()))?,
            )
        }
        None => None,
    };
    if !args.quiet {
        for (entry, date) in ignores.expired() {
            diagnostics::warn(&format!(
                "ignore entry for `{}` expired on {date}; its findings are reported again",
                entry.id
            ));
        }
    }

    let (inputs, walk_errors) = scan_secrets::collect(&args.targets, secrets.as_ref());
    if inputs.iter().filter(|i| **i == Input::Stdin).count() > 1 {
        bail!("`-` (stdin) can be given only once");
    }
    let color_err = diagnostics::stderr_color();
    // The inputs' size only decides whether a few large files deserve a
    // bar: asked (a stat per file, on this thread) only then.
    let total_bytes = || -> u64 {
        inputs
            .iter()
            .filter_map(|i| match i {
                Input::File { path, .. } => fs::metadata(path).ok().map(|m| m.len()),
                Input::Stdin => None,
            })
            .sum()
    };
    let bar = progress::files(inputs.len(), total_bytes, !args.quiet && !args.no_progress);
    let results: Vec<FileResult> = inputs
        .par_iter()
        .map(|input| {
            let result = scan_secrets::scan_input(
                &engine,
                secrets.as_ref(),
                input,
                resolved.max_file_size,
                color_err,
            );
            bar.inc(1);
            result
        })
        .collect();
    bar.finish_and_clear();

    let mut report = Report::default();
    let mut outcome = Outcome::default();
    let mut rendered: Vec<(String, u32, String)> = Vec::new();
    for r in results {
        outcome = outcome.merge(r.outcome);
        rendered.extend(r.diagnostics);
    }
    for e in walk_errors {
        rendered.push((
            e.path.clone(),
            0,
            diagnostics::input_error(&e, None, color_err),
        ));
        outcome.errors.push(e);
    }
    if let Some(s) = &secrets {
        s.scan_rest(args.quiet, args.no_progress, &mut outcome);
        let image_options = palisade_sca::source::SourceOptions {
            platform: args.platform.clone(),
            insecure: args.insecure,
            credentials: super::sbom::credentials(),
            ..Default::default()
        };
        let image_errors = s.scan_images(
            &args.images,
            &image_options,
            args.quiet,
            args.no_progress,
            &mut outcome,
        );
        for e in image_errors {
            rendered.push((
                e.path.clone(),
                0,
                diagnostics::input_error(&e, None, color_err),
            ));
            outcome.errors.push(e);
        }
    }
    outcome.findings.extend(engine.finish(&outcome.inventory));
    if let Some(p) = &policies {
        p.finish(&mut outcome, &mut rendered, args.quiet);
    }
    report.findings = outcome.findings;
    report.errors = outcome.errors;
    report.stats = outcome.stats;
    report.rules = rule_table(engine.rule_metas());
    for meta in engine.analyzer_rules() {
        report.rules.insert(meta.code.to_string(), meta);
    }
    if args.scanners.contains(&ScannerName::Vuln) {
        let vulns = super::vuln::for_scan(&args.targets)?;
        for e in &vulns.errors {
            rendered.push((
                e.path.clone(),
                0,
                diagnostics::input_error(e, None, color_err),
            ));
        }
        report.merge(vulns);
    }
    suppress::apply(&mut report, &ignores, baseline.as_ref());
    report.retain_severities(&resolved.severities);
    report.finalize();

    if let Some(path) = &args.write_baseline {
        super::output::write_report(Some(path), |out| {
            Baseline::write(&report, out).map_err(std::io::Error::other)
        })
        .with_context(|| format!("cannot write baseline {}", path.display()))?;
        if !args.quiet {
            eprintln!(
                "Wrote {} finding fingerprints to {}",
                report
                    .findings
                    .iter()
                    .filter(|f| !f.is_suppressed())
                    .count(),
                path.display()
            );
        }
    }

    write_report(&report, &resolved, &args)?;

    rendered.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    let mut stderr = io::stderr().lock();
    for (_, _, text) in &rendered {
        let _ = stderr.write_all(text.as_bytes());
    }
    if report.errors.is_empty()
        && report.stats.files == 0
        && !args.quiet
        && args.scanners != [ScannerName::Vuln]
    {
        diagnostics::warn(if secrets.is_some() {
            "no files to scan in the given targets"
        } else {
            "no YAML or JSON files found in the given targets"
        });
    }

    Ok(if !report.errors.is_empty() && !args.skip_invalid {
        ExitCode::from(EXIT_ERROR)
    } else if report.fails(resolved.fail_on) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The result for an input that could not be read.
pub(crate) fn unreadable(e: InputError, color: bool) -> FileResult {
    let line = e.span.map_or(0, |s| s.start.line);
    let text = diagnostics::input_error(&e, None, color);
    let path = e.path.clone();
    let mut outcome = Outcome::default();
    outcome.errors.push(e);
    FileResult {
        outcome,
        diagnostics: vec![(path, line, text)],
    }
}

pub(crate) fn scan_input(
    engine: &Engine,
    input: &Input,
    max_file_size: u64,
    color: bool,
) -> FileResult {
    match source::read_text(input, max_file_size) {
        Err(e) => unreadable(e, color),
        Ok(text) => {
            let outcome = engine.scan_text(input.display(), &text);
            let diagnostics = outcome
                .errors
                .iter()
                .map(|e| {
                    (
                        e.path.clone(),
                        e.span.map_or(0, |s| s.start.line),
                        diagnostics::input_error(e, Some(&text), color),
                    )
                })
                .collect();
            FileResult {
                outcome,
                diagnostics,
            }
        }
    }
}

/// Rule metadata for the report, with documentation dedented to Markdown.
fn rule_table(metas: impl Iterator<Item = &'static RuleMeta>) -> BTreeMap<String, RuleMeta> {
    metas
        .map(|m| {
            let mut meta = m.clone();
            meta.doc = dedent_doc(&m.doc).into();
            (m.code.to_string(), meta)
        })
        .collect()
}

fn write_report(report: &Report, resolved: &Resolved, args: &ScanArgs) -> Result<()> {
    let to_terminal = args.output.is_none() && io::stdout().is_terminal();
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => to_terminal && std::env::var_os("NO_COLOR").is_none(),
    };
    let options = Options {
        color,
        show_suppressed: args.show_suppressed,
    };
    super::output::write_report(args.output.as_deref(), |out| {
        reporter::write(resolved.format, report, options, out)
    })?;
    Ok(())
}

#[allow(dead_code)]
fn _assert_send(_: Arc<str>) {}
