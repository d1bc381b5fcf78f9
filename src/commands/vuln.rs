//! `palisade db import|update|info` (the offline advisory database) and
//! `palisade vuln TARGET` (match a directory, root filesystem, image or
//! existing SBOM against it), plus the vulnerability part of `palisade
//! scan --scanners vuln`.

use std::fs;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use palisade_core::date::Date;
use palisade_core::report::InputErrorKind;
use palisade_core::reporter::{self, Format, Options};
use palisade_core::{InputError, Report, Severity};
use palisade_sca::scan::{Mode, ScanOptions};
use palisade_sca::source::{self, SourceOptions};
use palisade_vuln::store::{self, SourceInfo, Store};
use palisade_vuln::vex::Vex;
use palisade_vuln::{import, scan, update};

use crate::cli::ColorChoice;
use crate::commands::scan::{FAIL_ON_VALUES, parse_severity};
use crate::{EXIT_ERROR, diagnostics};

/// Data older than this gets a warning.
const MAX_AGE_DAYS: u64 = 7;

/// `palisade db` subcommands.
#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Import advisories from files and directories: OSV JSON directories,
    /// OSV `all.zip` dumps, ruby-advisory-db, nodejs security-wg, Alpine
    /// secdb, Debian security tracker lists and Debian OVAL.
    #[command(
        after_help = "Examples:\n  palisade db import ../advisories/\n  palisade db import PyPI-all.zip go/data/osv/\n  palisade db import --db /srv/palisade-db DSA-list.gz oval-definitions-bookworm.xml.bz2"
    )]
    Import(ImportArgs),
    /// Download the per-ecosystem OSV dumps (HTTPS, resumable) and swap
    /// them into the database.
    #[command(
        after_help = "Examples:\n  palisade db update\n  palisade db update --ecosystem PyPI --ecosystem npm\n  palisade db update --url https://mirror.example.com/osv --ca-cert mirror-ca.pem"
    )]
    Update(UpdateArgs),
    /// Show the database's sources, counts and age.
    Info(InfoArgs),
}

#[derive(Debug, Args)]
pub struct DbLocation {
    /// Database directory (default: $PALISADE_DB, else
    /// $XDG_CACHE_HOME/palisade/db).
    #[arg(long, value_name = "DIR")]
    pub db: Option<PathBuf>,
}

impl DbLocation {
    pub fn dir(&self) -> PathBuf {
        db_dir(self.db.as_deref())
    }
}

/// The database directory: the flag, else `$PALISADE_DB`, else the cache.
pub fn db_dir(flag: Option<&Path>) -> PathBuf {
    flag.map(Path::to_path_buf)
        .or_else(|| {
            std::env::var_os("PALISADE_DB")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
        .unwrap_or_else(store::default_dir)
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Files or directories to import.
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub location: DbLocation,
    /// Print nothing but errors and warnings.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    #[command(flatten)]
    pub location: DbLocation,
    /// Base URL of the dumps: `<URL>/<ecosystem>/all.zip`.
    #[arg(long, value_name = "URL", default_value = update::DEFAULT_BASE_URL)]
    pub url: String,
    /// Ecosystems to download (repeatable; default: Alpine, crates.io,
    /// Debian, Go, Maven, npm, NuGet, Packagist, PyPI, RubyGems, Ubuntu).
    #[arg(long = "ecosystem", value_name = "NAME", value_delimiter = ',')]
    pub ecosystems: Vec<String>,
    /// Trust only the CA certificates in this PEM file (a private mirror).
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InfoFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    #[command(flatten)]
    pub location: DbLocation,
    #[arg(short, long, value_enum, default_value_t = InfoFormat::Table)]
    pub format: InfoFormat,
}

/// Output formats of `palisade vuln`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VulnFormat {
    Table,
    Json,
    Sarif,
    /// CycloneDX 1.6 with `vulnerabilities` (a VEX document).
    CyclonedxVex,
}

/// `palisade vuln TARGET`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  palisade vuln .\n  palisade vuln bom.cdx.json --format sarif -o vulns.sarif\n  palisade vuln --rootfs / --ignore-unfixed --fail-on high\n  palisade vuln image.tar --vex triage.openvex.json --show-suppressed"
)]
pub struct VulnArgs {
    /// A directory, root filesystem (--rootfs), OCI layout, docker-archive,
    /// registry reference, or a CycloneDX/SPDX JSON SBOM.
    #[arg(value_name = "TARGET", default_value = ".")]
    pub target: String,
    #[command(flatten)]
    pub location: DbLocation,
    #[arg(short, long, value_enum, default_value_t = VulnFormat::Table)]
    pub format: VulnFormat,
    /// Write the report to FILE instead of stdout. A file is replaced whole
    /// (a failed run leaves the previous report); devices and pipes
    /// (`/dev/null`, `/dev/stdout`) are written in place.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Severities to report, comma-separated (default: all).
    #[arg(short, long, value_delimiter = ',', value_name = "SEVERITY")]
    pub severity: Vec<String>,
    /// Exit with 1 when a vulnerability at or above this severity remains
    /// (default low; `none` never fails).
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<String>,
    /// Leave out vulnerabilities that have no fixed version yet.
    #[arg(long)]
    pub ignore_unfixed: bool,
    /// OpenVEX or CycloneDX VEX documents: `not_affected` and `fixed`
    /// statements suppress findings (repeatable).
    #[arg(long, value_name = "FILE")]
    pub vex: Vec<PathBuf>,
    /// Treat the directory as a root filesystem.
    #[arg(long)]
    pub rootfs: bool,
    #[arg(long, value_name = "PLATFORM", default_value = "linux/amd64")]
    pub platform: String,
    /// Talk plain HTTP to the registry (for a local registry).
    #[arg(long)]
    pub insecure: bool,
    /// List suppressed findings in the table too.
    #[arg(long)]
    pub show_suppressed: bool,
    /// Report input errors but do not let them change the exit code.
    #[arg(long)]
    pub skip_invalid: bool,
    #[arg(short, long)]
    pub quiet: bool,
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

pub fn run_db(cmd: DbCommand) -> Result<ExitCode> {
    match cmd {
        DbCommand::Import(a) => import(a),
        DbCommand::Update(a) => update_cmd(a),
        DbCommand::Info(a) => info(a),
    }
}

fn summary_line(i: &SourceInfo) -> String {
    format!(
        "{} ({}): {} advisories{}{}{}",
        i.name,
        i.kind,
        i.advisories,
        if i.withdrawn > 0 {
            format!(", {} withdrawn", i.withdrawn)
        } else {
            String::new()
        },
        if i.rejected > 0 {
            format!(", {} rejected", i.rejected)
        } else {
            String::new()
        },
        if i.skipped > 0 {
            format!(", {} parts skipped", i.skipped)
        } else {
            String::new()
        },
    )
}

fn import(args: ImportArgs) -> Result<ExitCode> {
    let dir = args.location.dir();
    let store = Store::create(&dir).map_err(anyhow::Error::from)?;
    let mut failed = false;
    for p in &args.paths {
        let out = import::import_path(&store, p);
        for i in &out.sources {
            if !args.quiet {
                eprintln!("Imported {}", summary_line(i));
            }
            if i.rejected > 0 {
                for p in i.problems.iter().take(5) {
                    diagnostics::warn(p);
                }
            }
        }
        for e in &out.errors {
            failed = true;
            eprint!(
                "{}",
                diagnostics::render(
                    &e.to_string(),
                    &p.display().to_string(),
                    None,
                    None,
                    diagnostics::stderr_color()
                )
            );
        }
    }
    if !args.quiet {
        eprintln!(
            "Database {}: {} advisories",
            store.path().display(),
            store.count().map_err(anyhow::Error::from)?
        );
    }
    Ok(if failed {
        ExitCode::from(EXIT_ERROR)
    } else {
        ExitCode::SUCCESS
    })
}

fn update_cmd(args: UpdateArgs) -> Result<ExitCode> {
    let dir = args.location.dir();
    let mut config = update::Config {
        base_url: args.url.clone(),
        ca_certs: args.ca_cert.clone(),
        ..update::Config::default()
    };
    if !args.ecosystems.is_empty() {
        config.ecosystems = args.ecosystems.clone();
    }
    let results = update::update(&dir, &config).map_err(anyhow::Error::from)?;
    let mut failed = false;
    for (eco, outcome) in &results {
        match outcome {
            update::Outcome::Updated {
                info,
                bytes,
                resumed_from,
            } => {
                if !args.quiet {
                    let resumed = if *resumed_from > 0 {
                        format!(", resumed at {resumed_from}")
                    } else {
                        String::new()
                    };
                    eprintln!("{eco}: {bytes} bytes{resumed}; {}", summary_line(info));
                }
            }
            update::Outcome::Unchanged => {
                if !args.quiet {
                    eprintln!("{eco}: unchanged");
                }
            }
            update::Outcome::Failed(e) => {
                failed = true;
                eprint!(
                    "{}",
                    diagnostics::render(
                        &e.to_string(),
                        eco,
                        None,
                        None,
                        diagnostics::stderr_color()
                    )
                );
            }
        }
    }
    Ok(if failed {
        ExitCode::from(EXIT_ERROR)
    } else {
        ExitCode::SUCCESS
    })
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn days_since(date: &str) -> Option<u64> {
    let d: Date = date.parse().ok()?;
    let today = Date::today();
    // Days between two dates by counting from the epoch.
    let to_days = |d: Date| -> i64 {
        let (y, m) = if d.month <= 2 {
            (i64::from(d.year) - 1, i64::from(d.month) + 9)
        } else {
            (i64::from(d.year), i64::from(d.month) - 3)
        };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * m + 2) / 5 + i64::from(d.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    };
    u64::try_from(to_days(today) - to_days(d)).ok()
}

fn info(args: InfoArgs) -> Result<ExitCode> {
    let dir = args.location.dir();
    let store = Store::open(&dir).map_err(anyhow::Error::from)?;
    let sources = store.sources().map_err(anyhow::Error::from)?;
    let total = store.count().map_err(anyhow::Error::from)?;
    let size = fs::metadata(store.path()).map(|m| m.len()).unwrap_or(0);
    let now = now_secs();
    let mut warnings = Vec::new();
    for s in &sources {
        let imported_days = now.saturating_sub(s.imported_at) / 86_400;
        match s.data_date.as_deref().and_then(|d| days_since(d).map(|n| (d, n))) {
            Some((d, n)) if n > MAX_AGE_DAYS => warnings.push(format!(
                "{}: the newest advisory is from {d}, {n} days ago (older than {MAX_AGE_DAYS} days): run `palisade db update` or re-import newer data",
                s.name
            )),
            None if imported_days > MAX_AGE_DAYS => warnings.push(format!(
                "{}: imported {imported_days} days ago and its data carries no date (older than {MAX_AGE_DAYS} days)",
                s.name
            )),
            _ => {}
        }
    }
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    match args.format {
        InfoFormat::Json => {
            let doc = serde_json::json!({
                "path": store.path().display().to_string(),
                "schemaVersion": store::SCHEMA_VERSION,
                "bytes": size,
                "advisories": total,
                "sources": sources,
                "warnings": warnings,
            });
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
        InfoFormat::Table => {
            writeln!(
                out,
                "Advisory database {} (schema {}, {:.1} MiB, {} advisories)",
                store.path().display(),
                store::SCHEMA_VERSION,
                size as f64 / (1024.0 * 1024.0),
                total
            )?;
            writeln!(
                out,
                "{:<10} {:>8} {:>8} {:>8} {:>8}  {:<10}  {:<10}  SOURCE",
                "KIND", "ADVIS.", "WITHDR.", "REJECT.", "SKIPPED", "DATA DATE", "IMPORTED"
            )?;
            for s in &sources {
                let imported = Date::from_days_since_epoch((s.imported_at / 86_400) as i64);
                writeln!(
                    out,
                    "{:<10} {:>8} {:>8} {:>8} {:>8}  {:<10}  {:<10}  {}",
                    s.kind.chars().take(10).collect::<String>(),
                    s.advisories,
                    s.withdrawn,
                    s.rejected,
                    s.skipped,
                    s.data_date.as_deref().unwrap_or("unknown"),
                    imported.to_string(),
                    s.name
                )?;
            }
        }
    }
    out.flush()?;
    drop(out);
    for w in &warnings {
        diagnostics::warn(w);
    }
    Ok(ExitCode::SUCCESS)
}

/// Inventories `target` and matches it: the report (with input errors for
/// a target that cannot be read) and the scan outcome.
pub fn scan_target(
    target: &str,
    db_dir: &Path,
    vex: &Vex,
    options: &scan::Options,
    rootfs: bool,
    platform: &str,
    insecure: bool,
) -> Result<scan::Outcome> {
    let store = Store::open(db_dir).map_err(anyhow::Error::from)?;
    let reader = store.reader().map_err(anyhow::Error::from)?;
    let opts = SourceOptions {
        scan: ScanOptions {
            mode: if rootfs {
                Mode::Rootfs
            } else {
                Mode::Directory
            },
            ..ScanOptions::default()
        },
        platform: platform.to_owned(),
        insecure,
        credentials: super::sbom::credentials(),
    };
    match source::sbom_of(target, &opts) {
        Ok(sbom) => scan::scan(&sbom, &reader, vex, options).map_err(anyhow::Error::from),
        Err(e) => {
            let mut out = scan::Outcome::default();
            out.report.errors.push(InputError::from(e));
            Ok(out)
        }
    }
}

/// `palisade scan --scanners vuln`: every target, with the default
/// database and no VEX.
pub fn for_scan(targets: &[PathBuf]) -> Result<Report> {
    let dir = db_dir(None);
    let mut report = Report::default();
    for t in targets {
        let display = t.display().to_string();
        if display == "-" {
            report.errors.push(InputError::new(
                "-",
                InputErrorKind::Invalid,
                "vulnerability scanning needs a path, not stdin",
            ));
            continue;
        }
        let out = scan_target(
            &display,
            &dir,
            &Vex::default(),
            &scan::Options::default(),
            false,
            "linux/amd64",
            false,
        )?;
        let mut r = out.report;
        // `scan` counts files and objects itself.
        r.stats = Default::default();
        report.merge(r);
    }
    Ok(report)
}

pub fn run_vuln(args: VulnArgs) -> Result<ExitCode> {
    let mut severities = args
        .severity
        .iter()
        .map(|s| parse_severity(s))
        .collect::<Result<Vec<_>>>()
        .context("invalid --severity")?;
    if severities.is_empty() {
        severities = Severity::ALL.to_vec();
    }
    let fail_on = match args.fail_on.as_deref() {
        None => Some(Severity::Low),
        Some(s) if s.eq_ignore_ascii_case("none") => None,
        Some(s) => Some(parse_severity(s).context(FAIL_ON_VALUES)?),
    };
    let mut vex = Vex::default();
    for v in &args.vex {
        vex.read_file(v)
            .with_context(|| format!("cannot use VEX document {}", v.display()))?;
    }
    let dir = args.location.dir();
    if !dir.join(store::STORE_FILE).is_file() {
        bail!(palisade_vuln::Error::Missing {
            path: dir.display().to_string()
        });
    }
    let options = scan::Options {
        ignore_unfixed: args.ignore_unfixed,
    };
    let outcome = scan_target(
        &args.target,
        &dir,
        &vex,
        &options,
        args.rootfs,
        &args.platform,
        args.insecure,
    )?;
    let stats = outcome.stats.clone();
    let mut report = outcome.report;
    report.retain_severities(&severities);
    report.finalize();
    let to_terminal = args.output.is_none() && io::stdout().is_terminal();
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => to_terminal && std::env::var_os("NO_COLOR").is_none(),
    };
    let write = |out: &mut dyn Write| -> io::Result<()> {
        match args.format {
            VulnFormat::CyclonedxVex => palisade_vuln::cdx::write(&outcome.matched, out),
            f => {
                let format = match f {
                    VulnFormat::Json => Format::Json,
                    VulnFormat::Sarif => Format::Sarif,
                    _ => Format::Table,
                };
                reporter::write(
                    format,
                    &report,
                    Options {
                        color,
                        show_suppressed: args.show_suppressed,
                    },
                    out,
                )
            }
        }
    };
    super::output::write_report(args.output.as_deref(), write)?;
    let color_err = diagnostics::stderr_color();
    for e in &report.errors {
        eprint!("{}", diagnostics::input_error(e, None, color_err));
    }
    if !args.quiet {
        let unsupported: Vec<String> = stats
            .unsupported
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        eprintln!(
            "Matched {} of {} components ({} vulnerable, {} vulnerabilities{}{}{})",
            stats.matched,
            stats.components,
            stats.vulnerable,
            stats.vulnerabilities,
            if stats.undecided > 0 {
                format!(", {} advisories undecided", stats.undecided)
            } else {
                String::new()
            },
            if stats.unfixed_ignored > 0 {
                format!(", {} unfixed ignored", stats.unfixed_ignored)
            } else {
                String::new()
            },
            if unsupported.is_empty() {
                String::new()
            } else {
                format!("; no advisory data for: {}", unsupported.join(", "))
            }
        );
        if stats.without_purl > 0 {
            diagnostics::warn(&format!(
                "{} components have no purl; they were matched by their declared type where one was given",
                stats.without_purl
            ));
        }
    }
    Ok(if !report.errors.is_empty() && !args.skip_invalid {
        ExitCode::from(EXIT_ERROR)
    } else if report.fails(fail_on) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
