//! Ruby: `Gemfile.lock` (the `GEM` section's specs with their dependency
//! edges; direct dependencies from `DEPENDENCIES`) and installed gems'
//! `specifications/*.gemspec` (the generated Ruby is read as text: name,
//! version and licences are literal strings there).

#![deny(clippy::indexing_slicing)]

use std::collections::{BTreeMap, BTreeSet};

use super::Ctx;
use crate::component::{Component, Ecosystem, Relationship};
use crate::error::Result;

fn gem(name: &str, version: &str, found_by: &str, ctx: &Ctx<'_>) -> Component {
    Component::new(
        Ecosystem::RubyGems,
        None,
        name,
        version,
        found_by,
        ctx.location(),
    )
}

/// `1.13.10-x86_64-linux` → `1.13.10` (gem versions have no `-`).
fn strip_platform(v: &str) -> &str {
    v.split('-').next().unwrap_or(v)
}

pub fn parse_lock(bytes: &[u8], ctx: &Ctx<'_>) -> Result<Vec<Component>> {
    let text = ctx.text(bytes)?;
    let mut section = "";
    let mut in_specs = false;
    let mut specs: Vec<(String, String, Vec<String>)> = Vec::new();
    let mut direct = BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let t = line.trim();
        if indent == 0 {
            section = t;
            in_specs = false;
            continue;
        }
        match section {
            "GEM" => {
                if indent == 2 {
                    in_specs = t == "specs:";
                } else if in_specs && indent == 4 {
                    let Some((name, rest)) = t.split_once(" (") else {
                        return Err(
                            ctx.err_at(i + 1, format!("expected `name (version)`, found `{t}`"))
                        );
                    };
                    ctx.check_count(specs.len())?;
                    let v = strip_platform(rest.trim_end_matches(')'));
                    specs.push((name.to_owned(), v.to_owned(), Vec::new()));
                } else if in_specs
                    && indent == 6
                    && let Some(last) = specs.last_mut()
                {
                    last.2.push(t.split(' ').next().unwrap_or(t).to_owned());
                }
            }
            "DEPENDENCIES" if indent == 2 => {
                direct.insert(t.split([' ', '!']).next().unwrap_or(t).to_owned());
            }
            _ => {}
        }
    }
    let refs: BTreeMap<String, String> = specs
        .iter()
        .map(|(n, v, _)| (n.clone(), gem(n, v, "gemfile-lock", ctx).bom_ref))
        .collect();
    let has_direct = !direct.is_empty();
    Ok(specs
        .iter()
        .map(|(n, v, deps)| {
            let mut c = gem(n, v, "gemfile-lock", ctx);
            c.depends_on = deps.iter().filter_map(|d| refs.get(d).cloned()).collect();
            if has_direct {
                c.relationship = if direct.contains(n) {
                    Relationship::Direct
                } else {
                    Relationship::Transitive
                };
            }
            c
        })
        .collect())
}

/// The first string literal on a line: `"rake".freeze` → `rake`.
fn literal(s: &str) -> Option<&str> {
    let start = s.find(['"', '\''])?;
    let q = s.get(start..start + 1)?;
    let rest = s.get(start + 1..)?;
    rest.split(q).next()
}

pub fn parse_gemspec(bytes: &[u8], ctx: &Ctx<'_>) -> Result<Vec<Component>> {
    let text = String::from_utf8_lossy(bytes);
    let (mut name, mut version, mut licenses) = (None, None, Vec::new());
    for line in text.lines() {
        let t = line.trim();
        let Some((lhs, rhs)) = t.split_once('=') else {
            continue;
        };
        let key = lhs.trim().rsplit('.').next().unwrap_or("");
        match key {
            "name" if name.is_none() => name = literal(rhs).map(str::to_owned),
            "version" if version.is_none() => version = literal(rhs).map(str::to_owned),
            "licenses" | "license" => {
                for part in rhs.split(',') {
                    if let Some(l) = literal(part) {
                        licenses.push(l.to_owned());
                    }
                }
            }
            _ => {}
        }
    }
    let (Some(name), Some(version)) = (name, version) else {
        return Err(ctx.err("gemspec without a literal `name` or `version`"));
    };
    let mut c = gem(&name, &version, "gemspec", ctx);
    c.licenses = licenses;
    Ok(vec![c])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Limits;

    #[test]
    fn parses_gemfile_lock_and_gemspec() {
        let lock = "GEM\n  remote: https://rubygems.org/\n  specs:\n    actionpack (5.2.0)\n      rack (~> 2.0)\n    nokogiri (1.13.10-x86_64-linux)\n    rack (2.0.4)\n\nPLATFORMS\n  ruby\n\nDEPENDENCIES\n  actionpack (= 5.2.0)\n  nokogiri!\n";
        let limits = Limits::default();
        let ctx = Ctx::new("Gemfile.lock", &limits);
        let c = parse_lock(lock.as_bytes(), &ctx).unwrap();
        assert_eq!(c.len(), 3);
        assert_eq!(
            c[0].depends_on.iter().collect::<Vec<_>>(),
            ["pkg:gem/rack@2.0.4"]
        );
        assert_eq!(c[1].bom_ref, "pkg:gem/nokogiri@1.13.10");
        assert_eq!(c[1].relationship, Relationship::Direct);
        assert_eq!(c[2].relationship, Relationship::Transitive);
        assert!(
            parse_lock(b"GEM\n  specs:\n    broken\n", &ctx)
                .unwrap_err()
                .to_string()
                .contains("Gemfile.lock:3:")
        );
        let spec = "Gem::Specification.new do |s|\n  s.name = \"rake\".freeze\n  s.version = \"13.0.6\"\n  s.licenses = [\"MIT\".freeze]\nend\n";
        let c = parse_gemspec(spec.as_bytes(), &ctx).unwrap();
        assert_eq!(c[0].bom_ref, "pkg:gem/rake@13.0.6");
        assert_eq!(c[0].licenses, ["MIT"]);
    }
}
