//! One secret rule: its file format (TOML, validated on load) and its
//! compiled form.

use std::borrow::Cow;

use globset::{Glob, GlobSet, GlobSetBuilder};
use palisade_core::{Framework, Reference, RuleMeta, Scanner, Severity};
use regex::bytes::{Regex, RegexBuilder};
use serde::Deserialize;

use crate::entropy::shannon_entropy;

/// Compiled regexes may not grow beyond this (per rule), so a hostile user
/// rule cannot exhaust memory.
const REGEX_SIZE_LIMIT: usize = 8 * 1024 * 1024;
/// The lazy DFA cache per regex.
const DFA_SIZE_LIMIT: usize = 4 * 1024 * 1024;
/// Shortest keyword: shorter ones would route nearly every file to the
/// rule's regex.
pub(crate) const MIN_KEYWORD_LEN: usize = 3;

static CWE_798: [Reference; 1] = [Reference::new(Framework::Cwe, "CWE-798")];

/// A rule as written in the TOML file (`[[rule]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawRule {
    pub id: String,
    pub name: String,
    pub description: String,
    pub regex: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    pub entropy: Option<f64>,
    pub severity: String,
    /// Generic rules (a secret-like name plus a random value) yield to any
    /// specific rule that matches the same text.
    #[serde(default)]
    pub generic: bool,
    /// The regex may span lines: it runs on the whole text. Otherwise it
    /// runs only on the lines where the rule's keywords occur.
    #[serde(default)]
    pub multiline: bool,
    pub fix: Option<String>,
    #[serde(default)]
    pub allowlist: RawAllowlist,
    #[serde(default)]
    pub examples: RawExamples,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawAllowlist {
    #[serde(default)]
    pub paths: Vec<String>,
    #[serde(default)]
    pub stopwords: Vec<String>,
    #[serde(default)]
    pub regexes: Vec<String>,
    /// Tested against the line(s) of the match, where the secret alone
    /// does not tell: `NextToken = "..."` is a pagination cursor.
    #[serde(default)]
    pub line_regexes: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawExamples {
    /// Texts the rule must find a secret in.
    #[serde(default)]
    pub positive: Vec<String>,
    /// Texts the rule must not report (placeholders, near misses).
    #[serde(default)]
    pub negative: Vec<String>,
}

/// What a rule (or the whole rule set) never reports.
#[derive(Debug, Clone, Default)]
pub struct Allowlist {
    paths: Option<GlobSet>,
    /// Lower-cased; a secret containing one is a placeholder.
    stopwords: Vec<String>,
    /// Tested against the secret.
    regexes: Vec<Regex>,
    /// Tested against the line(s) of the match.
    line_regexes: Vec<Regex>,
}

impl Allowlist {
    pub(crate) fn compile(raw: &RawAllowlist) -> Result<Allowlist, String> {
        let paths = if raw.paths.is_empty() {
            None
        } else {
            let mut builder = GlobSetBuilder::new();
            for p in &raw.paths {
                builder.add(Glob::new(p).map_err(|e| format!("allowlist path `{p}`: {e}"))?);
            }
            Some(
                builder
                    .build()
                    .map_err(|e| format!("allowlist paths: {e}"))?,
            )
        };
        let regexes = raw
            .regexes
            .iter()
            .map(|r| compile_regex(r).map_err(|e| format!("allowlist regex `{r}`: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        let line_regexes = raw
            .line_regexes
            .iter()
            .map(|r| compile_regex(r).map_err(|e| format!("allowlist match-regex `{r}`: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Allowlist {
            paths,
            stopwords: raw.stopwords.iter().map(|s| s.to_lowercase()).collect(),
            regexes,
            line_regexes,
        })
    }

    /// Whether findings in this file are never reported.
    pub fn allows_path(&self, path: &str) -> bool {
        self.paths.as_ref().is_some_and(|g| g.is_match(path))
    }

    /// Whether this secret is a known placeholder or otherwise allowed.
    pub fn allows_secret(&self, secret: &[u8]) -> bool {
        if !self.stopwords.is_empty() {
            let lower = secret.to_ascii_lowercase();
            if self
                .stopwords
                .iter()
                .any(|w| memchr::memmem::find(&lower, w.as_bytes()).is_some())
            {
                return true;
            }
        }
        self.regexes.iter().any(|r| r.is_match(secret))
    }

    /// Whether the line(s) of a match are allowed (see `line-regexes`).
    pub fn allows_line(&self, text: &[u8]) -> bool {
        self.line_regexes.iter().any(|r| r.is_match(text))
    }
}

/// A rule's examples, checked by the crate's tests.
#[derive(Debug, Clone, Default)]
pub struct Examples {
    pub positive: Vec<String>,
    pub negative: Vec<String>,
}

/// A compiled rule.
#[derive(Debug)]
pub struct SecretRule {
    /// Leaked once per loaded rule so findings, reports and the Kubernetes
    /// analyzer can share `&'static` metadata like the built-in rules'.
    pub meta: &'static RuleMeta,
    pub(crate) regex: Regex,
    /// Index of the `secret` capture group, if the regex has one.
    pub(crate) secret_group: Option<usize>,
    pub keywords: Vec<String>,
    pub entropy: Option<f64>,
    pub generic: bool,
    pub multiline: bool,
    pub(crate) allowlist: Allowlist,
    pub examples: Examples,
    /// The regex as written, for documentation.
    pub pattern: String,
    pub description: String,
}

pub(crate) fn compile_regex(pattern: &str) -> Result<Regex, regex::Error> {
    // Byte-oriented: `\w`, `\s`, `\b` and `(?i)` are ASCII, which is what
    // secret formats are, and keeps the lazy DFA on files with non-ASCII
    // text (Unicode word boundaries make it give up).
    RegexBuilder::new(pattern)
        .unicode(false)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(DFA_SIZE_LIMIT)
        .build()
}

fn is_kebab(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn valid_id(s: &str) -> bool {
    (2..=32).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && s.bytes().next().is_some_and(|b| b.is_ascii_uppercase())
}

impl SecretRule {
    /// Validates and compiles a rule. The error is a message for the rule.
    pub(crate) fn compile(raw: RawRule) -> Result<SecretRule, String> {
        if !valid_id(&raw.id) {
            return Err("id must be 2-32 characters of A-Z, 0-9, `-`, `_`, starting with a letter (e.g. `SEC001`, `ACME-001`)".into());
        }
        if !is_kebab(&raw.name) {
            return Err(format!(
                "name `{}` must be kebab-case (lowercase letters, digits and `-`)",
                raw.name
            ));
        }
        if raw.description.trim().is_empty() {
            return Err("description is empty".into());
        }
        let severity: Severity = raw.severity.parse().map_err(|e| format!("{e}"))?;
        let regex = compile_regex(&raw.regex).map_err(|e| format!("invalid regex: {e}"))?;
        if regex.is_match(b"") {
            return Err("regex matches the empty string".into());
        }
        let secret_group = regex.capture_names().position(|n| n == Some("secret"));
        let mut keywords = Vec::with_capacity(raw.keywords.len());
        for k in &raw.keywords {
            if k.len() < MIN_KEYWORD_LEN {
                return Err(format!(
                    "keyword `{k}` is shorter than {MIN_KEYWORD_LEN} bytes; it would send nearly every file to the regex"
                ));
            }
            keywords.push(k.to_ascii_lowercase());
        }
        keywords.sort();
        keywords.dedup();
        if let Some(e) = raw.entropy
            && !(0.0..=8.0).contains(&e)
        {
            return Err(format!("entropy {e} is outside 0.0-8.0 (bits per byte)"));
        }
        let allowlist = Allowlist::compile(&raw.allowlist)?;
        let fix = raw.fix.clone().unwrap_or_else(|| {
            "Revoke and rotate the secret, remove it from the file (and from history), and load it from a secret store or environment at run time.".into()
        });
        let meta = RuleMeta {
            code: Cow::Owned(raw.id.clone()),
            name: Cow::Owned(raw.name.clone()),
            title: Cow::Owned(raw.description.clone()),
            severity,
            scanner: Scanner::Secret,
            references: Cow::Borrowed(&CWE_798),
            fix: Cow::Owned(fix.clone()),
            doc: Cow::Owned(doc(&raw, &keywords, &fix)),
        };
        Ok(SecretRule {
            meta: Box::leak(Box::new(meta)),
            regex,
            secret_group,
            keywords,
            entropy: raw.entropy,
            generic: raw.generic,
            multiline: raw.multiline,
            allowlist,
            examples: Examples {
                positive: raw.examples.positive,
                negative: raw.examples.negative,
            },
            pattern: raw.regex,
            description: raw.description,
        })
    }

    pub fn code(&self) -> &str {
        &self.meta.code
    }

    pub fn name(&self) -> &str {
        &self.meta.name
    }

    pub fn severity(&self) -> Severity {
        self.meta.severity
    }

    /// Whether a candidate passes the rule's entropy threshold and
    /// allowlist.
    pub(crate) fn accepts(&self, secret: &[u8], line: &[u8]) -> bool {
        if let Some(min) = self.entropy
            && shannon_entropy(secret) < min
        {
            return false;
        }
        !self.allowlist.allows_secret(secret) && !self.allowlist.allows_line(line)
    }

    pub(crate) fn allows_path(&self, path: &str) -> bool {
        self.allowlist.allows_path(path)
    }
}

/// The rule's documentation page (`palisade rules SEC001`), in the layout
/// of the other rules' pages.
fn doc(raw: &RawRule, keywords: &[String], fix: &str) -> String {
    let mut s = String::new();
    s.push_str("## What it does\n");
    s.push_str(&format!(
        "Finds: {}.\n\n",
        raw.description.trim_end_matches('.')
    ));
    s.push_str("## Why is this bad?\n");
    s.push_str("A secret in a file is readable by everyone who can read the file, its history, its backups and every image built from it. Leaked credentials are how a code or supply-chain compromise turns into data loss.\n\n");
    s.push_str("## How it matches\n");
    s.push_str(&format!("- Regex: `{}`\n", raw.regex.replace('`', "\\`")));
    if keywords.is_empty() {
        s.push_str("- Keywords: none (the regex runs on every file)\n");
    } else {
        s.push_str(&format!(
            "- Keywords (any, case-insensitive): `{}`\n",
            keywords.join("`, `")
        ));
    }
    if let Some(e) = raw.entropy {
        s.push_str(&format!("- Minimum entropy: {e} bits per character\n"));
    }
    if raw.generic {
        s.push_str("- Generic: yields to specific rules matching the same text\n");
    }
    if raw.multiline {
        s.push_str("- Multi-line: the regex runs on the whole file\n");
    } else if !keywords.is_empty() {
        s.push_str("- Runs on the lines where a keyword occurs\n");
    }
    if !raw.allowlist.stopwords.is_empty() {
        s.push_str(&format!(
            "- Ignored when the secret contains: `{}`\n",
            raw.allowlist.stopwords.join("`, `")
        ));
    }
    s.push('\n');
    if let Some(example) = raw.examples.positive.first() {
        s.push_str("## Example\n```\n");
        s.push_str(example.trim_end());
        s.push_str("\n```\n\n");
    }
    if let Some(example) = raw.examples.negative.first() {
        s.push_str("Not reported:\n```\n");
        s.push_str(example.trim_end());
        s.push_str("\n```\n\n");
    }
    s.push_str("## Fix\n");
    s.push_str(fix);
    s.push_str("\n\n## References\n- CWE-798: Use of Hard-coded Credentials\n");
    s
}
