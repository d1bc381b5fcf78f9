//! pnpm: `pnpm-lock.yaml` (lockfile versions 5.x, 6.x and 9.x), with
//! direct dependencies from `importers` (or the v5 top-level
//! `dependencies`), `dev` flags and dependency edges (v9 keeps them in
//! `snapshots`).

#![deny(clippy::indexing_slicing)]

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::Ctx;
use super::npm::{component, is_registry_version};
use crate::component::{Component, Relationship};
use crate::error::Result;

/// `/@a/b@1.2.3(peer@1)`, `/a/1.2.3_peer@1`, `a@1.2.3` → (name, version).
fn parse_key(key: &str, v5: bool) -> Option<(String, String)> {
    let k = key.strip_prefix('/').unwrap_or(key);
    let k = k.split('(').next().unwrap_or(k);
    if v5 {
        let (name, ver) = k.rsplit_once('/')?;
        let ver = ver.split('_').next().unwrap_or(ver);
        return Some((name.to_owned(), ver.to_owned()));
    }
    let at = k.get(1..)?.find('@')? + 1;
    Some((k.get(..at)?.to_owned(), k.get(at + 1..)?.to_owned()))
}

/// A dependency's package from its name and value: `1.2.3`,
/// `1.2.3(peer@1)`, `1.2.3_peer@1`, or `{version: …}` in v6+ importers;
/// an alias (`lo: npm:lodash@…`) names the real package instead:
/// `lodash@4.17.4` (9.x), `/lodash@4.17.4` (6.x), `/lodash/4.17.4` (5.x).
fn dep_target(name: &str, v: &Value, v5: bool) -> Option<(String, String)> {
    let s = match v {
        Value::String(s) => s.as_str(),
        Value::Object(o) => o.get("version")?.as_str()?,
        _ => return None,
    };
    let s = s.split('(').next().unwrap_or(s);
    // Versions have no `@` except in v5 peer suffixes (`1.2.3_peer@1`).
    if s.starts_with('/') || (!v5 && s.contains('@')) {
        return parse_key(s, v5);
    }
    let s = s.split('_').next().unwrap_or(s);
    Some((name.to_owned(), s.to_owned()))
}

/// Packages reachable from `roots` along `edges` (both `name@version`).
fn reachable(
    roots: &BTreeSet<(String, String)>,
    edges: &BTreeMap<String, Vec<String>>,
) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<String> = roots.iter().map(|(n, v)| format!("{n}@{v}")).collect();
    while let Some(k) = todo.pop() {
        if let Some(next) = edges.get(&k)
            && !seen.contains(&k)
        {
            todo.extend(next.iter().cloned());
        }
        seen.insert(k);
    }
    seen
}

pub fn parse(bytes: &[u8], ctx: &Ctx<'_>) -> Result<Vec<Component>> {
    let doc: BTreeMap<String, Value> = ctx.yaml(bytes)?;
    let version = match doc.get("lockfileVersion") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(ctx.err("no `lockfileVersion`")),
    };
    let v5 = version.starts_with('5');
    let packages = doc.get("packages").and_then(Value::as_object);
    let snapshots = doc.get("snapshots").and_then(Value::as_object);
    ctx.check_count(packages.map_or(0, |p| p.len()) + snapshots.map_or(0, |s| s.len()))?;

    // Direct dependencies, (name, version), of production and of development.
    let mut direct: BTreeSet<(String, String)> = BTreeSet::new();
    let mut direct_dev: BTreeSet<(String, String)> = BTreeSet::new();
    let mut add_direct = |m: Option<&Value>, dev: bool| {
        for (n, v) in m.and_then(Value::as_object).into_iter().flatten() {
            if let Some(target) = dep_target(n, v, v5) {
                if dev {
                    direct_dev.insert(target);
                } else {
                    direct.insert(target);
                }
            }
        }
    };
    let sections = [
        ("dependencies", false),
        ("devDependencies", true),
        ("optionalDependencies", false),
    ];
    if let Some(importers) = doc.get("importers").and_then(Value::as_object) {
        for imp in importers.values() {
            for (s, dev) in sections {
                add_direct(imp.get(s), dev);
            }
        }
    } else {
        for (s, dev) in sections {
            add_direct(doc.get(s), dev);
        }
    }

    let mut comps: BTreeMap<String, Component> = BTreeMap::new();
    for (key, entry) in packages.into_iter().flatten() {
        let Some((name, ver)) = parse_key(key, v5) else {
            return Err(ctx.err(format!("malformed package key `{key}`")));
        };
        if !is_registry_version(&ver) {
            continue;
        }
        let mut c = component(&name, &ver, "pnpm-lock", ctx);
        c.dev = entry.get("dev").and_then(Value::as_bool) == Some(true);
        let key = (name.clone(), ver.clone());
        c.relationship = if direct.contains(&key) || direct_dev.contains(&key) {
            Relationship::Direct
        } else {
            Relationship::Transitive
        };
        comps.insert(format!("{name}@{ver}"), c);
    }
    // Edges: v9 in snapshots, older versions in packages.
    let edge_source = snapshots.or(packages);
    let mut edges: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (key, entry) in edge_source.into_iter().flatten() {
        let Some((name, ver)) = parse_key(key, v5) else {
            continue;
        };
        for s in ["dependencies", "optionalDependencies"] {
            for (dn, dv) in entry
                .get(s)
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                if let Some((tn, tv)) = dep_target(dn, dv, v5) {
                    edges
                        .entry(format!("{name}@{ver}"))
                        .or_default()
                        .push(format!("{tn}@{tv}"));
                }
            }
        }
    }
    for (from, tos) in &edges {
        let to_refs: Vec<String> = tos
            .iter()
            .filter_map(|to| comps.get(to).map(|c| c.bom_ref.clone()))
            .collect();
        if let Some(c) = comps.get_mut(from) {
            c.depends_on.extend(to_refs);
        }
    }
    // 9.x no longer writes `dev` flags: a package is development-only when
    // only the importers' `devDependencies` lead to it, as 5.x/6.x said.
    let has_dev_flags = packages
        .into_iter()
        .flatten()
        .any(|(_, e)| e.get("dev").is_some());
    if !has_dev_flags && !direct_dev.is_empty() {
        let prod = reachable(&direct, &edges);
        let dev = reachable(&direct_dev, &edges);
        for (key, c) in &mut comps {
            c.dev = dev.contains(key) && !prod.contains(key);
        }
    }
    Ok(comps.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Limits;

    #[test]
    fn parses_v6_and_v9() {
        let limits = Limits::default();
        let ctx = Ctx::new("pnpm-lock.yaml", &limits);
        let v6 = "lockfileVersion: '6.0'\nimporters:\n  .:\n    dependencies:\n      debug:\n        specifier: ^4\n        version: 4.3.4\npackages:\n  /debug@4.3.4:\n    resolution: {integrity: sha512-x}\n    dependencies:\n      ms: 2.1.2\n  /ms@2.1.2:\n    resolution: {integrity: sha512-y}\n    dev: false\n";
        let c = parse(v6.as_bytes(), &ctx).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].relationship, Relationship::Direct);
        assert_eq!(
            c[0].depends_on.iter().collect::<Vec<_>>(),
            ["pkg:npm/ms@2.1.2"]
        );
        let v9 = "lockfileVersion: '9.0'\nimporters:\n  .:\n    dependencies:\n      '@a/b':\n        specifier: ^1\n        version: 1.0.0(react@18.0.0)\npackages:\n  '@a/b@1.0.0':\n    resolution: {integrity: sha512-x}\n  react@18.0.0:\n    resolution: {integrity: sha512-y}\nsnapshots:\n  '@a/b@1.0.0(react@18.0.0)':\n    dependencies:\n      react: 18.0.0\n  react@18.0.0: {}\n";
        let c = parse(v9.as_bytes(), &ctx).unwrap();
        let ab = c.iter().find(|c| c.name == "b").unwrap();
        assert_eq!(ab.relationship, Relationship::Direct);
        assert_eq!(
            ab.depends_on.iter().collect::<Vec<_>>(),
            ["pkg:npm/react@18.0.0"]
        );
        let v5 = "lockfileVersion: 5.4\ndependencies:\n  ms: 2.1.2\npackages:\n  /ms/2.1.2:\n    resolution: {integrity: x}\n";
        let c = parse(v5.as_bytes(), &ctx).unwrap();
        assert_eq!(c[0].bom_ref, "pkg:npm/ms@2.1.2");
        assert!(parse(b"packages: [\n", &ctx).is_err());
    }

    #[test]
    fn v9_aliases_and_dev_dependencies() {
        let limits = Limits::default();
        let ctx = Ctx::new("pnpm-lock.yaml", &limits);
        let v9 = "lockfileVersion: '9.0'
importers:
  .:
    dependencies:
      left:
        specifier: npm:left-pad@^1.3.0
        version: left-pad@1.3.0
      debug:
        specifier: ^4
        version: 4.3.4
    devDependencies:
      tool:
        specifier: ^1
        version: 1.0.0
packages:
  left-pad@1.3.0:
    resolution: {integrity: sha512-a}
  debug@4.3.4:
    resolution: {integrity: sha512-b}
  ms@2.1.2:
    resolution: {integrity: sha512-c}
  tool@1.0.0:
    resolution: {integrity: sha512-d}
  helper@1.0.0:
    resolution: {integrity: sha512-e}
snapshots:
  left-pad@1.3.0: {}
  debug@4.3.4:
    dependencies:
      ms: 2.1.2
  tool@1.0.0:
    dependencies:
      helper: 1.0.0
      ms: 2.1.2
      lp: left-pad@1.3.0
  helper@1.0.0: {}
  ms@2.1.2: {}
";
        let c = parse(v9.as_bytes(), &ctx).unwrap();
        let got: Vec<(&str, Relationship, bool)> = c
            .iter()
            .map(|c| (c.name.as_str(), c.relationship, c.dev))
            .collect();
        assert_eq!(
            got,
            [
                ("debug", Relationship::Direct, false),
                ("helper", Relationship::Transitive, true),
                ("left-pad", Relationship::Direct, false),
                ("ms", Relationship::Transitive, false),
                ("tool", Relationship::Direct, true),
            ]
        );
        let tool = c.iter().find(|c| c.name == "tool").unwrap();
        assert!(tool.depends_on.contains("pkg:npm/left-pad@1.3.0"));
    }
}
