//! Command-line interface (clap). Flag names follow Trivy's where the
//! meaning is the same.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Palisade: find the holes in cloud-native applications before attackers
/// do — Kubernetes misconfiguration, RBAC risks, secrets, vulnerable
/// packages — in one fast binary.
#[derive(Debug, Parser)]
#[command(name = "palisade", version, about, long_about = None, propagate_version = true)]
#[command(
    after_help = "Exit codes: 0 no findings at or above --fail-on, 1 findings at or above --fail-on, 2 usage or input error.\n\nExamples:\n  palisade scan examples/\n  helm template ./chart | palisade scan -\n  palisade scan deploy/ --format sarif --output palisade.sarif\n  palisade rules K8S001"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan Kubernetes manifests (files, directories, or `-` for stdin).
    Scan(Box<ScanArgs>),
    /// List the built-in rules, or explain one.
    Rules(RulesArgs),
}

/// Output formats of `palisade scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Findings grouped by file, for people.
    Table,
    /// The versioned JSON report (docs/json-report.md).
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// JUnit XML, for CI test reports.
    Junit,
}

/// Scanners `palisade scan` can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum ScannerName {
    /// Kubernetes misconfiguration (built-in rules).
    Config,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files or directories to scan; `-` reads a YAML/JSON stream from stdin.
    /// Directories are walked recursively for .yaml, .yml and .json files,
    /// honouring .gitignore and .palisadeignore.
    #[arg(value_name = "TARGET", default_value = ".")]
    pub targets: Vec<PathBuf>,

    /// Scanners to run.
    #[arg(long, value_delimiter = ',', value_enum, default_value = "config")]
    pub scanners: Vec<ScannerName>,

    /// Output format.
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,

    /// Write the report to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Severities to report, comma-separated (default: all).
    #[arg(short, long, value_delimiter = ',', value_name = "SEVERITY")]
    pub severity: Vec<String>,

    /// Exit with 1 when a finding at or above this severity remains
    /// (info, low, medium, high, critical, or `none` to never fail).
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<String>,

    /// Configuration file (default: ./palisade.yaml when it exists).
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Enable rules (codes or names, comma-separated), e.g. opt-in rules.
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    pub enable: Vec<String>,

    /// Disable rules (codes or names, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    pub disable: Vec<String>,

    /// Suppress findings whose fingerprints are in this baseline file.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Write the fingerprints of all current findings to FILE (adopt
    /// Palisade on an existing codebase, then use --baseline).
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,

    /// Report input errors but do not let them change the exit code.
    #[arg(long)]
    pub skip_invalid: bool,

    /// Largest file to read, e.g. 64MiB or 500KB (default 128MiB).
    #[arg(long, value_name = "SIZE")]
    pub max_file_size: Option<String>,

    /// List suppressed findings in the table too.
    #[arg(long)]
    pub show_suppressed: bool,

    /// Print nothing but the report and errors.
    #[arg(short, long)]
    pub quiet: bool,

    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress: bool,

    /// Colour: auto (on a terminal, unless NO_COLOR is set), always or never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// A rule code or name to explain; without it, list every rule.
    pub rule: Option<String>,

    /// Output format for the list.
    #[arg(short, long, value_enum, default_value_t = RulesFormat::Table)]
    pub format: RulesFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    Table,
    Json,
    Markdown,
}
