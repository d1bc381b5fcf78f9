//! Executables: Go build information (module path, dependencies, Go
//! version) and the dependency list `cargo auditable` embeds in Rust
//! binaries. Only ELF files are inspected, and only their section headers
//! and the two sections that matter are read, never the whole binary.

#![deny(clippy::indexing_slicing)]

use std::io::{Read, Seek, SeekFrom};

use super::Ctx;
use crate::component::Component;
use crate::error::{Error, Result};

/// Most sections an ELF file may declare.
const MAX_SECTIONS: u64 = 1 << 16;
/// Largest `.go.buildinfo` / `.dep-v0` section read.
const MAX_SECTION_BYTES: u64 = 16 * 1024 * 1024;
/// Largest decompressed `cargo auditable` JSON.
const MAX_AUDIT_JSON: u64 = 64 * 1024 * 1024;

/// Whether a file's first bytes are an ELF header.
pub fn is_elf(head: &[u8]) -> bool {
    head.starts_with(b"\x7fELF")
}

/// The sections of interest, read from an ELF file.
#[derive(Debug, Default)]
pub struct Sections {
    pub go_buildinfo: Option<Vec<u8>>,
    pub dep_v0: Option<Vec<u8>>,
}

fn rd<R: Read + Seek>(r: &mut R, at: u64, len: u64) -> std::io::Result<Vec<u8>> {
    r.seek(SeekFrom::Start(at))?;
    let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0).min(1 << 20));
    r.take(len).read_to_end(&mut buf)?;
    if (buf.len() as u64) < len {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    Ok(buf)
}

fn num(b: &[u8], at: usize, width: usize, le: bool) -> Option<u64> {
    let s = b.get(at..at + width)?;
    let mut v: u64 = 0;
    if le {
        for (i, byte) in s.iter().enumerate() {
            v |= u64::from(*byte) << (8 * i);
        }
    } else {
        for byte in s {
            v = (v << 8) | u64::from(*byte);
        }
    }
    Some(v)
}

/// Reads the section header table and the two sections, if present. Not
/// ELF, or no such sections: `Ok` with nothing in it.
pub fn read_sections<R: Read + Seek>(r: &mut R, display: &str) -> Result<Sections> {
    let bad = |m: &str| Error::parse(display, format!("malformed ELF file: {m}"));
    let head = match rd(r, 0, 64) {
        Ok(h) => h,
        Err(_) => return Ok(Sections::default()),
    };
    if !is_elf(&head) {
        return Ok(Sections::default());
    }
    let is64 = match head.get(4) {
        Some(1) => false,
        Some(2) => true,
        _ => return Err(bad("unknown ELF class")),
    };
    let le = match head.get(5) {
        Some(1) => true,
        Some(2) => false,
        _ => return Err(bad("unknown byte order")),
    };
    let (shoff, shentsize, shnum, shstrndx) = if is64 {
        (
            num(&head, 0x28, 8, le),
            num(&head, 0x3A, 2, le),
            num(&head, 0x3C, 2, le),
            num(&head, 0x3E, 2, le),
        )
    } else {
        (
            num(&head, 0x20, 4, le),
            num(&head, 0x2E, 2, le),
            num(&head, 0x30, 2, le),
            num(&head, 0x32, 2, le),
        )
    };
    let (Some(shoff), Some(shentsize), Some(shnum), Some(shstrndx)) =
        (shoff, shentsize, shnum, shstrndx)
    else {
        return Err(bad("truncated header"));
    };
    if shoff == 0 || shnum == 0 {
        return Ok(Sections::default()); // stripped of section headers
    }
    if shnum > MAX_SECTIONS || shentsize < if is64 { 64 } else { 40 } {
        return Err(bad("implausible section header table"));
    }
    let table = rd(r, shoff, shnum * shentsize)
        .map_err(|_| bad("section headers past the end of the file"))?;
    let sect = |i: u64| -> Option<(u64, u64, u64)> {
        let base = usize::try_from(i * shentsize).ok()?;
        let name = num(&table, base, 4, le)?;
        if is64 {
            Some((
                name,
                num(&table, base + 0x18, 8, le)?,
                num(&table, base + 0x20, 8, le)?,
            ))
        } else {
            Some((
                name,
                num(&table, base + 0x10, 4, le)?,
                num(&table, base + 0x14, 4, le)?,
            ))
        }
    };
    let (_, str_off, str_size) =
        sect(shstrndx).ok_or_else(|| bad("bad section name table index"))?;
    if str_size > MAX_SECTION_BYTES {
        return Err(bad("section name table too large"));
    }
    let names =
        rd(r, str_off, str_size).map_err(|_| bad("section name table past the end of the file"))?;
    let mut out = Sections::default();
    for i in 0..shnum {
        let Some((name_off, off, size)) = sect(i) else {
            continue;
        };
        let name = names
            .get(usize::try_from(name_off).unwrap_or(usize::MAX)..)
            .and_then(|t| t.split(|b| *b == 0).next())
            .unwrap_or(&[]);
        let slot = match name {
            b".go.buildinfo" => &mut out.go_buildinfo,
            b".dep-v0" => &mut out.dep_v0,
            _ => continue,
        };
        if size > MAX_SECTION_BYTES {
            return Err(bad("section too large"));
        }
        *slot = Some(rd(r, off, size).map_err(|_| bad("section past the end of the file"))?);
    }
    Ok(out)
}

/// Whether this cataloger has anything to say about an executable held in
/// memory: an ELF file with Go build information or a `cargo auditable`
/// section, or one too malformed to tell (the cataloger reports that).
pub fn worth_reading(bytes: &[u8]) -> bool {
    match read_sections(&mut std::io::Cursor::new(bytes), "") {
        Ok(s) => s.go_buildinfo.is_some() || s.dep_v0.is_some(),
        Err(_) => true,
    }
}

/// Catalogues an executable held in memory.
pub fn parse(bytes: &[u8], ctx: &Ctx<'_>) -> Result<Vec<Component>> {
    let sections = read_sections(&mut std::io::Cursor::new(bytes), ctx.path)?;
    from_sections(&sections, ctx)
}

/// Catalogues an executable on disk, reading only what is needed.
pub fn parse_file(path: &std::path::Path, ctx: &Ctx<'_>) -> Result<Vec<Component>> {
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(ctx.path, &e))?;
    let sections = read_sections(&mut f, ctx.path)?;
    from_sections(&sections, ctx)
}

fn from_sections(s: &Sections, ctx: &Ctx<'_>) -> Result<Vec<Component>> {
    let mut out = Vec::new();
    if let Some(b) = &s.go_buildinfo {
        out.extend(super::golang::parse_buildinfo(b, ctx)?);
    }
    if let Some(b) = &s.dep_v0 {
        out.extend(auditable(b, ctx)?);
    }
    Ok(out)
}

/// `cargo auditable`: zlib-compressed JSON `{"packages": [{name, version,
/// source, kind, dependencies: [index…], root}]}`.
fn auditable(compressed: &[u8], ctx: &Ctx<'_>) -> Result<Vec<Component>> {
    #[derive(serde::Deserialize)]
    struct Audit {
        packages: Vec<Pkg>,
    }
    #[derive(serde::Deserialize)]
    struct Pkg {
        name: String,
        version: String,
        #[serde(default)]
        source: String,
        #[serde(default)]
        dependencies: Vec<usize>,
        #[serde(default)]
        root: bool,
    }
    let mut json = Vec::new();
    flate2::read::ZlibDecoder::new(compressed)
        .take(MAX_AUDIT_JSON + 1)
        .read_to_end(&mut json)
        .map_err(|e| ctx.err(format!("corrupt cargo-auditable data: {e}")))?;
    if json.len() as u64 > MAX_AUDIT_JSON {
        return Err(Error::limit(ctx.path, "cargo-auditable data is too large"));
    }
    let audit: Audit = serde_json::from_slice(&json).map_err(|e| {
        ctx.err(format!(
            "cargo-auditable data is not the expected JSON: {e}"
        ))
    })?;
    ctx.check_count(audit.packages.len())?;
    let nodes = audit
        .packages
        .iter()
        .map(|p| super::cargo::Node {
            name: p.name.clone(),
            version: p.version.clone(),
            local: p.root || p.source == "local",
            deps: p
                .dependencies
                .iter()
                .filter_map(|i| audit.packages.get(*i))
                .map(|d| format!("{} {}", d.name, d.version))
                .collect(),
        })
        .collect();
    super::cargo::graph(nodes, ctx, "rust-binary")
}
