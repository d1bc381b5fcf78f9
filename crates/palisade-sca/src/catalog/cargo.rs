//! Rust: `Cargo.lock` (formats v1–v4), with the dependency graph and
//! direct dependencies (those of the workspace's own packages). Packages
//! without a `source` are the workspace itself (or path dependencies) and
//! are not reported as components.

#![deny(clippy::indexing_slicing)]

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::Ctx;
use crate::component::{Component, Ecosystem, Relationship};
use crate::error::Result;

#[derive(Deserialize)]
struct Lock {
    #[serde(default)]
    package: Vec<Package>,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    version: String,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    dependencies: Vec<String>,
}

pub fn parse_lock(bytes: &[u8], ctx: &Ctx<'_>) -> Result<Vec<Component>> {
    let lock: Lock = ctx.toml(bytes)?;
    ctx.check_count(lock.package.len())?;
    graph(
        lock.package
            .into_iter()
            .map(|p| Node {
                local: p.source.is_none()
                    || p.source.as_deref().is_some_and(|s| s.starts_with("path+")),
                name: p.name,
                version: p.version,
                deps: p.dependencies,
            })
            .collect(),
        ctx,
        "cargo-lock",
    )
}

/// A package of a Cargo graph (from a lockfile or a binary's audit data).
pub(crate) struct Node {
    pub name: String,
    pub version: String,
    pub local: bool,
    /// `name`, `name version` or `name version (source)`.
    pub deps: Vec<String>,
}

pub(crate) fn graph(nodes: Vec<Node>, ctx: &Ctx<'_>, found_by: &str) -> Result<Vec<Component>> {
    // Resolve `name` (unique) and `name version` references.
    let mut by_name: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, n) in nodes.iter().enumerate() {
        by_name.entry(n.name.as_str()).or_default().push(i);
    }
    let resolve = |d: &str| -> Option<usize> {
        let mut parts = d.split(' ');
        let name = parts.next()?;
        let version = parts.next();
        let cands = by_name.get(name)?;
        match version {
            None => cands.first().copied(),
            Some(v) => cands
                .iter()
                .copied()
                .find(|i| nodes.get(*i).is_some_and(|n| n.version == v)),
        }
    };
    let purls: Vec<String> = nodes
        .iter()
        .map(|n| {
            Component::new(
                Ecosystem::Cargo,
                None,
                &n.name,
                &n.version,
                found_by,
                ctx.location(),
            )
            .bom_ref
        })
        .collect();
    let mut direct = BTreeSet::new();
    let mut has_local = false;
    for n in nodes.iter().filter(|n| n.local) {
        has_local = true;
        for d in &n.deps {
            if let Some(i) = resolve(d) {
                direct.insert(i);
            }
        }
    }
    let mut out = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        if n.local {
            continue;
        }
        let mut c = Component::new(
            Ecosystem::Cargo,
            None,
            &n.name,
            &n.version,
            found_by,
            ctx.location(),
        );
        c.depends_on = n
            .deps
            .iter()
            .filter_map(|d| resolve(d))
            .filter(|j| nodes.get(*j).is_some_and(|m| !m.local))
            .filter_map(|j| purls.get(j).cloned())
            .collect();
        if has_local {
            c.relationship = if direct.contains(&i) {
                Relationship::Direct
            } else {
                Relationship::Transitive
            };
        }
        out.push(c);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Limits;

    #[test]
    fn parses_v3_lock_with_graph() {
        let lock = r#"
version = 3

[[package]]
name = "app"
version = "0.1.0"
dependencies = ["time 0.1.43", "smallvec"]

[[package]]
name = "smallvec"
version = "0.6.9"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "time"
version = "0.1.43"
source = "registry+https://github.com/rust-lang/crates.io-index"
dependencies = ["libc"]

[[package]]
name = "libc"
version = "0.2.150"
source = "registry+https://github.com/rust-lang/crates.io-index"
"#;
        let limits = Limits::default();
        let ctx = Ctx::new("Cargo.lock", &limits);
        let c = parse_lock(lock.as_bytes(), &ctx).unwrap();
        assert_eq!(c.len(), 3);
        let time = c.iter().find(|c| c.name == "time").unwrap();
        assert_eq!(time.relationship, Relationship::Direct);
        assert_eq!(
            time.depends_on.iter().collect::<Vec<_>>(),
            ["pkg:cargo/libc@0.2.150"]
        );
        let libc = c.iter().find(|c| c.name == "libc").unwrap();
        assert_eq!(libc.relationship, Relationship::Transitive);
        let err = parse_lock(b"[[package]]\nname = 1\n", &ctx).unwrap_err();
        assert!(err.to_string().starts_with("Cargo.lock:"), "{err}");
    }
}
