//! RPM packages from the SQLite database (`rpmdb.sqlite`, the default
//! since RPM 4.16: Fedora 33+, RHEL 9, Rocky/Alma 9, Amazon Linux 2023).
//!
//! The database is read with `rusqlite` (bundled SQLite): the pure-Rust
//! SQLite readers on crates.io are young or unmaintained, and a wrong read
//! of a page format would silently lose packages. The file is opened
//! read-only and `immutable`, so scanning never writes a journal next to
//! it. Each row of `Packages` is an RPM header blob, parsed here with
//! bounds checks on every index entry.

#![deny(clippy::indexing_slicing)]

use std::path::Path;

use super::Ctx;
use crate::component::{Component, Ecosystem, SourcePackage};
use crate::error::{Error, Result};
use crate::purl::Purl;

const TAG_NAME: u32 = 1000;
const TAG_VERSION: u32 = 1001;
const TAG_RELEASE: u32 = 1002;
const TAG_EPOCH: u32 = 1003;
const TAG_LICENSE: u32 = 1014;
const TAG_VENDOR: u32 = 1011;
const TAG_ARCH: u32 = 1022;
const TAG_SOURCERPM: u32 = 1044;
const TAG_MODULARITYLABEL: u32 = 5096;

const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

/// Most index entries in one header (real headers have a few hundred).
const MAX_INDEX_ENTRIES: usize = 1 << 16;
/// Largest header blob.
const MAX_HEADER_BYTES: usize = 64 * 1024 * 1024;

/// Reads an `rpmdb.sqlite` that is only in memory by writing it to a
/// temporary file first (SQLite reads files).
pub fn parse_bytes(bytes: &[u8], ctx: &Ctx<'_>) -> Result<Vec<Component>> {
    if let Some(p) = ctx.fs_path {
        return parse_path(p, ctx);
    }
    let dir = tempfile::tempdir().map_err(|e| Error::io(ctx.path, &e))?;
    let p = dir.path().join("rpmdb.sqlite");
    std::fs::write(&p, bytes).map_err(|e| Error::io(ctx.path, &e))?;
    parse_path(&p, ctx)
}

/// Reads the database at `path`.
pub fn parse_path(path: &Path, ctx: &Ctx<'_>) -> Result<Vec<Component>> {
    use rusqlite::{Connection, OpenFlags};
    let sql_err = |e: rusqlite::Error| ctx.err(format!("not a readable RPM SQLite database: {e}"));
    let uri = format!("file:{}?immutable=1", uri_escape(&path.to_string_lossy()));
    let conn = Connection::open_with_flags(
        uri,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sql_err)?;
    let mut stmt = conn
        .prepare("SELECT hnum, blob FROM Packages ORDER BY hnum")
        .map_err(sql_err)?;
    let mut rows = stmt.query([]).map_err(sql_err)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(sql_err)? {
        ctx.check_count(out.len())?;
        let hnum: i64 = row.get(0).map_err(sql_err)?;
        let blob: Vec<u8> = row.get(1).map_err(sql_err)?;
        let h = Header::parse(&blob).map_err(|m| ctx.err(format!("package header {hnum}: {m}")))?;
        if let Some(c) = h.component(ctx) {
            out.push(c);
        }
    }
    Ok(out)
}

fn uri_escape(p: &str) -> String {
    let mut s = String::with_capacity(p.len());
    for ch in p.chars() {
        match ch {
            '%' | '?' | '#' => s.push_str(&format!("%{:02X}", ch as u32)),
            c => s.push(c),
        }
    }
    s
}

/// The fields of one RPM header this cataloger needs.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub version: String,
    pub release: String,
    pub epoch: Option<i32>,
    pub arch: String,
    pub license: String,
    pub vendor: String,
    pub source_rpm: String,
    pub modularity_label: String,
}

fn be32(b: &[u8], at: usize) -> Result<u32, String> {
    let s = b.get(at..at + 4).ok_or("truncated header")?;
    Ok(u32::from_be_bytes([
        *s.first().ok_or("truncated")?,
        *s.get(1).ok_or("truncated")?,
        *s.get(2).ok_or("truncated")?,
        *s.get(3).ok_or("truncated")?,
    ]))
}

impl Header {
    /// Parses an immutable-region header blob: `il`, `dl`, `il` 16-byte
    /// index entries, then `dl` bytes of data.
    pub fn parse(b: &[u8]) -> Result<Header, String> {
        if b.len() > MAX_HEADER_BYTES {
            return Err("header blob is too large".into());
        }
        let il = be32(b, 0)? as usize;
        let dl = be32(b, 4)? as usize;
        if il == 0 || il > MAX_INDEX_ENTRIES {
            return Err(format!("implausible index entry count {il}"));
        }
        let data_start = 8 + il * 16;
        let data = b
            .get(data_start..data_start.checked_add(dl).ok_or("header size overflow")?)
            .ok_or("header is shorter than its index says")?;
        let mut h = Header::default();
        for i in 0..il {
            let e = 8 + i * 16;
            let (tag, ty, off, count) = (
                be32(b, e)?,
                be32(b, e + 4)?,
                be32(b, e + 8)? as usize,
                be32(b, e + 12)?,
            );
            let string = || -> Result<String, String> {
                if !matches!(ty, TYPE_STRING | TYPE_STRING_ARRAY | TYPE_I18NSTRING) {
                    return Err(format!("tag {tag} is not a string"));
                }
                let tail = data.get(off..).ok_or("string offset outside the data")?;
                let end = memchr::memchr(0, tail).ok_or("unterminated string")?;
                Ok(String::from_utf8_lossy(tail.get(..end).unwrap_or(&[])).into_owned())
            };
            match tag {
                TAG_NAME => h.name = string()?,
                TAG_VERSION => h.version = string()?,
                TAG_RELEASE => h.release = string()?,
                TAG_ARCH => h.arch = string()?,
                TAG_LICENSE => h.license = string()?,
                TAG_VENDOR => h.vendor = string()?,
                TAG_SOURCERPM => h.source_rpm = string()?,
                TAG_MODULARITYLABEL => h.modularity_label = string()?,
                TAG_EPOCH if ty == TYPE_INT32 && count >= 1 => {
                    h.epoch = Some(be32(data, off)? as i32);
                }
                _ => {}
            }
        }
        if h.name.is_empty() || h.version.is_empty() {
            return Err("header has no name or version".into());
        }
        Ok(h)
    }

    /// `epoch:version-release` (epoch only when set).
    pub fn evr(&self) -> String {
        let vr = if self.release.is_empty() {
            self.version.clone()
        } else {
            format!("{}-{}", self.version, self.release)
        };
        match self.epoch {
            Some(e) if e != 0 => format!("{e}:{vr}"),
            _ => vr,
        }
    }

    fn component(&self, ctx: &Ctx<'_>) -> Option<Component> {
        // Public keys are stored as pseudo-packages.
        if self.name == "gpg-pubkey" {
            return None;
        }
        let vendor = ctx
            .distro
            .map_or_else(|| "redhat".to_owned(), |d| d.id.clone());
        let vr = if self.release.is_empty() {
            self.version.clone()
        } else {
            format!("{}-{}", self.version, self.release)
        };
        let mut purl = Purl::new("rpm", Some(&vendor), &self.name, Some(&vr))
            .with_qualifier("arch", self.arch.clone());
        if let Some(d) = ctx.distro {
            purl = purl.with_qualifier("distro", d.purl_qualifier());
        }
        if let Some(e) = self.epoch.filter(|e| *e != 0) {
            purl = purl.with_qualifier("epoch", e.to_string());
        }
        let mut c = Component::from_purl(Ecosystem::Rpm, purl, &self.evr(), "rpm", ctx.location());
        c.distro = ctx.distro.cloned();
        if !self.license.is_empty() {
            c.licenses.push(self.license.clone());
        }
        c.source = Some(source_of(&self.source_rpm, &self.name, &self.evr()));
        Some(c)
    }
}

/// `bash-5.1.8-6.el9.src.rpm` → (`bash`, `5.1.8-6.el9`).
fn source_of(src_rpm: &str, name: &str, evr: &str) -> SourcePackage {
    let base = src_rpm
        .strip_suffix(".src.rpm")
        .or_else(|| src_rpm.strip_suffix(".nosrc.rpm"));
    if let Some(base) = base
        && let Some((nv, release)) = base.rsplit_once('-')
        && let Some((n, v)) = nv.rsplit_once('-')
    {
        return SourcePackage {
            name: n.to_owned(),
            version: format!("{v}-{release}"),
        };
    }
    SourcePackage {
        name: name.to_owned(),
        version: evr.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(entries: &[(u32, u32, &[u8])]) -> Vec<u8> {
        let mut data = Vec::new();
        let mut index = Vec::new();
        for (tag, ty, value) in entries {
            index.extend_from_slice(&tag.to_be_bytes());
            index.extend_from_slice(&ty.to_be_bytes());
            index.extend_from_slice(&(data.len() as u32).to_be_bytes());
            index.extend_from_slice(&1u32.to_be_bytes());
            data.extend_from_slice(value);
        }
        let mut b = Vec::new();
        b.extend_from_slice(&(entries.len() as u32).to_be_bytes());
        b.extend_from_slice(&(data.len() as u32).to_be_bytes());
        b.extend(index);
        b.extend(data);
        b
    }

    #[test]
    fn parses_headers_and_rejects_corrupt_ones() {
        let b = header(&[
            (TAG_NAME, TYPE_STRING, b"bash\0"),
            (TAG_VERSION, TYPE_STRING, b"5.1.8\0"),
            (TAG_RELEASE, TYPE_STRING, b"6.el9\0"),
            (TAG_EPOCH, TYPE_INT32, &[0, 0, 0, 2]),
            (TAG_SOURCERPM, TYPE_STRING, b"bash-5.1.8-6.el9.src.rpm\0"),
        ]);
        let h = Header::parse(&b).unwrap();
        assert_eq!(h.evr(), "2:5.1.8-6.el9");
        assert_eq!(source_of(&h.source_rpm, "x", "y").version, "5.1.8-6.el9");
        for cut in [0, 3, 8, 20, b.len() - 1] {
            assert!(Header::parse(&b[..cut]).is_err(), "cut {cut}");
        }
        let mut bad = b.clone();
        bad[3] = 0xff; // index count beyond the blob
        assert!(Header::parse(&bad).is_err());
    }
}
