//! .NET: NuGet `packages.lock.json` (per target framework, with
//! Direct/Transitive types and edges) and `*.deps.json` (the runtime
//! dependency manifest next to built assemblies; `package` libraries only).

#![deny(clippy::indexing_slicing)]

use std::collections::BTreeMap;

use serde_json::Value;

use super::Ctx;
use crate::component::{Component, Ecosystem, Relationship};
use crate::error::Result;

fn nuget(name: &str, version: &str, found_by: &str, ctx: &Ctx<'_>) -> Component {
    Component::new(
        Ecosystem::NuGet,
        None,
        name,
        version,
        found_by,
        ctx.location(),
    )
}

pub fn parse_packages_lock(bytes: &[u8], ctx: &Ctx<'_>) -> Result<Vec<Component>> {
    let v: Value = ctx.json(bytes)?;
    let Some(frameworks) = v.get("dependencies").and_then(Value::as_object) else {
        return Err(ctx.err("packages.lock.json without a `dependencies` object"));
    };
    let mut out: BTreeMap<String, Component> = BTreeMap::new();
    let mut resolved: BTreeMap<String, String> = BTreeMap::new();
    for deps in frameworks.values().filter_map(Value::as_object) {
        for (name, d) in deps {
            if let Some(r) = d.get("resolved").and_then(Value::as_str) {
                resolved.insert(
                    name.to_lowercase(),
                    nuget(name, r, "nuget-lock", ctx).bom_ref,
                );
            }
        }
    }
    for deps in frameworks.values().filter_map(Value::as_object) {
        ctx.check_count(deps.len() + out.len())?;
        for (name, d) in deps {
            let ty = d.get("type").and_then(Value::as_str).unwrap_or("");
            if ty == "Project" {
                continue;
            }
            let Some(r) = d.get("resolved").and_then(Value::as_str) else {
                continue;
            };
            let mut c = nuget(name, r, "nuget-lock", ctx);
            c.relationship = match ty {
                "Direct" => Relationship::Direct,
                "Transitive" | "CentralTransitive" => Relationship::Transitive,
                _ => Relationship::Unknown,
            };
            c.depends_on = d
                .get("dependencies")
                .and_then(Value::as_object)
                .into_iter()
                .flat_map(|m| m.keys())
                .filter_map(|k| resolved.get(&k.to_lowercase()).cloned())
                .collect();
            match out.get_mut(&c.bom_ref) {
                Some(existing) => existing.merge(c),
                None => {
                    out.insert(c.bom_ref.clone(), c);
                }
            }
        }
    }
    Ok(out.into_values().collect())
}

pub fn parse_deps_json(bytes: &[u8], ctx: &Ctx<'_>) -> Result<Vec<Component>> {
    let v: Value = ctx.json(bytes)?;
    let Some(libs) = v.get("libraries").and_then(Value::as_object) else {
        return Err(ctx.err("deps.json without a `libraries` object"));
    };
    ctx.check_count(libs.len())?;
    let mut refs = BTreeMap::new();
    let mut out = BTreeMap::new();
    for (key, lib) in libs {
        if lib.get("type").and_then(Value::as_str) != Some("package") {
            continue;
        }
        let Some((name, version)) = key.split_once('/') else {
            return Err(ctx.err(format!("library key `{key}` is not `Name/Version`")));
        };
        let c = nuget(name, version, "dotnet-deps", ctx);
        refs.insert(name.to_lowercase(), c.bom_ref.clone());
        out.insert(key.clone(), c);
    }
    for target in v
        .get("targets")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|t| t.values())
    {
        for (key, entry) in target.as_object().into_iter().flatten() {
            let Some(c) = out.get_mut(key) else { continue };
            for dep in entry
                .get("dependencies")
                .and_then(Value::as_object)
                .into_iter()
                .flat_map(|m| m.keys())
            {
                if let Some(r) = refs.get(&dep.to_lowercase()) {
                    c.depends_on.insert(r.clone());
                }
            }
        }
    }
    Ok(out.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Limits;

    #[test]
    fn parses_lock_and_deps() {
        let lock = r#"{"version":1,"dependencies":{"net6.0":{"Newtonsoft.Json":{"type":"Direct","requested":"[13.0.1, )","resolved":"13.0.1"},"System.Text.Json":{"type":"Transitive","resolved":"6.0.0","dependencies":{"Newtonsoft.Json":"13.0.1"}},"MyLib":{"type":"Project"}}}}"#;
        let limits = Limits::default();
        let ctx = Ctx::new("packages.lock.json", &limits);
        let c = parse_packages_lock(lock.as_bytes(), &ctx).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].bom_ref, "pkg:nuget/Newtonsoft.Json@13.0.1");
        assert_eq!(c[0].relationship, Relationship::Direct);
        assert_eq!(c[1].depends_on.len(), 1);
        let deps = r#"{"targets":{".NETCoreApp,Version=v6.0":{"App/1.0.0":{"dependencies":{"Serilog":"2.10.0"}},"Serilog/2.10.0":{}}},"libraries":{"App/1.0.0":{"type":"project"},"Serilog/2.10.0":{"type":"package"}}}"#;
        let c = parse_deps_json(deps.as_bytes(), &ctx).unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].bom_ref, "pkg:nuget/Serilog@2.10.0");
        assert!(parse_deps_json(b"{}", &ctx).is_err());
    }
}
