//! `palisade-admission.yaml`: what the webhook enforces and how it fails.
//!
//! The file is read with the span-carrying YAML loader, so a bad value is
//! reported with its line and column. Every field has a default that is
//! safe to run with; the defaults are written out in `docs/admission.md`
//! and in the ConfigMap `palisade admission manifests` prints, so the
//! `kube-system` exemption is never a hidden one.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use palisade_core::{Severity, Span};
use palisade_k8s::Settings;
use palisade_k8s::yaml::{Limits, parse_stream};
use palisade_policy::RegoEngine;
use serde::Deserialize;

/// Largest configuration file read.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct Config {
    /// `enforce` denies; `audit` never denies and reports what it would
    /// have denied (as warnings and log lines).
    pub mode: Mode,
    /// What happens when a request cannot be evaluated (deadline, policy
    /// error, registry unreachable, malformed request): `fail` denies
    /// (fail-closed), `ignore` allows with a warning (fail-open). Also the
    /// `failurePolicy` of the generated ValidatingWebhookConfiguration.
    pub failure_policy: FailurePolicy,
    /// The API server's timeout for one call (`timeoutSeconds`, 1–30).
    pub timeout_seconds: u32,
    /// This server's own deadline for one request, which must be below the
    /// webhook timeout so the answer follows the failure policy chosen
    /// here rather than the API server's. Default: timeout − 1 s.
    pub deadline_ms: Option<u64>,
    /// Evaluations running at once (default: twice the CPUs). Requests
    /// beyond wait for a slot until their deadline.
    pub workers: Option<usize>,
    /// Largest request body accepted (bytes).
    pub max_request_bytes: usize,
    /// Built-in rule selection and the action of every rule.
    pub rules: RulesConfig,
    /// Settings of the built-in rules, as in `palisade.yaml`.
    pub settings: Settings,
    /// Rego policies and ValidatingAdmissionPolicies (files or
    /// directories, relative to this file).
    pub policies: Vec<PathBuf>,
    /// Data documents for Rego policies (relative to this file).
    pub data: Vec<PathBuf>,
    /// Rego packages whose rules apply (Conftest's `--namespace`).
    pub rego_packages: Vec<String>,
    /// `vm` (the webhook's default): regorus' bytecode VM, faster; an
    /// error inside a rule makes the rule undefined, as OPA does with
    /// built-in errors. `interpreter`: operand-type errors and conflicting
    /// complete rules follow the failure policy instead (the interpreter,
    /// too, makes most built-in errors undefined).
    pub rego_engine: RegoEngine,
    pub exemptions: Exemptions,
    pub images: ImagePolicy,
    pub immutability: Immutability,
    /// Honour the `palisade.dev/ignore` annotation on admitted objects.
    /// Off by default: whoever creates the object could otherwise exempt
    /// it; use `exemptions` or `rules.actions` for cluster-wide exceptions.
    pub honor_ignore_annotation: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            mode: Mode::Enforce,
            failure_policy: FailurePolicy::Fail,
            timeout_seconds: 5,
            deadline_ms: None,
            workers: None,
            max_request_bytes: 4 * 1024 * 1024,
            rules: RulesConfig::default(),
            settings: Settings::default(),
            policies: Vec::new(),
            data: Vec::new(),
            rego_packages: vec!["main".into()],
            // Latency at admission; `palisade scan` keeps the interpreter,
            // so CI reports the errors the VM would make undefined.
            rego_engine: RegoEngine::Vm,
            exemptions: Exemptions::default(),
            images: ImagePolicy::default(),
            immutability: Immutability::default(),
            honor_ignore_annotation: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Enforce,
    Audit,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Audit => "audit",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailurePolicy {
    /// Fail-closed: deny what cannot be evaluated.
    #[serde(alias = "Fail")]
    Fail,
    /// Fail-open: allow what cannot be evaluated, with a warning.
    #[serde(alias = "Ignore")]
    Ignore,
}

impl FailurePolicy {
    /// The ValidatingWebhookConfiguration spelling.
    pub fn as_kubernetes(self) -> &'static str {
        match self {
            FailurePolicy::Fail => "Fail",
            FailurePolicy::Ignore => "Ignore",
        }
    }
}

/// What a violated rule does to the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Allow, log a JSON line, count.
    Audit,
    /// Allow with a warning shown to the client (kubectl prints it).
    Warn,
    /// Reject the request.
    Deny,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Deny => "deny",
            Action::Warn => "warn",
            Action::Audit => "audit",
        }
    }
}

impl From<palisade_policy::Action> for Action {
    fn from(a: palisade_policy::Action) -> Action {
        match a {
            palisade_policy::Action::Deny => Action::Deny,
            palisade_policy::Action::Warn => Action::Warn,
            palisade_policy::Action::Audit => Action::Audit,
        }
    }
}

/// Which built-in rules run and what each rule's violation does.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct RulesConfig {
    /// Opt-in built-in rules to turn on (codes or names).
    pub enable: Vec<String>,
    /// Built-in rules to turn off (codes or names).
    pub disable: Vec<String>,
    /// Action per rule: built-in code or name, admission rule, Rego rule
    /// code, or ValidatingAdmissionPolicy name.
    pub actions: BTreeMap<String, Action>,
    /// Action of built-in rules not listed in `actions`, by severity.
    pub severity_actions: SeverityActions,
}

/// The default action of a built-in rule by its severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeverityActions {
    pub critical: Action,
    pub high: Action,
    pub medium: Action,
    pub low: Action,
    pub info: Action,
}

impl Default for SeverityActions {
    fn default() -> Self {
        SeverityActions {
            critical: Action::Deny,
            high: Action::Deny,
            medium: Action::Warn,
            low: Action::Audit,
            info: Action::Audit,
        }
    }
}

impl SeverityActions {
    pub fn of(&self, severity: Severity) -> Action {
        match severity {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Info => self.info,
        }
    }
}

/// Namespaces the webhook does not evaluate.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct Exemptions {
    /// Exempt by name. Default: `[kube-system]` (replaced, not extended,
    /// when set).
    pub namespaces: Vec<String>,
    /// Exempt namespaces matching any of these label selectors. Each has
    /// exactly one requirement, so that its negation can be written into
    /// the webhook's `namespaceSelector` (see `docs/admission.md`).
    pub namespace_selectors: Vec<Selector>,
}

impl Default for Exemptions {
    fn default() -> Self {
        Exemptions {
            namespaces: vec!["kube-system".into()],
            namespace_selectors: Vec::new(),
        }
    }
}

/// A Kubernetes label selector.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Selector {
    pub match_labels: BTreeMap<String, String>,
    pub match_expressions: Vec<Requirement>,
}

/// One `matchExpressions` entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Requirement {
    pub key: String,
    pub operator: Operator,
    #[serde(default)]
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
pub enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl Requirement {
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let value = labels.get(&self.key);
        match self.operator {
            Operator::In => value.is_some_and(|v| self.values.contains(v)),
            Operator::NotIn => value.is_none_or(|v| !self.values.contains(v)),
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
        }
    }

    /// The requirement matching exactly the label sets this one does not.
    pub fn negated(&self) -> Requirement {
        let operator = match self.operator {
            Operator::In => Operator::NotIn,
            Operator::NotIn => Operator::In,
            Operator::Exists => Operator::DoesNotExist,
            Operator::DoesNotExist => Operator::Exists,
        };
        Requirement {
            key: self.key.clone(),
            operator,
            values: self.values.clone(),
        }
    }
}

impl Selector {
    /// `matchLabels` entries as `In` requirements, then the expressions.
    pub fn requirements(&self) -> Vec<Requirement> {
        self.match_labels
            .iter()
            .map(|(k, v)| Requirement {
                key: k.clone(),
                operator: Operator::In,
                values: vec![v.clone()],
            })
            .chain(self.match_expressions.iter().cloned())
            .collect()
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements().iter().all(|r| r.matches(labels))
    }
}

/// Image policy.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct ImagePolicy {
    /// Registries (and path prefixes) images may come from; empty allows
    /// any. Matches on host and path boundaries (`ghcr.io/acme` allows
    /// `ghcr.io/acme/app`, not `ghcr.io/acmecorp/app`). Turns on the
    /// built-in rule `untrusted-registry` (K8S037) with action `deny`.
    pub allowed_registries: Vec<String>,
    /// Require `@sha256:` digests: `image-not-pinned-by-digest` (K8S035)
    /// with action `deny`.
    pub require_digest: bool,
    /// Deny `:latest` and untagged images: `image-tag-latest` (K8S034)
    /// with action `deny`.
    pub deny_latest: bool,
    /// Cosign signature verification (rule `unsigned-image`, ADM006).
    pub signatures: Option<SignaturePolicy>,
}

impl Default for ImagePolicy {
    fn default() -> Self {
        ImagePolicy {
            allowed_registries: Vec::new(),
            require_digest: false,
            deny_latest: true,
            signatures: None,
        }
    }
}

/// Keyed cosign signature verification.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SignaturePolicy {
    /// PEM public key (`cosign.pub`: ECDSA P-256), relative to this file.
    pub public_key: PathBuf,
    /// How long a verification result is reused for a digest.
    #[serde(default = "default_cache_ttl")]
    pub cache_ttl_seconds: u64,
    /// Registries reached over plain HTTP (`host:port`), for local test
    /// registries and in-cluster mirrors without TLS.
    #[serde(default)]
    pub insecure_registries: Vec<String>,
    /// Only images from these registries/path prefixes need a signature
    /// (empty: every image).
    #[serde(default)]
    pub registries: Vec<String>,
}

fn default_cache_ttl() -> u64 {
    300
}

/// Immutability of running workloads.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct Immutability {
    /// Deny `CONNECT pods/exec` (rule `exec-into-pod`).
    pub deny_exec: bool,
    /// Deny `CONNECT pods/attach` (rule `attach-to-pod`).
    pub deny_attach: bool,
    /// Deny `CONNECT pods/portforward` (rule `port-forward-to-pod`).
    pub deny_port_forward: bool,
    /// Deny `UPDATE pods/ephemeralcontainers` (rule `ephemeral-container-added`).
    pub deny_ephemeral_containers: bool,
    /// Deny image changes on existing Pods (rule `in-place-image-change`).
    pub deny_image_change: bool,
    /// Identities allowed through the rules above (each use is logged).
    pub break_glass: BreakGlass,
}

impl Default for Immutability {
    fn default() -> Self {
        Immutability {
            deny_exec: true,
            deny_attach: true,
            deny_port_forward: true,
            deny_ephemeral_containers: true,
            deny_image_change: true,
            break_glass: BreakGlass::default(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BreakGlass {
    pub users: Vec<String>,
    pub groups: Vec<String>,
}

impl BreakGlass {
    pub fn admits(&self, user: &str, groups: &[String]) -> bool {
        self.admitting(user, groups).is_some()
    }

    /// Which break-glass entry lets `user` through: `user carol`, or
    /// `group sre (user carol)`.
    pub fn admitting(&self, user: &str, groups: &[String]) -> Option<String> {
        if self.users.iter().any(|u| u == user) {
            return Some(format!("user {user}"));
        }
        groups
            .iter()
            .find(|g| self.groups.contains(g))
            .map(|g| format!("group {g} (user {user})"))
    }
}

/// A configuration that cannot be used, with where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: String,
    pub span: Option<Span>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.span {
            Some(s) if s.start.line > 0 => write!(
                f,
                "{}:{}:{}: {}",
                self.path, s.start.line, s.start.column, self.message
            ),
            _ => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Reads and validates a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let display = path.display().to_string();
        let error = |message: String| ConfigError {
            path: display.clone(),
            span: None,
            message,
        };
        let meta = std::fs::metadata(path).map_err(|e| error(format!("cannot read: {e}")))?;
        if meta.len() > MAX_CONFIG_BYTES {
            return Err(error(format!(
                "the file is {} bytes, more than the {MAX_CONFIG_BYTES} allowed",
                meta.len()
            )));
        }
        let text = std::fs::read_to_string(path).map_err(|e| error(format!("cannot read: {e}")))?;
        Config::parse(&display, &text)
    }

    /// Parses and validates configuration text; `path` names it in errors.
    pub fn parse(path: &str, text: &str) -> Result<Config, ConfigError> {
        let error = |span: Option<Span>, message: String| ConfigError {
            path: path.to_string(),
            span,
            message,
        };
        let mut root = None;
        let mut documents = 0;
        let errors = parse_stream(text, &Limits::default(), 0, |doc| {
            documents += 1;
            if root.is_none() {
                root = doc.root;
            }
        });
        if let Some(e) = errors.into_iter().next() {
            return Err(error(Some(e.span), e.message));
        }
        if documents > 1 {
            return Err(error(None, "expected one YAML document".into()));
        }
        let Some(root) = root.filter(|r| !r.is_null()) else {
            return Ok(Config::default());
        };
        let value = root.to_json();
        let config: Config = serde_path_to_error::deserialize(&value).map_err(|e| {
            let pointer = pointer_of(e.path());
            let span = root.span_at(&pointer).or(Some(root.span));
            let at = e.path().to_string();
            let message = if at == "." {
                e.inner().to_string()
            } else {
                format!("`{at}`: {}", e.inner())
            };
            error(span, message)
        })?;
        config.validate().map_err(|(pointer, message)| {
            error(root.span_at(&pointer).or(Some(root.span)), message)
        })?;
        Ok(config)
    }

    /// Checks what types cannot: ranges and selector shapes. Errors name
    /// the field by JSON pointer.
    fn validate(&self) -> Result<(), (String, String)> {
        if !(1..=30).contains(&self.timeout_seconds) {
            return Err((
                "/timeout-seconds".into(),
                "must be between 1 and 30 (the API server's limits)".into(),
            ));
        }
        if let Some(d) = self.deadline_ms
            && (d == 0 || d >= u64::from(self.timeout_seconds) * 1000)
        {
            return Err((
                "/deadline-ms".into(),
                format!(
                    "must be above 0 and below timeout-seconds ({} ms), so this server answers by its failure policy before the API server gives up",
                    u64::from(self.timeout_seconds) * 1000
                ),
            ));
        }
        if self.workers == Some(0) {
            return Err(("/workers".into(), "must be at least 1".into()));
        }
        if self.max_request_bytes < 1024 {
            return Err(("/max-request-bytes".into(), "must be at least 1024".into()));
        }
        for (i, s) in self.exemptions.namespace_selectors.iter().enumerate() {
            let at = format!("/exemptions/namespace-selectors/{i}");
            let reqs = s.requirements();
            if reqs.len() != 1 {
                return Err((
                    at,
                    format!(
                        "an exemption selector must have exactly one requirement (this one has {}): the webhook's namespaceSelector can only express the negation of one; list several selectors to exempt namespaces matching any of them",
                        reqs.len()
                    ),
                ));
            }
            for r in reqs {
                let needs_values = matches!(r.operator, Operator::In | Operator::NotIn);
                if needs_values == r.values.is_empty() {
                    return Err((
                        at,
                        format!(
                            "operator {:?} {} values",
                            r.operator,
                            if needs_values { "needs" } else { "takes no" }
                        ),
                    ));
                }
            }
        }
        for (i, ns) in self.exemptions.namespaces.iter().enumerate() {
            if ns.is_empty() {
                return Err((
                    format!("/exemptions/namespaces/{i}"),
                    "empty namespace name".into(),
                ));
            }
        }
        for (i, r) in self.images.allowed_registries.iter().enumerate() {
            // An empty entry (a Helm value left unset) would allow every
            // registry without a word.
            if r.trim_matches('/').trim().is_empty() {
                return Err((
                    format!("/images/allowed-registries/{i}"),
                    "empty registry: name a host (and path prefix), e.g. registry.example.com/team"
                        .into(),
                ));
            }
        }
        if let Some(s) = &self.images.signatures
            && s.cache_ttl_seconds > 86_400
        {
            return Err((
                "/images/signatures/cache-ttl-seconds".into(),
                "must be at most 86400 (one day)".into(),
            ));
        }
        Ok(())
    }

    /// The deadline of one request.
    pub fn deadline(&self) -> std::time::Duration {
        let timeout = u64::from(self.timeout_seconds) * 1000;
        let ms = self
            .deadline_ms
            .unwrap_or_else(|| timeout.saturating_sub(1000).max(timeout / 2));
        std::time::Duration::from_millis(ms)
    }

    /// Evaluation slots.
    pub fn workers(&self) -> usize {
        self.workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get() * 2))
    }

    /// Whether a namespace is exempt, by name or by its labels (when known).
    pub fn is_exempt(&self, namespace: &str, labels: Option<&BTreeMap<String, String>>) -> bool {
        if self.exemptions.namespaces.iter().any(|n| n == namespace) {
            return true;
        }
        labels.is_some_and(|labels| {
            self.exemptions
                .namespace_selectors
                .iter()
                .any(|s| s.matches(labels))
        })
    }
}

/// A serde_path_to_error path as a JSON pointer.
fn pointer_of(path: &serde_path_to_error::Path) -> String {
    path.iter()
        .map(|seg| match seg {
            serde_path_to_error::Segment::Seq { index } => format!("/{index}"),
            serde_path_to_error::Segment::Map { key } => format!("/{key}"),
            serde_path_to_error::Segment::Enum { variant } => format!("/{variant}"),
            serde_path_to_error::Segment::Unknown => String::new(),
        })
        .collect()
}

/// The default configuration, written out: what `manifests` ships in its
/// ConfigMap and `docs/admission.md` shows.
pub const DEFAULT_CONFIG_YAML: &str = r#"# palisade-admission.yaml — every field is optional; these are the defaults.
mode: enforce                 # enforce | audit (audit never denies)
failure-policy: fail          # fail (fail-closed) | ignore (fail-open)
timeout-seconds: 5            # the API server's timeout for one call
# deadline-ms: 4000           # this server's deadline (default: timeout - 1 s)
max-request-bytes: 4194304
rego-engine: vm               # vm | interpreter (slower; `1 + "a"` and
                              # conflicting rules then go to failure-policy)
rules:
  enable: []                  # opt-in built-in rules
  disable: []
  actions: {}                 # CODE-or-name: deny | warn | audit
  severity-actions:           # built-in rules not listed in `actions`
    critical: deny
    high: deny
    medium: warn
    low: audit
    info: audit
exemptions:
  namespaces: [kube-system]   # the default; setting this list replaces it
  namespace-selectors: []     # e.g. [{matchLabels: {palisade.dev/exempt: "true"}}]
images:
  allowed-registries: []      # empty: any registry
  require-digest: false
  deny-latest: true
  # signatures:
  #   public-key: cosign.pub
  #   cache-ttl-seconds: 300
immutability:
  deny-exec: true
  deny-attach: true
  deny-port-forward: true
  deny-ephemeral-containers: true
  deny-image-change: true
  break-glass:
    users: []
    groups: []
honor-ignore-annotation: false
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_written_defaults_are_the_defaults() {
        let parsed = Config::parse("default.yaml", DEFAULT_CONFIG_YAML).unwrap();
        assert_eq!(parsed, Config::default());
        assert_eq!(parsed.exemptions.namespaces, vec!["kube-system"]);
        assert_eq!(parsed.deadline(), std::time::Duration::from_millis(4000));
    }

    #[test]
    fn errors_point_at_the_field() {
        let err = Config::parse("c.yaml", "mode: enforce\nfailure-policy: maybe\n").unwrap_err();
        assert_eq!(err.span.map(|s| s.start.line), Some(2));
        assert!(err.message.contains("failure-policy"), "{err}");
        let err = Config::parse("c.yaml", "timeout-seconds: 5\ndeadline-ms: 6000\n").unwrap_err();
        assert_eq!(err.span.map(|s| s.start.line), Some(2));
        let err = Config::parse(
            "c.yaml",
            "exemptions:\n  namespace-selectors:\n    - matchLabels: {a: b, c: d}\n",
        )
        .unwrap_err();
        assert!(err.message.contains("exactly one requirement"), "{err}");
        let err = Config::parse("c.yaml", "colour: red\n").unwrap_err();
        assert!(err.message.contains("unknown field"), "{err}");
        for empty in ["\"\"", "\"/\""] {
            let text = format!("images:\n  allowed-registries: [ghcr.io/acme, {empty}]\n");
            let err = Config::parse("c.yaml", &text).unwrap_err();
            assert!(err.message.contains("empty registry"), "{err}");
            assert_eq!(err.span.map(|s| s.start.line), Some(2));
        }
        assert!(Config::parse("c.yaml", "a: [").is_err());
    }

    #[test]
    fn selectors_negate_exactly() {
        let labels = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let sets = [
            labels(&[]),
            labels(&[("a", "1")]),
            labels(&[("a", "2")]),
            labels(&[("b", "1")]),
        ];
        for op in [
            Operator::In,
            Operator::NotIn,
            Operator::Exists,
            Operator::DoesNotExist,
        ] {
            let values = if matches!(op, Operator::In | Operator::NotIn) {
                vec!["1".to_string()]
            } else {
                vec![]
            };
            let r = Requirement {
                key: "a".into(),
                operator: op,
                values,
            };
            for set in &sets {
                assert_ne!(r.matches(set), r.negated().matches(set), "{op:?} {set:?}");
            }
        }
    }

    #[test]
    fn exemptions_by_name_and_label() {
        let c = Config::parse(
            "c.yaml",
            "exemptions:\n  namespaces: [infra]\n  namespace-selectors:\n    - matchLabels: {palisade.dev/exempt: \"true\"}\n",
        )
        .unwrap();
        assert!(c.is_exempt("infra", None));
        assert!(!c.is_exempt("kube-system", None));
        let mut l = BTreeMap::new();
        l.insert("palisade.dev/exempt".to_string(), "true".to_string());
        assert!(c.is_exempt("team-a", Some(&l)));
        assert!(!c.is_exempt("team-a", None));
    }
}
