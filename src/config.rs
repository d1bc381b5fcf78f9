//! `palisade.yaml`: defaults for flags, rule selection, rule settings,
//! suppressions and limits. Errors point into the file with a code frame.

use std::path::{Path, PathBuf};

use palisade_core::Span;
use palisade_core::date::Date;
use palisade_core::suppress::{IgnoreEntry, IgnoreError, IgnoreList};
use palisade_k8s::yaml::{Limits, parse_stream};
use palisade_k8s::{RuleSelection, Settings};
use serde::Deserialize;

/// Names looked for in the working directory when `--config` is not given.
const DEFAULT_NAMES: [&str; 2] = ["palisade.yaml", ".palisade.yaml"];

/// The configuration file's content.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct Config {
    /// Severities to report.
    pub severity: Vec<String>,
    /// Exit with 1 at or above this severity.
    pub fail_on: Option<String>,
    pub rules: RuleSelection,
    pub settings: Settings,
    pub ignore: Vec<IgnoreEntry>,
    pub limits: LimitsConfig,
    /// Rego policies and ValidatingAdmissionPolicies (files or directories,
    /// relative to this file), as `--policy`.
    pub policies: Vec<std::path::PathBuf>,
    /// Data documents for Rego policies, as `--data`.
    pub data: Vec<std::path::PathBuf>,
    /// `interpreter` or `vm`, as `--rego-engine`.
    pub rego_engine: Option<palisade_policy::RegoEngine>,
    /// The file it came from, so that values found wrong later (an unknown
    /// rule, a bad expiry date) are still reported at their line.
    #[serde(skip)]
    source: Option<Source>,
}

#[derive(Debug)]
struct Source {
    display: String,
    text: String,
    root: palisade_k8s::yaml::Node,
}

/// Input limits; defaults are sane for real manifests.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct LimitsConfig {
    pub max_file_size: Option<String>,
    pub max_depth: Option<usize>,
    pub max_alias_nodes: Option<usize>,
    pub max_documents: Option<usize>,
}

impl LimitsConfig {
    pub fn yaml_limits(&self) -> Limits {
        let d = Limits::default();
        Limits {
            max_depth: self.max_depth.unwrap_or(d.max_depth),
            max_alias_nodes: self.max_alias_nodes.unwrap_or(d.max_alias_nodes),
            max_documents: self.max_documents.unwrap_or(d.max_documents),
        }
    }
}

/// A configuration file that cannot be used, with where in it.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ConfigError {
    pub path: String,
    pub span: Option<Span>,
    pub message: String,
    /// The file's text, for the code frame.
    pub text: Option<String>,
}

impl Config {
    /// Loads `explicit`, else the first default name present, else defaults.
    pub fn load(explicit: Option<&Path>) -> Result<(Config, Option<PathBuf>), ConfigError> {
        let path = match explicit {
            Some(p) => Some(p.to_path_buf()),
            None => DEFAULT_NAMES
                .iter()
                .map(PathBuf::from)
                .find(|p| p.is_file()),
        };
        let Some(path) = path else {
            return Ok((Config::default(), None));
        };
        let display = path.display().to_string();
        let text = std::fs::read_to_string(&path).map_err(|e| ConfigError {
            path: display.clone(),
            span: None,
            message: format!("cannot read configuration: {e}"),
            text: None,
        })?;
        let config = Config::parse(&display, &text)?;
        Ok((config, Some(path)))
    }

    pub fn parse(display: &str, text: &str) -> Result<Config, ConfigError> {
        let error = |span: Option<Span>, message: String| ConfigError {
            path: display.to_string(),
            span,
            message,
            text: Some(text.to_string()),
        };
        let mut root = None;
        let errors = parse_stream(text, &Limits::default(), 0, |doc| {
            if root.is_none() {
                root = doc.root;
            }
        });
        if let Some(e) = errors.into_iter().next() {
            return Err(error(Some(e.span), e.message));
        }
        let Some(root) = root.filter(|r| !r.is_null()) else {
            return Ok(Config::default());
        };
        let value = root.to_json();
        let mut config = serde_path_to_error::deserialize::<_, Config>(&value).map_err(|e| {
            let pointer = pointer_of(e.path());
            let span = root
                .span_at(&pointer)
                .or_else(|| parent_span(&root, &pointer))
                .or(Some(root.span));
            let message = format!("invalid configuration at `{}`: {}", e.path(), e.inner());
            error(span, message)
        })?;
        config.source = Some(Source {
            display: display.to_string(),
            text: text.to_string(),
            root,
        });
        Ok(config)
    }

    /// An error about the value at `pointer`, framed in the file when the
    /// configuration came from one.
    fn error_at(&self, pointer: &str, message: String) -> ConfigError {
        match &self.source {
            Some(s) => ConfigError {
                path: s.display.clone(),
                span: s
                    .root
                    .span_at(pointer)
                    .or_else(|| parent_span(&s.root, pointer)),
                message,
                text: Some(s.text.clone()),
            },
            None => ConfigError {
                path: "configuration".into(),
                span: None,
                message,
                text: None,
            },
        }
    }

    /// Where `rules:` names `name`, as an error saying it names no rule;
    /// `None` when the name came from elsewhere (a flag).
    pub fn unknown_rule(&self, name: &str) -> Option<ConfigError> {
        let lists = [
            ("enable", &self.rules.enable),
            ("disable", &self.rules.disable),
        ];
        lists.iter().find_map(|(list, entries)| {
            let i = entries.iter().position(|e| e == name)?;
            Some(self.error_at(
                &format!("/rules/{list}/{i}"),
                format!("unknown rule `{name}` (see `palisade rules`)"),
            ))
        })
    }

    /// The `ignore:` entries, compiled; an entry that cannot be used is an
    /// error at its field.
    pub fn ignore_list(&self, today: Date) -> Result<IgnoreList, ConfigError> {
        for (i, entry) in self.ignore.iter().enumerate() {
            if let Err(e) = IgnoreList::new(vec![entry.clone()], today) {
                let field = match &e {
                    IgnoreError::Date { .. } => "expires".to_string(),
                    IgnoreError::Glob { pattern, .. } => glob_field(entry, pattern),
                };
                let mut message = format!("invalid `ignore:` entry: {e}");
                if let Some(cause) = std::error::Error::source(&e) {
                    message.push_str(&format!(": {cause}"));
                }
                return Err(self.error_at(&format!("/ignore/{i}/{field}"), message));
            }
        }
        IgnoreList::new(self.ignore.clone(), today)
            .map_err(|e| self.error_at("/ignore", format!("invalid `ignore:` entry: {e}")))
    }
}

/// The pointer, below the entry, of the glob `pattern`.
fn glob_field(entry: &IgnoreEntry, pattern: &str) -> String {
    let at = |list: &[String]| list.iter().position(|p| p == pattern);
    match (at(&entry.paths), at(&entry.resources)) {
        (Some(j), _) => format!("paths/{j}"),
        (None, Some(j)) => format!("resources/{j}"),
        (None, None) => String::new(),
    }
}

/// `rules.enable[2]` → `/rules/enable/2`.
fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("/{index}")),
            Segment::Map { key } => {
                out.push_str(&format!("/{}", key.replace('~', "~0").replace('/', "~1")))
            }
            Segment::Enum { variant } => out.push_str(&format!("/{variant}")),
            Segment::Unknown => {}
        }
    }
    out
}

fn parent_span(root: &palisade_k8s::yaml::Node, pointer: &str) -> Option<Span> {
    let mut p = pointer;
    while let Some(i) = p.rfind('/') {
        p = p.get(..i)?;
        if let Some(s) = root.span_at(p) {
            return Some(s);
        }
    }
    None
}

/// Parses `128MiB`, `64MB`, `500k`, `1048576`.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("invalid size `{s}` (e.g. 128MiB, 64MB, 500KB)"))?;
    let factor: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "kib" => 1024.0,
        "m" | "mb" => 1e6,
        "mib" => 1024.0 * 1024.0,
        "g" | "gb" => 1e9,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => {
            return Err(format!(
                "invalid size unit in `{s}` (use B, KB, KiB, MB, MiB, GB or GiB)"
            ));
        }
    };
    Ok((value * factor) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::Position;

    #[test]
    fn parses_sizes() {
        assert_eq!(parse_size("128MiB"), Ok(128 * 1024 * 1024));
        assert_eq!(parse_size("64MB"), Ok(64_000_000));
        assert_eq!(parse_size("1024"), Ok(1024));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("12 parsecs").is_err());
    }

    #[test]
    fn points_config_errors_at_the_field() {
        let text = "rules:\n  disable: [K8S001]\nsettings:\n  min-replicas: many\n";
        let err = Config::parse("palisade.yaml", text).unwrap_err();
        assert_eq!(err.span.unwrap().start.line, 4, "{err}");
        let err = Config::parse("palisade.yaml", "bogus: 1\n").unwrap_err();
        assert!(err.message.contains("bogus"), "{}", err.message);
        let ok = Config::parse(
            "palisade.yaml",
            "ignore:\n- id: K8S001\n  reason: legacy\n  expires: 2030-01-01\n",
        )
        .unwrap();
        assert_eq!(ok.ignore[0].expires.as_deref(), Some("2030-01-01"));
    }

    #[test]
    fn values_found_wrong_after_parsing_point_at_their_line() {
        let text = "rules:\n  enable: [K8S002]\n  disable:\n  - K8S001\n  - NOPE99\n\
                    ignore:\n- id: K8S001\n  paths: [ok/**]\n  resources: [\"a[b\"]\n";
        let config = Config::parse("palisade.yaml", text).unwrap();
        let err = config.unknown_rule("NOPE99").unwrap();
        assert_eq!(err.span.unwrap().start, Position::new(5, 5), "{err}");
        assert!(err.message.contains("unknown rule `NOPE99`"), "{err}");
        assert!(config.unknown_rule("K8S003").is_none(), "a flag's name");
        let today: Date = "2026-01-01".parse().unwrap();
        let err = config.ignore_list(today).unwrap_err();
        assert_eq!(err.span.unwrap().start, Position::new(9, 15), "{err}");
        assert!(err.message.contains("unclosed character class"), "{err}");

        let text = "ignore:\n- id: K8S001\n  reason: legacy\n  expires: 2026-13-01\n";
        let err = Config::parse("palisade.yaml", text)
            .unwrap()
            .ignore_list(today)
            .unwrap_err();
        assert_eq!(err.span.unwrap().start, Position::new(4, 3), "{err}");
        assert!(err.message.contains("2026-13-01"), "{err}");
        let valid = "ignore:\n- id: K8S001\n  expires: 2025-12-31\n";
        let list = Config::parse("palisade.yaml", valid)
            .unwrap()
            .ignore_list(today)
            .unwrap();
        assert_eq!(list.expired().len(), 1);
    }
}
