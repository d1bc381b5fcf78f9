//! SPDX JSON 2.2–2.3.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{MAX_COMPONENTS, Raw, apply_property, distro_of};
use crate::bom::{Origin, Sbom};
use crate::component::Distro;
use crate::error::{Error, Result};

pub(super) fn read(doc: Value, display: &str) -> Result<Sbom> {
    let version = doc.get("spdxVersion").and_then(Value::as_str).unwrap_or("");
    let spec = version.strip_prefix("SPDX-").unwrap_or("");
    if !matches!(spec, "2.2" | "2.3") {
        return Err(Error::unsupported(
            display,
            format!("`spdxVersion` `{version}` is not supported (SPDX-2.2 and SPDX-2.3 are)"),
        ));
    }
    let creators: Vec<String> = doc
        .pointer("/creationInfo/creators")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(|c| c.strip_prefix("Tool:").map(|t| t.trim().to_owned()))
        .collect();
    let origin = Origin {
        format: "SPDX".into(),
        spec_version: spec.into(),
        tools: creators,
        serial: doc
            .get("documentNamespace")
            .and_then(Value::as_str)
            .map(str::to_owned),
    };
    let timestamp = doc
        .pointer("/creationInfo/created")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let packages: &[Value] = match doc.get("packages") {
        None => &[],
        Some(Value::Array(a)) => a,
        Some(_) => return Err(Error::parse(display, "`packages` is not an array")),
    };
    if packages.len() > MAX_COMPONENTS {
        return Err(Error::limit(
            display,
            format!("more than {MAX_COMPONENTS} packages"),
        ));
    }
    let doc_id = doc
        .get("SPDXID")
        .and_then(Value::as_str)
        .unwrap_or("SPDXRef-DOCUMENT");
    let mut described: BTreeSet<&str> = doc
        .get("documentDescribes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    for r in doc
        .get("relationships")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if r.get("relationshipType").and_then(Value::as_str) == Some("DESCRIBES")
            && r.get("spdxElementId").and_then(Value::as_str) == Some(doc_id)
            && let Some(t) = r.get("relatedSpdxElement").and_then(Value::as_str)
        {
            described.insert(t);
        }
    }

    let mut os: Option<Distro> = None;
    for p in packages {
        let purpose = p
            .get("primaryPackagePurpose")
            .and_then(Value::as_str)
            .unwrap_or("");
        if matches!(purpose, "OPERATING-SYSTEM" | "OPERATING_SYSTEM") && purl_of(p).is_none() {
            let name = p.get("name").and_then(Value::as_str).unwrap_or("");
            let v = p.get("versionInfo").and_then(Value::as_str).unwrap_or("");
            os = Some(distro_of(name, v));
        }
    }
    let tool = origin
        .tools
        .first()
        .cloned()
        .unwrap_or_else(|| "spdx".into());
    let mut sbom = Sbom {
        origin: Some(origin),
        timestamp,
        ..Sbom::default()
    };
    sbom.target.distro = os.clone();
    let mut ids = BTreeSet::new();
    for (i, p) in packages.iter().enumerate() {
        if !p.is_object() {
            return Err(Error::parse(
                display,
                format!("package {i} is not a JSON object"),
            ));
        }
        let id = p.get("SPDXID").and_then(Value::as_str).unwrap_or("");
        let purl = purl_of(p);
        let purpose = p
            .get("primaryPackagePurpose")
            .and_then(Value::as_str)
            .unwrap_or("");
        // The document's subject, the OS and containers are context; so are
        // applications and files without a purl (Trivy's lockfile entries).
        let context = described.contains(id)
            || matches!(
                purpose,
                "OPERATING-SYSTEM" | "OPERATING_SYSTEM" | "CONTAINER"
            )
            || (purl.is_none()
                && matches!(
                    purpose,
                    "APPLICATION" | "FILE" | "SOURCE" | "DEVICE" | "FIRMWARE" | "INSTALL"
                ));
        if context {
            continue;
        }
        let name = p
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let mut raw = Raw {
            bom_ref: if id.is_empty() {
                format!("package-{i}")
            } else {
                id.to_owned()
            },
            name,
            version: p
                .get("versionInfo")
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty() && *v != "NOASSERTION")
                .map(str::to_owned),
            purl: purl.map(str::to_owned),
            found_by: tool.clone(),
            ..Raw::default()
        };
        if raw.name.is_empty() && raw.purl.is_none() {
            sbom.errors.push(
                Error::parse(
                    display,
                    format!(
                        "package `{}` has neither a name nor a purl; skipped",
                        raw.bom_ref
                    ),
                )
                .into(),
            );
            continue;
        }
        for key in ["licenseDeclared", "licenseConcluded"] {
            if let Some(l) = p.get(key).and_then(Value::as_str)
                && !matches!(l, "NOASSERTION" | "NONE" | "")
                && !raw.licenses.iter().any(|x| x == l)
            {
                raw.licenses.push(l.to_owned());
                break;
            }
        }
        // Trivy: annotations "Key: value"; sourceInfo "package found in: path".
        for a in p
            .get("annotations")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some((k, v)) = a
                .get("comment")
                .and_then(Value::as_str)
                .and_then(|c| c.split_once(':'))
            {
                apply_property(&mut raw, k, v);
            }
        }
        if let Some(si) = p.get("sourceInfo").and_then(Value::as_str) {
            // Trivy: "built package from: SOURCE VERSION".
            if let Some((n, v)) = si
                .strip_prefix("built package from: ")
                .and_then(|r| r.trim().split_once(' '))
            {
                raw.src_name = Some(n.to_owned());
                raw.src_version = Some(v.to_owned());
            }
            // Trivy: "package found in: PATH"; Syft: "acquired package info
            // from KIND: PATH, OTHER-PATH".
            let path = si.strip_prefix("package found in: ").or_else(|| {
                si.strip_prefix("acquired package info from ")
                    .and_then(|r| r.split_once(": "))
                    .map(|(_, paths)| paths.split(", ").next().unwrap_or(paths))
            });
            if let Some(path) = path {
                let path = path.trim();
                if !path.is_empty() && !raw.paths.iter().any(|x| x == path) {
                    raw.paths.push(path.to_owned());
                }
            }
        }
        ids.insert(raw.bom_ref.clone());
        let (component, warning) = raw.into_component(display, os.as_ref());
        if let Some(w) = warning {
            sbom.errors.push(w.into());
        }
        sbom.components.push(component);
    }

    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in doc
        .get("relationships")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let a = r.get("spdxElementId").and_then(Value::as_str).unwrap_or("");
        let b = r
            .get("relatedSpdxElement")
            .and_then(Value::as_str)
            .unwrap_or("");
        match r
            .get("relationshipType")
            .and_then(Value::as_str)
            .unwrap_or("")
        {
            "DEPENDS_ON" => {
                edges.entry(a.to_owned()).or_default().insert(b.to_owned());
            }
            "DEPENDENCY_OF" => {
                edges.entry(b.to_owned()).or_default().insert(a.to_owned());
            }
            _ => {}
        }
    }
    for c in &mut sbom.components {
        if let Some(e) = edges.remove(&c.bom_ref) {
            c.depends_on = e.into_iter().filter(|t| ids.contains(t)).collect();
        }
    }
    Ok(sbom)
}

fn purl_of(p: &Value) -> Option<&str> {
    p.get("externalRefs")
        .and_then(Value::as_array)?
        .iter()
        .find(|r| {
            r.get("referenceType").and_then(Value::as_str) == Some("purl")
                && matches!(
                    r.get("referenceCategory").and_then(Value::as_str),
                    Some("PACKAGE-MANAGER" | "PACKAGE_MANAGER")
                )
        })
        .and_then(|r| r.get("referenceLocator").and_then(Value::as_str))
        .filter(|s| !s.is_empty())
}
