//! One finding: a rule that matched at a location.

use std::borrow::Cow;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Location, ResourceRef, Severity};

/// A rule that matched. Findings are data: analyzers return them, the
/// report sorts, deduplicates and suppresses them, reporters print them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The rule's stable code.
    pub code: Cow<'static, str>,
    pub severity: Severity,
    /// What is wrong, naming the resource, container and value involved.
    pub message: String,
    pub location: Location,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub resource: Option<ResourceRef>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub container: Option<String>,
    /// JSON pointer to the offending field inside the resource.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub field: Option<String>,
    /// Stable identity across runs and line shifts (see [`Finding::fingerprint_of`]).
    pub fingerprint: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub suppressed: Option<Suppression>,
}

/// Why a finding is not counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    pub kind: SuppressionKind,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<String>,
}

/// The mechanism that suppressed a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SuppressionKind {
    /// `# palisade:ignore CODE reason` in the file.
    Inline,
    /// The `palisade.dev/ignore` annotation on the object.
    Annotation,
    /// An `ignore:` entry of `palisade.yaml`.
    Config,
    /// A fingerprint in the `--baseline` file.
    Baseline,
    /// A VEX statement (`not_affected`, `fixed`).
    Vex,
}

impl SuppressionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SuppressionKind::Inline => "inline",
            SuppressionKind::Annotation => "annotation",
            SuppressionKind::Config => "config",
            SuppressionKind::Baseline => "baseline",
            SuppressionKind::Vex => "vex",
        }
    }
}

/// The path a fingerprint names: relative to the working directory, as
/// `scan .` writes it, whether the file was named `./x`, `x` or
/// `$PWD/x` (a baseline written by one serves the others).
fn identity_path(path: &str) -> std::borrow::Cow<'_, str> {
    static CWD: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let mut p = path;
    while let Some(rest) = p.strip_prefix("./") {
        p = rest.trim_start_matches('/');
    }
    if p.starts_with('/')
        && let Some(cwd) = CWD.get_or_init(|| {
            std::env::current_dir()
                .ok()
                .and_then(|d| d.to_str().map(|s| s.trim_end_matches('/').to_owned()))
        })
        && let Some(rest) = p.strip_prefix(cwd.as_str())
        && let Some(rel) = rest.strip_prefix('/')
    {
        return std::borrow::Cow::Borrowed(rel);
    }
    std::borrow::Cow::Borrowed(p)
}

impl Finding {
    /// A finding with its fingerprint computed from its identity: rule,
    /// file, resource, container and field. Line numbers are left out on
    /// purpose so baselines survive edits elsewhere in the file; a finding
    /// without a field falls back to its line.
    pub fn new(
        code: impl Into<Cow<'static, str>>,
        severity: Severity,
        message: String,
        location: Location,
    ) -> Self {
        let mut f = Finding {
            code: code.into(),
            severity,
            message,
            location,
            resource: None,
            container: None,
            field: None,
            fingerprint: String::new(),
            suppressed: None,
        };
        f.refresh_fingerprint();
        f
    }

    /// A finding with every identity field set at once (one fingerprint
    /// computation instead of one per `with_*` call).
    pub fn with_identity(
        mut self,
        resource: Option<ResourceRef>,
        container: Option<String>,
        field: Option<String>,
    ) -> Self {
        self.resource = resource;
        self.container = container;
        self.field = field;
        self.refresh_fingerprint();
        self
    }

    pub fn with_resource(mut self, resource: Option<ResourceRef>) -> Self {
        self.resource = resource;
        self.refresh_fingerprint();
        self
    }

    pub fn with_container(mut self, container: Option<String>) -> Self {
        self.container = container;
        self.refresh_fingerprint();
        self
    }

    pub fn with_field(mut self, field: Option<String>) -> Self {
        self.field = field;
        self.refresh_fingerprint();
        self
    }

    /// Recomputes the fingerprint from the identity fields.
    pub fn refresh_fingerprint(&mut self) {
        let line = self.location.line().to_string();
        let resource = self.resource.as_ref().map(ToString::to_string);
        let anchor = match (&self.field, &resource) {
            (Some(field), _) => field.as_str(),
            (None, Some(_)) => "",
            (None, None) => line.as_str(),
        };
        self.fingerprint = Finding::fingerprint_of(&[
            &self.code,
            &identity_path(&self.location.path),
            resource.as_deref().unwrap_or(""),
            self.container.as_deref().unwrap_or(""),
            anchor,
        ]);
    }

    /// A stable fingerprint of some identifying parts: the first 16 bytes of
    /// their SHA-256, hex encoded.
    pub fn fingerprint_of(parts: &[&str]) -> String {
        let mut hasher = Sha256::new();
        for part in parts {
            hasher.update(part.as_bytes());
            hasher.update([0x1f]);
        }
        let digest = hasher.finalize();
        let mut hex = String::with_capacity(32);
        for byte in digest.iter().take(16) {
            let _ = write!(hex, "{byte:02x}");
        }
        hex
    }

    pub fn is_suppressed(&self) -> bool {
        self.suppressed.is_some()
    }

    pub fn suppress(&mut self, kind: SuppressionKind, reason: Option<String>) {
        if self.suppressed.is_none() {
            self.suppressed = Some(Suppression { kind, reason });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Location, Span};

    fn finding(line: u32) -> Finding {
        Finding::new(
            "K8S001",
            Severity::High,
            "msg".into(),
            Location::new("a.yaml".into(), Some(Span::point(line, 3))),
        )
        .with_resource(Some(ResourceRef::new(
            "Pod",
            Some("ns".into()),
            Some("p".into()),
        )))
        .with_field(Some("/spec/containers/0/securityContext/privileged".into()))
    }

    #[test]
    fn fingerprint_ignores_line_shifts_but_not_identity() {
        let a = finding(10);
        let b = finding(42);
        assert_eq!(a.fingerprint, b.fingerprint);
        assert_eq!(a.fingerprint.len(), 32);
        let c = b.with_field(Some("/spec/containers/1/securityContext/privileged".into()));
        assert_ne!(a.fingerprint, c.fingerprint);
    }

    #[test]
    fn fingerprint_parts_are_delimited() {
        assert_ne!(
            Finding::fingerprint_of(&["ab", "c"]),
            Finding::fingerprint_of(&["a", "bc"])
        );
    }
}
