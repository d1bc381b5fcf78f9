//! Debian packages: `/var/lib/dpkg/status` (installed packages, with their
//! dependency graph) and distroless `/var/lib/dpkg/status.d/*` (one file
//! per package). Licences come from the package's machine-readable
//! `/usr/share/doc/PKG/copyright` when the root is on disk.

#![deny(clippy::indexing_slicing)]

use std::collections::{BTreeMap, BTreeSet};

use super::{Ctx, paragraphs};
use crate::component::{Component, Ecosystem, SourcePackage};
use crate::error::Result;
use crate::purl::Purl;

/// Largest copyright file read for licences.
const MAX_COPYRIGHT_BYTES: u64 = 1024 * 1024;

pub fn parse(bytes: &[u8], ctx: &Ctx<'_>) -> Result<Vec<Component>> {
    let text = ctx.text(bytes)?;
    let mut out = Vec::new();
    let mut deps_by_name: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut ref_by_name: BTreeMap<String, String> = BTreeMap::new();
    for (line, para) in paragraphs(text) {
        ctx.check_count(out.len())?;
        let fields = fields(&para);
        let get = |k: &str| fields.get(k).map(String::as_str).unwrap_or("");
        let name = get("Package");
        if name.is_empty() {
            return Err(ctx.err_at(line, "paragraph without a `Package` field"));
        }
        // status.d entries carry no Status; in status only installed count.
        if let Some(status) = fields.get("Status")
            && !status.ends_with(" installed")
        {
            continue;
        }
        let version = get("Version");
        if version.is_empty() {
            return Err(ctx.err_at(line, format!("package `{name}` has no `Version`")));
        }
        let arch = get("Architecture");
        let (src_name, src_version) = match get("Source") {
            "" => (name.to_owned(), version.to_owned()),
            s => match s.split_once('(') {
                Some((n, v)) => (
                    n.trim().to_owned(),
                    v.trim_end_matches(')').trim().to_owned(),
                ),
                None => (s.trim().to_owned(), version.to_owned()),
            },
        };
        let c = component(ctx, name, version, arch, &src_name, &src_version);
        let mut deps = Vec::new();
        for field in ["Depends", "Pre-Depends"] {
            for dep in get(field).split(',') {
                // `a (>= 1) | b` — record every alternative; the missing ones drop out.
                for alt in dep.split('|') {
                    let n = alt.trim().split([' ', '(', ':']).next().unwrap_or("");
                    if !n.is_empty() {
                        deps.push(n.to_owned());
                    }
                }
            }
        }
        ref_by_name.insert(name.to_owned(), c.bom_ref.clone());
        deps_by_name.insert(c.bom_ref.clone(), deps);
        out.push(c);
    }
    for c in &mut out {
        if let Some(deps) = deps_by_name.remove(&c.bom_ref) {
            c.depends_on = deps
                .iter()
                .filter_map(|n| ref_by_name.get(n))
                .filter(|r| **r != c.bom_ref)
                .cloned()
                .collect::<BTreeSet<_>>();
        }
    }
    Ok(out)
}

fn component(
    ctx: &Ctx<'_>,
    name: &str,
    version: &str,
    arch: &str,
    src_name: &str,
    src_version: &str,
) -> Component {
    let distro = ctx.distro;
    let vendor = distro.map_or("debian", |d| d.id.as_str());
    let (epoch, plain) = match version.split_once(':') {
        Some((e, v)) if e.bytes().all(|b| b.is_ascii_digit()) => (e, v),
        _ => ("", version),
    };
    let mut purl = Purl::new("deb", Some(vendor), name, Some(plain)).with_qualifier("arch", arch);
    if let Some(d) = distro {
        purl = purl.with_qualifier("distro", d.purl_qualifier());
    }
    if !epoch.is_empty() && epoch != "0" {
        purl = purl.with_qualifier("epoch", epoch);
    }
    let mut c = Component::from_purl(Ecosystem::Deb, purl, version, "dpkg", ctx.location());
    c.source = Some(SourcePackage {
        name: src_name.to_owned(),
        version: src_version.to_owned(),
    });
    c.distro = distro.cloned();
    c.licenses = licenses(ctx, name);
    c
}

/// `Key: value` fields with continuation lines folded in.
fn fields<'a>(para: &[&'a str]) -> BTreeMap<&'a str, String> {
    let mut m: BTreeMap<&str, String> = BTreeMap::new();
    let mut last: Option<&str> = None;
    for line in para {
        if line.starts_with([' ', '\t']) {
            if let Some(k) = last
                && let Some(v) = m.get_mut(k)
            {
                // Only short folded fields matter here (Depends); skip long descriptions.
                if v.len() < 64 * 1024 {
                    v.push(' ');
                    v.push_str(line.trim());
                }
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            m.insert(k, v.trim().to_owned());
            last = Some(k);
        }
    }
    m
}

/// Licences from a DEP-5 copyright file (`License:` lines), mapped to SPDX
/// identifiers where Debian's short names have one.
fn licenses(ctx: &Ctx<'_>, package: &str) -> Vec<String> {
    let Some(root) = ctx.fs_root else {
        return Vec::new();
    };
    if package.contains('/') || package.contains("..") {
        return Vec::new();
    }
    let path = root.join("usr/share/doc").join(package).join("copyright");
    let Ok(meta) = std::fs::symlink_metadata(&path) else {
        return Vec::new();
    };
    if !meta.is_file() || meta.len() > MAX_COPYRIGHT_BYTES {
        return Vec::new();
    }
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Vec::new();
    };
    copyright_licenses(&text)
}

/// The `License:` short names of a DEP-5 copyright file, in order, unique.
pub fn copyright_licenses(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        let Some(v) = line.strip_prefix("License:") else {
            continue;
        };
        let v = v.trim();
        if v.is_empty() {
            continue;
        }
        // `GPL-2+ or Artistic` — keep each name.
        for part in v.split(" or ").flat_map(|p| p.split(" and ")) {
            let id = spdx_of_debian(part.trim().trim_matches(','));
            if !id.is_empty() && !out.contains(&id) {
                out.push(id);
            }
        }
    }
    out
}

fn spdx_of_debian(name: &str) -> String {
    let (base, plus) = match name.strip_suffix('+') {
        Some(b) => (b, true),
        None => (name, false),
    };
    let mapped = match base {
        "GPL-1" | "GPL-2" | "GPL-3" | "LGPL-2" | "LGPL-2.1" | "LGPL-3" | "AGPL-3" | "GFDL-1.2"
        | "GFDL-1.3" => {
            let (fam, ver) = base.split_once('-').unwrap_or((base, ""));
            let ver = if ver.contains('.') {
                ver.to_owned()
            } else {
                format!("{ver}.0")
            };
            return format!("{fam}-{ver}-{}", if plus { "or-later" } else { "only" });
        }
        "Apache-2.0" | "Apache-2" => "Apache-2.0",
        "BSD-2-clause" | "BSD-2-Clause" => "BSD-2-Clause",
        "BSD-3-clause" | "BSD-3-Clause" => "BSD-3-Clause",
        "BSD-4-clause" | "BSD-4-Clause" => "BSD-4-Clause",
        "MIT" | "Expat" => "MIT",
        "Zlib" | "zlib" => "Zlib",
        "MPL-2.0" => "MPL-2.0",
        "ISC" => "ISC",
        "CC0-1.0" | "CC0" => "CC0-1.0",
        "Artistic" | "Artistic-1.0" => "Artistic-1.0",
        "Artistic-2.0" => "Artistic-2.0",
        "public-domain" => return "LicenseRef-public-domain".to_owned(),
        other => {
            // Keep other declared names as written; tidy to an SPDX-safe ref.
            if other.is_empty() || other.len() > 64 {
                return String::new();
            }
            return other.to_owned();
        }
    };
    if plus {
        format!("{mapped}+")
    } else {
        mapped.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Limits;
    use crate::component::Distro;

    #[test]
    fn maps_debian_licence_names() {
        let t = "Files: *\nLicense: GPL-2+\n\nFiles: x\nLicense: LGPL-2.1 or BSD-3-clause\nLicense: Expat\n";
        assert_eq!(
            copyright_licenses(t),
            ["GPL-2.0-or-later", "LGPL-2.1-only", "BSD-3-Clause", "MIT"]
        );
    }

    #[test]
    fn parses_status_with_epochs_sources_and_edges() {
        let status = "Package: bsdutils\nStatus: install ok installed\nArchitecture: amd64\nSource: util-linux (2.38.1-5+deb12u3)\nVersion: 1:2.38.1-5+deb12u3\nPre-Depends: libc6 (>= 2.34), libsystemd0\nDescription: x\n continued\n\nPackage: libc6\nStatus: install ok installed\nArchitecture: amd64\nSource: glibc\nVersion: 2.36-9+deb12u10\n\nPackage: gone\nStatus: deinstall ok config-files\nVersion: 1\n";
        let limits = Limits::default();
        let distro = Distro {
            id: "debian".into(),
            version_id: "12".into(),
            codename: "bookworm".into(),
            pretty_name: String::new(),
        };
        let mut ctx = Ctx::new("/var/lib/dpkg/status", &limits);
        ctx.distro = Some(&distro);
        let c = parse(status.as_bytes(), &ctx).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(
            c[0].bom_ref,
            "pkg:deb/debian/bsdutils@2.38.1-5%2Bdeb12u3?arch=amd64&distro=debian-12&epoch=1"
        );
        assert_eq!(c[0].version, "1:2.38.1-5+deb12u3");
        assert_eq!(c[0].source.as_ref().unwrap().name, "util-linux");
        assert_eq!(c[0].source.as_ref().unwrap().version, "2.38.1-5+deb12u3");
        assert_eq!(c[0].depends_on.iter().collect::<Vec<_>>(), [&c[1].bom_ref]);
        assert_eq!(c[1].source.as_ref().unwrap().version, "2.36-9+deb12u10");
        let err = parse(b"Version: 1\n", &ctx).unwrap_err();
        assert_eq!(
            err.to_string(),
            "/var/lib/dpkg/status:1: paragraph without a `Package` field"
        );
        let err = parse(
            b"Package: a\n\nPackage: b\nStatus: install ok installed\n",
            &ctx,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains(":1: package `a` has no `Version`"),
            "{err}"
        );
    }
}
