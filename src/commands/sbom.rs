//! `palisade sbom TARGET`: inventory a directory, root filesystem, image or
//! existing SBOM and write CycloneDX, SPDX or a table.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use palisade_sca::scan::{Mode, Progress, ScanOptions};
use palisade_sca::source::{self, Credentials, SourceOptions};

use crate::cli::{SbomArgs, SbomFormat};
use crate::diagnostics;

/// An indicatif bar on stderr (only created on a terminal).
struct Bar(Mutex<Option<ProgressBar>>);

impl Progress for Bar {
    fn start(&self, what: &str, total: u64) {
        let bar = if total == 0 {
            let b = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            if let Ok(s) = ProgressStyle::with_template("{spinner} {msg} {elapsed}") {
                b.set_style(s);
            }
            b
        } else {
            let b = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            if let Ok(s) =
                ProgressStyle::with_template("{spinner} {msg} {pos}/{len} [{bar:30}] {elapsed}")
            {
                b.set_style(s.progress_chars("=> "));
            }
            b
        };
        bar.set_message(what.to_owned());
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        if let Ok(mut g) = self.0.lock() {
            *g = Some(bar);
        }
    }

    fn inc(&self, n: u64) {
        if let Ok(g) = self.0.lock()
            && let Some(b) = g.as_ref()
        {
            b.inc(n);
        }
    }

    fn finish(&self) {
        if let Ok(mut g) = self.0.lock()
            && let Some(b) = g.take()
        {
            b.finish_and_clear();
        }
    }
}

/// Registry credentials from the environment (`PALISADE_REGISTRY_TOKEN`,
/// or `PALISADE_REGISTRY_USERNAME` and `PALISADE_REGISTRY_PASSWORD`).
pub(crate) fn credentials() -> Credentials {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    match (
        env("PALISADE_REGISTRY_USERNAME"),
        env("PALISADE_REGISTRY_PASSWORD"),
        env("PALISADE_REGISTRY_TOKEN"),
    ) {
        (_, _, Some(token)) => Credentials::Bearer(token),
        (Some(user), Some(password), None) => Credentials::Basic { user, password },
        _ => Credentials::Anonymous,
    }
}

pub fn run(args: SbomArgs) -> anyhow::Result<ExitCode> {
    let progress: Option<Arc<dyn Progress>> =
        (!args.no_progress && !args.quiet && std::io::stderr().is_terminal())
            .then(|| Arc::new(Bar(Mutex::new(None))) as Arc<dyn Progress>);
    let opts = SourceOptions {
        scan: ScanOptions {
            mode: if args.rootfs {
                Mode::Rootfs
            } else {
                Mode::Directory
            },
            include_caches: args.include_caches,
            skip_dirs: args.skip_dirs.clone(),
            progress,
            ..ScanOptions::default()
        },
        platform: args.platform.clone(),
        insecure: args.insecure,
        credentials: credentials(),
    };
    let mut sbom =
        source::sbom_of(&args.target, &opts).map_err(|e| anyhow::anyhow!(e.to_string()))?;
    if args.timestamp {
        sbom.timestamp = Some(palisade_sca::write::now_rfc3339());
    } else if sbom.target.kind != palisade_sca::TargetKind::Sbom {
        sbom.timestamp = None;
    }
    let rendered = match args.format {
        SbomFormat::Cyclonedx => pretty(&palisade_sca::write::cyclonedx::to_json(&sbom))?,
        SbomFormat::SpdxJson => pretty(&palisade_sca::write::spdx::to_json(&sbom))?,
        SbomFormat::Table => palisade_sca::write::table::render(&sbom),
    };
    super::output::write_report(args.output.as_deref(), |out| {
        out.write_all(rendered.as_bytes())
    })?;
    let color = diagnostics::stderr_color();
    for e in &sbom.errors {
        eprint!("{}", diagnostics::input_error(e, None, color));
    }
    if !args.quiet && args.output.is_some() {
        let counts: Vec<String> = sbom
            .counts()
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect();
        eprintln!(
            "{} components{} written to {}",
            sbom.components.len(),
            if counts.is_empty() {
                String::new()
            } else {
                format!(" ({})", counts.join(", "))
            },
            args.output
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        );
    }
    if !sbom.errors.is_empty() && !args.skip_invalid {
        return Ok(ExitCode::from(crate::EXIT_ERROR));
    }
    Ok(ExitCode::SUCCESS)
}

fn pretty(v: &serde_json::Value) -> anyhow::Result<String> {
    let mut s = serde_json::to_string_pretty(v)?;
    s.push('\n');
    Ok(s)
}
