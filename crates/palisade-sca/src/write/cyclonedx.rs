//! CycloneDX 1.6 JSON.

use serde_json::{Value, json};

use super::{canonical_license_id, content_uuid, is_license_expression, is_license_id};
use crate::bom::{Sbom, TargetKind};
use crate::component::{Component, Relationship};

/// The SBOM as a CycloneDX 1.6 document.
pub fn to_json(sbom: &Sbom) -> Value {
    let root_ref = "palisade:target";
    let mut metadata = json!({
        "tools": { "components": [ {
            "type": "application",
            "group": "palisade",
            "name": "palisade",
            "version": palisade_core::TOOL_VERSION,
        } ] },
        "component": target_component(sbom, root_ref),
    });
    if let Some(t) = &sbom.timestamp {
        metadata["timestamp"] = json!(t);
    }
    let mut components: Vec<Value> = Vec::with_capacity(sbom.components.len() + 1);
    if let Some(d) = &sbom.target.distro {
        let mut os = json!({
            "bom-ref": "palisade:os",
            "type": "operating-system",
            "name": d.id,
            "version": d.version_id,
        });
        if !d.pretty_name.is_empty() {
            os["description"] = json!(d.pretty_name);
        }
        components.push(os);
    }
    components.extend(sbom.components.iter().map(component));
    let mut deps: Vec<Value> = Vec::new();
    let direct: Vec<&str> = sbom
        .components
        .iter()
        .filter(|c| c.relationship != Relationship::Transitive)
        .map(|c| c.bom_ref.as_str())
        .collect();
    deps.push(json!({ "ref": root_ref, "dependsOn": direct }));
    for c in &sbom.components {
        deps.push(json!({ "ref": c.bom_ref, "dependsOn": c.depends_on }));
    }
    json!({
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": format!("urn:uuid:{}", content_uuid(sbom)),
        "version": 1,
        "metadata": metadata,
        "components": components,
        "dependencies": deps,
    })
}

fn target_component(sbom: &Sbom, root_ref: &str) -> Value {
    let t = &sbom.target;
    let ty = match t.kind {
        TargetKind::Image => "container",
        TargetKind::Rootfs | TargetKind::Directory | TargetKind::Sbom => "application",
    };
    let mut props = Vec::new();
    let mut prop =
        |k: &str, v: &str| props.push(json!({ "name": format!("palisade:{k}"), "value": v }));
    prop(
        "target-kind",
        match t.kind {
            TargetKind::Directory => "directory",
            TargetKind::Rootfs => "rootfs",
            TargetKind::Image => "image",
            TargetKind::Sbom => "sbom",
        },
    );
    if let Some(d) = &t.image_digest {
        prop("image-digest", d);
    }
    if let Some(d) = &t.image_id {
        prop("image-id", d);
    }
    if let Some(p) = &t.platform {
        prop("platform", p);
    }
    for tag in &t.repo_tags {
        prop("repo-tag", tag);
    }
    for l in &t.layers {
        prop("layer-digest", &l.digest);
        if let Some(d) = &l.diff_id {
            prop("layer-diff-id", d);
        }
    }
    json!({ "bom-ref": root_ref, "type": ty, "name": t.name, "properties": props })
}

/// CycloneDX `licenses`: ids and names as `license` entries, or a single
/// `expression` when any is an expression (the schema allows only one).
pub fn licenses(ls: &[String]) -> Option<Value> {
    if ls.is_empty() {
        return None;
    }
    let is_expr = |l: &str| l.contains(" AND ") || l.contains(" OR ") || l.contains(" WITH ");
    if ls.iter().any(|l| is_expr(l)) {
        if ls
            .iter()
            .all(|l| is_license_id(l) || is_license_expression(l))
        {
            let joined = if ls.len() == 1 {
                ls.first().cloned().unwrap_or_default()
            } else {
                ls.iter()
                    .map(|l| format!("({l})"))
                    .collect::<Vec<_>>()
                    .join(" AND ")
            };
            return Some(json!([{ "expression": joined }]));
        }
        return Some(Value::Array(
            ls.iter()
                .map(|l| json!({ "license": { "name": l } }))
                .collect(),
        ));
    }
    Some(Value::Array(
        ls.iter()
            .map(|l| {
                if let Some(id) = canonical_license_id(l) {
                    json!({ "license": { "id": id } })
                } else {
                    json!({ "license": { "name": l } })
                }
            })
            .collect(),
    ))
}

fn component(c: &Component) -> Value {
    let mut v = json!({
        "bom-ref": c.bom_ref,
        "type": "library",
        "name": c.name,
        "version": c.version,
    });
    if let Some(ns) = &c.namespace {
        v["group"] = json!(ns);
    }
    if let Some(p) = &c.purl {
        v["purl"] = json!(p.to_string());
    }
    if let Some(l) = licenses(&c.licenses) {
        v["licenses"] = l;
    }
    if c.dev {
        v["scope"] = json!("optional");
    }
    let mut props = vec![json!({ "name": "palisade:found-by", "value": c.found_by })];
    let mut prop =
        |k: String, val: &str| props.push(json!({ "name": format!("palisade:{k}"), "value": val }));
    prop("ecosystem".into(), c.ecosystem.label());
    match c.relationship {
        Relationship::Direct => prop("relationship".into(), "direct"),
        Relationship::Transitive => prop("relationship".into(), "transitive"),
        Relationship::Unknown => {}
    }
    if c.dev {
        prop("dev".into(), "true");
    }
    if let Some(s) = &c.source {
        prop("source-name".into(), &s.name);
        prop("source-version".into(), &s.version);
    }
    for (i, l) in c.locations.iter().enumerate() {
        prop(format!("location:{i}:path"), &l.path);
        if let Some(d) = &l.layer_digest {
            prop(format!("location:{i}:layer-digest"), d);
        }
        if let Some(d) = &l.layer_diff_id {
            prop(format!("location:{i}:layer-diff-id"), d);
        }
    }
    v["properties"] = Value::Array(props);
    let occurrences: Vec<Value> = c
        .locations
        .iter()
        .filter(|l| !l.path.is_empty())
        .map(|l| json!({ "location": l.path }))
        .collect();
    if !occurrences.is_empty() {
        v["evidence"] = json!({ "occurrences": occurrences });
    }
    v
}
