//! npm: `package-lock.json` / `npm-shrinkwrap.json` (lockfile versions 1,
//! 2 and 3) with the dependency graph resolved as Node does (nearest
//! `node_modules` up the tree), direct dependencies from the root entry,
//! `dev` flags and licences; and installed packages'
//! `node_modules/**/package.json`.

#![deny(clippy::indexing_slicing)]

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::Value;

use super::Ctx;
use crate::component::{Component, Ecosystem, Relationship};
use crate::error::Result;

/// An npm component from a possibly scoped name (`@babel/core`).
pub fn component(name: &str, version: &str, found_by: &str, ctx: &Ctx<'_>) -> Component {
    let (ns, n) = match name.split_once('/') {
        Some((scope, n)) if scope.starts_with('@') => (Some(scope), n),
        _ => (None, name),
    };
    Component::new(Ecosystem::Npm, ns, n, version, found_by, ctx.location())
}

/// Whether `v` is a registry version (not a URL, path, git or alias spec).
pub fn is_registry_version(v: &str) -> bool {
    !v.is_empty() && v.bytes().next().is_some_and(|b| b.is_ascii_digit()) && !v.contains([':', '/'])
}

/// The licence field: `"MIT"`, `{"type": "MIT"}` or `[{"type": …}]`.
pub fn license_of(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
        Some(Value::Object(o)) => o
            .get("type")
            .and_then(Value::as_str)
            .map(|s| vec![s.to_owned()])
            .unwrap_or_default(),
        Some(Value::Array(a)) => a.iter().flat_map(|x| license_of(Some(x))).collect(),
        _ => Vec::new(),
    }
}

#[derive(Deserialize)]
struct Lock {
    /// The project (v1 has no root entry in `packages`).
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(rename = "lockfileVersion", default)]
    lockfile_version: u32,
    #[serde(default)]
    packages: Option<BTreeMap<String, Value>>,
    #[serde(default)]
    dependencies: Option<BTreeMap<String, Value>>,
}

pub fn parse_lock(bytes: &[u8], ctx: &Ctx<'_>) -> Result<Vec<Component>> {
    let lock: Lock = ctx.json(bytes)?;
    match (&lock.packages, &lock.dependencies) {
        (Some(p), _) if lock.lockfile_version >= 2 || !p.is_empty() => v2(p, ctx),
        (_, Some(d)) => v1(d, lock.name.as_deref().zip(lock.version.as_deref()), ctx),
        _ => Ok(Vec::new()),
    }
}

fn name_from_path(path: &str) -> Option<&str> {
    let i = path.rfind("node_modules/")?;
    path.get(i + "node_modules/".len()..)
}

fn v2(packages: &BTreeMap<String, Value>, ctx: &Ctx<'_>) -> Result<Vec<Component>> {
    ctx.check_count(packages.len())?;
    let root = packages.get("");
    let mut direct: BTreeSet<String> = BTreeSet::new();
    for key in [
        "dependencies",
        "devDependencies",
        "optionalDependencies",
        "peerDependencies",
    ] {
        if let Some(m) = root.and_then(|r| r.get(key)).and_then(Value::as_object) {
            direct.extend(m.keys().cloned());
        }
    }
    let has_root = root.is_some();
    // path -> component ref, for resolution.
    let mut refs: BTreeMap<&str, String> = BTreeMap::new();
    let mut out = Vec::new();
    for (path, entry) in packages {
        let Some(name_in_path) = name_from_path(path) else {
            continue;
        };
        if entry.get("link").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        let name = entry
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or(name_in_path);
        let Some(version) = entry.get("version").and_then(Value::as_str) else {
            continue;
        };
        if !is_registry_version(version) {
            continue;
        }
        let mut c = component(name, version, "npm-lock", ctx);
        c.licenses = license_of(entry.get("license"));
        c.dev = entry.get("dev").and_then(Value::as_bool) == Some(true)
            || entry.get("devOptional").and_then(Value::as_bool) == Some(true);
        if has_root {
            let top =
                path.starts_with("node_modules/") && path.matches("node_modules/").count() == 1;
            c.relationship = if top && direct.contains(name_in_path) {
                Relationship::Direct
            } else {
                Relationship::Transitive
            };
        }
        refs.insert(path.as_str(), c.bom_ref.clone());
        out.push((path.as_str(), entry, c));
    }
    let mut result = Vec::with_capacity(out.len() + 1);
    // The project itself (the lockfile's root entry), as Trivy reports it:
    // the root of the dependency graph.
    if let Some(r) = root
        && let (Some(name), Some(version)) = (
            r.get("name").and_then(Value::as_str),
            r.get("version").and_then(Value::as_str),
        )
        && is_registry_version(version)
    {
        let mut c = component(name, version, "npm-lock", ctx);
        c.licenses = license_of(r.get("license"));
        for key in [
            "dependencies",
            "devDependencies",
            "optionalDependencies",
            "peerDependencies",
        ] {
            for dep in r
                .get(key)
                .and_then(Value::as_object)
                .into_iter()
                .flat_map(|m| m.keys())
            {
                if let Some(d) = refs.get(format!("node_modules/{dep}").as_str()) {
                    c.depends_on.insert(d.clone());
                }
            }
        }
        result.push(c);
    }
    for (path, entry, mut c) in out {
        for key in ["dependencies", "optionalDependencies", "peerDependencies"] {
            for dep in entry
                .get(key)
                .and_then(Value::as_object)
                .into_iter()
                .flat_map(|m| m.keys())
            {
                if let Some(r) = resolve(path, dep, &refs) {
                    c.depends_on.insert(r.clone());
                }
            }
        }
        result.push(c);
    }
    Ok(result)
}

/// Node's resolution: `P/node_modules/D`, then each ancestor's.
fn resolve<'a>(from: &str, dep: &str, refs: &'a BTreeMap<&str, String>) -> Option<&'a String> {
    let mut base = from.to_owned();
    loop {
        let cand = if base.is_empty() {
            format!("node_modules/{dep}")
        } else {
            format!("{base}/node_modules/{dep}")
        };
        if let Some(r) = refs.get(cand.as_str()) {
            return Some(r);
        }
        if base.is_empty() {
            return None;
        }
        // Up one package: strip the last `node_modules/NAME` (scoped names have two segments).
        match base.rfind("node_modules/") {
            Some(i) => base.truncate(i.saturating_sub(1)),
            None => base.clear(),
        }
    }
}

/// A v1 dependency's package: its key and version, or for an alias
/// (`"lo": {"version": "npm:lodash@4.17.4"}`) the real package's.
fn v1_package<'a>(key: &'a str, entry: &'a Value) -> Option<(&'a str, &'a str)> {
    let v = entry.get("version")?.as_str()?;
    let (name, version) = match v.strip_prefix("npm:") {
        Some(spec) => {
            let at = spec.get(1..)?.find('@')? + 1;
            (spec.get(..at)?, spec.get(at + 1..)?)
        }
        None => (key, v),
    };
    is_registry_version(version).then_some((name, version))
}

/// `root` is the lockfile's own `name` and `version`; direct dependencies
/// come from the `package.json` beside it (v1 does not record them).
fn v1(
    deps: &BTreeMap<String, Value>,
    root: Option<(&str, &str)>,
    ctx: &Ctx<'_>,
) -> Result<Vec<Component>> {
    let mut out = Vec::new();
    let direct = sibling_manifest_deps(ctx);
    // scope stack: each level maps name (an alias's own) -> ref.
    fn walk(
        deps: &BTreeMap<String, Value>,
        scopes: &mut Vec<BTreeMap<String, String>>,
        direct: Option<&BTreeSet<String>>,
        ctx: &Ctx<'_>,
        depth: usize,
        out: &mut Vec<Component>,
    ) -> Result<()> {
        if depth > 64 {
            return Err(crate::Error::limit(
                ctx.path,
                "dependencies nested deeper than 64 levels",
            ));
        }
        scopes.push(level_refs(deps, ctx));
        for (key, e) in deps {
            ctx.check_count(out.len())?;
            let Some((name, v)) = v1_package(key, e) else {
                continue;
            };
            let mut c = component(name, v, "npm-lock", ctx);
            c.dev = e.get("dev").and_then(Value::as_bool) == Some(true);
            if let Some(d) = direct {
                c.relationship = if depth == 0 && d.contains(key) {
                    Relationship::Direct
                } else {
                    Relationship::Transitive
                };
            }
            if let Some(nested) = e.get("dependencies").and_then(Value::as_object) {
                let nested: BTreeMap<String, Value> =
                    nested.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                walk(&nested, scopes, direct, ctx, depth + 1, out)?;
                // The nested level was pushed and popped; resolve against it too.
                scopes.push(level_refs(&nested, ctx));
            } else {
                scopes.push(BTreeMap::new());
            }
            for req in e
                .get("requires")
                .and_then(Value::as_object)
                .into_iter()
                .flat_map(|m| m.keys())
            {
                if let Some(r) = scopes.iter().rev().find_map(|s| s.get(req)) {
                    c.depends_on.insert(r.clone());
                }
            }
            scopes.pop();
            out.push(c);
        }
        scopes.pop();
        Ok(())
    }
    fn level_refs(deps: &BTreeMap<String, Value>, ctx: &Ctx<'_>) -> BTreeMap<String, String> {
        deps.iter()
            .filter_map(|(key, e)| {
                let (name, v) = v1_package(key, e)?;
                Some((key.clone(), component(name, v, "npm-lock", ctx).bom_ref))
            })
            .collect()
    }
    walk(deps, &mut Vec::new(), direct.as_ref(), ctx, 0, &mut out)?;
    // The project itself, as v2/v3 report their root entry.
    if let Some((name, version)) = root.filter(|(_, v)| is_registry_version(v)) {
        let mut c = component(name, version, "npm-lock", ctx);
        let top = level_refs(deps, ctx);
        for dep in direct.iter().flatten() {
            if let Some(r) = top.get(dep) {
                c.depends_on.insert(r.clone());
            }
        }
        out.insert(0, c);
    }
    Ok(out)
}

/// An installed package's `package.json`.
pub fn parse_package_json(bytes: &[u8], ctx: &Ctx<'_>) -> Result<Vec<Component>> {
    let v: Value = ctx.json(bytes)?;
    let (Some(name), Some(version)) = (
        v.get("name").and_then(Value::as_str),
        v.get("version").and_then(Value::as_str),
    ) else {
        return Ok(Vec::new()); // not a published package (test fixture, workspace)
    };
    if name.is_empty() || !is_registry_version(version) {
        return Ok(Vec::new());
    }
    let mut c = component(name, version, "node-modules", ctx);
    c.licenses = license_of(v.get("license").or_else(|| v.get("licenses")));
    Ok(vec![c])
}

/// Names declared in the `package.json` next to a lockfile (direct
/// dependencies), when the lockfile is on disk.
pub fn sibling_manifest_deps(ctx: &Ctx<'_>) -> Option<BTreeSet<String>> {
    let dir = ctx.fs_path?.parent()?;
    let path = dir.join("package.json");
    let meta = std::fs::metadata(&path).ok()?;
    if meta.len() > ctx.limits.max_file_bytes {
        return None;
    }
    let v: Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    let mut out = BTreeSet::new();
    for key in [
        "dependencies",
        "devDependencies",
        "optionalDependencies",
        "peerDependencies",
    ] {
        if let Some(m) = v.get(key).and_then(Value::as_object) {
            out.extend(m.keys().cloned());
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Limits;

    #[test]
    fn resolves_nested_node_modules() {
        let lock = r#"{"lockfileVersion":3,"packages":{
          "":{"name":"app","dependencies":{"a":"^1"},"devDependencies":{"@s/d":"1"}},
          "node_modules/a":{"version":"1.0.0","license":"MIT","dependencies":{"b":"^2"}},
          "node_modules/a/node_modules/b":{"version":"2.0.0"},
          "node_modules/b":{"version":"1.0.0"},
          "node_modules/@s/d":{"version":"1.0.0","dev":true,"dependencies":{"b":"^1"}},
          "node_modules/linked":{"link":true,"resolved":"packages/x"},
          "node_modules/git":{"version":"git+ssh://x/y.git#abc"}
        }}"#;
        let limits = Limits::default();
        let ctx = Ctx::new("package-lock.json", &limits);
        let c = parse_lock(lock.as_bytes(), &ctx).unwrap();
        let refs: Vec<&str> = c.iter().map(|c| c.bom_ref.as_str()).collect();
        assert_eq!(
            refs,
            [
                "pkg:npm/%40s/d@1.0.0",
                "pkg:npm/a@1.0.0",
                "pkg:npm/b@2.0.0",
                "pkg:npm/b@1.0.0"
            ]
        );
        assert!(c[0].dev && c[0].relationship == Relationship::Direct);
        assert_eq!(
            c[0].depends_on.iter().collect::<Vec<_>>(),
            ["pkg:npm/b@1.0.0"]
        );
        assert_eq!(
            c[1].depends_on.iter().collect::<Vec<_>>(),
            ["pkg:npm/b@2.0.0"]
        );
        assert_eq!(c[1].licenses, ["MIT"]);
        assert_eq!(c[3].relationship, Relationship::Transitive);
    }

    #[test]
    fn reads_v1() {
        let lock = r#"{"lockfileVersion":1,"dependencies":{
          "a":{"version":"1.0.0","requires":{"b":"^2"},"dependencies":{"b":{"version":"2.0.0"}}},
          "b":{"version":"1.0.0","dev":true}}}"#;
        let limits = Limits::default();
        let ctx = Ctx::new("package-lock.json", &limits);
        let c = parse_lock(lock.as_bytes(), &ctx).unwrap();
        let a = c.iter().find(|c| c.name == "a").unwrap();
        assert_eq!(a.depends_on.iter().collect::<Vec<_>>(), ["pkg:npm/b@2.0.0"]);
        assert_eq!(c.len(), 3);
        assert!(parse_lock(b"{\"packages\": 3}", &ctx).is_err());
    }

    #[test]
    fn v1_aliases_and_root() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("package.json"),
            r#"{"name":"app","dependencies":{"lo":"npm:lodash@4.17.4","sp":"npm:@s/p@1.2.3"}}"#,
        )
        .unwrap();
        let lock_path = dir.path().join("package-lock.json");
        let lock = r#"{"name":"app","version":"1.0.0","lockfileVersion":1,"requires":true,"dependencies":{
          "lo":{"version":"npm:lodash@4.17.4","resolved":"https://registry.npmjs.org/lodash/-/lodash-4.17.4.tgz"},
          "sp":{"version":"npm:@s/p@1.2.3","requires":{"lo":"npm:lodash@4.17.4"}},
          "x":{"version":"1.0.0"}}}"#;
        let limits = Limits::default();
        let mut ctx = Ctx::new("package-lock.json", &limits);
        ctx.fs_path = Some(&lock_path);
        let c = parse_lock(lock.as_bytes(), &ctx).unwrap();
        let refs: Vec<(&str, Relationship)> = c
            .iter()
            .map(|c| (c.bom_ref.as_str(), c.relationship))
            .collect();
        assert_eq!(
            refs,
            [
                ("pkg:npm/app@1.0.0", Relationship::Unknown),
                ("pkg:npm/lodash@4.17.4", Relationship::Direct),
                ("pkg:npm/%40s/p@1.2.3", Relationship::Direct),
                ("pkg:npm/x@1.0.0", Relationship::Transitive),
            ]
        );
        assert_eq!(
            c[0].depends_on.iter().collect::<Vec<_>>(),
            ["pkg:npm/%40s/p@1.2.3", "pkg:npm/lodash@4.17.4"]
        );
        assert_eq!(
            c[2].depends_on.iter().collect::<Vec<_>>(),
            ["pkg:npm/lodash@4.17.4"]
        );
        // In memory (no package.json): the root without edges, nothing marked.
        let c = parse_lock(lock.as_bytes(), &Ctx::new("package-lock.json", &limits)).unwrap();
        assert_eq!(c.len(), 4);
        assert!(c.iter().all(|c| c.relationship == Relationship::Unknown));
    }
}
