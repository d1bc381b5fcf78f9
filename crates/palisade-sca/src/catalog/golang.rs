//! Go: `go.mod` (requirements with `// indirect` markers and `replace`
//! directives) and the build information the Go toolchain (1.18+) embeds
//! in binaries (`.go.buildinfo`: Go version, main module, dependencies
//! with replacements). The standard library is reported as
//! `pkg:golang/stdlib@vX.Y.Z`, as OSV names it.

#![deny(clippy::indexing_slicing)]

use std::collections::BTreeMap;

use super::Ctx;
use crate::component::{Component, Ecosystem, Relationship};
use crate::error::Result;

/// A module path with an optional version (the left side of `replace`).
type ModuleAt = (String, Option<String>);

/// A Go module component: namespace is the path up to the last `/`.
pub fn module(path: &str, version: &str, found_by: &str, ctx: &Ctx<'_>) -> Component {
    let (ns, name) = match path.rsplit_once('/') {
        Some((ns, n)) => (Some(ns), n),
        None => (None, path),
    };
    Component::new(Ecosystem::Go, ns, name, version, found_by, ctx.location())
}

pub fn parse_mod(bytes: &[u8], ctx: &Ctx<'_>) -> Result<Vec<Component>> {
    let text = ctx.text(bytes)?;
    let mut requires: Vec<(String, String, bool, usize)> = Vec::new();
    let mut replaces: BTreeMap<ModuleAt, Option<(String, String)>> = BTreeMap::new();
    let mut block: Option<&str> = None;
    for (i, raw) in text.lines().enumerate() {
        let lineno = i + 1;
        let (code, comment) = match raw.split_once("//") {
            Some((c, m)) => (c.trim(), m.trim()),
            None => (raw.trim(), ""),
        };
        if code.is_empty() {
            continue;
        }
        let (directive, rest) = match block {
            Some(d) if code == ")" => {
                let _ = d;
                block = None;
                continue;
            }
            Some(d) => (d, code),
            None => {
                let (d, rest) = code.split_once(char::is_whitespace).unwrap_or((code, ""));
                let rest = rest.trim();
                if rest == "(" {
                    block = Some(match d {
                        "require" => "require",
                        "replace" => "replace",
                        _ => "other",
                    });
                    continue;
                }
                (d, rest)
            }
        };
        match directive {
            "require" => {
                let mut f = rest.split_whitespace();
                let (Some(p), Some(v)) = (f.next(), f.next()) else {
                    return Err(ctx.err_at(lineno, format!("malformed require: `{}`", raw.trim())));
                };
                ctx.check_count(requires.len())?;
                requires.push((unquote(p), unquote(v), comment.contains("indirect"), lineno));
            }
            "replace" => {
                let Some((old, new)) = rest.split_once("=>") else {
                    return Err(ctx.err_at(lineno, format!("malformed replace: `{}`", raw.trim())));
                };
                let mut o = old.split_whitespace();
                let old_path = o.next().map(unquote).unwrap_or_default();
                let old_ver = o.next().map(unquote);
                let mut n = new.split_whitespace();
                let new_path = n.next().map(unquote).unwrap_or_default();
                let new_ver = n.next().map(unquote);
                // A local directory replacement has no version: not a module we can name.
                let target = new_ver.map(|v| (new_path, v));
                replaces.insert((old_path, old_ver), target);
            }
            _ => {}
        }
    }
    if block.is_some() {
        return Err(ctx.err("unterminated `(` block"));
    }
    let mut out = Vec::new();
    for (path, version, indirect, _) in requires {
        let rep = replaces
            .get(&(path.clone(), Some(version.clone())))
            .or_else(|| replaces.get(&(path.clone(), None)));
        let (path, version) = match rep {
            Some(Some((p, v))) => (p.clone(), v.clone()),
            Some(None) => continue,
            None => (path, version),
        };
        let mut c = module(&path, &version, "go-mod", ctx);
        c.relationship = if indirect {
            Relationship::Transitive
        } else {
            Relationship::Direct
        };
        out.push(c);
    }
    Ok(out)
}

fn unquote(s: &str) -> String {
    s.trim_matches('"').trim_matches('`').to_owned()
}

const MAGIC: &[u8] = b"\xff Go buildinf:";

fn uvarint(b: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v: u64 = 0;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*pos)?;
        *pos += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

fn take_string<'a>(b: &'a [u8], pos: &mut usize) -> Option<&'a [u8]> {
    let len = usize::try_from(uvarint(b, pos)?).ok()?;
    let s = b.get(*pos..pos.checked_add(len)?)?;
    *pos += len;
    Some(s)
}

/// Parses a `.go.buildinfo` section. Binaries from Go before 1.18 keep
/// the strings behind pointers; they yield nothing (noted in the docs).
pub fn parse_buildinfo(b: &[u8], ctx: &Ctx<'_>) -> Result<Vec<Component>> {
    if !b.starts_with(MAGIC) {
        return Err(ctx.err("`.go.buildinfo` section without the Go build info header"));
    }
    let flags = b.get(15).copied().unwrap_or(0);
    if flags & 2 == 0 {
        return Ok(Vec::new());
    }
    let mut pos = 32;
    let bad = || ctx.err("truncated Go build info");
    let go_version =
        String::from_utf8_lossy(take_string(b, &mut pos).ok_or_else(bad)?).into_owned();
    let modinfo = take_string(b, &mut pos).ok_or_else(bad)?;
    // 16-byte sentinels around the module information.
    let modinfo = if modinfo.len() >= 33 {
        modinfo.get(16..modinfo.len() - 16).unwrap_or(&[])
    } else {
        modinfo
    };
    let modinfo = String::from_utf8_lossy(modinfo);
    let mut out: Vec<Component> = Vec::new();
    let mut main_ref = None;
    for line in modinfo.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        match f.as_slice() {
            ["mod", path, version, ..] if *version != "(devel)" && !version.is_empty() => {
                let c = module(path, version, "go-binary", ctx);
                main_ref = Some(c.bom_ref.clone());
                out.push(c);
            }
            ["dep", path, version, ..] => {
                ctx.check_count(out.len())?;
                let mut c = module(path, version, "go-binary", ctx);
                c.relationship = Relationship::Unknown;
                out.push(c);
            }
            ["=>", path, version, ..] if !version.is_empty() => {
                // Replaces the dependency just read.
                if let Some(last) = out.pop() {
                    let mut c = module(path, version, "go-binary", ctx);
                    c.relationship = last.relationship;
                    out.push(c);
                }
            }
            ["=>", ..] => {
                out.pop(); // replaced by a local directory
            }
            _ => {}
        }
    }
    if let Some(v) = go_version.strip_prefix("go") {
        // `go1.22.1`, maybe with ` X:…` experiment suffixes.
        let v = v.split([' ', '-']).next().unwrap_or(v);
        if !v.is_empty() {
            out.push(Component::new(
                Ecosystem::Go,
                None,
                "stdlib",
                &format!("v{v}"),
                "go-binary",
                ctx.location(),
            ));
        }
    }
    if let Some(m) = main_ref {
        let deps: Vec<String> = out
            .iter()
            .map(|c| c.bom_ref.clone())
            .filter(|r| *r != m)
            .collect();
        if let Some(main) = out.iter_mut().find(|c| c.bom_ref == m) {
            main.depends_on = deps.into_iter().collect();
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Limits;

    #[test]
    fn parses_go_mod() {
        let m = "module example.com/app\n\ngo 1.21\n\nrequire (\n\tgithub.com/gorilla/mux v1.8.0\n\tgolang.org/x/net v0.17.0 // indirect\n\texample.com/local v0.0.0\n)\n\nrequire github.com/pkg/errors v0.9.1\n\nreplace example.com/local => ../local\nreplace golang.org/x/net v0.17.0 => golang.org/x/net v0.23.0\n";
        let limits = Limits::default();
        let ctx = Ctx::new("go.mod", &limits);
        let c = parse_mod(m.as_bytes(), &ctx).unwrap();
        let refs: Vec<&str> = c.iter().map(|c| c.bom_ref.as_str()).collect();
        assert_eq!(
            refs,
            [
                "pkg:golang/github.com/gorilla/mux@v1.8.0",
                "pkg:golang/golang.org/x/net@v0.23.0",
                "pkg:golang/github.com/pkg/errors@v0.9.1"
            ]
        );
        assert_eq!(c[1].relationship, Relationship::Transitive);
        assert_eq!(c[1].osv_name(), "golang.org/x/net");
        let e = parse_mod(b"require (\n  bad\n)\n", &ctx).unwrap_err();
        assert_eq!(e.to_string(), "go.mod:2: malformed require: `bad`");
        assert!(parse_mod(b"require (\n", &ctx).is_err());
    }

    #[test]
    fn buildinfo_never_panics_on_truncation() {
        let limits = Limits::default();
        let ctx = Ctx::new("bin", &limits);
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&[8, 2]);
        b.resize(32, 0);
        b.push(8);
        b.extend_from_slice(b"go1.22.1");
        b.push(0xff);
        for cut in 0..b.len() {
            let _ = parse_buildinfo(&b[..cut], &ctx);
        }
        assert!(parse_buildinfo(&b, &ctx).is_err());
    }
}
