//! Converters for the native, non-OSV formats of
//! `../shared/advisories`: nodejs security-wg npm advisories, Alpine secdb
//! (JSON and YAML) and the Debian security tracker's DSA/DLA/DTSA lists.
//! Debian OVAL has its own module ([`super::oval`]).

use serde::Deserialize;
use serde_json::Value;

use super::npm_range;
use crate::advisory::{Advisory, Affected, Event, Range, RangeKind, SeverityScore};

fn base(id: String, source: &str) -> Advisory {
    Advisory {
        id,
        aliases: Vec::new(),
        related: Vec::new(),
        summary: String::new(),
        details: String::new(),
        modified: String::new(),
        published: String::new(),
        withdrawn: None,
        severity: Vec::new(),
        database_severity: None,
        affected: Vec::new(),
        references: Vec::new(),
        source: source.to_owned(),
    }
}

fn fixed_range(fixed: Option<&str>) -> Range {
    let mut events = vec![Event::Introduced("0".into())];
    if let Some(f) = fixed {
        events.push(Event::Fixed(f.to_owned()));
    }
    Range {
        kind: RangeKind::Ecosystem,
        events,
    }
}

/// One nodejs security-wg `vuln/npm/<n>.json` advisory. Its
/// `vulnerable_versions` (an npm range) is the affected set; when absent,
/// the complement of `patched_versions`.
pub fn nodejs(bytes: &[u8], source: &str) -> Result<Advisory, String> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("invalid JSON: {e}"))?;
    let id = match v.get("id") {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => return Err("missing `id`".into()),
    };
    let name = v
        .get("module_name")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .ok_or("missing `module_name`")?;
    let text = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim()
            .to_owned()
    };
    let vulnerable = text("vulnerable_versions");
    let patched = text("patched_versions");
    let set = if !vulnerable.is_empty() {
        let set = npm_range::parse(&vulnerable)
            .map_err(|e| format!("vulnerable_versions `{vulnerable}`: {e}"))?;
        match npm_range::parse(&patched) {
            Ok(p) if !patched.is_empty() => set.closed_by(&p),
            _ => set,
        }
    } else if !patched.is_empty() {
        npm_range::parse(&patched)
            .map_err(|e| format!("patched_versions `{patched}`: {e}"))?
            .complement()
    } else {
        return Err("neither `vulnerable_versions` nor `patched_versions`".into());
    };
    let (ranges, versions) = set.to_osv();
    let mut a = base(format!("NSWG-ECO-{id}"), source);
    let cves = v
        .get("cves")
        .and_then(Value::as_array)
        .map(|c| {
            c.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    // A few advisories list several CVEs: related, not aliases.
    (a.aliases, a.related) = crate::advisory::aliases_or_related(&a.id, cves);
    a.summary = text("title");
    a.details = crate::osv::shorten(&text("overview"));
    a.modified = text("updated_at");
    a.published = text("publish_date");
    let vector = text("cvss_vector");
    if vector.starts_with("CVSS:3") {
        a.severity.push(SeverityScore {
            kind: "CVSS_V3".into(),
            score: vector,
        });
    }
    a.database_severity = v
        .get("cvss_score")
        .and_then(Value::as_f64)
        .map(|s| s.to_string());
    a.references = v
        .get("references")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    a.affected.push(Affected {
        ecosystem: "npm".into(),
        name: name.trim().to_owned(),
        ranges,
        versions,
        severity: Vec::new(),
        skipped: Vec::new(),
        prepared: Default::default(),
    });
    Ok(a)
}

#[derive(Debug, Deserialize)]
struct SecDb {
    distroversion: String,
    /// `packages:` is empty (null) in some files.
    #[serde(default)]
    packages: Option<Vec<SecDbPackage>>,
}

#[derive(Debug, Deserialize)]
struct SecDbPackage {
    pkg: SecDbPkg,
}

#[derive(Debug, Deserialize)]
struct SecDbPkg {
    name: String,
    #[serde(default)]
    secfixes: std::collections::BTreeMap<String, Option<Vec<Option<String>>>>,
}

/// The ids in an Alpine secfixes entry (`"CVE-2023-44441 ZDI-CAN-22093"`,
/// `"CVE-2017-2616 (+ regression fix)"`): tokens that look like ids.
fn secfix_ids(entry: &str) -> Vec<String> {
    entry
        .split_whitespace()
        .filter(|t| {
            t.contains('-')
                && t.starts_with(|c: char| c.is_ascii_uppercase())
                && t.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        .map(str::to_owned)
        .collect()
}

/// An Alpine secdb file (`v3.19/main.json`, or the 2020 YAML form): one
/// advisory per id, per package, fixed in the listed version; `"0"` keys
/// (never affected) are skipped. Returns the advisories and the problems.
pub fn alpine(
    text: &str,
    yaml: bool,
    source: &str,
) -> Result<(Vec<Advisory>, Vec<String>), String> {
    let db: SecDb = if yaml {
        serde_saphyr::from_str(text).map_err(|e| format!("invalid YAML: {e}"))?
    } else {
        serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?
    };
    let release = db.distroversion.trim();
    if release.is_empty() {
        return Err("empty `distroversion`".into());
    }
    let ecosystem = format!("Alpine:{release}");
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for p in db.packages.unwrap_or_default() {
        for (fixed, ids) in p.pkg.secfixes {
            if fixed.trim() == "0" {
                continue;
            }
            if crate::version::Scheme::Apk.parse(fixed.trim()).is_err() {
                problems.push(format!(
                    "{}: fixed version `{fixed}` is not an apk version",
                    p.pkg.name
                ));
                continue;
            }
            for entry in ids.unwrap_or_default().into_iter().flatten() {
                let mut tokens = secfix_ids(&entry);
                let mut seen = std::collections::BTreeSet::new();
                tokens.retain(|t| seen.insert(t.clone()));
                let Some(first) = tokens.first() else {
                    problems.push(format!("{}: no id in `{entry}`", p.pkg.name));
                    continue;
                };
                // One advisory per CVE of the entry (`CVE-2020-11740
                // CVE-2020-11741 XSA-313`), each fixed in this version;
                // the other ids are related, not aliases: an upstream
                // advisory such as XSA-313 covers several CVEs, and
                // aliasing it would merge them.
                let cves: Vec<&String> = tokens.iter().filter(|t| t.starts_with("CVE-")).collect();
                let names: Vec<&String> = if cves.is_empty() { vec![first] } else { cves };
                for name in names {
                    let mut a = base(format!("ALPINE-{name}"), source);
                    a.aliases = vec![name.clone()];
                    a.related = tokens.iter().filter(|t| *t != name).cloned().collect();
                    a.related.sort();
                    a.related.dedup();
                    a.summary = format!("{name} in {} (Alpine {release})", p.pkg.name);
                    a.affected.push(Affected {
                        ecosystem: ecosystem.clone(),
                        name: p.pkg.name.clone(),
                        ranges: vec![fixed_range(Some(fixed.trim()))],
                        versions: Vec::new(),
                        severity: Vec::new(),
                        skipped: Vec::new(),
                        prepared: Default::default(),
                    });
                    a.references
                        .push(format!("https://security.alpinelinux.org/vuln/{name}"));
                    out.push(a);
                }
            }
        }
    }
    Ok((out, problems))
}

/// Debian release codenames and their OSV ecosystem versions.
pub fn debian_release(codename: &str) -> Option<&'static str> {
    Some(match codename {
        "hamm" => "2.0",
        "slink" => "2.1",
        "potato" => "2.2",
        "woody" => "3.0",
        "sarge" => "3.1",
        "etch" => "4",
        "lenny" => "5",
        "squeeze" => "6",
        "wheezy" => "7",
        "jessie" => "8",
        "stretch" => "9",
        "buster" => "10",
        "bullseye" => "11",
        "bookworm" => "12",
        "trixie" => "13",
        "forky" => "14",
        _ => return None,
    })
}

/// Parses a tracker list date: `[29 Mar 2023]` or `[August 26th, 2005]`.
fn list_date(s: &str) -> Option<String> {
    let months = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let words: Vec<String> = s
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .map(|w| w.to_ascii_lowercase())
        .collect();
    let mut day = None;
    let mut month = None;
    let mut year = None;
    for w in &words {
        let digits: String = w.chars().take_while(char::is_ascii_digit).collect();
        if let Some(m) = months.iter().position(|m| w.starts_with(m)) {
            month = Some(m + 1);
        } else if digits.len() == 4 {
            year = digits.parse::<u32>().ok();
        } else if !digits.is_empty() && digits.len() <= 2 {
            day = digits.parse::<u32>().ok();
        }
    }
    Some(format!("{:04}-{:02}-{:02}", year?, month?, day?))
}

/// A streaming reader of the tracker's DSA/DLA/DTSA lists: feed lines,
/// get an advisory each time one is complete.
#[derive(Debug, Default)]
pub struct TrackerList {
    current: Option<Advisory>,
    source: String,
    pub problems: Vec<String>,
    line: usize,
    file: String,
}

impl TrackerList {
    pub fn new(source: &str, file: &str) -> TrackerList {
        TrackerList {
            source: source.to_owned(),
            file: file.to_owned(),
            ..TrackerList::default()
        }
    }

    /// Feeds one line; returns the previous advisory when this line starts
    /// a new one.
    pub fn line(&mut self, line: &str) -> Option<Advisory> {
        self.line += 1;
        let trimmed = line.trim();
        if trimmed.is_empty() {
            return None;
        }
        if line.starts_with('[') {
            let done = self.current.take().map(relate_cves);
            let Some((date, rest)) = line.strip_prefix('[').and_then(|l| l.split_once(']')) else {
                self.problems
                    .push(format!("{}:{}: malformed header", self.file, self.line));
                return done;
            };
            let mut words = rest.split_whitespace();
            let (Some(id), Some(pkg)) = (words.next(), words.next()) else {
                self.problems.push(format!(
                    "{}:{}: header without id and package",
                    self.file, self.line
                ));
                return done;
            };
            let title = rest
                .split_once(" - ")
                .map_or("", |(_, t)| t)
                .trim()
                .to_owned();
            let mut a = base(id.to_owned(), &self.source);
            a.summary = format!("{pkg}: {title}");
            if let Some(d) = list_date(date) {
                a.modified.clone_from(&d);
                a.published = d;
            }
            a.references
                .push(format!("https://security-tracker.debian.org/tracker/{id}"));
            self.current = Some(a);
            return done;
        }
        let a = self.current.as_mut()?;
        if let Some(cves) = trimmed.strip_prefix('{') {
            for c in cves.trim_end_matches('}').split_whitespace() {
                if !a.aliases.iter().any(|x| x == c) {
                    a.aliases.push(c.to_owned());
                }
            }
        } else if let Some(rest) = trimmed.strip_prefix('[') {
            // `[bullseye] - pkg version (urgency)` or `<not-affected>`.
            let Some((release, rest)) = rest.split_once(']') else {
                self.problems.push(format!(
                    "{}:{}: malformed release line",
                    self.file, self.line
                ));
                return None;
            };
            let mut w = rest.split_whitespace();
            let (Some("-"), Some(pkg)) = (w.next(), w.next()) else {
                self.problems.push(format!(
                    "{}:{}: malformed release line",
                    self.file, self.line
                ));
                return None;
            };
            let version = w.next().unwrap_or("");
            let Some(rel) = debian_release(release.trim()) else {
                self.problems.push(format!(
                    "{}:{}: unknown release `{release}`",
                    self.file, self.line
                ));
                return None;
            };
            let fixed = match version {
                "<not-affected>" | "<removed>" | "<ignored>" | "<end-of-life>" => return None,
                "<unfixed>" | "" => None,
                v if v.starts_with('<') => return None,
                v => Some(v),
            };
            if let Some(f) = fixed
                && crate::version::Scheme::Debian.parse(f).is_err()
            {
                self.problems.push(format!(
                    "{}:{}: `{f}` is not a Debian version",
                    self.file, self.line
                ));
                return None;
            }
            a.affected.push(Affected {
                ecosystem: format!("Debian:{rel}"),
                name: pkg.to_owned(),
                ranges: vec![fixed_range(fixed)],
                versions: Vec::new(),
                severity: Vec::new(),
                skipped: Vec::new(),
                prepared: Default::default(),
            });
            if let Some(u) = w
                .next()
                .and_then(|u| u.strip_prefix('('))
                .map(|u| u.trim_end_matches(')'))
            {
                a.database_severity.get_or_insert_with(|| u.to_owned());
            }
        }
        None
    }

    /// The last advisory.
    pub fn finish(&mut self) -> Option<Advisory> {
        self.current.take().map(relate_cves)
    }
}

/// A DSA/DLA lists the CVEs it fixes (`{CVE-… CVE-…}`), collected as
/// aliases while reading: several CVEs are related, not aliases.
fn relate_cves(mut a: Advisory) -> Advisory {
    let ids = std::mem::take(&mut a.aliases);
    (a.aliases, a.related) = crate::advisory::aliases_or_related(&a.id, ids);
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::{Verdict, evaluate};

    #[test]
    fn nodejs_advisory() {
        let j = br#"{"id": 1, "module_name": "bassmaster", "cves": ["CVE-2014-7205"],
          "vulnerable_versions": "<=1.5.1", "patched_versions": ">=1.5.2", "title": "Arbitrary JavaScript Execution",
          "updated_at": "2016-04-28", "references": ["https://x"],
          "cvss_vector": "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:N", "cvss_score": 6.5}"#;
        let a = nodejs(j, "nswg").unwrap();
        assert_eq!(a.id, "NSWG-ECO-1");
        assert_eq!(a.aliases, ["CVE-2014-7205"]);
        let af = &a.affected[0];
        // `<=1.5.1` patched by `>=1.5.2`: the fix is named.
        assert_eq!(
            evaluate(af, "1.5.1"),
            Verdict::Affected {
                fixed: vec!["1.5.2".into()]
            }
        );
        assert_eq!(evaluate(af, "1.5.2"), Verdict::NotAffected);
        // A fix above the next vulnerable interval closes nothing.
        let gap = nodejs(
            br#"{"id": 9, "module_name": "g", "vulnerable_versions": "<=1.0.0 || >=1.2.0 <=1.3.0", "patched_versions": ">=1.4.0"}"#,
            "nswg",
        )
        .unwrap();
        let g = &gap.affected[0];
        assert_eq!(evaluate(g, "1.0.0"), Verdict::Affected { fixed: vec![] });
        assert_eq!(evaluate(g, "1.1.0"), Verdict::NotAffected);
        assert_eq!(
            evaluate(g, "1.3.0"),
            Verdict::Affected {
                fixed: vec!["1.4.0".into()]
            }
        );
        let two = nodejs(
            br#"{"id": 4, "module_name": "x", "cves": ["CVE-2017-1", "CVE-2017-2"], "vulnerable_versions": "<1.0.0"}"#,
            "n",
        )
        .unwrap();
        assert!(two.aliases.is_empty());
        assert_eq!(two.related, ["CVE-2017-1", "CVE-2017-2"]);
        assert!(nodejs(br#"{"id": 2, "module_name": "x"}"#, "n").is_err());
        assert!(
            nodejs(
                br#"{"id": 3, "module_name": "x", "vulnerable_versions": "what?"}"#,
                "n"
            )
            .is_err()
        );
    }

    #[test]
    fn alpine_secdb() {
        let j = r#"{"distroversion": "v3.19", "reponame": "main", "packages": [
          {"pkg": {"name": "xen", "secfixes": {"4.13.0-r3": ["CVE-2020-11740 CVE-2020-11741 XSA-313"],
            "4.8.0-r0": ["CVE-2016-9377 XSA-196", "CVE-2016-9378 XSA-196"]}}},
          {"pkg": {"name": "openssl", "secfixes": {"3.1.4-r1": ["CVE-2023-5363"],
            "0": ["CVE-2022-0001"], "3.1.4-r3": ["CVE-2023-5678 TALOS-1"], "bad version!": ["CVE-1"]}}}]}"#;
        let (advs, problems) = alpine(j, false, "alpine").unwrap();
        // An entry naming several CVEs is one advisory per CVE, the
        // others and the upstream advisory (XSA-…) only related: aliasing
        // XSA-196 would merge CVE-2016-9377 and CVE-2016-9378.
        let mut xen: Vec<(&str, &[String], &[String])> = advs
            .iter()
            .filter(|a| a.affected[0].name == "xen")
            .map(|a| (a.id.as_str(), &a.aliases[..], &a.related[..]))
            .collect();
        xen.sort();
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            xen,
            [
                (
                    "ALPINE-CVE-2016-9377",
                    &s(&["CVE-2016-9377"])[..],
                    &s(&["XSA-196"])[..]
                ),
                (
                    "ALPINE-CVE-2016-9378",
                    &s(&["CVE-2016-9378"])[..],
                    &s(&["XSA-196"])[..]
                ),
                (
                    "ALPINE-CVE-2020-11740",
                    &s(&["CVE-2020-11740"])[..],
                    &s(&["CVE-2020-11741", "XSA-313"])[..]
                ),
                (
                    "ALPINE-CVE-2020-11741",
                    &s(&["CVE-2020-11741"])[..],
                    &s(&["CVE-2020-11740", "XSA-313"])[..]
                ),
            ]
        );
        let advs: Vec<Advisory> = advs
            .into_iter()
            .filter(|a| a.affected[0].name != "xen")
            .collect();
        assert_eq!(advs.len(), 2);
        assert_eq!(problems.len(), 1);
        let a = advs
            .iter()
            .find(|a| a.id == "ALPINE-CVE-2023-5678")
            .unwrap();
        assert_eq!(a.aliases, ["CVE-2023-5678"]);
        assert_eq!(a.related, ["TALOS-1"]);
        assert_eq!(a.affected[0].ecosystem, "Alpine:v3.19");
        assert!(matches!(
            evaluate(&a.affected[0], "3.1.4-r2"),
            Verdict::Affected { .. }
        ));
        assert_eq!(evaluate(&a.affected[0], "3.1.4-r3"), Verdict::NotAffected);
    }

    #[test]
    fn tracker_list() {
        let text = "[29 Mar 2023] DSA-5380-1 xorg-server - security update\n\t{CVE-2023-1393}\n\t[bullseye] - xorg-server 2:1.20.11-1+deb11u6\n\t[buster] - xorg-server <not-affected> (vulnerable code not present)\n[August 26th, 2005] DTSA-1-1 kismet - various\n\t{CVE-2005-2626 CVE-2005-2627 }\n\t[etch] - kismet 2005.08.R1-0.1etch1 (high)\n\t[narnia] - x 1.0\n";
        let mut l = TrackerList::new("dsa", "DSA-list");
        let mut out: Vec<Advisory> = text.lines().filter_map(|x| l.line(x)).collect();
        out.extend(l.finish());
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].id, "DSA-5380-1");
        assert_eq!(out[0].aliases, ["CVE-2023-1393"]);
        assert_eq!(out[0].affected.len(), 1);
        assert_eq!(out[0].affected[0].ecosystem, "Debian:11");
        assert_eq!(out[0].modified, "2023-03-29");
        assert_eq!(out[1].modified, "2005-08-26");
        // Several CVEs: different vulnerabilities, related, never aliases.
        assert!(out[1].aliases.is_empty(), "{:?}", out[1].aliases);
        assert_eq!(out[1].related, ["CVE-2005-2626", "CVE-2005-2627"]);
        assert_eq!(out[1].database_severity.as_deref(), Some("high"));
        assert_eq!(l.problems.len(), 1, "{:?}", l.problems);
    }
}
