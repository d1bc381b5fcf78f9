//! OSV range semantics, the one matching primitive: does an affected entry
//! cover an installed version? And, over an advisory source, which
//! vulnerabilities (aliases merged) does a component have?

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};

use palisade_core::Severity;
use palisade_sca::Component;

use crate::advisory::{Advisory, Affected, Event, RangeKind, package_key};
use crate::cvss::{self, Rated};
use crate::version::{Scheme, Version};

/// The answer for one affected entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Affected; the fixed versions above the installed one, if any.
    Affected {
        fixed: Vec<String>,
    },
    NotAffected,
    /// The data cannot decide: a version that does not parse, an
    /// ecosystem without a known order, only GIT ranges.
    Undecided(String),
}

/// The scheme a range is evaluated with.
fn range_scheme(kind: RangeKind, ecosystem: &str) -> Option<Scheme> {
    let eco = Scheme::for_osv_ecosystem(ecosystem);
    match kind {
        RangeKind::Ecosystem => eco,
        RangeKind::Semver if eco == Some(Scheme::Go) => Some(Scheme::Go),
        RangeKind::Semver => Some(Scheme::SemVer),
    }
}

/// An affected entry with its versions parsed, built on first use and kept
/// with the entry: one advisory is evaluated against every installed
/// version of its package, and parsing its versions each time, not
/// comparing them, was most of the matching cost.
#[derive(Default)]
pub struct Prepared(OnceLock<Parsed>);

struct Parsed {
    /// The entry's package key ([`package_key`]).
    key: (String, String),
    /// Listed versions that parse in the ecosystem's scheme, sorted, so
    /// "is listed" is a binary search (equality is the order's).
    versions: Vec<Version>,
    /// Per range, in order.
    ranges: Vec<ParsedRange>,
}

struct ParsedRange {
    /// `None`: the ecosystem has no known order.
    scheme: Option<Scheme>,
    /// Events sorted by version (`None` is `introduced: "0"`; the index is
    /// the event's in the range), or why they cannot be.
    events: Result<Vec<(Option<Version>, usize)>, String>,
}

impl Prepared {
    fn get(&self, affected: &Affected) -> &Parsed {
        self.0.get_or_init(|| Parsed::new(affected))
    }
}

impl Parsed {
    fn new(affected: &Affected) -> Parsed {
        let mut versions: Vec<Version> = match Scheme::for_osv_ecosystem(&affected.ecosystem) {
            Some(s) => affected
                .versions
                .iter()
                .filter_map(|v| s.parse(v).ok())
                .collect(),
            None => Vec::new(),
        };
        versions.sort();
        let ranges = affected
            .ranges
            .iter()
            .map(|r| {
                let scheme = range_scheme(r.kind, &affected.ecosystem);
                let events = match scheme {
                    Some(scheme) => sort_events(&r.events, scheme),
                    None => Err(format!(
                        "no version ordering for ecosystem `{}`",
                        affected.ecosystem
                    )),
                };
                ParsedRange { scheme, events }
            })
            .collect();
        Parsed {
            key: package_key(&affected.ecosystem, &affected.name),
            versions,
            ranges,
        }
    }
}

// A cache, not data: two entries are equal whatever has been parsed.
impl PartialEq for Prepared {
    fn eq(&self, _: &Prepared) -> bool {
        true
    }
}

impl Eq for Prepared {}

impl Clone for Prepared {
    fn clone(&self) -> Prepared {
        Prepared::default()
    }
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Prepared")
    }
}

/// Parses a range's events and sorts them by version (`introduced: "0"`
/// first; stable for equal versions), as OSV's algorithm walks them.
fn sort_events(events: &[Event], scheme: Scheme) -> Result<Vec<(Option<Version>, usize)>, String> {
    let mut parsed = Vec::with_capacity(events.len());
    for (i, e) in events.iter().enumerate() {
        let ver = e.version();
        if matches!(e, Event::Introduced(_)) && ver == "0" {
            parsed.push((None, i));
            continue;
        }
        match scheme.parse(ver) {
            Ok(p) => parsed.push((Some(p), i)),
            Err(err) => return Err(format!("event version: {err}")),
        }
    }
    // `None` sorts before every version.
    parsed.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(parsed)
}

/// Evaluates one range with OSV's algorithm: events walked in version
/// order; `limit` events cap the range. Returns whether `v` is affected
/// and the range's fixed version above `v`.
fn walk(
    sorted: &[(Option<Version>, usize)],
    events: &[Event],
    v: &Version,
) -> (bool, Option<String>) {
    let sorted = || {
        sorted
            .iter()
            .filter_map(|(p, i)| events.get(*i).map(|e| (p.as_ref(), e)))
    };
    let mut limits = sorted()
        .filter(|(_, e)| matches!(e, Event::Limit(_)))
        .filter_map(|(p, _)| p)
        .peekable();
    if limits.peek().is_some() && limits.all(|l| v >= l) {
        return (false, None);
    }
    let mut affected = false;
    for (p, e) in sorted() {
        match (e, p) {
            (Event::Introduced(_), None) => affected = true,
            (Event::Introduced(_), Some(x)) if v >= x => affected = true,
            (Event::IntroducedAfter(_), Some(x)) if v > x => affected = true,
            (Event::Fixed(_), Some(x)) if v >= x => affected = false,
            (Event::LastAffected(_), Some(x)) if v > x => affected = false,
            _ => {}
        }
    }
    let fixed = if affected {
        sorted()
            .find(|(p, e)| matches!(e, Event::Fixed(_)) && p.is_some_and(|x| x > v))
            .map(|(_, e)| e.version().to_owned())
    } else {
        None
    };
    (affected, fixed)
}

/// Whether `installed` is covered by `affected`.
pub fn evaluate(affected: &Affected, installed: &str) -> Verdict {
    let parsed = affected.prepared.get(affected);
    let mut fixed: Vec<String> = Vec::new();
    let mut hit = affected.versions.iter().any(|v| v == installed);
    if !hit
        && !parsed.versions.is_empty()
        && let Some(s) = Scheme::for_osv_ecosystem(&affected.ecosystem)
        && let Ok(iv) = s.parse(installed)
    {
        hit = parsed.versions.binary_search(&iv).is_ok();
    }
    let mut undecided: Vec<String> = Vec::new();
    // Ranges of an entry nearly always share one scheme: parse once.
    let mut installed_as: Option<(Scheme, Result<Version, String>)> = None;
    for (r, range) in affected.ranges.iter().zip(&parsed.ranges) {
        let Some(scheme) = range.scheme else {
            undecided.extend(range.events.as_ref().err().cloned());
            continue;
        };
        let iv = match &installed_as {
            Some((s, iv)) if *s == scheme => iv,
            _ => {
                &installed_as
                    .insert((scheme, scheme.parse(installed).map_err(|e| e.to_string())))
                    .1
            }
        };
        let (iv, sorted) = match (iv, &range.events) {
            (Ok(iv), Ok(sorted)) => (iv, sorted),
            (Err(e), _) | (_, Err(e)) => {
                undecided.push(e.clone());
                continue;
            }
        };
        if let (true, f) = walk(sorted, &r.events, iv) {
            hit = true;
            fixed.extend(f);
        }
    }
    if hit {
        fixed.sort();
        fixed.dedup();
        return Verdict::Affected { fixed };
    }
    if !undecided.is_empty() {
        undecided.dedup();
        return Verdict::Undecided(undecided.join("; "));
    }
    if affected.ranges.is_empty() && affected.versions.is_empty() {
        let why = if affected.skipped.is_empty() {
            "no ranges and no versions".to_owned()
        } else {
            affected.skipped.join("; ")
        };
        return Verdict::Undecided(why);
    }
    Verdict::NotAffected
}

/// Looks advisories up by package.
pub trait AdvisorySource {
    /// Advisories with an affected entry for `(ecosystem, name)` (keys as
    /// [`package_key`] makes them).
    fn lookup(&self, ecosystem: &str, name: &str) -> Result<Vec<Advisory>, crate::Error>;
}

/// The package coordinates a component is matched by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coordinates {
    pub ecosystem: String,
    pub name: String,
    pub version: String,
}

/// OSV coordinates of a component: language packages by their OSV name;
/// Debian, Ubuntu and Alpine packages by their source package (the
/// advisories name source packages) and its version; `None` when the
/// ecosystem or distro release is unknown.
pub fn coordinates(c: &Component) -> Option<Coordinates> {
    let ecosystem = c.osv_ecosystem()?;
    if ecosystem.ends_with(':') || ecosystem.ends_with(":v") {
        return None;
    }
    let (name, version) = match &c.source {
        Some(src) if c.ecosystem.is_os() && !src.name.is_empty() => {
            let v = if src.version.is_empty() {
                c.version.clone()
            } else {
                src.version.clone()
            };
            (src.name.clone(), v)
        }
        _ => (c.osv_name(), c.version.clone()),
    };
    Some(Coordinates {
        ecosystem,
        name,
        version,
    })
}

/// One vulnerability of a component: advisories that share an id or alias,
/// merged.
#[derive(Debug, Clone)]
pub struct Vulnerability {
    /// The id shown: a CVE when one is known, else a GHSA, else the
    /// smallest id.
    pub id: String,
    /// Every id and alias, sorted, without `id`.
    pub aliases: Vec<String>,
    /// The advisories' related ids (different vulnerabilities, e.g. the
    /// CVEs a DSA fixes), sorted, without `id` and `aliases`. Not used to
    /// merge, nor by VEX.
    pub related: Vec<String>,
    /// Shared with the lookup cache: one advisory often matches many
    /// components (and many versions of one package).
    pub advisories: Vec<Arc<Advisory>>,
    pub fixed: Vec<String>,
    pub rated: Rated,
    pub malicious: bool,
}

/// A component's matches.
#[derive(Debug, Clone, Default)]
pub struct ComponentMatches {
    pub vulnerabilities: Vec<Vulnerability>,
    /// Advisories for the package that could not be decided, with why.
    pub undecided: Vec<(String, String)>,
    /// Withdrawn advisories that would otherwise have been considered.
    pub withdrawn: u64,
}

/// Matches one component's coordinates against a source.
pub fn match_coordinates(
    db: &dyn AdvisorySource,
    coords: &Coordinates,
) -> Result<ComponentMatches, crate::Error> {
    let key = package_key(&coords.ecosystem, &coords.name);
    let found: Vec<Arc<Advisory>> = db
        .lookup(&key.0, &key.1)?
        .into_iter()
        .map(Arc::new)
        .collect();
    Ok(match_advisories(&found, coords))
}

/// Matches coordinates against the advisories already looked up for its
/// package (callers cache lookups: many versions of one package, e.g. Go's
/// `stdlib` in every Go binary, share them).
pub fn match_advisories(advisories: &[Arc<Advisory>], coords: &Coordinates) -> ComponentMatches {
    let key = package_key(&coords.ecosystem, &coords.name);
    let mut out = ComponentMatches::default();
    let mut hits: Vec<(Arc<Advisory>, Vec<String>, Rated)> = Vec::new();
    for adv in advisories {
        if adv.withdrawn.is_some() {
            out.withdrawn += 1;
            continue;
        }
        let mut fixed = Vec::new();
        let mut affected_entry: Option<&Affected> = None;
        let mut undecided: Option<String> = None;
        for a in &adv.affected {
            if a.prepared.get(a).key != key {
                continue;
            }
            match evaluate(a, &coords.version) {
                Verdict::Affected { fixed: f } => {
                    fixed.extend(f);
                    affected_entry.get_or_insert(a);
                }
                Verdict::NotAffected => {}
                Verdict::Undecided(why) => undecided = Some(why),
            }
        }
        match affected_entry {
            Some(a) => {
                let rated = cvss::rate(adv, Some(a));
                hits.push((Arc::clone(adv), fixed, rated));
            }
            None => {
                if let Some(why) = undecided {
                    out.undecided.push((adv.id.clone(), why));
                }
            }
        }
    }
    out.vulnerabilities = merge_aliases(hits);
    out
}

/// Groups advisories that share an id or alias (union-find over ids;
/// `related` ids are deliberately not followed: they name different
/// vulnerabilities).
fn merge_aliases(hits: Vec<(Arc<Advisory>, Vec<String>, Rated)>) -> Vec<Vulnerability> {
    let n = hits.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(p: &mut [usize], mut i: usize) -> usize {
        while let Some(&q) = p.get(i) {
            if q == i {
                break;
            }
            let up = p.get(q).copied().unwrap_or(q);
            if let Some(slot) = p.get_mut(i) {
                *slot = up;
            }
            i = q;
        }
        i
    }
    let mut owner: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, (adv, _, _)) in hits.iter().enumerate() {
        for id in adv.ids() {
            match owner.get(id) {
                Some(&j) => {
                    let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                    if a != b
                        && let Some(slot) = parent.get_mut(a)
                    {
                        *slot = b;
                    }
                }
                None => {
                    owner.insert(id, i);
                }
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..n {
        let root = find(&mut parent, i);
        groups.entry(root).or_default().push(i);
    }
    let mut out: Vec<Vulnerability> = groups
        .into_values()
        .map(|members| {
            let mut ids: BTreeSet<String> = BTreeSet::new();
            let mut related: BTreeSet<String> = BTreeSet::new();
            let mut fixed: BTreeSet<String> = BTreeSet::new();
            let mut advisories = Vec::new();
            let mut best: Option<Rated> = None;
            for i in members {
                if let Some((adv, f, rated)) = hits.get(i) {
                    ids.extend(adv.ids().map(str::to_owned));
                    related.extend(adv.related.iter().cloned());
                    fixed.extend(f.iter().cloned());
                    best = Some(match best {
                        None => rated.clone(),
                        Some(b) => better(b, rated.clone()),
                    });
                    advisories.push(adv.clone());
                }
            }
            advisories.sort_by(|a, b| (&a.id, &a.source).cmp(&(&b.id, &b.source)));
            let id = primary_id(&ids);
            related.retain(|r| !ids.contains(r));
            ids.remove(&id);
            let malicious = advisories.iter().any(|a| a.is_malicious());
            Vulnerability {
                id,
                aliases: ids.into_iter().collect(),
                related: related.into_iter().collect(),
                advisories,
                fixed: fixed.into_iter().collect(),
                rated: best.unwrap_or(Rated {
                    severity: cvss::UNKNOWN_SEVERITY,
                    score: None,
                    unknown: true,
                }),
                malicious,
            }
        })
        .collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// Prefers a known rating over an unknown one, then the higher severity.
fn better(a: Rated, b: Rated) -> Rated {
    match (a.unknown, b.unknown) {
        (true, false) => b,
        (false, true) => a,
        _ => {
            if b.severity > a.severity
                || (b.severity == a.severity
                    && b.score.as_ref().map(|s| s.value) > a.score.as_ref().map(|s| s.value))
            {
                b
            } else {
                a
            }
        }
    }
}

fn primary_id(ids: &BTreeSet<String>) -> String {
    ids.iter()
        .find(|i| i.starts_with("MAL-"))
        .or_else(|| ids.iter().find(|i| i.starts_with("CVE-")))
        .or_else(|| ids.iter().find(|i| i.starts_with("GHSA-")))
        .or_else(|| ids.iter().next())
        .cloned()
        .unwrap_or_default()
}

/// The severity a vulnerability is reported at.
pub fn severity(v: &Vulnerability) -> Severity {
    if v.malicious {
        Severity::Critical
    } else {
        v.rated.severity
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advisory::Range;

    fn aff(eco: &str, ranges: Vec<Vec<Event>>, versions: &[&str]) -> Affected {
        Affected {
            ecosystem: eco.into(),
            name: "p".into(),
            ranges: ranges
                .into_iter()
                .map(|events| Range {
                    kind: RangeKind::Ecosystem,
                    events,
                })
                .collect(),
            versions: versions.iter().map(|s| (*s).to_owned()).collect(),
            severity: vec![],
            skipped: vec![],
            prepared: Default::default(),
        }
    }

    fn i(v: &str) -> Event {
        Event::Introduced(v.into())
    }
    fn f(v: &str) -> Event {
        Event::Fixed(v.into())
    }
    fn la(v: &str) -> Event {
        Event::LastAffected(v.into())
    }

    fn affected(a: &Affected, v: &str) -> bool {
        matches!(evaluate(a, v), Verdict::Affected { .. })
    }

    #[test]
    fn introduced_fixed() {
        let a = aff("PyPI", vec![vec![i("0"), f("2.20.0")]], &[]);
        assert!(affected(&a, "2.19.0"));
        assert!(affected(&a, "0.1"));
        assert!(!affected(&a, "2.20.0"));
        assert!(!affected(&a, "2.20.1"));
        assert!(
            affected(&a, "2.20.0rc1"),
            "a pre-release of the fix is before it"
        );
        assert_eq!(
            evaluate(&a, "2.19.0"),
            Verdict::Affected {
                fixed: vec!["2.20.0".into()]
            }
        );
    }

    #[test]
    fn several_intervals_in_one_range_unsorted() {
        // Events given out of order: OSV sorts them first.
        let a = aff(
            "crates.io",
            vec![vec![f("0.6.10"), i("0.6.3"), i("1.0.0"), f("1.0.1")]],
            &[],
        );
        assert!(!affected(&a, "0.6.2"));
        assert!(affected(&a, "0.6.9"));
        assert!(!affected(&a, "0.6.10"));
        assert!(!affected(&a, "0.9.0"));
        assert!(affected(&a, "1.0.0"));
        assert!(!affected(&a, "1.0.1"));
    }

    #[test]
    fn last_affected_and_limit() {
        let a = aff("npm", vec![vec![i("1.0.0"), la("1.4.2")]], &[]);
        assert!(affected(&a, "1.4.2"));
        assert!(!affected(&a, "1.4.3"));
        assert!(!affected(&a, "0.9.0"));
        let b = aff("npm", vec![vec![i("0"), Event::Limit("2.0.0".into())]], &[]);
        assert!(affected(&b, "1.9.9"));
        assert!(!affected(&b, "2.0.0"));
        let c = aff(
            "npm",
            vec![vec![Event::IntroducedAfter("2.51.0".into()), la("2.67.0")]],
            &[],
        );
        assert!(!affected(&c, "2.51.0"));
        assert!(affected(&c, "2.51.1"));
        assert!(affected(&c, "2.67.0"));
        assert!(!affected(&c, "2.67.1"));
    }

    #[test]
    fn multiple_ranges_and_versions() {
        let a = aff(
            "PyPI",
            vec![vec![i("0"), f("1.0")], vec![i("2.0"), f("2.1")]],
            &["5.0"],
        );
        assert!(affected(&a, "0.5"));
        assert!(!affected(&a, "1.5"));
        assert!(affected(&a, "2.0.1"));
        assert!(affected(&a, "5.0"));
        assert!(
            affected(&a, "5.0.0"),
            "versions match by the ecosystem's equality"
        );
        assert!(!affected(&a, "5.1"));
    }

    #[test]
    fn parsed_form_is_a_cache_not_data() {
        let a = aff(
            "PyPI",
            vec![vec![i("0"), f("1.0")], vec![i("2.0"), f("2.1")]],
            &["5.0", "not a version", "3.0"],
        );
        let fresh = a.clone();
        assert!(affected(&a, "3.0.0"));
        assert_eq!(a, fresh, "an evaluated entry equals an unevaluated one");
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(&fresh).unwrap()
        );
        // Answers from the kept parsed form match those of a fresh entry,
        // in any order of evaluation.
        for v in ["5.0.0", "4.0", "0.5", "2.0.1", "2.1", "not a version", "5"] {
            assert_eq!(evaluate(&a, v), evaluate(&a.clone(), v), "{v}");
        }
        assert!(affected(&a, "5"), "5 == 5.0 in PEP 440");
        assert!(!affected(&a, "4.0"));
    }

    #[test]
    fn debian_epochs_and_tilde() {
        let a = aff("Debian:12", vec![vec![i("0"), f("1:2.3-1")]], &[]);
        assert!(affected(&a, "2.9-1"), "no epoch = epoch 0 < 1");
        assert!(affected(&a, "1:2.3~rc1-1"));
        assert!(!affected(&a, "1:2.3-1"));
    }

    #[test]
    fn undecidable_is_never_silent() {
        let a = aff("PyPI", vec![vec![i("0"), f("2.0")]], &[]);
        assert!(matches!(
            evaluate(&a, "not a version!"),
            Verdict::Undecided(_)
        ));
        let b = aff("PyPI", vec![vec![i("0"), f("not a version!")]], &[]);
        assert!(matches!(evaluate(&b, "1.0"), Verdict::Undecided(_)));
        let mut git_only = aff("PyPI", vec![], &[]);
        git_only.skipped.push("GIT range".into());
        assert!(matches!(evaluate(&git_only, "1.0"), Verdict::Undecided(_)));
        let unknown = aff("Hackage", vec![vec![i("0"), f("1.0")]], &[]);
        assert!(matches!(evaluate(&unknown, "0.5"), Verdict::Undecided(_)));
        // ...but an unordered ecosystem's explicit versions still match.
        let listed = aff("Hackage", vec![], &["0.5"]);
        assert!(affected(&listed, "0.5"));
    }

    #[test]
    fn go_semver_ranges_take_v_prefixes_and_pseudo_versions() {
        let mut a = aff(
            "Go",
            vec![vec![i("0"), f("0.0.0-20200220183623-bac4c82f6975")]],
            &[],
        );
        a.ranges[0].kind = RangeKind::Semver;
        assert!(affected(&a, "v0.0.0-20191011191535-87dc89f01550"));
        assert!(!affected(&a, "v0.0.0-20210220000000-aaaaaaaaaaaa"));
        assert!(!affected(&a, "v0.1.0"));
        let mut b = aff("Go", vec![vec![i("0"), f("2.0.1")]], &[]);
        b.ranges[0].kind = RangeKind::Semver;
        assert!(affected(&b, "v2.0.0+incompatible"));
    }
}
