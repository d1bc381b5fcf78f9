//! Java: `pom.xml` dependencies with literal versions (or properties of the
//! same POM), and archives (JAR, WAR, EAR, …): every
//! `META-INF/maven/**/pom.properties`, else `META-INF/MANIFEST.MF`, else
//! the file name; archives nested inside archives are opened in memory up
//! to [`super::Limits::max_nesting`] levels. Locations of nested archives
//! read `outer.war!WEB-INF/lib/inner.jar`.

#![deny(clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::io::{Read, Seek};

use super::Ctx;
use crate::component::{Component, Ecosystem, Location, Relationship};
use crate::error::{Error, Result};

/// Most entries read from one archive.
const MAX_ZIP_ENTRIES: usize = 200_000;
/// Largest nested archive or metadata file read into memory.
const MAX_NESTED_BYTES: u64 = 256 * 1024 * 1024;
const MAX_META_BYTES: u64 = 1024 * 1024;

fn maven(group: &str, artifact: &str, version: &str, found_by: &str, path: &str) -> Component {
    Component::new(
        Ecosystem::Maven,
        Some(group),
        artifact,
        version,
        found_by,
        Location::file(path),
    )
}

pub fn parse_pom(bytes: &[u8], ctx: &Ctx<'_>) -> Result<Vec<Component>> {
    let text = ctx.text(bytes)?;
    let opts = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: 1_000_000,
        ..Default::default()
    };
    let doc = roxmltree::Document::parse_with_options(text, opts).map_err(|e| {
        let p = e.pos();
        Error::Parse {
            path: ctx.path.to_owned(),
            line: Some(p.row),
            column: Some(p.col),
            message: format!("invalid XML: {e}"),
        }
    })?;
    let project = doc.root_element();
    if project.tag_name().name() != "project" {
        return Err(ctx.err("not a Maven POM (the root element is not `project`)"));
    }
    let child = |n: roxmltree::Node<'_, '_>, name: &str| -> Option<String> {
        n.children()
            .find(|c| c.tag_name().name() == name)
            .and_then(|c| c.text())
            .map(|t| t.trim().to_owned())
    };
    let mut props: BTreeMap<String, String> = BTreeMap::new();
    if let Some(p) = project
        .children()
        .find(|c| c.tag_name().name() == "properties")
    {
        for e in p.children().filter(|c| c.is_element()) {
            props.insert(
                e.tag_name().name().to_owned(),
                e.text().unwrap_or("").trim().to_owned(),
            );
        }
    }
    let parent = project.children().find(|c| c.tag_name().name() == "parent");
    let own_version =
        child(project, "version").or_else(|| parent.and_then(|p| child(p, "version")));
    let own_group = child(project, "groupId").or_else(|| parent.and_then(|p| child(p, "groupId")));
    if let Some(v) = &own_version {
        props.insert("project.version".into(), v.clone());
        props.insert("version".into(), v.clone());
    }
    if let Some(g) = &own_group {
        props.insert("project.groupId".into(), g.clone());
    }
    let resolve = |s: &str| -> Option<String> {
        let mut s = s.to_owned();
        for _ in 0..8 {
            let Some(start) = s.find("${") else {
                return Some(s);
            };
            let end = s.get(start..)?.find('}')? + start;
            let key = s.get(start + 2..end)?.to_owned();
            let val = props.get(&key)?;
            s.replace_range(start..=end, val);
        }
        None
    };
    let mut out = Vec::new();
    let Some(deps) = project
        .children()
        .find(|c| c.tag_name().name() == "dependencies")
    else {
        return Ok(out);
    };
    for d in deps
        .children()
        .filter(|c| c.tag_name().name() == "dependency")
    {
        ctx.check_count(out.len())?;
        let (Some(g), Some(a)) = (child(d, "groupId"), child(d, "artifactId")) else {
            continue;
        };
        // Versions from dependencyManagement, parents or BOMs are not known here.
        let Some(v) = child(d, "version").and_then(|v| resolve(&v)) else {
            continue;
        };
        let (Some(g), Some(a)) = (resolve(&g), resolve(&a)) else {
            continue;
        };
        if v.is_empty() || v.starts_with('[') || v.starts_with('(') {
            continue;
        }
        let mut c = maven(&g, &a, &v, "maven-pom", ctx.path);
        c.relationship = Relationship::Direct;
        c.dev = child(d, "scope").as_deref() == Some("test");
        out.push(c);
    }
    Ok(out)
}

/// Catalogues an archive held in memory.
pub fn parse_archive_bytes(bytes: &[u8], ctx: &Ctx<'_>) -> Result<Vec<Component>> {
    archive(std::io::Cursor::new(bytes), ctx.path, ctx, 0)
}

/// Catalogues an archive on disk.
pub fn parse_archive_file(path: &std::path::Path, ctx: &Ctx<'_>) -> Result<Vec<Component>> {
    let f = std::fs::File::open(path).map_err(|e| Error::io(ctx.path, &e))?;
    archive(std::io::BufReader::new(f), ctx.path, ctx, 0)
}

fn read_entry<R: Read>(r: R, limit: u64, display: &str) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    r.take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Error::parse(display, format!("corrupt archive entry: {e}")))?;
    if buf.len() as u64 > limit {
        return Err(Error::limit(
            display,
            format!("archive entry larger than {limit} bytes"),
        ));
    }
    Ok(buf)
}

fn is_archive_name(n: &str) -> bool {
    let l = n.to_ascii_lowercase();
    [".jar", ".war", ".ear", ".par", ".sar", ".jpi", ".hpi"]
        .iter()
        .any(|e| l.ends_with(e))
}

fn archive<R: Read + Seek>(
    reader: R,
    display: &str,
    ctx: &Ctx<'_>,
    depth: usize,
) -> Result<Vec<Component>> {
    if depth > ctx.limits.max_nesting {
        return Err(Error::limit(
            display,
            format!(
                "archives nested deeper than {} levels",
                ctx.limits.max_nesting
            ),
        ));
    }
    let mut zip = zip::ZipArchive::new(reader)
        .map_err(|e| Error::parse(display, format!("not a readable JAR/ZIP archive: {e}")))?;
    if zip.len() > MAX_ZIP_ENTRIES {
        return Err(Error::limit(
            display,
            format!("archive has more than {MAX_ZIP_ENTRIES} entries"),
        ));
    }
    let mut poms = Vec::new();
    let mut manifest = None;
    let mut nested = Vec::new();
    let names: Vec<String> = zip
        .file_names()
        .map(|n| n.map(|n| n.into_owned()))
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| Error::parse(display, format!("corrupt archive: {e}")))?;
    for name in &names {
        if name.starts_with("META-INF/maven/") && name.ends_with("/pom.properties") {
            poms.push(name.clone());
        } else if name.eq_ignore_ascii_case("META-INF/MANIFEST.MF") {
            manifest = Some(name.clone());
        } else if is_archive_name(name) {
            nested.push(name.clone());
        }
    }
    poms.sort();
    nested.sort();
    let mut out = Vec::new();
    for name in &poms {
        let f = zip
            .by_name(name)
            .map_err(|e| Error::parse(display, format!("corrupt archive: {e}")))?;
        let text = read_entry(f, MAX_META_BYTES, display)?;
        let props = properties(&String::from_utf8_lossy(&text));
        if let (Some(g), Some(a), Some(v)) = (
            props.get("groupId"),
            props.get("artifactId"),
            props.get("version"),
        ) && !g.is_empty()
            && !a.is_empty()
            && !v.is_empty()
        {
            out.push(maven(g, a, v, "java-archive", display));
        }
    }
    if out.is_empty() {
        let mf = match &manifest {
            Some(m) => {
                let f = zip
                    .by_name(m)
                    .map_err(|e| Error::parse(display, format!("corrupt archive: {e}")))?;
                Some(manifest_fields(&String::from_utf8_lossy(&read_entry(
                    f,
                    MAX_META_BYTES,
                    display,
                )?)))
            }
            None => None,
        };
        if let Some(c) = from_manifest_or_name(mf.as_ref(), display) {
            out.push(c);
        }
    }
    for name in &nested {
        let inner_display = format!("{display}!{name}");
        let f = match zip.by_name(name) {
            Ok(f) => f,
            Err(e) => return Err(Error::parse(display, format!("corrupt archive: {e}"))),
        };
        if f.size() > MAX_NESTED_BYTES {
            continue;
        }
        let bytes = read_entry(f, MAX_NESTED_BYTES, &inner_display)?;
        // A broken nested archive does not hide the outer one's packages.
        match archive(std::io::Cursor::new(bytes), &inner_display, ctx, depth + 1) {
            Ok(cs) => out.extend(cs),
            Err(_) => continue,
        }
        ctx.check_count(out.len())?;
    }
    Ok(out)
}

fn properties(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

fn manifest_fields(text: &str) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    let mut last: Option<String> = None;
    for line in text.lines() {
        if let Some(cont) = line.strip_prefix(' ') {
            if let Some(k) = &last
                && let Some(v) = m.get_mut(k)
            {
                let v: &mut String = v;
                v.push_str(cont);
            }
            continue;
        }
        if line.is_empty() {
            break; // only the main section
        }
        if let Some((k, v)) = line.split_once(':') {
            m.insert(k.trim().to_owned(), v.trim().to_owned());
            last = Some(k.trim().to_owned());
        }
    }
    m
}

/// Without pom.properties: the manifest's vendor id / symbolic name and
/// version, else `artifact-1.2.3.jar`.
fn from_manifest_or_name(
    mf: Option<&BTreeMap<String, String>>,
    display: &str,
) -> Option<Component> {
    let file = display.rsplit(['/', '!']).next().unwrap_or(display);
    let stem = file.rsplit_once('.').map_or(file, |(s, _)| s);
    let (name_from_file, version_from_file) = split_name_version(stem);
    let get = |k: &str| mf.and_then(|m| m.get(k)).filter(|v| !v.is_empty()).cloned();
    let version = get("Implementation-Version")
        .or_else(|| get("Bundle-Version"))
        .or(version_from_file)?;
    let artifact = name_from_file.to_owned();
    let group = get("Implementation-Vendor-Id").or_else(|| {
        get("Bundle-SymbolicName").map(|s| {
            let s = s.split(';').next().unwrap_or(&s).to_owned();
            match s.rsplit_once('.') {
                Some((g, last)) if last == artifact => g.to_owned(),
                _ => s,
            }
        })
    });
    let group = group.unwrap_or_else(|| artifact.clone());
    Some(maven(&group, &artifact, &version, "java-archive", display))
}

/// `commons-text-1.9` → (`commons-text`, `1.9`).
fn split_name_version(stem: &str) -> (&str, Option<String>) {
    let mut idx = None;
    for (i, _) in stem.match_indices('-') {
        if stem
            .get(i + 1..i + 2)
            .is_some_and(|c| c.bytes().all(|b| b.is_ascii_digit()))
        {
            idx = Some(i);
            break;
        }
    }
    match idx {
        Some(i) => (
            stem.get(..i).unwrap_or(stem),
            stem.get(i + 1..).map(str::to_owned),
        ),
        None => (stem, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Limits;

    #[test]
    fn parses_pom_with_properties() {
        let pom = r#"<?xml version="1.0"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <groupId>com.example</groupId><artifactId>app</artifactId><version>1.0</version>
  <properties><jackson.version>2.9.10</jackson.version></properties>
  <dependencies>
    <dependency><groupId>com.fasterxml.jackson.core</groupId><artifactId>jackson-databind</artifactId><version>${jackson.version}</version></dependency>
    <dependency><groupId>junit</groupId><artifactId>junit</artifactId><version>4.12</version><scope>test</scope></dependency>
    <dependency><groupId>org.x</groupId><artifactId>managed</artifactId></dependency>
    <dependency><groupId>org.x</groupId><artifactId>unknown</artifactId><version>${nope}</version></dependency>
  </dependencies>
</project>"#;
        let limits = Limits::default();
        let ctx = Ctx::new("pom.xml", &limits);
        let c = parse_pom(pom.as_bytes(), &ctx).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(
            c[0].bom_ref,
            "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.10"
        );
        assert!(c[1].dev);
        let e = parse_pom(b"<project><dependencies>", &ctx).unwrap_err();
        assert!(e.to_string().starts_with("pom.xml:1:"), "{e}");
        let e = parse_pom(b"<!DOCTYPE x [<!ENTITY a \"b\">]><project/>", &ctx).unwrap_err();
        assert!(e.to_string().contains("invalid XML"), "{e}");
    }

    #[test]
    fn names_from_files() {
        assert_eq!(
            split_name_version("commons-text-1.9"),
            ("commons-text", Some("1.9".into()))
        );
        assert_eq!(split_name_version("app"), ("app", None));
    }
}
