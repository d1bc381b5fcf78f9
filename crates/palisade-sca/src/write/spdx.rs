//! SPDX 2.3 JSON.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{canonical_license_id, content_uuid, is_license_expression, short_hash};
use crate::bom::{Sbom, TargetKind};
use crate::component::Component;

/// `created` when the SBOM has no timestamp: `SOURCE_DATE_EPOCH` if set
/// (reproducible builds), else the Unix epoch, so output stays
/// deterministic. `--timestamp` records the real time.
fn created(sbom: &Sbom) -> String {
    if let Some(t) = &sbom.timestamp {
        return t.clone();
    }
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .map_or_else(|| "1970-01-01T00:00:00Z".to_owned(), super::rfc3339)
}

fn spdx_id(bom_ref: &str) -> String {
    format!("SPDXRef-Package-{}", short_hash(bom_ref))
}

/// A licence reference for a name SPDX does not know. Characters an
/// idstring cannot hold become `-`; then a hash of the name keeps names
/// apart that differ only there (`MIT/X11`, `MIT X11`).
fn license_ref(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if s == name {
        format!("LicenseRef-{s}")
    } else {
        format!("LicenseRef-{s}-{}", short_hash(name).get(..8).unwrap_or(""))
    }
}

/// The declared licence expression and the extracted licences it uses.
fn declared(c: &Component, extracted: &mut BTreeMap<String, String>) -> String {
    if c.licenses.is_empty() {
        return "NOASSERTION".into();
    }
    let parts: Vec<String> = c
        .licenses
        .iter()
        .map(|l| {
            if let Some(id) = canonical_license_id(l) {
                id.to_owned()
            } else if is_license_expression(l) {
                // Every LicenseRef an expression uses needs its entry.
                for t in l.split(|c: char| c.is_whitespace() || c == '(' || c == ')') {
                    if let Some(name) = t.strip_prefix("LicenseRef-") {
                        extracted
                            .entry(t.to_owned())
                            .or_insert_with(|| name.to_owned());
                    }
                }
                l.clone()
            } else {
                let r = license_ref(l);
                extracted.insert(r.clone(), l.clone());
                r
            }
        })
        .collect();
    if parts.len() == 1 {
        parts.into_iter().next().unwrap_or_default()
    } else {
        parts
            .iter()
            .map(|p| {
                if p.contains(' ') {
                    format!("({p})")
                } else {
                    p.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(" AND ")
    }
}

/// The SBOM as an SPDX 2.3 document.
pub fn to_json(sbom: &Sbom) -> Value {
    let uuid = content_uuid(sbom);
    let root_id = "SPDXRef-Target";
    let mut extracted = BTreeMap::new();
    let purpose = match sbom.target.kind {
        TargetKind::Image => "CONTAINER",
        _ => "SOURCE",
    };
    let mut packages = vec![json!({
        "SPDXID": root_id,
        "name": sbom.target.name,
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": false,
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": "NOASSERTION",
        "copyrightText": "NOASSERTION",
        "primaryPackagePurpose": purpose,
    })];
    if let Some(d) = &sbom.target.image_digest {
        packages[0]["versionInfo"] = json!(d);
    }
    if let Some(d) = &sbom.target.distro {
        packages.push(json!({
            "SPDXID": "SPDXRef-OperatingSystem",
            "name": d.id,
            "versionInfo": d.version_id,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": "NOASSERTION",
            "copyrightText": "NOASSERTION",
            // The 2.3 schema spells this value with an underscore.
            "primaryPackagePurpose": "OPERATING_SYSTEM",
        }));
    }
    let mut relationships = vec![json!({
        "spdxElementId": "SPDXRef-DOCUMENT",
        "relationshipType": "DESCRIBES",
        "relatedSpdxElement": root_id,
    })];
    if sbom.target.distro.is_some() {
        relationships.push(json!({ "spdxElementId": root_id, "relationshipType": "CONTAINS", "relatedSpdxElement": "SPDXRef-OperatingSystem" }));
    }
    for c in &sbom.components {
        let id = spdx_id(&c.bom_ref);
        let mut p = json!({
            "SPDXID": id,
            "name": c.osv_name(),
            "versionInfo": c.version,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": declared(c, &mut extracted),
            "copyrightText": "NOASSERTION",
            "primaryPackagePurpose": "LIBRARY",
        });
        if let Some(purl) = &c.purl {
            p["externalRefs"] = json!([{
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": purl.to_string(),
            }]);
        }
        if let Some(s) = &c.source {
            p["sourceInfo"] = json!(format!("built package from: {} {}", s.name, s.version));
        }
        let mut comment: Vec<String> = c
            .locations
            .iter()
            .map(|l| match &l.layer_digest {
                Some(d) => format!("found in: {} (layer {d})", l.path),
                None => format!("found in: {}", l.path),
            })
            .collect();
        comment.push(format!("found by: {}", c.found_by));
        p["comment"] = json!(comment.join("\n"));
        packages.push(p);
        relationships.push(json!({ "spdxElementId": root_id, "relationshipType": "CONTAINS", "relatedSpdxElement": id }));
        for d in &c.depends_on {
            relationships.push(json!({ "spdxElementId": id, "relationshipType": "DEPENDS_ON", "relatedSpdxElement": spdx_id(d) }));
        }
    }
    let name = if sbom.target.name.is_empty() {
        "palisade-sbom".to_owned()
    } else {
        sbom.target.name.clone()
    };
    let mut doc = json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": name,
        "documentNamespace": format!("https://palisade.dev/spdx/{}-{uuid}", short_hash(&name)),
        "creationInfo": {
            "created": created(sbom),
            "creators": [format!("Tool: palisade-{}", palisade_core::TOOL_VERSION)],
        },
        "packages": packages,
        "relationships": relationships,
    });
    if !extracted.is_empty() {
        doc["hasExtractedLicensingInfos"] = Value::Array(
            extracted
                .into_iter()
                .map(|(id, text)| json!({ "licenseId": id, "extractedText": text, "name": text }))
                .collect(),
        );
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_license(l: &str) -> Component {
        let mut c = Component::new(
            crate::component::Ecosystem::Npm,
            None,
            "a",
            "1.0.0",
            "npm",
            crate::component::Location::file("package.json"),
        );
        c.licenses = vec![l.to_owned()];
        c
    }

    /// Names that differ only in characters an idstring cannot hold get
    /// distinct references; a LicenseRef in an expression gets its entry;
    /// ids match without regard to case.
    #[test]
    fn license_references_are_distinct_and_defined() {
        let mut extracted = BTreeMap::new();
        let a = declared(&with_license("MIT/X11"), &mut extracted);
        let b = declared(&with_license("MIT X11"), &mut extracted);
        assert_ne!(a, b);
        assert_eq!(extracted.get(&a).map(String::as_str), Some("MIT/X11"));
        assert_eq!(extracted.get(&b).map(String::as_str), Some("MIT X11"));
        assert_eq!(
            declared(&with_license("LicenseRef-Foo"), &mut extracted),
            "LicenseRef-Foo"
        );
        assert!(extracted.contains_key("LicenseRef-Foo"), "{extracted:?}");
        assert_eq!(declared(&with_license("mit"), &mut extracted), "MIT");
        assert_eq!(
            declared(&with_license("Acme-1.0"), &mut extracted),
            "LicenseRef-Acme-1.0"
        );
    }
}
