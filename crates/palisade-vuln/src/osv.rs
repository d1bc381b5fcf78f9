//! OSV JSON records (<https://ossf.github.io/osv-schema/>) into
//! [`Advisory`]s, validated: a record without an `id` or with a malformed
//! `affected` list is rejected with a reason; a range of an unknown type,
//! a GIT range, or an event without a version is dropped from its
//! affected entry and noted there (the matcher reports such entries as
//! undecided, never as "not affected").

use serde_json::Value;

use crate::advisory::{Advisory, Affected, Event, Range, RangeKind, SeverityScore};

/// Largest OSV record read (the biggest real ones are a few hundred KB).
pub const MAX_RECORD_BYTES: usize = 8 * 1024 * 1024;
/// Most `affected` entries, ranges, events or versions kept per list.
pub const MAX_LIST: usize = 100_000;
/// Details are shortened to this many characters.
pub const MAX_DETAILS: usize = 600;

/// Why a record was not imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("invalid JSON: {0}")]
    Json(String),
    #[error("record is larger than {MAX_RECORD_BYTES} bytes")]
    TooLarge,
    #[error("missing or empty field `{0}`")]
    Missing(&'static str),
    #[error("field `{0}` has the wrong type")]
    Type(&'static str),
    #[error("more than {MAX_LIST} entries in `{0}`")]
    Limit(&'static str),
}

/// Parses one OSV record; `source` names the import source.
pub fn parse(bytes: &[u8], source: &str) -> Result<Advisory, RecordError> {
    if bytes.len() > MAX_RECORD_BYTES {
        return Err(RecordError::TooLarge);
    }
    let v: Value = serde_json::from_slice(bytes).map_err(|e| RecordError::Json(e.to_string()))?;
    from_value(&v, source)
}

fn str_field<'a>(v: &'a Value, key: &'static str) -> Result<Option<&'a str>, RecordError> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(RecordError::Type(key)),
    }
}

fn array<'a>(v: &'a Value, key: &'static str) -> Result<&'a [Value], RecordError> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) if a.len() > MAX_LIST => Err(RecordError::Limit(key)),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(RecordError::Type(key)),
    }
}

fn strings(v: &Value, key: &'static str) -> Result<Vec<String>, RecordError> {
    array(v, key)?
        .iter()
        .map(|s| s.as_str().map(str::to_owned).ok_or(RecordError::Type(key)))
        .collect()
}

fn severities(v: &Value) -> Result<Vec<SeverityScore>, RecordError> {
    let mut out = Vec::new();
    for s in array(v, "severity")? {
        let kind = str_field(s, "type")?.unwrap_or("");
        let score = str_field(s, "score")?.unwrap_or("");
        if !kind.is_empty() && !score.is_empty() {
            out.push(SeverityScore {
                kind: kind.to_owned(),
                score: score.to_owned(),
            });
        }
    }
    Ok(out)
}

/// First paragraph of `details`, at most [`MAX_DETAILS`] characters.
pub(crate) fn shorten(details: &str) -> String {
    let para = details.trim().split("\n\n").next().unwrap_or("").trim();
    if para.chars().count() <= MAX_DETAILS {
        para.to_owned()
    } else {
        let mut s: String = para.chars().take(MAX_DETAILS).collect();
        s.push('…');
        s
    }
}

/// Validates an OSV record already parsed as JSON.
pub fn from_value(v: &Value, source: &str) -> Result<Advisory, RecordError> {
    if !v.is_object() {
        return Err(RecordError::Type("record"));
    }
    let id = str_field(v, "id")?
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or(RecordError::Missing("id"))?;
    let modified = str_field(v, "modified")?.unwrap_or("").to_owned();
    let mut affected = Vec::new();
    for a in array(v, "affected")? {
        affected.push(parse_affected(a)?);
    }
    let mut references: Vec<String> = Vec::new();
    for r in array(v, "references")? {
        if let Some(url) = str_field(r, "url")? {
            let is_advisory = str_field(r, "type")? == Some("ADVISORY");
            if is_advisory {
                references.insert(0, url.to_owned());
            } else {
                references.push(url.to_owned());
            }
        }
    }
    references.dedup();
    let database_severity = v
        .pointer("/database_specific/severity")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(Advisory {
        id: id.to_owned(),
        aliases: strings(v, "aliases")?,
        related: strings(v, "related")?,
        summary: str_field(v, "summary")?.unwrap_or("").trim().to_owned(),
        details: shorten(str_field(v, "details")?.unwrap_or("")),
        modified,
        published: str_field(v, "published")?.unwrap_or("").to_owned(),
        withdrawn: str_field(v, "withdrawn")?.map(str::to_owned),
        severity: severities(v)?,
        database_severity,
        affected,
        references,
        source: source.to_owned(),
    })
}

fn parse_affected(a: &Value) -> Result<Affected, RecordError> {
    let pkg = a.get("package");
    let ecosystem = pkg
        .and_then(|p| p.get("ecosystem"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim();
    let name = pkg
        .and_then(|p| p.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim();
    let mut skipped = Vec::new();
    let mut ranges = Vec::new();
    for r in array(a, "ranges")? {
        let ty = str_field(r, "type")?.unwrap_or("");
        let kind = match ty {
            "ECOSYSTEM" => RangeKind::Ecosystem,
            "SEMVER" => RangeKind::Semver,
            "GIT" => {
                skipped.push("GIT range (needs the repository's commit graph)".to_owned());
                continue;
            }
            "" => {
                skipped.push("range without a type".to_owned());
                continue;
            }
            other => {
                skipped.push(format!("unknown range type `{other}`"));
                continue;
            }
        };
        let mut events = Vec::new();
        let mut bad = false;
        for e in array(r, "events")? {
            let ev = if let Some(v) = str_field(e, "introduced")? {
                Event::Introduced(v.to_owned())
            } else if let Some(v) = str_field(e, "fixed")? {
                Event::Fixed(v.to_owned())
            } else if let Some(v) = str_field(e, "last_affected")? {
                Event::LastAffected(v.to_owned())
            } else if let Some(v) = str_field(e, "limit")? {
                Event::Limit(v.to_owned())
            } else {
                bad = true;
                continue;
            };
            if ev.version().trim().is_empty() {
                bad = true;
                continue;
            }
            events.push(ev);
        }
        if bad {
            skipped.push(format!(
                "{ty} range with an event of unknown kind or without a version"
            ));
            continue;
        }
        if !events
            .iter()
            .any(|e| matches!(e, Event::Introduced(_) | Event::IntroducedAfter(_)))
        {
            skipped.push(format!("{ty} range without an `introduced` event"));
            continue;
        }
        ranges.push(Range { kind, events });
    }
    if ecosystem.is_empty() || name.is_empty() {
        skipped.push("affected entry without package ecosystem and name".to_owned());
    }
    Ok(Affected {
        ecosystem: ecosystem.to_owned(),
        name: name.to_owned(),
        ranges,
        versions: strings(a, "versions")?,
        severity: severities(a)?,
        skipped,
        prepared: Default::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,200}") {
            let _ = parse(s.as_bytes(), "p");
        }

        #[test]
        fn parse_never_panics_on_osv_shaped_json(
            id in "[A-Z]{1,4}-[0-9]{1,4}",
            ty in "(ECOSYSTEM|SEMVER|GIT|X)",
            ev in "(introduced|fixed|last_affected|limit|other)",
            v in "\\PC{0,12}",
        ) {
            let j = format!(
                r#"{{"id":"{id}","affected":[{{"package":{{"ecosystem":"npm","name":"a"}},"ranges":[{{"type":"{ty}","events":[{{"{ev}":{v:?}}}]}}]}}]}}"#
            );
            if let Ok(a) = parse(j.as_bytes(), "p") {
                for af in &a.affected {
                    let _ = crate::matcher::evaluate(af, "1.0.0");
                }
            }
        }
    }

    #[test]
    fn parses_a_real_shape() {
        let j = br#"{"id":"GHSA-1","modified":"2024-01-01T00:00:00Z","aliases":["CVE-1"],
          "summary":" s ","details":"first\n\nsecond",
          "severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
          "affected":[{"package":{"ecosystem":"PyPI","name":"x"},
            "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.0"}]},
                      {"type":"GIT","repo":"r","events":[{"introduced":"abc"}]}],
            "versions":["0.9"]}],
          "references":[{"type":"WEB","url":"https://w"},{"type":"ADVISORY","url":"https://a"}],
          "database_specific":{"severity":"HIGH"}}"#;
        let a = parse(j, "test").unwrap();
        assert_eq!(a.id, "GHSA-1");
        assert_eq!(a.summary, "s");
        assert_eq!(a.details, "first");
        assert_eq!(a.references, ["https://a", "https://w"]);
        assert_eq!(a.database_severity.as_deref(), Some("HIGH"));
        let af = &a.affected[0];
        assert_eq!(af.ranges.len(), 1);
        assert_eq!(af.skipped.len(), 1);
        assert!(af.skipped[0].starts_with("GIT range"));
    }

    #[test]
    fn rejects_or_notes_bad_records() {
        assert_eq!(parse(b"{}", "t"), Err(RecordError::Missing("id")));
        assert_eq!(parse(br#"{"id":""}"#, "t"), Err(RecordError::Missing("id")));
        assert_eq!(parse(br#"{"id":1}"#, "t"), Err(RecordError::Type("id")));
        assert!(matches!(parse(b"{", "t"), Err(RecordError::Json(_))));
        assert_eq!(
            parse(br#"{"id":"x","affected":{}}"#, "t"),
            Err(RecordError::Type("affected"))
        );
        let a = parse(
            br#"{"id":"x","affected":[{"package":{"ecosystem":"npm","name":"a"},
              "ranges":[{"type":"WEIRD","events":[]},{"type":"SEMVER","events":[{"fixed":"1"}]},
                        {"type":"SEMVER","events":[{"introduced":""}]}]}]}"#,
            "t",
        )
        .unwrap();
        assert_eq!(a.affected[0].ranges.len(), 0);
        assert_eq!(
            a.affected[0].skipped.len(),
            3,
            "{:?}",
            a.affected[0].skipped
        );
    }
}
