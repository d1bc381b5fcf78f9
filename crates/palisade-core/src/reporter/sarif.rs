//! SARIF 2.1.0, as GitHub code scanning reads it: rule metadata with help
//! text and `security-severity`, one result per finding with a region, a
//! partial fingerprint, and `suppressions` for suppressed findings.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;
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
    // Results are serialized straight from the findings (a report can hold
    // tens of thousands); the document keeps its keys in the alphabetical
    // order a `serde_json::Value` would give them.
    let doc = Document {
        schema: SCHEMA,
        runs: [Run {
            column_kind: "unicodeCodePoints",
            invocations: [Invocation {
                execution_successful: true,
                notifications: report.errors.iter().map(notification).collect(),
            }],
            results: Results(report, &index),
            tool: json!({
                "driver": {
                    "name": "palisade",
                    "version": TOOL_VERSION,
                    "semanticVersion": TOOL_VERSION,
                    "informationUri": INFORMATION_URI,
                    "rules": report.rules.values().map(rule).collect::<Vec<Value>>(),
                }
            }),
        }],
        version: "2.1.0",
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")
}

#[derive(Serialize)]
struct Document<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    runs: [Run<'a>; 1],
    version: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    column_kind: &'static str,
    invocations: [Invocation; 1],
    results: Results<'a>,
    tool: Value,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    #[serde(rename = "toolExecutionNotifications")]
    notifications: Vec<Value>,
}

/// The findings as SARIF results, serialized one by one.
struct Results<'a>(&'a Report, &'a BTreeMap<&'a str, usize>);

impl Serialize for Results<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Results(report, index) = *self;
        s.collect_seq(
            report
                .findings
                .iter()
                .map(|f| result(f, index.get(f.code.as_ref()).copied())),
        )
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    level: &'static str,
    locations: [Location; 1],
    message: Text<'a>,
    partial_fingerprints: Fingerprints<'a>,
    properties: Properties,
    rule_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressions: Option<[Suppression; 1]>,
}

#[derive(Serialize)]
struct Text<'a> {
    text: &'a str,
}

#[derive(Serialize)]
struct Fingerprints<'a> {
    #[serde(rename = "palisade/v1")]
    v1: &'a str,
}

#[derive(Serialize)]
struct Properties {
    severity: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    logical_locations: Option<[LogicalLocation; 1]>,
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation {
    fully_qualified_name: String,
    kind: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    #[serde(skip_serializing_if = "Option::is_none")]
    end_column: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_column: Option<u32>,
    start_line: u32,
}

#[derive(Serialize)]
struct Suppression {
    justification: String,
    kind: &'static str,
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

fn result(f: &Finding, rule_index: Option<usize>) -> SarifResult<'_> {
    let region = f.location.span.filter(|s| s.start.line > 0).map(|span| {
        let ends = span.end.line >= span.start.line && span.end.line > 0;
        let end_column = ends
            && span.end.column > 0
            && (span.end.line > span.start.line || span.end.column >= span.start.column);
        Region {
            start_line: span.start.line,
            start_column: (span.start.column > 0).then_some(span.start.column),
            end_line: ends.then_some(span.end.line),
            end_column: end_column.then(|| span.end.column.max(1)),
        }
    });
    let suppressions = f.suppressed.as_ref().map(|s| {
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
        [Suppression {
            justification,
            kind,
        }]
    });
    SarifResult {
        level: f.severity.sarif_level(),
        locations: [Location {
            logical_locations: f.resource.as_ref().map(|resource| {
                [LogicalLocation {
                    fully_qualified_name: resource.to_string(),
                    kind: "resource",
                }]
            }),
            physical_location: PhysicalLocation {
                artifact_location: ArtifactLocation {
                    uri: uri(&f.location.path),
                },
                region,
            },
        }],
        message: Text { text: &f.message },
        partial_fingerprints: Fingerprints { v1: &f.fingerprint },
        properties: Properties {
            severity: f.severity.as_str(),
        },
        rule_id: &f.code,
        rule_index,
        suppressions,
    }
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
