//! What a rule is: its stable code, name, default severity, framework
//! references and documentation.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Severity;

/// Which scanner a rule belongs to (`--scanners`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scanner {
    /// Kubernetes misconfiguration rules.
    Config,
    /// Kubernetes RBAC risks.
    Rbac,
    /// Leaked secrets.
    Secret,
    /// Known-vulnerable packages.
    Vuln,
    /// User policies (Rego, ValidatingAdmissionPolicy).
    Policy,
}

impl Scanner {
    pub fn as_str(self) -> &'static str {
        match self {
            Scanner::Config => "config",
            Scanner::Rbac => "rbac",
            Scanner::Secret => "secret",
            Scanner::Vuln => "vuln",
            Scanner::Policy => "policy",
        }
    }
}

impl fmt::Display for Scanner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A hardening framework or taxonomy a rule maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Framework {
    /// Pod Security Standards; the id is the level (`baseline`, `restricted`).
    #[serde(rename = "PSS")]
    Pss,
    /// CIS Kubernetes Benchmark; the id is the recommendation (`5.2.2`).
    #[serde(rename = "CIS")]
    Cis,
    /// NSA/CISA Kubernetes Hardening Guide; the id is the section.
    #[serde(rename = "NSA")]
    Nsa,
    /// MITRE CWE; the id is `CWE-250`.
    #[serde(rename = "CWE")]
    Cwe,
    /// A web page; the id is the URL.
    #[serde(rename = "URL")]
    Url,
}

impl Framework {
    pub fn as_str(self) -> &'static str {
        match self {
            Framework::Pss => "PSS",
            Framework::Cis => "CIS",
            Framework::Nsa => "NSA",
            Framework::Cwe => "CWE",
            Framework::Url => "URL",
        }
    }
}

/// One framework reference of a rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Reference {
    pub framework: Framework,
    pub id: Cow<'static, str>,
}

impl Reference {
    pub const fn new(framework: Framework, id: &'static str) -> Self {
        Reference {
            framework,
            id: Cow::Borrowed(id),
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.framework {
            Framework::Url => f.write_str(&self.id),
            Framework::Cwe => f.write_str(&self.id),
            other => write!(f, "{} {}", other.as_str(), self.id),
        }
    }
}

/// Everything a report needs to know about a rule. Built-in rules are
/// `static`; policy rules (Rego, CEL) build theirs at load time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleMeta {
    /// Stable code, never reused (`K8S001`).
    pub code: Cow<'static, str>,
    /// Kebab-case name of the problem (`privileged-container`).
    pub name: Cow<'static, str>,
    /// One-line summary.
    pub title: Cow<'static, str>,
    /// Default severity.
    pub severity: Severity,
    pub scanner: Scanner,
    pub references: Cow<'static, [Reference]>,
    /// One-line fix, shown with findings and in admission denials.
    pub fix: Cow<'static, str>,
    /// Full documentation (Markdown).
    pub doc: Cow<'static, str>,
}

impl RuleMeta {
    /// The rule's documentation page (`palisade rules CODE`, `docs/rules/`).
    pub fn to_markdown(&self, enabled_by_default: bool) -> String {
        let mut s = format!("# {} {}: {}\n\n", self.code, self.name, self.title);
        s.push_str(&format!(
            "Severity: {} · Scanner: {}{}\n\n",
            self.severity,
            self.scanner,
            if enabled_by_default {
                ""
            } else {
                " · Opt-in (enable with `--enable` or `rules.enable`)"
            }
        ));
        s.push_str(&dedent_doc(&self.doc));
        s.push('\n');
        s
    }

    /// References of one framework, e.g. the CIS ids.
    pub fn references_of(&self, framework: Framework) -> impl Iterator<Item = &str> {
        self.references
            .iter()
            .filter(move |r| r.framework == framework)
            .map(|r| r.id.as_ref())
    }
}

/// Turns the lines of a doc comment (as `concat!`ed by the rule macros, each
/// line starting with the space rustdoc keeps) into Markdown.
pub fn dedent_doc(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for line in raw.lines() {
        out.push_str(line.strip_prefix(' ').unwrap_or(line));
        out.push('\n');
    }
    let trimmed = out.trim();
    trimmed.to_string()
}
