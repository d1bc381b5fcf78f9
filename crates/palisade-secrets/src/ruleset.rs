//! A set of compiled rules and the keyword prefilter that decides which of
//! their regexes run on a given text.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::Path;
use std::sync::{Arc, LazyLock};

use rayon::prelude::*;
use serde::Deserialize;

use crate::error::RuleError;
use crate::keywords::Keywords;
use crate::rule::{Allowlist, RawAllowlist, RawRule, SecretRule};

/// The built-in rules, embedded in the binary.
pub const BUILTIN_RULES_TOML: &str = include_str!("../rules/builtin.toml");
const BUILTIN_NAME: &str = "<built-in secret rules>";

/// Largest rule file read, and most rules in one set: limits on untrusted
/// configuration like on any other input.
const MAX_RULE_FILE_BYTES: u64 = 4 * 1024 * 1024;
const MAX_RULES: usize = 4096;
/// Supported `version` of the rule file format.
const FORMAT_VERSION: u32 = 1;

/// A rule file (built-in or `--secret-rules FILE`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawFile {
    version: Option<u32>,
    /// In user files: `false` drops every built-in rule.
    builtin_rules: Option<bool>,
    #[serde(default)]
    allowlist: RawAllowlist,
    #[serde(default, rename = "rule")]
    rules: Vec<RawRule>,
}

struct Parsed {
    builtin_rules: Option<bool>,
    allowlist: RawAllowlist,
    rules: Vec<Arc<SecretRule>>,
}

fn parse_file(path: &str, text: &str) -> Result<Parsed, RuleError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| RuleError::Syntax {
        path: path.to_string(),
        message: e.to_string().trim_end().to_string(),
    })?;
    if let Some(v) = raw.version
        && v != FORMAT_VERSION
    {
        return Err(RuleError::Syntax {
            path: path.to_string(),
            message: format!("unsupported version {v} (expected {FORMAT_VERSION})"),
        });
    }
    if raw.rules.len() > MAX_RULES {
        return Err(RuleError::TooManyRules {
            path: path.to_string(),
            count: raw.rules.len(),
            max: MAX_RULES,
        });
    }
    // Validates the global allowlist early, with the file's name.
    Allowlist::compile(&raw.allowlist).map_err(|message| RuleError::Invalid {
        path: path.to_string(),
        rule: "allowlist".into(),
        message,
    })?;
    let mut seen = BTreeMap::new();
    for r in &raw.rules {
        if seen.insert(r.id.as_str(), ()).is_some() {
            return Err(RuleError::Invalid {
                path: path.to_string(),
                rule: r.id.clone(),
                message: "duplicate id".into(),
            });
        }
    }
    // Compiling 200-odd regexes is most of a small scan's start-up: in
    // parallel (the first error in file order is the one reported).
    let rules = raw
        .rules
        .into_par_iter()
        .map(|r| {
            let id = r.id.clone();
            SecretRule::compile(r)
                .map(Arc::new)
                .map_err(|message| RuleError::Invalid {
                    path: path.to_string(),
                    rule: id,
                    message,
                })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Parsed {
        builtin_rules: raw.builtin_rules,
        allowlist: raw.allowlist,
        rules,
    })
}

/// The compiled built-in rules and the file's global allowlist.
type Builtin = (Vec<Arc<SecretRule>>, RawAllowlist);

static BUILTIN: LazyLock<Result<Builtin, String>> = LazyLock::new(|| {
    parse_file(BUILTIN_NAME, BUILTIN_RULES_TOML)
        .map(|p| (p.rules, p.allowlist))
        .map_err(|e| e.to_string())
});

static BUILTIN_SET: LazyLock<Result<RuleSet, String>> =
    LazyLock::new(|| RuleSetBuilder::new().build().map_err(|e| e.to_string()));

/// The built-in rule set (compiled once per process).
pub fn builtin() -> Result<&'static RuleSet, RuleError> {
    BUILTIN_SET
        .as_ref()
        .map_err(|e| RuleError::Builtin(e.clone()))
}

/// Builds a rule set: the built-in rules (unless turned off), user rule
/// files (a user rule with a built-in rule's id replaces it), minus
/// disabled rules.
#[derive(Debug, Default)]
pub struct RuleSetBuilder {
    no_builtin: bool,
    user: Vec<(String, Parsed)>,
    disabled: Vec<String>,
}

impl std::fmt::Debug for Parsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parsed")
            .field("rules", &self.rules.len())
            .finish()
    }
}

impl RuleSetBuilder {
    pub fn new() -> Self {
        RuleSetBuilder::default()
    }

    /// Whether to include the built-in rules (default: yes).
    pub fn builtin(mut self, on: bool) -> Self {
        self.no_builtin = !on;
        self
    }

    /// Adds the rules of a TOML text; `path` names it in errors.
    pub fn add_toml(mut self, path: &str, text: &str) -> Result<Self, RuleError> {
        let parsed = parse_file(path, text)?;
        self.user.push((path.to_string(), parsed));
        Ok(self)
    }

    /// Reads and adds a rule file.
    pub fn add_file(self, path: &Path) -> Result<Self, RuleError> {
        let display = path.display().to_string();
        let io = |source| RuleError::Io {
            path: display.clone(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let mut text = String::new();
        file.take(MAX_RULE_FILE_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(io)?;
        if text.len() as u64 > MAX_RULE_FILE_BYTES {
            return Err(RuleError::TooLarge {
                path: display,
                max: MAX_RULE_FILE_BYTES,
            });
        }
        self.add_toml(&display, &text)
    }

    /// Disables rules by id or name (`*` disables all).
    pub fn disable(mut self, rules: impl IntoIterator<Item = String>) -> Self {
        self.disabled.extend(rules);
        self
    }

    pub fn build(self) -> Result<RuleSet, RuleError> {
        let builtin_on = !self.no_builtin
            && self
                .user
                .iter()
                .all(|(_, p)| p.builtin_rules != Some(false));
        let mut allow = RawAllowlist::default();
        let mut by_id: BTreeMap<String, Arc<SecretRule>> = BTreeMap::new();
        if builtin_on {
            let (rules, builtin_allow) = BUILTIN
                .as_ref()
                .map_err(|e| RuleError::Builtin(e.clone()))?;
            merge_allowlist(&mut allow, builtin_allow);
            for r in rules {
                by_id.insert(r.code().to_string(), Arc::clone(r));
            }
        }
        for (_, parsed) in &self.user {
            merge_allowlist(&mut allow, &parsed.allowlist);
            for r in &parsed.rules {
                by_id.insert(r.code().to_string(), Arc::clone(r));
            }
        }
        let rules: Vec<Arc<SecretRule>> = by_id
            .into_values()
            .filter(|r| {
                !self
                    .disabled
                    .iter()
                    .any(|d| d == "*" || d.eq_ignore_ascii_case(r.code()) || d.as_str() == r.name())
            })
            .collect();
        let allowlist = Allowlist::compile(&allow).map_err(|message| RuleError::Invalid {
            path: "<allowlist>".into(),
            rule: "allowlist".into(),
            message,
        })?;
        RuleSet::new(rules, allowlist)
    }
}

fn merge_allowlist(into: &mut RawAllowlist, from: &RawAllowlist) {
    into.paths.extend(from.paths.iter().cloned());
    into.stopwords.extend(from.stopwords.iter().cloned());
    into.regexes.extend(from.regexes.iter().cloned());
    into.line_regexes.extend(from.line_regexes.iter().cloned());
}

/// Compiled rules plus the keyword automaton over all of them.
#[derive(Debug)]
pub struct RuleSet {
    rules: Vec<Arc<SecretRule>>,
    /// Applies to every rule.
    pub(crate) allowlist: Allowlist,
    /// `None` when no rule has keywords.
    prefilter: Option<Keywords>,
    /// For each keyword of the automaton, the rules it selects.
    keyword_rules: Vec<Vec<u32>>,
    /// Rules without keywords: they run on every text.
    always: Vec<u32>,
}

impl RuleSet {
    fn new(rules: Vec<Arc<SecretRule>>, allowlist: Allowlist) -> Result<RuleSet, RuleError> {
        let mut keywords: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
        let mut always = Vec::new();
        for (i, r) in rules.iter().enumerate() {
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            if r.keywords.is_empty() {
                always.push(i);
            }
            for k in &r.keywords {
                keywords.entry(k.as_str()).or_default().push(i);
            }
        }
        let prefilter = if keywords.is_empty() {
            None
        } else {
            let keys: Vec<&str> = keywords.keys().copied().collect();
            Some(Keywords::new(&keys).map_err(RuleError::Prefilter)?)
        };
        let keyword_rules = keywords.into_values().collect();
        Ok(RuleSet {
            rules,
            allowlist,
            prefilter,
            keyword_rules,
            always,
        })
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn rules(&self) -> impl Iterator<Item = &SecretRule> {
        self.rules.iter().map(|r| r.as_ref())
    }

    /// The rule a [`crate::Detection`] refers to.
    pub fn rule(&self, index: usize) -> Option<&SecretRule> {
        self.rules.get(index).map(|r| r.as_ref())
    }

    /// A rule by id or name.
    pub fn find_rule(&self, id_or_name: &str) -> Option<&SecretRule> {
        self.rules()
            .find(|r| r.code().eq_ignore_ascii_case(id_or_name) || r.name() == id_or_name)
    }

    /// Rules whose keywords occur in `text` (plus those without keywords),
    /// as (rule, offset of a keyword) sorted by rule then offset. One flat
    /// list: most files select a handful of the rules, and a slot per rule
    /// per file cost more than the sort.
    pub(crate) fn candidates(&self, text: &[u8]) -> Vec<(u32, usize)> {
        let mut hits: Vec<(u32, usize)> = self.always.iter().map(|&i| (i, 0)).collect();
        if let Some(ac) = &self.prefilter {
            ac.for_each(text, |k, start| {
                for &r in self.keyword_rules.get(k).map(Vec::as_slice).unwrap_or(&[]) {
                    hits.push((r, start));
                }
            });
        }
        hits.sort_unstable();
        hits
    }

    pub(crate) fn rule_at(&self, index: u32) -> Option<&SecretRule> {
        self.rules.get(index as usize).map(|r| r.as_ref())
    }
}
