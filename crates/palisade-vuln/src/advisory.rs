//! The advisory model the store keeps and the matcher reads: OSV's shape
//! (id, aliases, affected packages with ranges of events, severity),
//! validated on the way in ([`crate::osv`], [`crate::import`]), so a
//! record in the store is always usable.

use serde::{Deserialize, Serialize};

/// One advisory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Advisory {
    pub id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Different vulnerabilities this advisory is related to or covers
    /// (OSV `related`; the CVEs a Debian DSA fixes). Shown, never merged:
    /// merging by them would chain distinct CVEs into one finding.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub summary: String,
    /// The first paragraph of the details, shortened (the store is not a
    /// mirror; the advisory URL has the rest).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub details: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub modified: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub published: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
    /// CVSS vectors (`CVSS_V3`, `CVSS_V4`, `CVSS_V2`) and others, as given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<SeverityScore>,
    /// The database's own rating when it has no vector (`HIGH`,
    /// `moderate`, a Debian urgency, a bare CVSS number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_severity: Option<String>,
    pub affected: Vec<Affected>,
    /// Reference URLs, advisory page first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    /// The import source that provided it (`rustsec`, `osv:PyPI`, …).
    pub source: String,
}

/// A severity entry (`{"type": "CVSS_V3", "score": "CVSS:3.1/…"}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityScore {
    #[serde(rename = "type")]
    pub kind: String,
    pub score: String,
}

/// One affected package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Affected {
    /// OSV ecosystem, with release for distributions (`Debian:12`).
    pub ecosystem: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<Range>,
    /// Explicitly affected versions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    /// Per-package severity (OSV 1.5+), overriding the advisory's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<SeverityScore>,
    /// What could not be used from the record (GIT ranges, unknown range
    /// types, events without versions). Matching reports an affected
    /// entry it could not decide instead of calling it "not affected".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
    /// The matcher's parsed form, built on first use.
    #[serde(skip)]
    pub(crate) prepared: crate::matcher::Prepared,
}

/// How a range's versions are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RangeKind {
    /// The ecosystem's own ordering.
    #[serde(rename = "ECOSYSTEM")]
    Ecosystem,
    /// SemVer 2.0.
    #[serde(rename = "SEMVER")]
    Semver,
}

/// Ranges of type ECOSYSTEM or SEMVER (GIT ranges are not kept: they
/// need a repository to evaluate).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    #[serde(rename = "type")]
    pub kind: RangeKind,
    pub events: Vec<Event>,
}

/// OSV range events, plus one extension for converted native data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// Affected from this version on (`"0"`: from the first version).
    Introduced(String),
    /// Not affected from this version on.
    Fixed(String),
    /// Affected up to and including this version.
    LastAffected(String),
    /// Nothing at or above this version is affected by the range.
    Limit(String),
    /// Extension, never read from OSV: affected from just above this
    /// version (npm `>1.2.0`, RubyGems `> 1.2`), which OSV events cannot
    /// express exactly.
    IntroducedAfter(String),
}

impl Event {
    pub fn version(&self) -> &str {
        match self {
            Event::Introduced(v)
            | Event::Fixed(v)
            | Event::LastAffected(v)
            | Event::Limit(v)
            | Event::IntroducedAfter(v) => v,
        }
    }
}

impl Advisory {
    /// Every identifier of this advisory: its id and aliases.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str()).chain(self.aliases.iter().map(String::as_str))
    }

    /// A malicious-package report (OSV `MAL-` ids).
    pub fn is_malicious(&self) -> bool {
        self.ids().any(|i| i.starts_with("MAL-"))
    }
}

/// Sorts the ids a native advisory `id` names into (aliases, related).
/// OSV's `aliases` means "the same vulnerability": an advisory naming one
/// CVE (a DSA for one CVE, an npm advisory and its CVE) is an alias of
/// it, but one naming several CVEs (a DSA, a Xen advisory) is about
/// several vulnerabilities, so all its ids are only related. Duplicates
/// and `id` itself are dropped.
pub(crate) fn aliases_or_related(id: &str, ids: Vec<String>) -> (Vec<String>, Vec<String>) {
    let mut ids: Vec<String> = ids
        .into_iter()
        .map(|i| i.trim().to_owned())
        .filter(|i| !i.is_empty() && i != id)
        .collect();
    ids.sort();
    ids.dedup();
    let cves = std::iter::once(id)
        .chain(ids.iter().map(String::as_str))
        .filter(|i| i.starts_with("CVE-"))
        .count();
    if cves > 1 {
        (Vec::new(), ids)
    } else {
        (ids, Vec::new())
    }
}

/// The key a package is indexed by: the ecosystem as written and the name
/// normalised where the ecosystem treats names case- or
/// punctuation-insensitively (PyPI per PEP 503; npm, NuGet, Packagist and
/// distro packages by case).
pub fn package_key(ecosystem: &str, name: &str) -> (String, String) {
    let base = ecosystem.split(':').next().unwrap_or(ecosystem);
    let name = match base {
        "PyPI" => {
            let mut out = String::with_capacity(name.len());
            let mut last_sep = false;
            for c in name.trim().chars() {
                if matches!(c, '-' | '_' | '.') {
                    if !last_sep {
                        out.push('-');
                    }
                    last_sep = true;
                } else {
                    out.extend(c.to_lowercase());
                    last_sep = false;
                }
            }
            out
        }
        "npm" | "NuGet" | "Packagist" | "Debian" | "Ubuntu" | "Alpine" | "RubyGems" => {
            name.trim().to_lowercase()
        }
        _ => name.trim().to_owned(),
    };
    (ecosystem.trim().to_owned(), name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_keys_normalise_per_ecosystem() {
        assert_eq!(package_key("PyPI", "PyYAML").1, "pyyaml");
        assert_eq!(
            package_key("PyPI", "zope.interface__x").1,
            "zope-interface-x"
        );
        assert_eq!(
            package_key("Go", "github.com/Azure/x").1,
            "github.com/Azure/x"
        );
        assert_eq!(package_key("Debian:12", "OpenSSL").1, "openssl");
        assert_eq!(package_key("crates.io", "Inflector").1, "Inflector");
    }

    #[test]
    fn several_cves_are_related_not_aliases() {
        let ids = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        // One CVE: the same vulnerability (a GHSA, a one-CVE DSA).
        assert_eq!(
            aliases_or_related("DSA-1-1", ids(&["CVE-1", "CVE-1"])),
            (ids(&["CVE-1"]), vec![])
        );
        assert_eq!(
            aliases_or_related("DEBIAN-CVE-1", ids(&["CVE-1"])),
            (ids(&["CVE-1"]), vec![])
        );
        // Several: different vulnerabilities, never aliases.
        assert_eq!(
            aliases_or_related("DSA-2-1", ids(&["CVE-3", "CVE-2"])),
            (vec![], ids(&["CVE-2", "CVE-3"]))
        );
        assert_eq!(
            aliases_or_related("CVE-4", ids(&["CVE-5", "CVE-4"])),
            (vec![], ids(&["CVE-5"]))
        );
    }

    #[test]
    fn events_round_trip_as_osv_json() {
        let r = Range {
            kind: RangeKind::Ecosystem,
            events: vec![Event::Introduced("0".into()), Event::Fixed("1.2".into())],
        };
        let j = serde_json::to_string(&r).unwrap();
        assert_eq!(
            j,
            r#"{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.2"}]}"#
        );
        assert_eq!(serde_json::from_str::<Range>(&j).unwrap(), r);
    }
}
