//! CycloneDX 1.6 VEX output: the vulnerable components and, for each
//! vulnerability, its ids, ratings, advisories, fixed versions and the
//! components it affects; VEX-suppressed ones carry their analysis.
//! Deterministic: no timestamp, serial number derived from the content.

use std::io::{self, Write};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::matcher;
use crate::scan::Matched;

fn source_of(id: &str) -> Value {
    let (name, url) = if id.starts_with("CVE-") {
        ("NVD", format!("https://nvd.nist.gov/vuln/detail/{id}"))
    } else if id.starts_with("GHSA-") {
        ("GitHub", format!("https://github.com/advisories/{id}"))
    } else {
        ("OSV", format!("https://osv.dev/vulnerability/{id}"))
    };
    json!({ "name": name, "url": url })
}

/// CycloneDX 1.6's `scoreMethod` for a vector: `CVSSv3` is v3.0,
/// `CVSSv31` v3.1.
fn score_method(s: &crate::cvss::Score) -> &'static str {
    if s.kind == "CVSS_V4" {
        "CVSSv4"
    } else if s.vector.starts_with("CVSS:3.0/") {
        "CVSSv3"
    } else {
        "CVSSv31"
    }
}

/// Writes the document.
pub fn write(matched: &[Matched], out: &mut dyn Write) -> io::Result<()> {
    let mut components = Vec::new();
    let mut vulns: std::collections::BTreeMap<String, Value> = std::collections::BTreeMap::new();
    for m in matched {
        let c = &m.component;
        let mut comp = json!({
            "type": "library",
            "bom-ref": c.bom_ref,
            "name": c.name,
            "version": c.version,
        });
        if let Some(ns) = &c.namespace {
            comp["group"] = json!(ns);
        }
        if let Some(p) = &c.purl {
            comp["purl"] = json!(p.to_string());
        }
        components.push(comp);
        for (v, vex) in m.vulnerabilities.iter().zip(m.vex.iter()) {
            let entry = vulns.entry(v.id.clone()).or_insert_with(|| {
                let mut ratings = Vec::new();
                if let Some(s) = &v.rated.score {
                    ratings.push(json!({
                        "score": s.value,
                        "severity": matcher::severity(v).as_str().to_ascii_lowercase(),
                        "method": score_method(s),
                        "vector": s.vector,
                    }));
                } else {
                    ratings.push(json!({
                        "severity": if v.rated.unknown { "unknown".to_owned() } else { matcher::severity(v).as_str().to_ascii_lowercase() },
                        "method": "other",
                    }));
                }
                let advisories: Vec<Value> = v
                    .advisories
                    .iter()
                    .flat_map(|a| a.references.iter().take(3))
                    .map(|u| json!({ "url": u }))
                    .collect();
                let description = v
                    .advisories
                    .iter()
                    .map(|a| a.summary.as_str())
                    .find(|s| !s.is_empty())
                    .unwrap_or("");
                let mut e = json!({
                    "bom-ref": format!("vuln:{}", v.id),
                    "id": v.id,
                    "source": source_of(&v.id),
                    "references": v.aliases.iter().map(|a| json!({"id": a, "source": source_of(a)})).collect::<Vec<_>>(),
                    "ratings": ratings,
                    "description": description,
                    "advisories": advisories,
                    "affects": [],
                });
                if !v.fixed.is_empty() {
                    e["recommendation"] = json!(format!("Upgrade to {}", v.fixed.join(" or ")));
                }
                e
            });
            let mut versions = vec![json!({ "version": c.version, "status": "affected" })];
            for f in &v.fixed {
                versions.push(json!({ "version": f, "status": "unaffected" }));
            }
            if let Some(a) = entry["affects"].as_array_mut() {
                a.push(json!({ "ref": c.bom_ref, "versions": versions }));
            }
            let analysis = match vex {
                Some(reason) => json!({
                    "state": if reason.starts_with("fixed") { "resolved" } else { "not_affected" },
                    "detail": reason,
                }),
                None => {
                    json!({ "state": "exploitable", "detail": "the installed version is in an affected range" })
                }
            };
            entry["analysis"] = analysis;
        }
    }
    components.sort_by(|a, b| a["bom-ref"].as_str().cmp(&b["bom-ref"].as_str()));
    components.dedup();
    let vulnerabilities: Vec<Value> = vulns.into_values().collect();
    let body = json!({ "components": components, "vulnerabilities": vulnerabilities });
    let digest = Sha256::digest(body.to_string().as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    let serial = format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        hex.get(0..8).unwrap_or(""),
        hex.get(8..12).unwrap_or(""),
        hex.get(12..16).unwrap_or(""),
        hex.get(16..20).unwrap_or(""),
        hex.get(20..32).unwrap_or("")
    );
    let doc = json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": serial,
        "version": 1,
        "metadata": {
            "tools": { "components": [{ "type": "application", "name": "palisade", "version": palisade_core::TOOL_VERSION }] }
        },
        "components": body["components"],
        "vulnerabilities": body["vulnerabilities"],
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")
}
