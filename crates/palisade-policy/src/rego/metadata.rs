//! OPA `# METADATA` annotations: a YAML block in comments just before a
//! package or a rule. regorus does not keep comments, so they are read
//! from the policy text here.

use std::collections::BTreeMap;

use palisade_k8s::yaml::{Limits, parse_stream};
use serde_json::Value;

use crate::error::PolicyError;

/// One annotation block.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Annotation {
    pub title: Option<String>,
    pub description: Option<String>,
    /// `related_resources`: URLs (with an optional description).
    pub related: Vec<String>,
    /// `custom:` as written.
    pub custom: serde_json::Map<String, Value>,
    /// Line of the `# METADATA` comment.
    pub line: u32,
}

impl Annotation {
    pub fn custom_str(&self, key: &str) -> Option<&str> {
        self.custom.get(key).and_then(Value::as_str)
    }
}

/// The annotations of one file: for the package, and by rule name.
#[derive(Debug, Clone, Default)]
pub struct FileAnnotations {
    pub package: Option<Annotation>,
    pub rules: BTreeMap<String, Annotation>,
}

/// Reads every `# METADATA` block of a policy.
pub fn parse(path: &str, text: &str) -> Result<FileAnnotations, PolicyError> {
    let mut out = FileAnnotations::default();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines.get(i).copied().unwrap_or_default();
        if line.trim() != "# METADATA" {
            i += 1;
            continue;
        }
        let start = i;
        let mut yaml = String::new();
        i += 1;
        while let Some(l) = lines.get(i) {
            let t = l.trim_start();
            let Some(body) = t.strip_prefix('#') else {
                break;
            };
            yaml.push_str(body.strip_prefix(' ').unwrap_or(body));
            yaml.push('\n');
            i += 1;
        }
        let header_line = start as u32 + 1;
        let mut annotation = parse_block(path, &yaml, header_line)?;
        annotation.line = header_line;
        // The annotated element: the next line with content.
        let target = lines
            .iter()
            .skip(i)
            .map(|l| l.trim())
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .unwrap_or_default();
        if target.starts_with("package ") || target == "package" {
            out.package = Some(annotation);
        } else if let Some(name) = rule_name(target) {
            out.rules.entry(name).or_insert(annotation);
        }
    }
    Ok(out)
}

/// `deny_privileged contains msg if {` → `deny_privileged`.
fn rule_name(line: &str) -> Option<String> {
    let line = line.strip_prefix("default ").unwrap_or(line);
    let end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(line.len());
    let name = line.get(..end)?;
    (!name.is_empty()).then(|| name.to_string())
}

fn parse_block(path: &str, yaml: &str, header_line: u32) -> Result<Annotation, PolicyError> {
    let mut root = None;
    let errors = parse_stream(yaml, &Limits::default(), header_line, |doc| {
        if root.is_none() {
            root = doc.root;
        }
    });
    if let Some(e) = errors.into_iter().next() {
        return Err(PolicyError::new(
            path,
            Some(e.span),
            format!("invalid METADATA annotation: {}", e.message),
        ));
    }
    let value = root.map(|r| r.to_json()).unwrap_or(Value::Null);
    let Value::Object(map) = value else {
        return Err(PolicyError::at(
            path,
            header_line,
            1,
            "invalid METADATA annotation: expected a YAML mapping",
        ));
    };
    let text = |k: &str| map.get(k).and_then(Value::as_str).map(str::to_string);
    let related = map
        .get("related_resources")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|r| match r {
                    Value::String(s) => Some(s.clone()),
                    Value::Object(o) => o.get("ref").and_then(Value::as_str).map(str::to_string),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let custom = match map.get("custom") {
        Some(Value::Object(c)) => c.clone(),
        _ => serde_json::Map::new(),
    };
    Ok(Annotation {
        title: text("title"),
        description: text("description"),
        related,
        custom,
        line: header_line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_package_and_rule_annotations() {
        let text = "# METADATA\n# title: Pods\n# custom:\n#   id: ACME-1\n#   severity: critical\npackage main\n\n# METADATA\n# title: No privileged\n# related_resources:\n# - ref: https://example.com/a\n# - https://example.com/b\ndeny_privileged contains msg if {\n  true\n}\n";
        let a = parse("p.rego", text).unwrap();
        let pkg = a.package.unwrap();
        assert_eq!(pkg.title.as_deref(), Some("Pods"));
        assert_eq!(pkg.custom_str("id"), Some("ACME-1"));
        let rule = &a.rules["deny_privileged"];
        assert_eq!(
            rule.related,
            ["https://example.com/a", "https://example.com/b"]
        );
        assert_eq!(rule.line, 8);
    }

    #[test]
    fn reports_bad_yaml_with_its_line() {
        let err = parse(
            "p.rego",
            "package main\n# METADATA\n# title: [unclosed\ndeny[msg] { true }\n",
        )
        .unwrap_err();
        assert_eq!(err.path, "p.rego");
        assert!(err.line() >= 2, "{err}");
        let err = parse("p.rego", "# METADATA\n# just text\npackage main\n").unwrap_err();
        assert!(err.message.contains("mapping"), "{err}");
    }
}
