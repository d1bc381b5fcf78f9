//! Components in, findings out: matches every component of an SBOM
//! against an advisory source and builds the [`Report`] the reporters
//! print, with one finding per (vulnerability, component, location).
//! Nothing is silently skipped: components that cannot be matched and
//! advisories that cannot be decided are counted, and an SBOM of which no
//! component could be matched is an input error, not "no vulnerabilities".

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use palisade_core::report::InputErrorKind;
use palisade_core::{
    Finding, Framework, InputError, Location, Reference, Report, ResourceRef, RuleMeta, Scanner,
    Severity, SuppressionKind,
};
use palisade_sca::{Component, Sbom};
use rayon::prelude::*;
use serde::Serialize;

use crate::Advisory;
use crate::error::Result;
use crate::matcher::{self, AdvisorySource, Coordinates, Vulnerability, coordinates};
use crate::vex::Vex;

/// Code of the informational finding for an advisory the data cannot
/// decide for a component.
pub const UNDECIDED_CODE: &str = "VULN-UNDECIDED";

/// Options of a vulnerability scan.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Drop vulnerabilities without a fixed version.
    pub ignore_unfixed: bool,
}

/// Counters of a vulnerability scan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub components: u64,
    /// Components looked up in the database.
    pub matched: u64,
    /// Components without a purl (read from SBOMs that lack them).
    pub without_purl: u64,
    /// Components whose ecosystem (or distro release) has no OSV name,
    /// by ecosystem label.
    pub unsupported: BTreeMap<String, u64>,
    /// Components with at least one vulnerability.
    pub vulnerable: u64,
    /// Vulnerabilities (aliases merged) over all components.
    pub vulnerabilities: u64,
    /// Vulnerabilities dropped by `--ignore-unfixed`.
    pub unfixed_ignored: u64,
    /// Advisories that could not be decided for a component.
    pub undecided: u64,
    /// Withdrawn advisories passed over.
    pub withdrawn: u64,
}

/// A matched component with its vulnerabilities (for the CycloneDX VEX
/// writer).
#[derive(Debug, Clone)]
pub struct Matched {
    pub component: Component,
    pub coordinates: Coordinates,
    pub vulnerabilities: Vec<Vulnerability>,
    /// Per vulnerability (same order): the VEX suppression, if any.
    pub vex: Vec<Option<String>>,
}

/// Everything a vulnerability scan produced.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub report: Report,
    pub stats: Stats,
    pub matched: Vec<Matched>,
}

/// Scans an SBOM. `display` names the SBOM or target for findings
/// without a file location.
///
/// Packages are looked up in SBOM order (one store read per package), then
/// components are matched and their findings built in parallel, then
/// merged back in SBOM order, so the report does not depend on the threads.
pub fn scan(sbom: &Sbom, db: &dyn AdvisorySource, vex: &Vex, options: &Options) -> Result<Outcome> {
    let mut out = Outcome::default();
    out.report.errors.extend(sbom.errors.iter().cloned());
    let mut advisories: HashMap<(String, String), Shared> = HashMap::new();
    let mut work: Vec<(&Component, Coordinates, Shared)> = Vec::new();
    for c in &sbom.components {
        out.stats.components += 1;
        if c.purl.is_none() {
            out.stats.without_purl += 1;
        }
        let Some(coords) = coordinates(c) else {
            *out.stats
                .unsupported
                .entry(c.ecosystem.label().to_owned())
                .or_insert(0) += 1;
            continue;
        };
        out.stats.matched += 1;
        let pkey = crate::advisory::package_key(&coords.ecosystem, &coords.name);
        let found = match advisories.get(&pkey) {
            Some(found) => Arc::clone(found),
            None => {
                let found: Arc<[Arc<Advisory>]> = db
                    .lookup(&pkey.0, &pkey.1)?
                    .into_iter()
                    .map(Arc::new)
                    .collect();
                advisories.insert(pkey, Arc::clone(&found));
                found
            }
        };
        work.push((c, coords, found));
    }
    let results: Vec<Checked> = work
        .into_par_iter()
        .map(|(c, coords, found)| check(sbom, c, coords, &found, vex, options))
        .collect();
    for r in results {
        out.stats.withdrawn += r.withdrawn;
        out.stats.unfixed_ignored += r.unfixed_ignored;
        out.stats.undecided += r.undecided;
        if r.undecided > 0 {
            out.report
                .rules
                .entry(UNDECIDED_CODE.to_owned())
                .or_insert_with(undecided_rule);
        }
        out.report.findings.extend(r.findings);
        let Some(matched) = r.matched else {
            continue;
        };
        out.stats.vulnerable += 1;
        out.stats.vulnerabilities += matched.vulnerabilities.len() as u64;
        for v in &matched.vulnerabilities {
            out.report
                .rules
                .entry(v.id.clone())
                .or_insert_with(|| rule_meta(v, matcher::severity(v)));
        }
        out.matched.push(matched);
    }
    if out.stats.components > 0 && out.stats.matched == 0 {
        out.report.errors.push(InputError::new(
            sbom.target.name.clone(),
            InputErrorKind::Invalid,
            format!(
                "none of the {} components could be matched against advisories ({} without a purl; ecosystems without advisory data: {}): the result is not \"no vulnerabilities\"",
                out.stats.components,
                out.stats.without_purl,
                describe(&out.stats.unsupported)
            ),
        ));
    } else if sbom.components.is_empty() && sbom.errors.is_empty() {
        out.report.errors.push(InputError::new(
            sbom.target.name.clone(),
            InputErrorKind::Invalid,
            "no components found: nothing was checked for vulnerabilities",
        ));
    }
    out.report.stats.objects = out.stats.components;
    out.report.stats.files = 1;
    Ok(out)
}

/// A package's advisories, looked up once and shared by its components.
type Shared = Arc<[Arc<Advisory>]>;

/// One component's part of the scan.
struct Checked {
    findings: Vec<Finding>,
    /// `None` when the component has no (reported) vulnerability.
    matched: Option<Matched>,
    withdrawn: u64,
    unfixed_ignored: u64,
    undecided: u64,
}

fn check(
    sbom: &Sbom,
    c: &Component,
    coords: Coordinates,
    advisories: &[Arc<Advisory>],
    vex: &Vex,
    options: &Options,
) -> Checked {
    let m = matcher::match_advisories(advisories, &coords);
    let mut vulns = m.vulnerabilities;
    let mut checked = Checked {
        findings: Vec::new(),
        matched: None,
        withdrawn: m.withdrawn,
        unfixed_ignored: 0,
        undecided: m.undecided.len() as u64,
    };
    if options.ignore_unfixed {
        let before = vulns.len();
        vulns.retain(|v| !v.fixed.is_empty());
        checked.unfixed_ignored = (before - vulns.len()) as u64;
    }
    let subject = Subject::new(sbom, c, &coords);
    for (id, why) in &m.undecided {
        undecided_findings(&mut checked.findings, &subject, id, why);
    }
    if vulns.is_empty() {
        return checked;
    }
    let mut vex_notes = Vec::with_capacity(vulns.len());
    let target = target_ids(sbom);
    for v in &vulns {
        let mut ids: Vec<&str> = vec![v.id.as_str()];
        ids.extend(v.aliases.iter().map(String::as_str));
        let suppression = vex
            .suppression(&ids, c.purl.as_ref(), &c.bom_ref, &target)
            .map(|s| {
                let status = match s.status {
                    crate::vex::Status::Fixed => "fixed",
                    _ => "not_affected",
                };
                if s.justification.is_empty() {
                    format!("{status} ({})", s.origin)
                } else {
                    format!("{status}: {} ({})", s.justification, s.origin)
                }
            });
        add_findings(&mut checked.findings, &subject, v, suppression.clone());
        vex_notes.push(suppression);
    }
    checked.matched = Some(Matched {
        component: c.clone(),
        coordinates: coords,
        vulnerabilities: vulns,
        vex: vex_notes,
    });
    checked
}

fn describe(m: &BTreeMap<String, u64>) -> String {
    if m.is_empty() {
        return "none".into();
    }
    m.iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn locations(sbom: &Sbom, c: &Component) -> Vec<(String, Option<String>)> {
    let mut out: Vec<(String, Option<String>)> = c
        .locations
        .iter()
        .map(|l| {
            let path = if l.path.is_empty() {
                sbom.target.name.clone()
            } else {
                l.path.clone()
            };
            (
                path,
                l.layer_digest.clone().or_else(|| l.layer_diff_id.clone()),
            )
        })
        .collect();
    if out.is_empty() {
        out.push((sbom.target.name.clone(), None));
    }
    out.sort();
    out.dedup();
    out
}

fn resource(c: &Component, coords: &Coordinates) -> ResourceRef {
    ResourceRef::new(
        "Package",
        Some(coords.ecosystem.clone()),
        Some(format!("{}@{}", c.osv_name(), c.version)),
    )
}

fn identity(c: &Component) -> String {
    c.purl
        .as_ref()
        .map_or_else(|| c.bom_ref.clone(), ToString::to_string)
}

/// What every finding of one component shares, worked out once per
/// component rather than once per vulnerability.
struct Subject {
    /// `NAME VERSION`, as the messages start.
    shown: String,
    /// ` (source package NAME VERSION)` when matched by its source package.
    source: String,
    locations: Vec<(Arc<str>, Option<String>)>,
    resource: ResourceRef,
    identity: String,
}

impl Subject {
    fn new(sbom: &Sbom, c: &Component, coords: &Coordinates) -> Subject {
        let name = c.osv_name();
        let source = if coords.name == name {
            String::new()
        } else {
            format!(" (source package {} {})", coords.name, coords.version)
        };
        Subject {
            shown: format!("{name} {}", c.version),
            source,
            locations: locations(sbom, c)
                .into_iter()
                .map(|(path, layer)| (Arc::from(path), layer))
                .collect(),
            resource: resource(c, coords),
            identity: identity(c),
        }
    }
}

fn add_findings(
    findings: &mut Vec<Finding>,
    subject: &Subject,
    v: &Vulnerability,
    vex: Option<String>,
) {
    let severity = matcher::severity(v);
    let summary = v
        .advisories
        .iter()
        .map(|a| a.summary.as_str())
        .find(|s| !s.is_empty())
        .unwrap_or("");
    let mut message = if v.malicious {
        format!("{} is a malicious package", subject.shown)
    } else {
        format!("{} is vulnerable", subject.shown)
    };
    message.push_str(&subject.source);
    if !summary.is_empty() {
        message.push_str(&format!(": {summary}"));
    }
    if !v.aliases.is_empty() {
        message.push_str(&format!(" [{}]", v.aliases.join(", ")));
    }
    if v.fixed.is_empty() {
        message.push_str("; no fixed version");
    } else {
        message.push_str(&format!("; fixed in {}", v.fixed.join(", ")));
    }
    if v.rated.unknown {
        message.push_str("; severity not rated by the advisory (assumed medium)");
    }
    for (path, layer) in &subject.locations {
        let mut f = Finding::new(
            v.id.clone(),
            severity,
            message.clone(),
            Location::new(Arc::clone(path), None),
        )
        .with_identity(
            Some(subject.resource.clone()),
            layer.clone(),
            Some(subject.identity.clone()),
        );
        if let Some(reason) = &vex {
            f.suppress(SuppressionKind::Vex, Some(reason.clone()));
        }
        findings.push(f);
    }
}

fn rule_meta(v: &Vulnerability, severity: Severity) -> RuleMeta {
    let first = v.advisories.first();
    let title = first
        .map(|a| a.summary.clone())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| v.id.clone());
    let mut refs: Vec<Reference> = Vec::new();
    for a in &v.advisories {
        for u in a.references.iter().take(5) {
            let r = Reference {
                framework: Framework::Url,
                id: Cow::Owned(u.clone()),
            };
            if !refs.contains(&r) {
                refs.push(r);
            }
        }
    }
    if v.id.starts_with("CVE-") {
        refs.insert(
            0,
            Reference {
                framework: Framework::Url,
                id: Cow::Owned(format!("https://nvd.nist.gov/vuln/detail/{}", v.id)),
            },
        );
    }
    let mut doc = format!("## What it does\n\n{title}\n\n");
    if let Some(d) = first.map(|a| a.details.as_str()).filter(|d| !d.is_empty()) {
        doc.push_str(d);
        doc.push_str("\n\n");
    }
    if !v.aliases.is_empty() {
        doc.push_str(&format!("Aliases: {}\n\n", v.aliases.join(", ")));
    }
    if !v.related.is_empty() {
        doc.push_str(&format!("Related: {}\n\n", v.related.join(", ")));
    }
    if let Some(s) = &v.rated.score {
        doc.push_str(&format!(
            "{} base score {:.1} ({})\n\n",
            s.kind, s.value, s.vector
        ));
    }
    let sources: Vec<&str> = v.advisories.iter().map(|a| a.source.as_str()).collect();
    doc.push_str(&format!("Advisory data: {}\n", sources.join(", ")));
    RuleMeta {
        code: Cow::Owned(v.id.clone()),
        name: Cow::Borrowed(if v.malicious {
            "malicious-package"
        } else {
            "vulnerable-package"
        }),
        title: Cow::Owned(title),
        severity,
        scanner: Scanner::Vuln,
        references: Cow::Owned(refs),
        fix: Cow::Borrowed(if v.malicious {
            "Remove the package and rotate any credentials it could reach."
        } else {
            "Upgrade to a fixed version, or record why it does not apply in a VEX document."
        }),
        doc: Cow::Owned(doc),
    }
}

fn undecided_findings(findings: &mut Vec<Finding>, subject: &Subject, id: &str, why: &str) {
    let message = format!(
        "{}: advisory {id} could not be evaluated ({why}); check it by hand",
        subject.shown
    );
    for (path, layer) in &subject.locations {
        let f = Finding::new(
            UNDECIDED_CODE,
            Severity::Info,
            message.clone(),
            Location::new(Arc::clone(path), None),
        )
        .with_identity(
            Some(subject.resource.clone()),
            layer.clone(),
            Some(format!("{}#{id}", subject.identity)),
        );
        findings.push(f);
    }
}

fn undecided_rule() -> RuleMeta {
    RuleMeta {
        code: Cow::Borrowed(UNDECIDED_CODE),
        name: Cow::Borrowed("undecided-advisory"),
        title: Cow::Borrowed("An advisory for this package could not be evaluated"),
        severity: Severity::Info,
        scanner: Scanner::Vuln,
        references: Cow::Borrowed(&[]),
        fix: Cow::Borrowed("Read the advisory and compare the affected versions by hand."),
        doc: Cow::Borrowed(
            "## What it does\n\nReports an advisory that names the package but whose affected versions could not be decided: a version that does not parse in the ecosystem's scheme, an ecosystem without a known version order, or only GIT ranges.",
        ),
    }
}

/// What the scanned artifact is known by, for VEX products naming it.
fn target_ids(sbom: &Sbom) -> crate::vex::TargetIds {
    let t = &sbom.target;
    let mut ids = vec![t.name.clone()];
    ids.extend(t.image_digest.iter().cloned());
    ids.extend(t.image_id.iter().cloned());
    ids.extend(t.repo_tags.iter().cloned());
    // A tag or digest reference carries the digest after `@`.
    let digests: Vec<String> = ids
        .iter()
        .filter_map(|i| i.split_once('@').map(|(_, d)| d.to_owned()))
        .collect();
    ids.extend(digests);
    crate::vex::TargetIds(ids)
}
