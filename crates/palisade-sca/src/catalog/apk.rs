//! Alpine (and Wolfi) packages: `/lib/apk/db/installed`, one paragraph of
//! `X:value` lines per package (`P` name, `V` version, `A` arch, `L`
//! licence, `o` origin = source package, `D` dependencies, `p` provides).

#![deny(clippy::indexing_slicing)]

use std::collections::{BTreeMap, BTreeSet};

use super::{Ctx, paragraphs};
use crate::component::{Component, Ecosystem, SourcePackage};
use crate::error::Result;
use crate::purl::Purl;

pub fn parse(bytes: &[u8], ctx: &Ctx<'_>) -> Result<Vec<Component>> {
    let text = ctx.text(bytes)?;
    let mut out = Vec::new();
    let mut provider: BTreeMap<String, String> = BTreeMap::new();
    let mut wanted: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (line, para) in paragraphs(text) {
        ctx.check_count(out.len())?;
        let mut f: BTreeMap<char, Vec<&str>> = BTreeMap::new();
        for l in &para {
            let mut chars = l.chars();
            if let (Some(k), Some(':')) = (chars.next(), chars.next()) {
                f.entry(k).or_default().push(l.get(2..).unwrap_or(""));
            }
        }
        let one = |k: char| f.get(&k).and_then(|v| v.first()).copied().unwrap_or("");
        let (name, version) = (one('P'), one('V'));
        if name.is_empty() || version.is_empty() {
            return Err(ctx.err_at(line, "package entry without `P:` (name) or `V:` (version)"));
        }
        let vendor = ctx.distro.map_or("alpine", |d| d.id.as_str());
        let mut purl =
            Purl::new("apk", Some(vendor), name, Some(version)).with_qualifier("arch", one('A'));
        if let Some(d) = ctx.distro {
            purl = purl.with_qualifier("distro", d.purl_qualifier());
        }
        let mut c = Component::from_purl(Ecosystem::Apk, purl, version, "apk", ctx.location());
        let origin = one('o');
        c.source = Some(SourcePackage {
            name: if origin.is_empty() { name } else { origin }.to_owned(),
            version: version.to_owned(),
        });
        c.distro = ctx.distro.cloned();
        let lic = one('L');
        if !lic.is_empty() {
            c.licenses.push(normalise_licence(lic));
        }
        provider.insert(name.to_owned(), c.bom_ref.clone());
        for p in f
            .get(&'p')
            .into_iter()
            .flatten()
            .flat_map(|v| v.split_whitespace())
        {
            let p = p.split(['=', '>', '<', '~']).next().unwrap_or("");
            provider
                .entry(p.to_owned())
                .or_insert_with(|| c.bom_ref.clone());
        }
        let deps = f
            .get(&'D')
            .into_iter()
            .flatten()
            .flat_map(|v| v.split_whitespace())
            .filter(|d| !d.starts_with('!'))
            .map(|d| {
                d.split(['=', '>', '<', '~'])
                    .next()
                    .unwrap_or("")
                    .to_owned()
            })
            .collect();
        wanted.insert(c.bom_ref.clone(), deps);
        out.push(c);
    }
    for c in &mut out {
        if let Some(deps) = wanted.remove(&c.bom_ref) {
            c.depends_on = deps
                .iter()
                .filter_map(|d| provider.get(d))
                .filter(|r| **r != c.bom_ref)
                .cloned()
                .collect::<BTreeSet<_>>();
        }
    }
    Ok(out)
}

/// apk writes `GPL-2.0-or-later AND MIT` or older `GPL2+ MIT`; keep SPDX
/// expressions, join bare space-separated lists with AND.
fn normalise_licence(l: &str) -> String {
    let l = l.trim();
    if l.contains(" AND ") || l.contains(" OR ") || !l.contains(' ') {
        l.to_owned()
    } else {
        l.split_whitespace().collect::<Vec<_>>().join(" AND ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Limits;

    #[test]
    fn parses_installed_db() {
        let db = "C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\no:musl\n\nC:Q1def=\nP:busybox\nV:1.36.1-r15\nA:x86_64\nL:GPL-2.0-only\nD:so:libc.musl-x86_64.so.1 musl>=1.2\n";
        let limits = Limits::default();
        let ctx = Ctx::new("/lib/apk/db/installed", &limits);
        let c = parse(db.as_bytes(), &ctx).unwrap();
        assert_eq!(c[0].bom_ref, "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64");
        assert_eq!(c[1].depends_on.iter().collect::<Vec<_>>(), [&c[0].bom_ref]);
        assert_eq!(c[1].licenses, ["GPL-2.0-only"]);
        assert!(
            parse(b"P:x\n", &ctx)
                .unwrap_err()
                .to_string()
                .contains(":1: package entry without")
        );
    }
}
