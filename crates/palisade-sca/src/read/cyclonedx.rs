//! CycloneDX JSON 1.2–1.6.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{MAX_COMPONENTS, MAX_NESTING, Raw, apply_property, distro_of};
use crate::bom::{Origin, Sbom};
use crate::component::Distro;
use crate::error::{Error, Result};

const SUPPORTED: &[&str] = &["1.2", "1.3", "1.4", "1.5", "1.6"];

/// Component types that describe a package (the rest — applications,
/// files, containers, the OS itself — are context, not packages).
fn is_package_type(t: &str) -> bool {
    matches!(t, "library" | "framework" | "")
}

pub(super) fn read(doc: Value, display: &str) -> Result<Sbom> {
    let format = doc.get("bomFormat").and_then(Value::as_str).unwrap_or("");
    if format != "CycloneDX" {
        return Err(Error::parse(
            display,
            format!("`bomFormat` is `{format}`, expected `CycloneDX`"),
        ));
    }
    let spec = doc
        .get("specVersion")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::parse(display, "CycloneDX document without `specVersion`"))?;
    if !SUPPORTED.contains(&spec) {
        return Err(Error::unsupported(
            display,
            format!("CycloneDX {spec} is not supported (1.2 to 1.6 are)"),
        ));
    }
    let mut origin = Origin {
        format: "CycloneDX".into(),
        spec_version: spec.into(),
        tools: tools(doc.get("metadata").and_then(|m| m.get("tools"))),
        serial: doc
            .get("serialNumber")
            .and_then(Value::as_str)
            .map(str::to_owned),
    };
    origin.tools.sort();
    let timestamp = doc
        .pointer("/metadata/timestamp")
        .and_then(Value::as_str)
        .map(str::to_owned);

    // Flatten nested components first, remembering the OS entry.
    let mut flat: Vec<&Value> = Vec::new();
    if let Some(list) = doc.get("components") {
        let list = list
            .as_array()
            .ok_or_else(|| Error::parse(display, "`components` is not an array"))?;
        flatten(list, 0, &mut flat, display)?;
    }
    let mut os: Option<Distro> = None;
    for c in &flat {
        if c.get("type").and_then(Value::as_str) == Some("operating-system") {
            let name = c.get("name").and_then(Value::as_str).unwrap_or("");
            let version = c.get("version").and_then(Value::as_str).unwrap_or("");
            if !name.is_empty() {
                os = Some(distro_of(name, version));
            }
        }
    }
    let tool = origin
        .tools
        .first()
        .cloned()
        .unwrap_or_else(|| "cyclonedx".into());

    let mut sbom = Sbom {
        origin: Some(origin),
        timestamp,
        ..Sbom::default()
    };
    sbom.target.distro = os.clone();
    for (i, c) in flat.iter().enumerate() {
        let ty = c.get("type").and_then(Value::as_str).unwrap_or("");
        let purl = c
            .get("purl")
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty());
        if matches!(ty, "operating-system" | "container" | "platform" | "device")
            || (purl.is_none() && !is_package_type(ty))
        {
            continue;
        }
        let name = c
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let mut raw = Raw {
            bom_ref: c
                .get("bom-ref")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| purl.map(str::to_owned))
                .unwrap_or_else(|| format!("component-{i}")),
            name,
            group: c
                .get("group")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .filter(|g| !g.is_empty()),
            version: c
                .get("version")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .filter(|v| !v.is_empty()),
            purl: purl.map(str::to_owned),
            found_by: tool.clone(),
            ..Raw::default()
        };
        if raw.name.is_empty() && raw.purl.is_none() {
            sbom.errors.push(
                Error::parse(
                    display,
                    format!(
                        "component `{}` has neither a name nor a purl; skipped",
                        raw.bom_ref
                    ),
                )
                .into(),
            );
            continue;
        }
        raw.licenses = licenses(c.get("licenses"));
        if let Some(props) = c.get("properties").and_then(Value::as_array) {
            for p in props {
                let k = p.get("name").and_then(Value::as_str).unwrap_or("");
                let v = p.get("value").and_then(Value::as_str).unwrap_or("");
                apply_property(&mut raw, k, v);
            }
        }
        // CycloneDX 1.6 evidence.occurrences carry locations.
        if let Some(occ) = c.pointer("/evidence/occurrences").and_then(Value::as_array) {
            for o in occ {
                if let Some(l) = o.get("location").and_then(Value::as_str) {
                    raw.paths.push(l.to_owned());
                }
            }
        }
        let (component, warning) = raw.into_component(display, os.as_ref());
        if let Some(w) = warning {
            sbom.errors.push(w.into());
        }
        sbom.components.push(component);
    }

    // Dependency edges.
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    if let Some(deps) = doc.get("dependencies").and_then(Value::as_array) {
        if deps.len() > MAX_COMPONENTS {
            return Err(Error::limit(
                display,
                format!("more than {MAX_COMPONENTS} dependency entries"),
            ));
        }
        for d in deps {
            let Some(r) = d.get("ref").and_then(Value::as_str) else {
                continue;
            };
            let targets = d.get("dependsOn").and_then(Value::as_array);
            for t in targets.into_iter().flatten().filter_map(Value::as_str) {
                edges.entry(r.to_owned()).or_default().insert(t.to_owned());
            }
        }
    }
    for c in &mut sbom.components {
        if let Some(e) = edges.remove(&c.bom_ref) {
            c.depends_on = e;
        }
    }
    direct_from_root(
        &mut sbom,
        doc.pointer("/metadata/component/bom-ref")
            .and_then(Value::as_str),
        &edges,
    );
    Ok(sbom)
}

/// Components the document's subject (or one of its non-package children,
/// such as Trivy's per-lockfile application entries) depends on are direct.
fn direct_from_root(
    sbom: &mut Sbom,
    root: Option<&str>,
    others: &BTreeMap<String, BTreeSet<String>>,
) {
    let Some(root) = root else { return };
    let package_refs: BTreeSet<String> =
        sbom.components.iter().map(|c| c.bom_ref.clone()).collect();
    let mut direct = BTreeSet::new();
    if let Some(children) = others.get(root) {
        for child in children {
            if package_refs.contains(child) {
                direct.insert(child.clone());
            } else if let Some(grand) = others.get(child) {
                direct.extend(grand.iter().filter(|g| package_refs.contains(*g)).cloned());
            }
        }
    }
    if direct.is_empty() {
        return;
    }
    let has_graph = sbom.components.iter().any(|c| !c.depends_on.is_empty());
    for c in &mut sbom.components {
        if direct.contains(&c.bom_ref) {
            c.relationship = crate::component::Relationship::Direct;
        } else if has_graph {
            c.relationship = crate::component::Relationship::Transitive;
        }
    }
}

fn flatten<'a>(
    list: &'a [Value],
    depth: usize,
    out: &mut Vec<&'a Value>,
    display: &str,
) -> Result<()> {
    if depth > MAX_NESTING {
        return Err(Error::limit(
            display,
            format!("components nested deeper than {MAX_NESTING} levels"),
        ));
    }
    for c in list {
        if out.len() >= MAX_COMPONENTS {
            return Err(Error::limit(
                display,
                format!("more than {MAX_COMPONENTS} components"),
            ));
        }
        if !c.is_object() {
            return Err(Error::parse(display, "a component is not a JSON object"));
        }
        out.push(c);
        if let Some(children) = c.get("components").and_then(Value::as_array) {
            flatten(children, depth + 1, out, display)?;
        }
    }
    Ok(())
}

/// `licenses`: `[{license: {id|name}} | {expression}]`.
fn licenses(v: Option<&Value>) -> Vec<String> {
    let mut out = Vec::new();
    for l in v.and_then(Value::as_array).into_iter().flatten() {
        if let Some(e) = l.get("expression").and_then(Value::as_str) {
            out.push(e.to_owned());
        } else if let Some(lic) = l.get("license")
            && let Some(s) = lic
                .get("id")
                .and_then(Value::as_str)
                .or_else(|| lic.get("name").and_then(Value::as_str))
        {
            out.push(s.to_owned());
        }
    }
    out
}

/// `metadata.tools`: an array of `{vendor, name, version}` (1.2–1.4) or
/// `{components: [...], services: [...]}` (1.5+).
fn tools(v: Option<&Value>) -> Vec<String> {
    let list: Vec<&Value> = match v {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(Value::Object(o)) => o
            .get("components")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .chain(
                o.get("services")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten(),
            )
            .collect(),
        _ => Vec::new(),
    };
    list.iter()
        .filter_map(|t| {
            let name = t.get("name").and_then(Value::as_str)?;
            Some(match t.get("version").and_then(Value::as_str) {
                Some(v) => format!("{name} {v}"),
                None => name.to_owned(),
            })
        })
        .collect()
}
