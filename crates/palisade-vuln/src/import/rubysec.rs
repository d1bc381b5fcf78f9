//! ruby-advisory-db (`gems/<gem>/<id>.yml`) into OSV-shaped advisories:
//! the vulnerable versions are everything not matched by
//! `patched_versions` or `unaffected_versions` (RubyGems requirement
//! strings: `~> 1.2.5`, `>= 2.0, < 2.2`, `!= 1.0`), computed with
//! `Gem::Version` ordering. Interpreter advisories (`rubies/`) name no
//! package ecosystem and are counted as skipped.

use serde::Deserialize;

use super::interval::VersionSet;
use crate::advisory::{Advisory, Affected};
use crate::version::Scheme;

#[derive(Debug, Deserialize)]
struct Raw {
    gem: Option<String>,
    cve: Option<String>,
    ghsa: Option<String>,
    osvdb: Option<serde_json::Value>,
    url: Option<String>,
    title: Option<String>,
    date: Option<String>,
    description: Option<String>,
    cvss_v2: Option<f64>,
    cvss_v3: Option<f64>,
    cvss_v4: Option<f64>,
    #[serde(default)]
    patched_versions: Vec<String>,
    #[serde(default)]
    unaffected_versions: Vec<String>,
}

/// `Gem::Version#bump`: drop prerelease parts, drop the last segment
/// (unless it is the only one), increment the new last one.
fn bump(v: &str) -> Option<String> {
    let mut segs: Vec<&str> = v.split('.').collect();
    // Gem splits `rc1` into `rc`, 1 and pops until no letter is left.
    while segs
        .iter()
        .any(|s| s.chars().any(|c| c.is_ascii_alphabetic()))
    {
        segs.pop();
    }
    if segs.len() > 1 {
        segs.pop();
    }
    let last = segs.pop()?.parse::<u64>().ok()?;
    let mut out: Vec<String> = segs.iter().map(|s| (*s).to_owned()).collect();
    out.push((last + 1).to_string());
    Some(out.join("."))
}

/// One requirement string (comma-separated comparators, all must hold).
pub fn requirement(req: &str) -> Result<VersionSet, String> {
    let scheme = Scheme::RubyGems;
    let mut set = VersionSet::all(scheme);
    for part in req.split(',') {
        let part = part.trim();
        let op_len = part
            .chars()
            .take_while(|c| matches!(c, '<' | '>' | '=' | '~' | '!'))
            .count();
        let (op, v) = part.split_at(op_len);
        let v = v.trim();
        let e = |x: crate::version::Incomparable| x.to_string();
        let b = |inc: bool| set.bound(v, inc).map_err(e);
        let one = match op {
            "" | "=" => VersionSet::single(scheme, Some(b(true)?), Some(b(true)?)),
            "!=" => {
                let below = VersionSet::single(scheme, None, Some(b(false)?));
                below.union(VersionSet::single(scheme, Some(b(false)?), None))
            }
            ">" => VersionSet::single(scheme, Some(b(false)?), None),
            ">=" => VersionSet::single(scheme, Some(b(true)?), None),
            "<" => VersionSet::single(scheme, None, Some(b(false)?)),
            "<=" => VersionSet::single(scheme, None, Some(b(true)?)),
            "~>" => {
                // `v >= r && v.release < r.bump`: a prerelease of the bump
                // (2.2.0.pre for `~> 2.1.4`) sorts below it but its release
                // does not, so the range ends below every prerelease of
                // the bump: at `bump.A` (`A` is the least letter segment).
                let up = bump(v).ok_or_else(|| format!("cannot bump `{v}`"))?;
                let hi = set.bound(&format!("{up}.A"), false).map_err(e)?;
                VersionSet::single(scheme, Some(b(true)?), Some(hi))
            }
            other => return Err(format!("unknown requirement operator `{other}`")),
        };
        set = set.intersect(&one);
    }
    Ok(set)
}

/// Converts one gem advisory file. `stem` is the file name without
/// extension (used when the advisory has no CVE/GHSA/OSVDB id).
pub fn convert(text: &str, stem: &str, source: &str) -> Result<Advisory, String> {
    let raw: Raw = serde_saphyr::from_str(text).map_err(|e| format!("invalid YAML: {e}"))?;
    let gem = raw
        .gem
        .filter(|g| !g.trim().is_empty())
        .ok_or("missing `gem`")?;
    let mut ids: Vec<String> = Vec::new();
    if let Some(g) = raw.ghsa.as_deref().filter(|s| !s.is_empty()) {
        ids.push(format!("GHSA-{g}"));
    }
    if let Some(c) = raw.cve.as_deref().filter(|s| !s.is_empty()) {
        ids.push(format!("CVE-{c}"));
    }
    if let Some(o) = raw.osvdb.as_ref().and_then(|v| match v {
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::String(s) => Some(s.clone()),
        _ => None,
    }) {
        ids.push(format!("OSVDB-{o}"));
    }
    let id = ids
        .first()
        .cloned()
        .unwrap_or_else(|| format!("RUBYSEC-{gem}-{stem}"));
    let aliases: Vec<String> = ids.into_iter().filter(|i| *i != id).collect();
    let mut safe = VersionSet::empty(Scheme::RubyGems);
    for r in raw.patched_versions.iter().chain(&raw.unaffected_versions) {
        safe = safe.union(requirement(r).map_err(|e| format!("requirement `{r}`: {e}"))?);
    }
    let (ranges, versions) = safe.complement().to_osv();
    let database_severity = raw
        .cvss_v4
        .or(raw.cvss_v3)
        .or(raw.cvss_v2)
        .map(|s| s.to_string());
    Ok(Advisory {
        id,
        aliases,
        related: Vec::new(),
        summary: raw.title.unwrap_or_default().trim().to_owned(),
        details: crate::osv::shorten(raw.description.as_deref().unwrap_or("")),
        modified: raw.date.clone().unwrap_or_default(),
        published: raw.date.unwrap_or_default(),
        withdrawn: None,
        severity: Vec::new(),
        database_severity,
        affected: vec![Affected {
            ecosystem: "RubyGems".into(),
            name: gem,
            ranges,
            versions,
            severity: Vec::new(),
            skipped: Vec::new(),
            prepared: Default::default(),
        }],
        references: raw.url.into_iter().collect(),
        source: source.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::{Verdict, evaluate};

    const RACK: &str = r#"---
gem: rack
cve: 2011-5036
osvdb: 78121
ghsa: v6j3-7jrw-hq2p
url: https://nvd.nist.gov/vuln/detail/CVE-2011-5036
title: "CVE-2011-5036 rubygem-rack: hash table collisions DoS (oCERT-2011-003)"
date: 2011-12-28
description: |
  Rack before 1.1.3, 1.2.x before 1.2.5, and 1.3.x before 1.3.6 computes
  hash values.
cvss_v2: 5.0
patched_versions:
  - "~> 1.1.3"
  - "~> 1.2.5"
  - "~> 1.3.6"
  - ">= 1.4.0"
"#;

    #[test]
    fn converts_a_real_advisory() {
        let a = convert(RACK, "CVE-2011-5036", "rubysec").unwrap();
        assert_eq!(a.id, "GHSA-v6j3-7jrw-hq2p");
        assert_eq!(a.aliases, ["CVE-2011-5036", "OSVDB-78121"]);
        assert_eq!(a.database_severity.as_deref(), Some("5"));
        let af = &a.affected[0];
        let vulnerable = |v: &str| matches!(evaluate(af, v), Verdict::Affected { .. });
        for v in ["1.0.0", "1.1.2", "1.2.0", "1.2.4", "1.3.5"] {
            assert!(vulnerable(v), "{v}");
        }
        for v in ["1.1.3", "1.1.9", "1.2.5", "1.3.6", "1.4.0", "2.0.0"] {
            assert!(!vulnerable(v), "{v}");
        }
        // `~> 1.1.3` does not cover 1.2.0.pre (its release 1.2.0 is not
        // below 1.2), which `~> 1.2.5` does not cover either: vulnerable.
        for v in ["1.2.0.pre", "1.2.a", "1.2.0.A", "1.4.0.rc1"] {
            assert!(vulnerable(v), "{v}");
        }
        assert!(!vulnerable("1.1.9.pre"), "1.1.9.pre >= 1.1.3");
    }

    #[test]
    fn requirements() {
        assert_eq!(bump("1.1.3").as_deref(), Some("1.2"));
        assert_eq!(bump("1").as_deref(), Some("2"));
        assert_eq!(bump("4.2.0.beta1").as_deref(), Some("4.3"));
        assert_eq!(bump("1.0.0.rc1.1").as_deref(), Some("1.1"));
        assert!(requirement(">= 2.0, < 2.2").is_ok());
        assert!(requirement("=~ 1").is_err());
        assert!(requirement(">= not.a.version!").is_err());
        let everything = convert("gem: x\npatched_versions: []\n", "X-1", "s").unwrap();
        assert!(matches!(
            evaluate(&everything.affected[0], "99.0"),
            Verdict::Affected { .. }
        ));
        assert!(convert("title: no gem\n", "X-2", "s").is_err());
    }
}
