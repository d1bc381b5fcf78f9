//! The JSON report (schema version 1, documented in `docs/json-report.md`,
//! JSON Schema in `docs/schemas/report-v1.schema.json`).

use std::io::{self, Write};

use serde::{Serialize, Serializer};

use crate::report::SeverityCounts;
use crate::{Finding, InputError, Reference, Report, RuleMeta, TOOL_VERSION};

/// Bumped on any incompatible change to the JSON report.
pub const JSON_SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a> {
    schema_version: u32,
    tool: Tool,
    summary: Summary,
    findings: Findings<'a>,
    errors: Vec<JsonError<'a>>,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Summary {
    findings: u64,
    suppressed: u64,
    by_severity: SeverityCounts,
    files: u64,
    documents: u64,
    objects: u64,
    skipped_documents: u64,
    errors: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonFinding<'a> {
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    severity: crate::Severity,
    message: &'a str,
    location: JsonLocation<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource: Option<&'a crate::ResourceRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    container: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<&'a str>,
    references: References<'a>,
    fingerprint: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressed: Option<&'a crate::Suppression>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonLocation<'a> {
    path: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_column: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_column: Option<u32>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonError<'a> {
    path: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<u32>,
    kind: crate::report::InputErrorKind,
    message: &'a str,
}

/// The findings, serialized one by one as they are read: a large report
/// (100,000+ findings) is not first copied into a second list.
struct Findings<'a>(&'a Report);

impl Serialize for Findings<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let report = self.0;
        s.collect_seq(
            report
                .findings
                .iter()
                .map(|f| finding(f, report.rules.get(f.code.as_ref()))),
        )
    }
}

/// A rule's references as the strings they display as, written from the
/// rule itself: one vulnerability's list is repeated in every finding of
/// it, and copying it per finding was most of a large report's memory.
struct References<'a>(&'a [Reference]);

impl Serialize for References<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(Shown))
    }
}

struct Shown<'a>(&'a Reference);

impl Serialize for Shown<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self.0)
    }
}

fn finding<'a>(f: &'a Finding, rule: Option<&'a RuleMeta>) -> JsonFinding<'a> {
    JsonFinding {
        code: &f.code,
        name: rule.map(|r| r.name.as_ref()),
        title: rule.map(|r| r.title.as_ref()),
        severity: f.severity,
        message: &f.message,
        location: JsonLocation {
            path: &f.location.path,
            start_line: f.location.span.map(|s| s.start.line),
            start_column: f.location.span.map(|s| s.start.column),
            end_line: f.location.span.map(|s| s.end.line),
            end_column: f.location.span.map(|s| s.end.column),
        },
        resource: f.resource.as_ref(),
        container: f.container.as_deref(),
        field: f.field.as_deref(),
        fix: rule.map(|r| r.fix.as_ref()).filter(|s| !s.is_empty()),
        references: References(rule.map_or(&[][..], |r| &r.references)),
        fingerprint: &f.fingerprint,
        suppressed: f.suppressed.as_ref(),
    }
}

fn error(e: &InputError) -> JsonError<'_> {
    JsonError {
        path: &e.path,
        line: e.span.map(|s| s.start.line),
        column: e.span.map(|s| s.start.column),
        kind: e.kind,
        message: &e.message,
    }
}

pub(super) fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let counts = report.counts();
    let doc = Document {
        schema_version: JSON_SCHEMA_VERSION,
        tool: Tool {
            name: "palisade",
            version: TOOL_VERSION,
        },
        summary: Summary {
            findings: counts.total(),
            suppressed: report.suppressed_count(),
            by_severity: counts,
            files: report.stats.files,
            documents: report.stats.documents,
            objects: report.stats.objects,
            skipped_documents: report.stats.skipped_documents,
            errors: report.errors.len() as u64,
        },
        findings: Findings(report),
        errors: report.errors.iter().map(error).collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")
}
