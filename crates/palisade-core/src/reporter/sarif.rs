//! SARIF 2.1.0, as GitHub code scanning reads it: rule metadata with help
//! text and `security-severity`, one result per finding with a region, a
//! partial fingerprint, and `suppressions` for suppressed findings.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde_json::{Value, json};

use crate::{Finding, InputError, Report, RuleMeta, SuppressionKind, TOOL_VERSION};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const INFORMATION_URI: &str = "https://github.com/palisade-sec/palisade";

pub(super) fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let index: BTreeMap<&str, usize> = report
        .rules
        .keys()
        .enumerate()
        .map(|(i, code)| (code.as_str(), i))
        .collect();
    let rules: Vec<Value> = report.rules.values().map(rule).collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| result(f, index.get(f.code.as_ref()).copied()))
        .collect();
    let notifications: Vec<Value> = report.errors.iter().map(notification).collect();
    let doc = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "palisade",
                    "version": TOOL_VERSION,
                    "semanticVersion": TOOL_VERSION,
                    "informationUri": INFORMATION_URI,
                    "rules": rules,
                }
            },
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications,
            }],
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")
}

fn rule(r: &RuleMeta) -> Value {
    let mut tags = vec!["security".to_string(), r.scanner.as_str().to_string()];
    tags.extend(
        r.references
            .iter()
            .filter(|x| x.framework != crate::Framework::Url)
            .map(ToString::to_string),
    );
    let help_text = if r.fix.is_empty() {
        r.title.to_string()
    } else {
        format!("{} Fix: {}", r.title, r.fix)
    };
    let help_markdown = if r.doc.is_empty() {
        help_text.clone()
    } else {
        r.doc.to_string()
    };
    json!({
        "id": r.code,
        "name": pascal_case(&r.name),
        "shortDescription": { "text": r.title },
        "fullDescription": { "text": first_paragraph(&r.doc).unwrap_or(&r.title) },
        "help": { "text": help_text, "markdown": help_markdown },
        "defaultConfiguration": { "level": r.severity.sarif_level() },
        "properties": {
            "tags": tags,
            "precision": "very-high",
            "problem.severity": r.severity.sarif_level(),
            "security-severity": r.severity.security_score(),
        }
    })
}

fn result(f: &Finding, rule_index: Option<usize>) -> Value {
    let mut physical = json!({
        "artifactLocation": { "uri": uri(&f.location.path) },
    });
    if let Some(span) = f.location.span.filter(|s| s.start.line > 0) {
        let mut region = json!({ "startLine": span.start.line });
        if span.start.column > 0 {
            region["startColumn"] = json!(span.start.column);
        }
        if span.end.line >= span.start.line && span.end.line > 0 {
            region["endLine"] = json!(span.end.line);
            if span.end.column > 0
                && (span.end.line > span.start.line || span.end.column >= span.start.column)
            {
                region["endColumn"] = json!(span.end.column.max(1));
            }
        }
        physical["region"] = region;
    }
    let mut location = json!({ "physicalLocation": physical });
    if let Some(resource) = &f.resource {
        location["logicalLocations"] = json!([{
            "fullyQualifiedName": resource.to_string(),
            "kind": "resource",
        }]);
    }
    let mut result = json!({
        "ruleId": f.code,
        "level": f.severity.sarif_level(),
        "message": { "text": f.message },
        "locations": [location],
        "partialFingerprints": { "palisade/v1": f.fingerprint },
        "properties": { "severity": f.severity.as_str() },
    });
    if let Some(i) = rule_index {
        result["ruleIndex"] = json!(i);
    }
    if let Some(s) = &f.suppressed {
        let kind = match s.kind {
            SuppressionKind::Inline | SuppressionKind::Annotation => "inSource",
            SuppressionKind::Config | SuppressionKind::Baseline | SuppressionKind::Vex => {
                "external"
            }
        };
        let justification = match &s.reason {
            Some(r) => format!("{}: {r}", s.kind.as_str()),
            None => s.kind.as_str().to_string(),
        };
        result["suppressions"] = json!([{ "kind": kind, "justification": justification }]);
    }
    result
}

fn notification(e: &InputError) -> Value {
    let mut physical = json!({ "artifactLocation": { "uri": uri(&e.path) } });
    if let Some(span) = e.span.filter(|s| s.start.line > 0) {
        physical["region"] =
            json!({ "startLine": span.start.line, "startColumn": span.start.column.max(1) });
    }
    json!({
        "level": "error",
        "message": { "text": e.message },
        "locations": [{ "physicalLocation": physical }],
    })
}

/// A relative URI reference for a path: `/`-separated, percent-encoding
/// everything but unreserved characters and `/`.
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn pascal_case(kebab: &str) -> String {
    kebab
        .split(['-', '_'])
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect(),
                None => String::new(),
            }
        })
        .collect()
}

/// The first prose paragraph after the "What it does" heading.
fn first_paragraph(doc: &str) -> Option<&str> {
    let body = doc.split("## What it does").nth(1)?;
    body.split("\n\n")
        .map(str::trim)
        .find(|p| !p.is_empty() && !p.starts_with('#'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_uris() {
        assert_eq!(uri("deploy/my app.yaml"), "deploy/my%20app.yaml");
        assert_eq!(uri("<stdin>"), "%3Cstdin%3E");
    }

    #[test]
    fn names_rules_in_pascal_case() {
        assert_eq!(pascal_case("privileged-container"), "PrivilegedContainer");
    }
}
