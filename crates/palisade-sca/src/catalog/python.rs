//! Python: installed distributions (`*.dist-info/METADATA`,
//! `*.egg-info/PKG-INFO`), pinned `requirements*.txt`, `poetry.lock`,
//! `Pipfile.lock` and `uv.lock`. Names are normalised as PEP 503 says
//! (lower case, runs of `-_.` become `-`) by the purl.

#![deny(clippy::indexing_slicing)]

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::Value;

use super::Ctx;
use crate::component::{Component, Ecosystem, Relationship};
use crate::error::Result;

/// PEP 503 normalisation.
pub fn normalise(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for ch in name.chars() {
        if matches!(ch, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.push(ch.to_ascii_lowercase());
        }
    }
    out
}

fn component(name: &str, version: &str, found_by: &str, ctx: &Ctx<'_>) -> Component {
    Component::new(
        Ecosystem::PyPI,
        None,
        &normalise(name),
        version,
        found_by,
        ctx.location(),
    )
}

pub fn parse_metadata(bytes: &[u8], ctx: &Ctx<'_>) -> Result<Vec<Component>> {
    let text = String::from_utf8_lossy(bytes);
    let mut name = None;
    let mut version = None;
    let mut license_expr = None;
    let mut license = None;
    let mut classifiers = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            break; // the body (description) starts
        }
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let v = v.trim();
        match k {
            "Name" => name = Some(v.to_owned()),
            "Version" => version = Some(v.to_owned()),
            "License-Expression" => license_expr = Some(v.to_owned()),
            "License" if !v.is_empty() && v.len() < 100 && !v.eq_ignore_ascii_case("UNKNOWN") => {
                license = Some(v.to_owned())
            }
            "Classifier" => {
                if let Some(l) = v
                    .strip_prefix("License :: OSI Approved :: ")
                    .or_else(|| v.strip_prefix("License :: "))
                {
                    classifiers.push(classifier_to_spdx(l));
                }
            }
            _ => {}
        }
    }
    let (Some(name), Some(version)) = (name, version) else {
        return Err(ctx.err("package metadata without `Name` or `Version`"));
    };
    let mut c = component(&name, &version, "python-installed", ctx);
    c.licenses = match (license_expr, license) {
        (Some(e), _) => vec![e],
        (None, Some(l)) => vec![l],
        (None, None) => classifiers,
    };
    Ok(vec![c])
}

fn classifier_to_spdx(c: &str) -> String {
    match c {
        "MIT License" => "MIT",
        "BSD License" => "BSD-3-Clause",
        "Apache Software License" => "Apache-2.0",
        "Mozilla Public License 2.0 (MPL 2.0)" => "MPL-2.0",
        "ISC License (ISCL)" => "ISC",
        "Python Software Foundation License" => "PSF-2.0",
        "GNU General Public License v2 (GPLv2)" => "GPL-2.0-only",
        "GNU General Public License v3 (GPLv3)" => "GPL-3.0-only",
        "GNU Lesser General Public License v2 or later (LGPLv2+)" => "LGPL-2.0-or-later",
        "GNU Lesser General Public License v3 (LGPLv3)" => "LGPL-3.0-only",
        other => other,
    }
    .to_owned()
}

/// Pinned requirements: `name==version` (extras, markers, hashes and
/// comments allowed). Ranges, URLs, editable installs and options are not
/// packages with a version and are skipped; `-r` includes are not followed
/// (each `requirements*.txt` in the tree is read on its own).
pub fn parse_requirements(bytes: &[u8], ctx: &Ctx<'_>) -> Result<Vec<Component>> {
    let text = ctx.text(bytes)?;
    let mut out = Vec::new();
    let mut logical = String::new();
    for raw in text.lines() {
        let line = raw.split(" #").next().unwrap_or(raw);
        if line.trim_start().starts_with('#') {
            continue;
        }
        if let Some(cont) = line.trim_end().strip_suffix('\\') {
            logical.push_str(cont);
            logical.push(' ');
            continue;
        }
        logical.push_str(line);
        let l = std::mem::take(&mut logical);
        let l = l.trim();
        if l.is_empty() || l.starts_with('-') {
            continue;
        }
        let spec = l.split(';').next().unwrap_or(l).trim();
        let Some((name, version)) = pinned(spec) else {
            continue;
        };
        ctx.check_count(out.len())?;
        let mut c = component(name, version, "python-requirements", ctx);
        c.relationship = Relationship::Unknown;
        out.push(c);
    }
    Ok(out)
}

/// The name and version of a requirement pinned to one version (PEP 508:
/// `name[extras] op version, op version…`): `foo==1.2`, `foo>=1,==1.2`,
/// `foo === 1.2`. Ranges alone, wildcards (`==1.*`), URLs (`@`) and two
/// different pins are no pin.
fn pinned(spec: &str) -> Option<(&str, &str)> {
    let name_end = spec
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        .unwrap_or(spec.len());
    let (name, mut rest) = spec.split_at(name_end);
    if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return None;
    }
    rest = rest.trim_start();
    if let Some(extras) = rest.strip_prefix('[') {
        rest = extras.split_once(']')?.1.trim_start();
    }
    if rest.starts_with('@') {
        return None;
    }
    let mut version = None;
    for clause in rest.split(',') {
        let clause = clause.trim();
        let Some(v) = clause
            .strip_prefix("===")
            .or_else(|| clause.strip_prefix("=="))
        else {
            continue;
        };
        let v = v.split_whitespace().next().unwrap_or("");
        if v.is_empty() || v.contains('*') || version.is_some_and(|pin| pin != v) {
            return None;
        }
        version = Some(v);
    }
    Some((name, version?))
}

#[derive(Deserialize)]
struct PoetryLock {
    #[serde(default)]
    package: Vec<PoetryPackage>,
}

#[derive(Deserialize)]
struct PoetryPackage {
    name: String,
    version: String,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    dependencies: BTreeMap<String, toml::Value>,
    #[serde(default)]
    source: Option<toml::Value>,
}

pub fn parse_poetry(bytes: &[u8], ctx: &Ctx<'_>) -> Result<Vec<Component>> {
    let lock: PoetryLock = ctx.toml(bytes)?;
    ctx.check_count(lock.package.len())?;
    let refs: BTreeMap<String, String> = lock
        .package
        .iter()
        .map(|p| {
            (
                normalise(&p.name),
                component(&p.name, &p.version, "poetry-lock", ctx).bom_ref,
            )
        })
        .collect();
    let mut out = Vec::new();
    for p in &lock.package {
        // Local directories and git checkouts are not PyPI releases.
        let st = p
            .source
            .as_ref()
            .and_then(|s| s.get("type"))
            .and_then(|t| t.as_str())
            .unwrap_or("");
        if matches!(st, "directory" | "file" | "git" | "url") {
            continue;
        }
        let mut c = component(&p.name, &p.version, "poetry-lock", ctx);
        c.dev = p.category.as_deref() == Some("dev")
            || (!p.groups.is_empty() && !p.groups.iter().any(|g| g == "main"));
        c.depends_on = p
            .dependencies
            .keys()
            .filter_map(|d| refs.get(&normalise(d)).cloned())
            .collect();
        out.push(c);
    }
    Ok(out)
}

pub fn parse_pipfile(bytes: &[u8], ctx: &Ctx<'_>) -> Result<Vec<Component>> {
    let v: Value = ctx.json(bytes)?;
    let mut out = Vec::new();
    for (section, dev) in [("default", false), ("develop", true)] {
        let Some(m) = v.get(section).and_then(Value::as_object) else {
            continue;
        };
        ctx.check_count(m.len() + out.len())?;
        for (name, e) in m {
            let Some(ver) = e
                .get("version")
                .and_then(Value::as_str)
                .and_then(|v| v.strip_prefix("=="))
            else {
                continue;
            };
            let mut c = component(name, ver, "pipfile-lock", ctx);
            c.dev = dev;
            out.push(c);
        }
    }
    Ok(out)
}

#[derive(Deserialize)]
struct UvLock {
    #[serde(default)]
    package: Vec<UvPackage>,
}

#[derive(Deserialize)]
struct UvPackage {
    name: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    source: BTreeMap<String, toml::Value>,
    #[serde(default)]
    dependencies: Vec<UvDep>,
    #[serde(default, rename = "dev-dependencies")]
    dev_dependencies: BTreeMap<String, Vec<UvDep>>,
    #[serde(default, rename = "optional-dependencies")]
    optional_dependencies: BTreeMap<String, Vec<UvDep>>,
}

#[derive(Deserialize)]
struct UvDep {
    name: String,
}

pub fn parse_uv(bytes: &[u8], ctx: &Ctx<'_>) -> Result<Vec<Component>> {
    let lock: UvLock = ctx.toml(bytes)?;
    ctx.check_count(lock.package.len())?;
    let is_local = |p: &UvPackage| {
        ["editable", "virtual", "directory", "path"]
            .iter()
            .any(|k| p.source.contains_key(*k))
    };
    let refs: BTreeMap<String, String> = lock
        .package
        .iter()
        .filter(|p| !is_local(p))
        .filter_map(|p| {
            Some((
                normalise(&p.name),
                component(&p.name, p.version.as_deref()?, "uv-lock", ctx).bom_ref,
            ))
        })
        .collect();
    let mut direct = BTreeSet::new();
    let mut dev_only = BTreeSet::new();
    for p in lock.package.iter().filter(|p| is_local(p)) {
        for d in p
            .dependencies
            .iter()
            .chain(p.optional_dependencies.values().flatten())
        {
            direct.insert(normalise(&d.name));
        }
        for d in p.dev_dependencies.values().flatten() {
            dev_only.insert(normalise(&d.name));
        }
    }
    let has_root = lock.package.iter().any(is_local);
    let mut out = Vec::new();
    for p in lock.package.iter().filter(|p| !is_local(p)) {
        let Some(version) = &p.version else { continue };
        let n = normalise(&p.name);
        let mut c = component(&p.name, version, "uv-lock", ctx);
        if has_root {
            let is_direct = direct.contains(&n) || dev_only.contains(&n);
            c.relationship = if is_direct {
                Relationship::Direct
            } else {
                Relationship::Transitive
            };
            c.dev = dev_only.contains(&n) && !direct.contains(&n);
        }
        c.depends_on = p
            .dependencies
            .iter()
            .filter_map(|d| refs.get(&normalise(&d.name)).cloned())
            .collect();
        out.push(c);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Limits;

    #[test]
    fn normalises_names() {
        assert_eq!(normalise("Jinja2"), "jinja2");
        assert_eq!(normalise("zope.interface"), "zope-interface");
        assert_eq!(normalise("A__b--C"), "a-b-c");
    }

    #[test]
    fn parses_requirements() {
        let r = "# comment\nrequests==2.19.0\nurllib3[socks] == 1.24.1 ; python_version >= \"3\" \\\n    --hash=sha256:abc\nflask>=1.0\n-r other.txt\n-e git+https://x/y.git#egg=y\nPyYAML==5.3  # pinned\n";
        let limits = Limits::default();
        let ctx = Ctx::new("requirements.txt", &limits);
        let c = parse_requirements(r.as_bytes(), &ctx).unwrap();
        let refs: Vec<&str> = c.iter().map(|c| c.bom_ref.as_str()).collect();
        assert_eq!(
            refs,
            [
                "pkg:pypi/requests@2.19.0",
                "pkg:pypi/urllib3@1.24.1",
                "pkg:pypi/pyyaml@5.3"
            ]
        );
    }

    /// Several specifiers on one line: the `==` clause is the pin, the
    /// name stops where PEP 508 names stop.
    #[test]
    fn pins_among_several_specifiers() {
        let r = "pkg_a>=1.0,==1.2\nfoo<2, ==1.5\nqux==1.0,!=1.1\nbar===2.0\nbaz==1.*\ntwo==1,==2\nweb @ https://x/web-1.0.whl\n";
        let limits = Limits::default();
        let ctx = Ctx::new("requirements.txt", &limits);
        let c = parse_requirements(r.as_bytes(), &ctx).unwrap();
        let refs: Vec<&str> = c.iter().map(|c| c.bom_ref.as_str()).collect();
        assert_eq!(
            refs,
            [
                "pkg:pypi/pkg-a@1.2",
                "pkg:pypi/foo@1.5",
                "pkg:pypi/qux@1.0",
                "pkg:pypi/bar@2.0"
            ]
        );
    }

    #[test]
    fn parses_metadata() {
        let m = "Metadata-Version: 2.1\nName: PyYAML\nVersion: 5.3\nLicense: MIT\nClassifier: License :: OSI Approved :: MIT License\n\nbody: x\n";
        let limits = Limits::default();
        let ctx = Ctx::new("x.dist-info/METADATA", &limits);
        let c = parse_metadata(m.as_bytes(), &ctx).unwrap();
        assert_eq!(c[0].bom_ref, "pkg:pypi/pyyaml@5.3");
        assert_eq!(c[0].licenses, ["MIT"]);
        assert!(parse_metadata(b"Name: x\n", &ctx).is_err());
    }
}
