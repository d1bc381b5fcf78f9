//! Yarn: `yarn.lock` in the classic v1 format (its own syntax) and the
//! Berry (v2+) format (YAML with `__metadata`), with dependency edges;
//! direct dependencies from the `package.json` beside the lockfile.

#![deny(clippy::indexing_slicing)]

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::Ctx;
use super::npm::{component, is_registry_version, sibling_manifest_deps};
use crate::component::{Component, Relationship};
use crate::error::Result;

struct Entry {
    descriptors: Vec<String>,
    name: String,
    version: String,
    deps: Vec<(String, String)>,
}

pub fn parse(bytes: &[u8], ctx: &Ctx<'_>) -> Result<Vec<Component>> {
    let text = ctx.text(bytes)?;
    let berry = text.lines().any(|l| l.starts_with("__metadata:"));
    let entries = if berry {
        berry_entries(bytes, ctx)?
    } else {
        v1_entries(text, ctx)?
    };
    let mut by_desc: BTreeMap<String, String> = BTreeMap::new();
    let mut comps = Vec::new();
    for e in &entries {
        let c = component(&e.name, &e.version, "yarn-lock", ctx);
        for d in &e.descriptors {
            by_desc.insert(d.clone(), c.bom_ref.clone());
        }
        comps.push(c);
    }
    let direct = sibling_manifest_deps(ctx);
    for (c, e) in comps.iter_mut().zip(&entries) {
        for (n, range) in &e.deps {
            let key = if berry && !range.contains(':') {
                format!("{n}@npm:{range}")
            } else {
                format!("{n}@{range}")
            };
            if let Some(r) = by_desc.get(&key) {
                c.depends_on.insert(r.clone());
            }
        }
        if let Some(d) = &direct {
            // `package.json` names an aliased package by its alias.
            let declared = d.contains(&e.name)
                || e.descriptors
                    .iter()
                    .filter_map(|desc| split_descriptor(desc))
                    .any(|(n, _)| d.contains(n));
            c.relationship = if declared {
                Relationship::Direct
            } else {
                Relationship::Transitive
            };
        }
    }
    // Two ranges resolved to one version appear once.
    let mut seen = BTreeSet::new();
    comps.retain(|c| seen.insert(c.bom_ref.clone()));
    Ok(comps)
}

/// `"@a/b@^1", c@2:` → descriptors; the name is the part before the last
/// `@` that is not the scope's.
fn split_descriptor(d: &str) -> Option<(&str, &str)> {
    let at = d.get(1..)?.find('@')? + 1;
    Some((d.get(..at)?, d.get(at + 1..)?))
}

/// The package a v1 descriptor installs: its own name, or for an alias
/// (`lo@npm:lodash@^4`, `x@npm:@scope/pkg@1`) the real package's.
fn v1_package_name(d: &str) -> Option<&str> {
    let (name, range) = split_descriptor(d)?;
    Some(
        range
            .strip_prefix("npm:")
            .and_then(split_descriptor)
            .map_or(name, |(real, _)| real),
    )
}

fn v1_entries(text: &str, ctx: &Ctx<'_>) -> Result<Vec<Entry>> {
    let mut out: Vec<Entry> = Vec::new();
    let mut in_deps = false;
    for (i, line) in text.lines().enumerate() {
        let lineno = i + 1;
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim();
        if indent == 0 {
            let Some(keys) = trimmed.strip_suffix(':') else {
                return Err(
                    ctx.err_at(lineno, format!("expected `descriptor:`, found `{trimmed}`"))
                );
            };
            ctx.check_count(out.len())?;
            let descriptors: Vec<String> = keys
                .split(", ")
                .map(|k| k.trim().trim_matches('"').to_owned())
                .collect();
            let name = descriptors
                .first()
                .and_then(|d| v1_package_name(d))
                .map(str::to_owned)
                .ok_or_else(|| {
                    ctx.err_at(lineno, format!("malformed package descriptor `{keys}`"))
                })?;
            out.push(Entry {
                descriptors,
                name,
                version: String::new(),
                deps: Vec::new(),
            });
            in_deps = false;
            continue;
        }
        let Some(cur) = out.last_mut() else {
            return Err(ctx.err_at(lineno, "indented line before the first entry"));
        };
        if indent <= 2 {
            in_deps = matches!(trimmed, "dependencies:" | "optionalDependencies:");
            if let Some(v) = trimmed.strip_prefix("version ") {
                cur.version = v.trim().trim_matches('"').to_owned();
            }
        } else if in_deps {
            let (n, r) = match trimmed.strip_prefix('"') {
                Some(rest) => rest
                    .split_once('"')
                    .map(|(n, r)| (n, r.trim()))
                    .unwrap_or((rest, "")),
                None => trimmed.split_once(' ').unwrap_or((trimmed, "")),
            };
            cur.deps
                .push((n.to_owned(), r.trim_matches('"').to_owned()));
        }
    }
    for e in &out {
        if e.version.is_empty() {
            return Err(ctx.err(format!(
                "entry `{}` has no version",
                e.descriptors.join(", ")
            )));
        }
    }
    out.retain(|e| is_registry_version(&e.version));
    Ok(out)
}

fn berry_entries(bytes: &[u8], ctx: &Ctx<'_>) -> Result<Vec<Entry>> {
    let doc: BTreeMap<String, Value> = ctx.yaml(bytes)?;
    ctx.check_count(doc.len())?;
    let mut out = Vec::new();
    for (key, v) in &doc {
        if key == "__metadata" {
            continue;
        }
        let resolution = v.get("resolution").and_then(Value::as_str).unwrap_or("");
        let version = match v.get("version") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => continue,
        };
        // Workspaces and links are the project, not dependencies.
        if resolution.contains("@workspace:")
            || resolution.contains("@link:")
            || resolution.contains("@portal:")
        {
            continue;
        }
        let Some((name, _)) = split_descriptor(resolution) else {
            continue;
        };
        if !is_registry_version(&version) {
            continue;
        }
        let deps = v
            .get("dependencies")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, r)| {
                        (
                            k.clone(),
                            r.as_str().map_or_else(|| r.to_string(), str::to_owned),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.push(Entry {
            descriptors: key.split(", ").map(|d| d.trim().to_owned()).collect(),
            name: name.to_owned(),
            version,
            deps,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Limits;

    #[test]
    fn parses_v1_and_berry() {
        let v1 = "# yarn lockfile v1\n\n\"@babel/code-frame@^7.0.0\", \"@babel/code-frame@^7.10.4\":\n  version \"7.12.13\"\n  resolved \"https://registry.yarnpkg.com/x\"\n  dependencies:\n    \"@babel/highlight\" \"^7.12.13\"\n\n\"@babel/highlight@^7.12.13\":\n  version \"7.13.10\"\n";
        let limits = Limits::default();
        let ctx = Ctx::new("yarn.lock", &limits);
        let c = parse(v1.as_bytes(), &ctx).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].bom_ref, "pkg:npm/%40babel/code-frame@7.12.13");
        assert_eq!(
            c[0].depends_on.iter().collect::<Vec<_>>(),
            ["pkg:npm/%40babel/highlight@7.13.10"]
        );
        let berry = "__metadata:\n  version: 6\n  cacheKey: 8\n\n\"app@workspace:.\":\n  version: 0.0.0-use.local\n  resolution: \"app@workspace:.\"\n\n\"ms@npm:^2.1.1\":\n  version: 2.1.3\n  resolution: \"ms@npm:2.1.3\"\n  languageName: node\n  linkType: hard\n\n\"debug@npm:^4.3.4\":\n  version: 4.3.4\n  resolution: \"debug@npm:4.3.4\"\n  dependencies:\n    ms: ^2.1.1\n  languageName: node\n  linkType: hard\n";
        let c = parse(berry.as_bytes(), &ctx).unwrap();
        assert_eq!(c.len(), 2);
        let debug = c.iter().find(|c| c.name == "debug").unwrap();
        assert_eq!(
            debug.depends_on.iter().collect::<Vec<_>>(),
            ["pkg:npm/ms@2.1.3"]
        );
        let e = parse(b"a@1:\n  version \"1\"\nnot a key\n", &ctx).unwrap_err();
        assert!(e.to_string().starts_with("yarn.lock:3:"), "{e}");
    }

    #[test]
    fn v1_aliases_are_the_real_package() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("package.json"),
            r#"{"dependencies":{"lo":"npm:lodash@4.17.4","sp":"npm:@scope/pkg@1.2.3","app-dep":"1"}}"#,
        )
        .unwrap();
        let lock_path = dir.path().join("yarn.lock");
        let v1 = "# yarn lockfile v1\n\n\"lo@npm:lodash@4.17.4\":\n  version \"4.17.4\"\n  resolved \"https://registry.yarnpkg.com/lodash/-/lodash-4.17.4.tgz\"\n\n\"sp@npm:@scope/pkg@1.2.3\":\n  version \"1.2.3\"\n\napp-dep@1:\n  version \"1.0.0\"\n  dependencies:\n    lo \"npm:lodash@4.17.4\"\n\nlodash@^3:\n  version \"3.10.1\"\n";
        let limits = Limits::default();
        let mut ctx = Ctx::new("yarn.lock", &limits);
        ctx.fs_path = Some(&lock_path);
        let c = parse(v1.as_bytes(), &ctx).unwrap();
        let refs: Vec<(&str, Relationship)> = c
            .iter()
            .map(|c| (c.bom_ref.as_str(), c.relationship))
            .collect();
        assert_eq!(
            refs,
            [
                ("pkg:npm/lodash@4.17.4", Relationship::Direct),
                ("pkg:npm/%40scope/pkg@1.2.3", Relationship::Direct),
                ("pkg:npm/app-dep@1.0.0", Relationship::Direct),
                ("pkg:npm/lodash@3.10.1", Relationship::Transitive),
            ]
        );
        assert_eq!(
            c[2].depends_on.iter().collect::<Vec<_>>(),
            ["pkg:npm/lodash@4.17.4"]
        );
    }
}
