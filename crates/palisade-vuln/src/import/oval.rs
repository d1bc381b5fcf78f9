//! Debian OVAL definitions (`oval-definitions-<release>.xml[.bz2]`), read
//! as a stream: one advisory per `<definition>`, the release from its
//! platform (`Debian GNU/Linux 12`), the package and fixed version from
//! the criterion Debian's generator writes (`<pkg> DPKG is earlier than
//! <version>`), ids from the title and the CVE references (the CVE of a
//! `CVE-…` definition is an alias; the CVEs a DSA lists are related, see
//! [`crate::advisory::aliases_or_related`]). A definition
//! whose fixed version is `0` never affected the release and is skipped.

use std::io::BufRead;

use quick_xml::Reader;
use quick_xml::events::Event as Xml;

use crate::advisory::{Advisory, Affected, Event, Range, RangeKind};

/// Longest text kept from one element.
const MAX_TEXT: usize = 64 * 1024;

#[derive(Debug, Default)]
struct Def {
    title: String,
    platform: String,
    description: String,
    refs: Vec<(String, String)>,
    fixes: Vec<(String, String)>,
}

/// What the reader found besides advisories.
#[derive(Debug, Default)]
pub struct OvalStats {
    pub problems: Vec<String>,
    pub problem_count: u64,
    pub not_affected: u64,
    pub generated: Option<String>,
}

/// Reads definitions from `input`, calling `emit` for each advisory.
pub fn read(
    input: impl BufRead,
    source: &str,
    file: &str,
    mut emit: impl FnMut(Advisory) -> crate::Result<()>,
) -> crate::Result<OvalStats> {
    let mut reader = Reader::from_reader(input);
    reader.config_mut().trim_text(false);
    let mut buf = Vec::new();
    let mut stats = OvalStats::default();
    let mut def: Option<Def> = None;
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut n = 0u64;
    loop {
        let ev = reader.read_event_into(&mut buf).map_err(|e| {
            crate::Error::input(
                file,
                format!("XML error at byte {}: {e}", reader.buffer_position()),
            )
        })?;
        match ev {
            Xml::Eof => break,
            Xml::Start(e) => {
                let name = on_open(&e, &mut def, &mut n);
                path.push(name);
            }
            Xml::Empty(e) => {
                on_open(&e, &mut def, &mut n);
            }
            Xml::Text(t) if text.len() < MAX_TEXT => {
                text.push_str(&t.decode().map_err(|e| crate::Error::input(file, e))?);
            }
            Xml::GeneralRef(r) => {
                // Entities in text (&amp; …): keep a readable stand-in.
                let name = String::from_utf8_lossy(r.as_ref()).into_owned();
                text.push(match name.as_str() {
                    "amp" => '&',
                    "lt" => '<',
                    "gt" => '>',
                    "quot" => '"',
                    "apos" => '\'',
                    _ => ' ',
                });
            }
            Xml::CData(t) if text.len() < MAX_TEXT => {
                text.push_str(&String::from_utf8_lossy(t.as_ref()));
            }
            Xml::End(e) => {
                let local = e.local_name();
                let name = String::from_utf8_lossy(local.as_ref()).into_owned();
                let t = std::mem::take(&mut text);
                if let Some(d) = def.as_mut() {
                    match name.as_str() {
                        "title" => d.title = t.trim().to_owned(),
                        "platform" => d.platform = t.trim().to_owned(),
                        "description" => d.description = crate::osv::shorten(&t),
                        _ => {}
                    }
                }
                if name == "timestamp" && path.iter().any(|p| p == "generator") {
                    stats.generated = Some(t.trim().to_owned());
                }
                if name == "definition"
                    && let Some(d) = def.take()
                {
                    convert(d, source, file, n, &mut stats, &mut emit)?;
                }
                path.pop();
            }
            _ => {}
        }
        buf.clear();
    }
    Ok(stats)
}

/// Handles an opening (or empty) element; returns its local name.
fn on_open(e: &quick_xml::events::BytesStart<'_>, def: &mut Option<Def>, n: &mut u64) -> String {
    let local = e.local_name();
    let name = String::from_utf8_lossy(local.as_ref()).into_owned();
    match name.as_str() {
        "definition" => {
            *n += 1;
            *def = Some(Def::default());
        }
        "reference" => {
            if let Some(d) = def.as_mut() {
                let mut source_attr = String::new();
                let mut id = String::new();
                for a in e.attributes().flatten() {
                    let v = String::from_utf8_lossy(&a.value).into_owned();
                    match a.key.local_name().as_ref() {
                        b"source" => source_attr = v,
                        b"ref_id" => id = v,
                        _ => {}
                    }
                }
                d.refs.push((source_attr, id));
            }
        }
        "criterion" => {
            if let Some(d) = def.as_mut() {
                for a in e.attributes().flatten() {
                    if a.key.local_name().as_ref() == b"comment" {
                        let c = String::from_utf8_lossy(&a.value).into_owned();
                        if let Some((pkg, ver)) = c.split_once(" DPKG is earlier than ") {
                            d.fixes.push((pkg.trim().to_owned(), ver.trim().to_owned()));
                        }
                    }
                }
            }
        }
        _ => {}
    }
    name
}

fn problem(stats: &mut OvalStats, msg: String) {
    stats.problem_count += 1;
    if stats.problems.len() < crate::store::MAX_PROBLEMS {
        stats.problems.push(msg);
    }
}

fn convert(
    d: Def,
    source: &str,
    file: &str,
    n: u64,
    stats: &mut OvalStats,
    emit: &mut impl FnMut(Advisory) -> crate::Result<()>,
) -> crate::Result<()> {
    let Some(release) = d
        .platform
        .strip_prefix("Debian GNU/Linux ")
        .map(str::trim)
        .filter(|r| r.bytes().all(|b| b.is_ascii_digit()) && !r.is_empty())
    else {
        problem(
            stats,
            format!(
                "{file}: definition {n}: platform `{}` is not a Debian release",
                d.platform
            ),
        );
        return Ok(());
    };
    let first = d.title.split_whitespace().next().unwrap_or("");
    if first.is_empty() {
        problem(stats, format!("{file}: definition {n}: no title"));
        return Ok(());
    }
    let id = if first.starts_with("CVE-") {
        format!("DEBIAN-{first}")
    } else {
        first.to_owned()
    };
    // A `DEBIAN-CVE-…` definition references its CVE (an alias); a DSA
    // definition references every CVE it fixes, which are different
    // vulnerabilities (related), or it would chain them into one.
    let (aliases, related) =
        crate::advisory::aliases_or_related(&id, d.refs.into_iter().map(|(_, r)| r).collect());
    let mut affected = Vec::new();
    for (pkg, ver) in d.fixes {
        let ver = ver.strip_prefix("0:").unwrap_or(&ver).to_owned();
        if ver == "0" {
            stats.not_affected += 1;
            continue;
        }
        if crate::version::Scheme::Debian.parse(&ver).is_err() {
            problem(
                stats,
                format!("{file}: {id}: `{ver}` is not a Debian version"),
            );
            continue;
        }
        affected.push(Affected {
            ecosystem: format!("Debian:{release}"),
            name: pkg,
            ranges: vec![Range {
                kind: RangeKind::Ecosystem,
                events: vec![Event::Introduced("0".into()), Event::Fixed(ver)],
            }],
            versions: Vec::new(),
            severity: Vec::new(),
            skipped: Vec::new(),
            prepared: Default::default(),
        });
    }
    if affected.is_empty() {
        return Ok(());
    }
    emit(Advisory {
        references: vec![format!(
            "https://security-tracker.debian.org/tracker/{first}"
        )],
        id,
        aliases,
        related,
        summary: d.title,
        details: d.description,
        modified: String::new(),
        published: String::new(),
        withdrawn: None,
        severity: Vec::new(),
        database_severity: None,
        affected,
        source: source.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"<?xml version='1.0' encoding='UTF-8'?>
<oval_definitions xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5" xmlns:oval="http://oval.mitre.org/XMLSchema/oval-common-5">
  <generator><oval:timestamp>2023-07-14T03:39:10.188-04:00</oval:timestamp></generator>
  <definitions>
    <definition id="oval:org.debian:def:1" version="1" class="vulnerability">
      <metadata>
        <title>CVE-1999-0199 glibc</title>
        <affected family="unix"><platform>Debian GNU/Linux 12</platform><product>glibc</product></affected>
        <reference source="CVE" ref_id="CVE-1999-0199" ref_url="https://x"/>
        <description>manual/search.texi in the GNU C Library &amp; friends</description>
      </metadata>
      <criteria comment="Release section" operator="AND">
        <criterion test_ref="t1" comment="Debian 12 is installed"/>
        <criteria comment="Architecture section" operator="OR">
          <criterion test_ref="t3" comment="glibc DPKG is earlier than 2.2-1"/>
        </criteria>
      </criteria>
    </definition>
    <definition id="oval:org.debian:def:2" version="1" class="vulnerability">
      <metadata><title>CVE-2000-1 foo</title>
        <affected family="unix"><platform>Debian GNU/Linux 12</platform></affected></metadata>
      <criteria><criterion comment="foo DPKG is earlier than 0"/></criteria>
    </definition>
  </definitions>
</oval_definitions>"#;

    #[test]
    fn reads_definitions() {
        let mut out = Vec::new();
        let stats = read(SAMPLE.as_bytes(), "oval", "x.xml", |a| {
            out.push(a);
            Ok(())
        })
        .unwrap();
        assert_eq!(out.len(), 1);
        let a = &out[0];
        assert_eq!(a.id, "DEBIAN-CVE-1999-0199");
        assert_eq!(a.aliases, ["CVE-1999-0199"]);
        assert_eq!(
            a.details,
            "manual/search.texi in the GNU C Library & friends"
        );
        assert_eq!(a.affected[0].ecosystem, "Debian:12");
        assert_eq!(a.affected[0].name, "glibc");
        assert_eq!(stats.not_affected, 1);
        assert_eq!(
            stats.generated.as_deref(),
            Some("2023-07-14T03:39:10.188-04:00")
        );
    }

    #[test]
    fn a_dsa_relates_its_cves_instead_of_aliasing_them() {
        // The shape of DSA-5429-1 in the bookworm OVAL (cut to two CVEs).
        let xml = r#"<oval_definitions><definitions>
    <definition id="oval:org.debian:def:2654" version="1" class="patch">
      <metadata>
        <title>DSA-5429-1 wireshark</title>
        <affected family="unix"><platform>Debian GNU/Linux 12</platform></affected>
        <reference source="CVE" ref_id="CVE-2023-0666" ref_url="https://x"/>
        <reference source="CVE" ref_id="CVE-2023-2952" ref_url="https://x"/>
      </metadata>
      <criteria><criterion comment="wireshark DPKG is earlier than 4.0.6-1~deb12u1"/></criteria>
    </definition>
  </definitions></oval_definitions>"#;
        let mut out = Vec::new();
        read(xml.as_bytes(), "oval", "x.xml", |a| {
            out.push(a);
            Ok(())
        })
        .unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].id, "DSA-5429-1");
        assert!(out[0].aliases.is_empty(), "{:?}", out[0].aliases);
        assert_eq!(out[0].related, ["CVE-2023-0666", "CVE-2023-2952"]);
    }

    #[test]
    fn truncated_xml_is_an_error() {
        let cut = &SAMPLE[..SAMPLE.len() / 2];
        let r = read(cut.as_bytes(), "oval", "x.xml", |_| Ok(()));
        // Either an XML error or a clean stop with what was complete; never a panic.
        if let Ok(s) = r {
            assert!(s.problems.is_empty());
        }
    }
}
