//! `ignore:` entries of `palisade.yaml`: a rule (code, name or `*`),
//! optionally narrowed to paths and resources, with a reason and an optional
//! expiry date after which the entry stops applying.

use globset::{Glob, GlobMatcher};
use serde::Deserialize;

use crate::Finding;
use crate::date::Date;

/// One entry as written in `palisade.yaml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IgnoreEntry {
    /// Rule code or name, or `*` for every rule.
    #[serde(alias = "code")]
    pub id: String,
    /// Glob patterns over finding paths (`deploy/**`); empty = everywhere.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Glob patterns over `Kind/namespace/name` (`Deployment/shop/*`).
    #[serde(default)]
    pub resources: Vec<String>,
    pub reason: Option<String>,
    /// `YYYY-MM-DD`; the entry no longer applies from this day on.
    pub expires: Option<String>,
}

/// An `ignore:` entry that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum IgnoreError {
    // The causes are sources, not repeated in the messages (a report of
    // the error chain would print them twice).
    #[error("ignore entry for `{id}`: invalid glob `{pattern}`")]
    Glob {
        id: String,
        pattern: String,
        source: globset::Error,
    },
    #[error("ignore entry for `{id}`")]
    Date {
        id: String,
        source: crate::date::InvalidDate,
    },
}

#[derive(Debug)]
struct Compiled {
    entry: IgnoreEntry,
    paths: Vec<GlobMatcher>,
    resources: Vec<GlobMatcher>,
}

/// Compiled, unexpired entries, plus the expired ones for warnings.
#[derive(Debug, Default)]
pub struct IgnoreList {
    active: Vec<Compiled>,
    expired: Vec<(IgnoreEntry, Date)>,
}

impl IgnoreList {
    /// Compiles entries; those whose expiry date is on or before `today`
    /// are kept aside (see [`IgnoreList::expired`]).
    pub fn new(entries: Vec<IgnoreEntry>, today: Date) -> Result<Self, IgnoreError> {
        let mut list = IgnoreList::default();
        for entry in entries {
            if let Some(raw) = &entry.expires {
                let date: Date = raw.parse().map_err(|source| IgnoreError::Date {
                    id: entry.id.clone(),
                    source,
                })?;
                if date <= today {
                    list.expired.push((entry, date));
                    continue;
                }
            }
            let compile = |patterns: &[String]| -> Result<Vec<GlobMatcher>, IgnoreError> {
                patterns
                    .iter()
                    .map(|p| {
                        Glob::new(p).map(|g| g.compile_matcher()).map_err(|source| {
                            IgnoreError::Glob {
                                id: entry.id.clone(),
                                pattern: p.clone(),
                                source,
                            }
                        })
                    })
                    .collect()
            };
            let paths = compile(&entry.paths)?;
            let resources = compile(&entry.resources)?;
            list.active.push(Compiled {
                entry,
                paths,
                resources,
            });
        }
        Ok(list)
    }

    /// Entries that expired, with their date, so the CLI can warn about them.
    pub fn expired(&self) -> &[(IgnoreEntry, Date)] {
        &self.expired
    }

    /// The first active entry matching the finding. `rule_name` lets entries
    /// name rules by their kebab-case name.
    pub fn matching(&self, finding: &Finding) -> Option<&IgnoreEntry> {
        self.matching_named(finding, None)
    }

    pub fn matching_named(
        &self,
        finding: &Finding,
        rule_name: Option<&str>,
    ) -> Option<&IgnoreEntry> {
        let resource = finding.resource.as_ref().map(ToString::to_string);
        self.active
            .iter()
            .find(|c| {
                let id = c.entry.id.as_str();
                let rule_ok = id == "*"
                    || id.eq_ignore_ascii_case(&finding.code)
                    || rule_name.is_some_and(|n| n == id);
                let path_ok = c.paths.is_empty()
                    || c.paths
                        .iter()
                        .any(|g| g.is_match(finding.location.path.as_ref()));
                let res_ok = c.resources.is_empty()
                    || resource
                        .as_deref()
                        .is_some_and(|r| c.resources.iter().any(|g| g.is_match(r)));
                rule_ok && path_ok && res_ok
            })
            .map(|c| &c.entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Location, ResourceRef, Severity, Span};

    fn entry(id: &str, paths: &[&str], resources: &[&str], expires: Option<&str>) -> IgnoreEntry {
        IgnoreEntry {
            id: id.into(),
            paths: paths.iter().map(|s| s.to_string()).collect(),
            resources: resources.iter().map(|s| s.to_string()).collect(),
            reason: Some("accepted".into()),
            expires: expires.map(Into::into),
        }
    }

    fn finding() -> Finding {
        Finding::new(
            "K8S001",
            Severity::High,
            "m".into(),
            Location::new("deploy/web.yaml".into(), Some(Span::point(3, 1))),
        )
        .with_resource(Some(ResourceRef::new(
            "Deployment",
            Some("shop".into()),
            Some("web".into()),
        )))
    }

    #[test]
    fn matches_code_path_and_resource() {
        let today: Date = "2026-01-01".parse().unwrap();
        let list = IgnoreList::new(
            vec![
                entry("K8S002", &[], &[], None),
                entry("K8S001", &["other/**"], &[], None),
                entry(
                    "k8s001",
                    &["deploy/**"],
                    &["Deployment/shop/*"],
                    Some("2027-01-01"),
                ),
            ],
            today,
        )
        .unwrap();
        let m = list.matching(&finding()).unwrap();
        assert_eq!(m.paths, vec!["deploy/**"]);
    }

    #[test]
    fn expired_entries_do_not_apply() {
        let today: Date = "2026-01-01".parse().unwrap();
        let list = IgnoreList::new(vec![entry("*", &[], &[], Some("2026-01-01"))], today).unwrap();
        assert!(list.matching(&finding()).is_none());
        assert_eq!(list.expired().len(), 1);
    }

    #[test]
    fn bad_glob_and_date_are_errors() {
        let today: Date = "2026-01-01".parse().unwrap();
        assert!(IgnoreList::new(vec![entry("*", &["a/[b"], &[], None)], today).is_err());
        assert!(IgnoreList::new(vec![entry("*", &[], &[], Some("soon"))], today).is_err());
    }
}
