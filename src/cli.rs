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
    /// Runtime drift guard (Linux node agent, as root): block the exec of
    /// files that are not from the container's image.
    Guard(GuardArgs),
    /// Analyse Kubernetes RBAC: who can do what, risky grants, escalation
    /// paths, least privilege from audit logs.
    #[command(subcommand)]
    Rbac(RbacCommand),
    /// Test custom policies: run the `test_` rules of Rego policies.
    #[command(subcommand)]
    Policy(crate::commands::policy::PolicyCommand),
    /// Validating admission webhook: serve it, make its certificates,
    /// print its manifests.
    #[command(subcommand)]
    Admission(crate::commands::admission::AdmissionCommand),
    /// Software bill of materials (CycloneDX 1.6, SPDX 2.3 or a table) of a
    /// directory, root filesystem, OCI image or existing SBOM.
    Sbom(Box<SbomArgs>),
    /// The offline advisory database: import, update, info.
    #[command(subcommand)]
    Db(crate::commands::vuln::DbCommand),
    /// Known vulnerabilities of a directory, root filesystem, image or SBOM
    /// (OSV matching, VEX-aware).
    Vuln(Box<crate::commands::vuln::VulnArgs>),
}

/// `palisade sbom` (docs/sbom.md).
#[derive(Debug, Args)]
#[command(
    after_help = "TARGET is a directory, a root filesystem (--rootfs), an OCI image layout directory, a docker-archive or OCI tarball, a registry reference (host/repo:tag or host/repo@sha256:…), a lockfile, or a CycloneDX/SPDX JSON SBOM to read back.\n\nRegistry credentials: PALISADE_REGISTRY_USERNAME and PALISADE_REGISTRY_PASSWORD (basic), or PALISADE_REGISTRY_TOKEN (bearer).\n\nExamples:\n  palisade sbom .\n  palisade sbom --rootfs / --skip-dirs /tmp --format table\n  palisade sbom image.tar --format spdx-json -o sbom.spdx.json\n  palisade sbom localhost:5000/app:1.0 --insecure\n  palisade sbom trivy-made.cdx.json --format table"
)]
pub struct SbomArgs {
    /// What to inventory.
    #[arg(value_name = "TARGET", default_value = ".")]
    pub target: String,

    /// Output format.
    #[arg(short, long, value_enum, default_value_t = SbomFormat::Cyclonedx)]
    pub format: SbomFormat,

    /// Write the SBOM to FILE instead of stdout. A file is replaced whole
    /// (a failed run leaves the previous SBOM); devices and pipes
    /// (`/dev/null`, `/dev/stdout`) are written in place.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Treat the directory as a root filesystem: read OS package databases
    /// (dpkg, apk, rpm) and /etc/os-release; ignore files are not honoured.
    #[arg(long)]
    pub rootfs: bool,

    /// Platform to pick from a multi-platform image (os/arch[/variant]).
    #[arg(long, value_name = "PLATFORM", default_value = "linux/amd64")]
    pub platform: String,

    /// Talk plain HTTP to the registry (for a local registry).
    #[arg(long)]
    pub insecure: bool,

    /// Also inventory package-manager caches (~/.cargo/registry, ~/.npm,
    /// pip caches, …), skipped by default.
    #[arg(long)]
    pub include_caches: bool,

    /// Directories not to enter (relative to the target; repeatable).
    #[arg(long = "skip-dirs", value_name = "DIR", value_delimiter = ',')]
    pub skip_dirs: Vec<String>,

    /// Record the creation time (SBOMs are otherwise reproducible: same
    /// input, same bytes).
    #[arg(long)]
    pub timestamp: bool,

    /// Report input errors but do not let them change the exit code.
    #[arg(long)]
    pub skip_invalid: bool,

    /// Print nothing but the SBOM and errors.
    #[arg(short, long)]
    pub quiet: bool,

    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

/// Output formats of `palisade sbom`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SbomFormat {
    /// CycloneDX 1.6 JSON.
    Cyclonedx,
    /// SPDX 2.3 JSON.
    SpdxJson,
    /// One row per component, for people.
    Table,
}

/// `palisade guard`: runs the guard until SIGINT/SIGTERM (docs/guard.md).
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
#[command(
    after_help = "Examples:\n  palisade guard --mode audit\n  palisade guard --config guard.yaml --output /var/log/palisade-guard.jsonl\n  palisade guard --mode enforce --mount /run/containerd/io.containerd.runtime.v2.task/k8s.io/ID/rootfs\n  palisade guard manifests | kubectl apply -f -"
)]
pub struct GuardArgs {
    #[command(subcommand)]
    pub command: Option<GuardCommand>,

    /// Guard configuration (YAML, see docs/guard.md).
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// enforce: deny the exec of files not from the image; audit: allow
    /// and report them (default: the configuration's, else audit).
    #[arg(long, value_enum)]
    pub mode: Option<GuardMode>,

    /// Guard this overlay mount point (repeatable; it may be mounted
    /// later). Default: every overlay mount the configuration selects.
    #[arg(long = "mount", value_name = "PATH")]
    pub mounts: Vec<PathBuf>,

    /// Append events (JSON lines) to FILE instead of writing to stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum GuardCommand {
    /// Print the Kubernetes DaemonSet (and its namespace, service account,
    /// configuration and network policy) that runs the guard on every node.
    Manifests,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GuardMode {
    Enforce,
    Audit,
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
    /// RBAC risks per user, group and service account.
    Rbac,
    /// Leaked secrets in every file and inside Kubernetes objects.
    Secret,
    /// User policies: Rego and ValidatingAdmissionPolicies (--policy; on by
    /// default when policies are given).
    Policy,
    /// Known-vulnerable packages (the advisory database of `palisade db`).
    Vuln,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files or directories to scan; `-` reads a YAML/JSON stream from stdin.
    /// Directories are walked recursively for .yaml, .yml and .json files,
    /// honouring .gitignore and .palisadeignore. Default: `.` (none when
    /// --image is given).
    #[arg(value_name = "TARGET")]
    pub targets: Vec<PathBuf>,

    /// Scanners to run.
    #[arg(long, value_delimiter = ',', value_enum, default_value = "config,rbac")]
    pub scanners: Vec<ScannerName>,

    /// Report RBAC risks of Kubernetes' own controller identities at full
    /// severity (they are info by default).
    #[arg(long)]
    pub include_system: bool,

    /// Namespace assumed for RBAC objects and workloads written without one
    /// (as `kubectl apply -n NS` would place them).
    #[arg(long, value_name = "NS")]
    pub default_namespace: Option<String>,

    /// Secret rules to add (TOML, the format of the built-in rules; a rule
    /// with a built-in rule's id replaces it). Repeatable.
    #[arg(long, value_name = "FILE")]
    pub secret_rules: Vec<PathBuf>,

    /// Use only the rules of --secret-rules files, not the built-in ones.
    #[arg(long)]
    pub no_builtin_secret_rules: bool,

    /// Print secrets in full in findings (default: first characters and a
    /// hash).
    #[arg(long)]
    pub show_secrets: bool,

    /// Container image to scan for secrets (with `--scanners secret`): an
    /// OCI layout directory, a docker-archive or OCI tarball (`docker
    /// save`, `skopeo copy`), or a registry reference. Every layer is read,
    /// so a secret that a later layer deletes is still found. Registry
    /// credentials come from PALISADE_REGISTRY_TOKEN, or
    /// PALISADE_REGISTRY_USERNAME and PALISADE_REGISTRY_PASSWORD.
    /// Repeatable.
    #[arg(long = "image", value_name = "IMAGE")]
    pub images: Vec<String>,

    /// Platform to pick from a multi-platform --image (os/arch[/variant]).
    #[arg(long, value_name = "PLATFORM", default_value = "linux/amd64")]
    pub platform: String,

    /// Talk plain HTTP to the registry of --image (for a local registry).
    #[arg(long)]
    pub insecure: bool,

    /// Output format.
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,

    /// Write the report to FILE instead of stdout. A file is replaced whole
    /// (a failed run leaves the previous report); devices and pipes
    /// (`/dev/null`, `/dev/stdout`) are written in place.
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

    #[command(flatten)]
    pub policy: crate::commands::scan_policy::PolicyArgs,
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

/// `palisade rbac` subcommands. Each reads RBAC objects (Roles,
/// ClusterRoles, bindings, ServiceAccounts, workloads) from manifests,
/// directories, `-` (stdin) or `kubectl get … -o yaml|json` dumps.
#[derive(Debug, Subcommand)]
pub enum RbacCommand {
    /// Who can VERB RESOURCE: every user, group and service account allowed,
    /// with the binding and role that allow it.
    #[command(
        after_help = "Examples:\n  palisade rbac who-can get secrets manifests/\n  palisade rbac who-can create pods/exec -n prod cluster-rbac.yaml\n  kubectl get roles,rolebindings,clusterroles,clusterrolebindings -A -o yaml | palisade rbac who-can list secrets -"
    )]
    WhoCan(WhoCanArgs),
    /// Everything SUBJECT can do, grouped by namespace. SUBJECT is
    /// `user:NAME`, `group:NAME`, `sa:NAMESPACE/NAME` or a Kubernetes user
    /// name (`system:serviceaccount:NS:NAME`).
    Can(CanArgs),
    /// Privilege-escalation paths to cluster-admin (or to a subject).
    Paths(PathsArgs),
    /// The minimal Role/ClusterRole (and bindings) covering what SUBJECT did,
    /// from audit logs.
    Minimize(MinimizeArgs),
    /// Granted permissions never used in the audit logs' time window.
    Unused(UnusedArgs),
}

#[derive(Debug, Args)]
pub struct RbacInput {
    /// Manifests to read (files, directories, `-` for stdin).
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,

    /// Report input errors but do not let them change the exit code.
    #[arg(long)]
    pub skip_invalid: bool,

    /// Namespace for namespaced objects written without one (as
    /// `kubectl apply -n NS` would place them).
    #[arg(long, value_name = "NS", default_value = "default")]
    pub default_namespace: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TableOrJson {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct WhoCanArgs {
    /// The verb: get, list, watch, create, update, patch, delete, escalate, bind, impersonate, ….
    pub verb: String,
    /// The resource: `pods`, `pods/exec`, `deployments.apps`, `deploy`, or a
    /// non-resource URL (`/metrics`).
    pub resource: String,
    #[command(flatten)]
    pub input: RbacInput,
    /// Namespace of the request (omit for cluster-scoped resources or all namespaces).
    #[arg(short, long)]
    pub namespace: Option<String>,
    /// Name of the object (matters for roles restricted by `resourceNames`).
    #[arg(long)]
    pub name: Option<String>,
    #[arg(short, long, value_enum, default_value_t = TableOrJson::Table)]
    pub format: TableOrJson,
}

#[derive(Debug, Args)]
pub struct CanArgs {
    /// `user:NAME`, `group:NAME`, `sa:NAMESPACE/NAME`, or a user name.
    pub subject: String,
    #[command(flatten)]
    pub input: RbacInput,
    /// Extra groups the user belongs to (users' groups come from the
    /// authenticator, not from RBAC).
    #[arg(long, value_delimiter = ',')]
    pub group: Vec<String>,
    #[arg(short, long, value_enum, default_value_t = TableOrJson::Table)]
    pub format: TableOrJson,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PathsFormat {
    Text,
    Json,
    Dot,
    Mermaid,
}

#[derive(Debug, Args)]
pub struct PathsArgs {
    #[command(flatten)]
    pub input: RbacInput,
    /// Start from this subject (default: every subject that is not a
    /// Kubernetes system identity).
    #[arg(long)]
    pub from: Option<String>,
    /// `cluster-admin` (default) or a subject.
    #[arg(long, default_value = "cluster-admin")]
    pub to: String,
    /// Include Kubernetes system identities as starting points.
    #[arg(long)]
    pub include_system: bool,
    #[arg(short, long, value_enum, default_value_t = PathsFormat::Text)]
    pub format: PathsFormat,
}

#[derive(Debug, Args)]
pub struct MinimizeArgs {
    /// Audit log files (audit.k8s.io/v1 or v1beta1 events, JSON lines).
    #[arg(long = "audit-log", value_name = "FILE", required = true)]
    pub audit_logs: Vec<PathBuf>,
    /// `user:NAME`, `group:NAME`, `sa:NAMESPACE/NAME`, or a user name.
    #[arg(long)]
    pub subject: String,
    /// Restrict rules to the object names seen (`resourceNames`).
    #[arg(long)]
    pub with_names: bool,
    /// Name of the generated roles and bindings.
    #[arg(long, default_value = "")]
    pub name: String,
    /// Also grant requests the API server denied (401/403): the audit2rbac
    /// workflow, where the subject first runs without permissions. Off by
    /// default, as a denied request may be a probe rather than a need.
    #[arg(long)]
    pub include_denied: bool,
}

#[derive(Debug, Args)]
pub struct UnusedArgs {
    /// Audit log files (audit.k8s.io/v1 or v1beta1 events, JSON lines).
    #[arg(long = "audit-log", value_name = "FILE", required = true)]
    pub audit_logs: Vec<PathBuf>,
    #[command(flatten)]
    pub input: RbacInput,
    /// Only this subject.
    #[arg(long)]
    pub subject: Option<String>,
    #[arg(short, long, value_enum, default_value_t = TableOrJson::Table)]
    pub format: TableOrJson,
}
