//! `palisade db import PATH…`: finds the advisory sources under each path
//! and imports them one advisory at a time.
//!
//! Recognised sources:
//! - a directory of OSV JSON records (`*.json`; nested directories are
//!   sources of their own);
//! - an OSV `all.zip` dump (any `*.zip`), read entry by entry with limits
//!   on entry count, entry size and compression ratio;
//! - ruby-advisory-db (a directory with `gems/`);
//! - nodejs security-wg (a directory with `vuln/npm/` or `npm/`);
//! - Alpine secdb files (`*.json` / `*.yaml` with `distroversion`);
//! - Debian security tracker lists (`DSA-list`, `DLA-list`, `DTSA-list`,
//!   optionally `.gz`);
//! - Debian OVAL (`oval-definitions-*.xml`, optionally `.bz2`).
//!
//! A source that cannot be read is an error for that source only; the
//! others are still imported. Records that cannot be converted are counted
//! and listed per source, never silently dropped.

pub mod interval;
pub mod native;
pub mod npm_range;
pub mod oval;
pub mod rubysec;

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::osv;
use crate::store::{SourceInfo, SourceWriter, Store};

/// Deepest directory nesting searched for sources.
pub const MAX_DEPTH: usize = 12;
/// Most directory entries visited per import path.
pub const MAX_ENTRIES: usize = 2_000_000;
/// Most entries in one zip archive.
pub const MAX_ZIP_ENTRIES: usize = 2_000_000;
/// Largest uncompressed total of one zip archive.
pub const MAX_ZIP_TOTAL: u64 = 32 * 1024 * 1024 * 1024;
/// Highest uncompressed/compressed ratio of a zip entry larger than 1 MiB
/// (OSV JSON compresses about 5:1; bombs go far beyond).
pub const MAX_ZIP_RATIO: u64 = 100;
/// Largest native-format file (Alpine secdb, gem YAML, …).
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// Largest decompressed OVAL or tracker list.
pub const MAX_STREAM_BYTES: u64 = 1024 * 1024 * 1024;

/// Kinds of source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    OsvDir,
    OsvZip,
    Rubysec,
    NodejsWg,
    AlpineJson,
    AlpineYaml,
    DebianList,
    DebianOval,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::OsvDir => "osv-dir",
            Kind::OsvZip => "osv-zip",
            Kind::Rubysec => "rubysec",
            Kind::NodejsWg => "nodejs-security-wg",
            Kind::AlpineJson | Kind::AlpineYaml => "alpine-secdb",
            Kind::DebianList => "debian-tracker-list",
            Kind::DebianOval => "debian-oval",
        }
    }
}

/// A source found under an import path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected {
    pub kind: Kind,
    pub path: PathBuf,
}

/// The outcome of importing one path.
#[derive(Debug)]
pub struct Imported {
    pub sources: Vec<SourceInfo>,
    /// Sources (or paths) that could not be imported at all.
    pub errors: Vec<Error>,
}

fn file_kind(path: &Path) -> Option<Kind> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    if name.ends_with(".zip") {
        return Some(Kind::OsvZip);
    }
    if name.starts_with("oval-definitions")
        && (name.ends_with(".xml") || name.ends_with(".xml.bz2"))
    {
        return Some(Kind::DebianOval);
    }
    let stem = name.trim_end_matches(".gz");
    if matches!(stem, "dsa-list" | "dla-list" | "dtsa-list") {
        return Some(Kind::DebianList);
    }
    if name.ends_with(".json") || name.ends_with(".yaml") {
        let mut head = vec![0u8; 4096];
        let n = fs::File::open(path)
            .and_then(|mut f| f.read(&mut head))
            .ok()?;
        let head = String::from_utf8_lossy(head.get(..n).unwrap_or(&[])).into_owned();
        if head.contains("distroversion") && head.contains("packages") {
            return Some(if name.ends_with(".yaml") {
                Kind::AlpineYaml
            } else {
                Kind::AlpineJson
            });
        }
    }
    None
}

fn looks_like_osv(path: &Path) -> bool {
    let Ok(bytes) = fs::read(path) else {
        return false;
    };
    if bytes.len() > osv::MAX_RECORD_BYTES {
        return false;
    }
    serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .is_some_and(|v| {
            v.get("id").is_some() && (v.get("affected").is_some() || v.get("modified").is_some())
        })
}

/// Finds the sources under `path`.
pub fn detect(path: &Path) -> Result<Vec<Detected>> {
    let meta = fs::metadata(path).map_err(|e| Error::input(path.display(), e))?;
    let mut out = Vec::new();
    let mut seen = 0usize;
    if meta.is_file() {
        match file_kind(path) {
            Some(kind) => out.push(Detected {
                kind,
                path: path.to_owned(),
            }),
            None if looks_like_osv(path) => {
                return Err(Error::input(
                    path.display(),
                    "a single OSV record: import its directory instead",
                ));
            }
            None => {
                return Err(Error::input(
                    path.display(),
                    "not a recognised advisory source",
                ));
            }
        }
    } else {
        walk(path, 0, &mut seen, &mut out)?;
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

fn sorted_entries(dir: &Path, seen: &mut usize) -> Result<Vec<(PathBuf, fs::FileType)>> {
    let mut entries = Vec::new();
    for e in fs::read_dir(dir).map_err(|e| Error::input(dir.display(), e))? {
        let e = e.map_err(|e| Error::input(dir.display(), e))?;
        *seen += 1;
        if *seen > MAX_ENTRIES {
            return Err(Error::input(
                dir.display(),
                format!("more than {MAX_ENTRIES} directory entries"),
            ));
        }
        let ft = e
            .file_type()
            .map_err(|x| Error::input(e.path().display(), x))?;
        entries.push((e.path(), ft));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(entries)
}

fn walk(dir: &Path, depth: usize, seen: &mut usize, out: &mut Vec<Detected>) -> Result<()> {
    if depth > MAX_DEPTH {
        return Ok(());
    }
    if dir.join("gems").is_dir() {
        out.push(Detected {
            kind: Kind::Rubysec,
            path: dir.to_owned(),
        });
        return Ok(());
    }
    if dir.join("npm").is_dir() && (dir.join("core").is_dir() || dir.ends_with("vuln")) {
        out.push(Detected {
            kind: Kind::NodejsWg,
            path: dir.to_owned(),
        });
        return Ok(());
    }
    let entries = sorted_entries(dir, seen)?;
    let mut osv_here = false;
    for (p, ft) in &entries {
        if ft.is_symlink() {
            continue;
        }
        if ft.is_dir() {
            walk(p, depth + 1, seen, out)?;
        } else if ft.is_file() {
            if let Some(kind) = file_kind(p) {
                out.push(Detected {
                    kind,
                    path: p.clone(),
                });
            } else if !osv_here && p.extension().is_some_and(|e| e == "json") && looks_like_osv(p) {
                osv_here = true;
            }
        }
    }
    if osv_here {
        out.push(Detected {
            kind: Kind::OsvDir,
            path: dir.to_owned(),
        });
    }
    Ok(())
}

/// The source name of a detected source: its canonical path.
pub fn source_name(path: &Path) -> String {
    fs::canonicalize(path)
        .unwrap_or_else(|_| path.to_owned())
        .display()
        .to_string()
}

/// Imports every source under `path`.
pub fn import_path(store: &Store, path: &Path) -> Imported {
    let mut imported = Imported {
        sources: Vec::new(),
        errors: Vec::new(),
    };
    let detected = match detect(path) {
        Ok(d) => d,
        Err(e) => {
            imported.errors.push(e);
            return imported;
        }
    };
    if detected.is_empty() {
        imported.errors.push(Error::input(
            path.display(),
            "no advisory source found (OSV JSON, all.zip, ruby-advisory-db, nodejs security-wg, Alpine secdb, Debian lists or OVAL)",
        ));
    }
    for d in detected {
        let name = source_name(&d.path);
        match import_one(store, &d, &name) {
            Ok(info) => imported.sources.push(info),
            Err(e) => imported.errors.push(e),
        }
    }
    imported
}

/// Imports one detected source under `name`.
pub fn import_one(store: &Store, d: &Detected, name: &str) -> Result<SourceInfo> {
    // Check the source opens before touching what the store has for it.
    if d.kind == Kind::OsvZip {
        let f = fs::File::open(&d.path).map_err(|e| Error::input(d.path.display(), e))?;
        zip::ZipArchive::new(f).map_err(|e| {
            Error::input(d.path.display(), format!("not a readable zip archive: {e}"))
        })?;
    }
    let mut w = store.begin_source(name, d.kind.as_str())?;
    match d.kind {
        Kind::OsvDir => osv_dir(&mut w, &d.path)?,
        Kind::OsvZip => osv_zip(&mut w, &d.path)?,
        Kind::Rubysec => rubysec_dir(&mut w, &d.path)?,
        Kind::NodejsWg => nodejs_dir(&mut w, &d.path)?,
        Kind::AlpineJson | Kind::AlpineYaml => {
            alpine_file(&mut w, &d.path, d.kind == Kind::AlpineYaml)?
        }
        Kind::DebianList => debian_list(&mut w, &d.path)?,
        Kind::DebianOval => debian_oval(&mut w, &d.path)?,
    }
    w.finish()
}

fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>> {
    let f = fs::File::open(path).map_err(|e| Error::input(path.display(), e))?;
    let mut bytes = Vec::new();
    f.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::input(path.display(), e))?;
    if bytes.len() as u64 > limit {
        return Err(Error::input(
            path.display(),
            format!("larger than {limit} bytes"),
        ));
    }
    Ok(bytes)
}

fn put_osv(w: &mut SourceWriter<'_>, bytes: &[u8], what: &str) -> Result<()> {
    let source = w.info.name.clone();
    match osv::parse(bytes, &source) {
        Ok(adv) => {
            let notes: Vec<String> = adv
                .affected
                .iter()
                .flat_map(|a| a.skipped.iter())
                .filter(|s| !s.starts_with("GIT range"))
                .map(|s| format!("{what}: {} ({s})", adv.id))
                .collect();
            for n in notes {
                w.info.note(n);
            }
            w.put(adv)
        }
        Err(e) => {
            w.reject(format!("{what}: {e}"));
            Ok(())
        }
    }
}

fn osv_dir(w: &mut SourceWriter<'_>, dir: &Path) -> Result<()> {
    let mut seen = 0;
    for (p, ft) in sorted_entries(dir, &mut seen)? {
        if !ft.is_file() || p.extension().is_none_or(|e| e != "json") {
            continue;
        }
        match read_limited(&p, osv::MAX_RECORD_BYTES as u64) {
            Ok(bytes) => put_osv(w, &bytes, &p.display().to_string())?,
            Err(e) => w.reject(e.to_string()),
        }
    }
    Ok(())
}

fn osv_zip(w: &mut SourceWriter<'_>, path: &Path) -> Result<()> {
    let f = fs::File::open(path).map_err(|e| Error::input(path.display(), e))?;
    let mut archive = zip::ZipArchive::new(f)
        .map_err(|e| Error::input(path.display(), format!("not a readable zip archive: {e}")))?;
    if archive.len() > MAX_ZIP_ENTRIES {
        return Err(Error::input(
            path.display(),
            format!("{} entries, more than {MAX_ZIP_ENTRIES}", archive.len()),
        ));
    }
    let mut total: u64 = 0;
    let display = path.display().to_string();
    for i in 0..archive.len() {
        // A damaged archive (a bad CRC, a truncated entry) is not a bad
        // advisory: its other entries cannot be trusted either, and a
        // partial import would silently drop advisories.
        let mut entry = archive
            .by_index(i)
            .map_err(|e| Error::input(&display, format!("entry {i}: {e} (damaged archive)")))?;
        let name = entry
            .name()
            .map(|n| n.into_owned())
            .unwrap_or_else(|_| format!("entry {i}"));
        if entry.is_dir() || !name.ends_with(".json") {
            continue;
        }
        let what = format!("{display}!{name}");
        let size = entry.size();
        let compressed = entry.compressed_size().max(1);
        if size > osv::MAX_RECORD_BYTES as u64 {
            w.reject(format!(
                "{what}: {size} bytes uncompressed, over the record limit"
            ));
            continue;
        }
        if size > 1024 * 1024 && size / compressed > MAX_ZIP_RATIO {
            w.reject(format!(
                "{what}: compression ratio {}:1 over {MAX_ZIP_RATIO}:1 (zip bomb?)",
                size / compressed
            ));
            continue;
        }
        total += size;
        if total > MAX_ZIP_TOTAL {
            return Err(Error::input(
                &display,
                format!("more than {MAX_ZIP_TOTAL} bytes uncompressed"),
            ));
        }
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        // The declared size can lie: read at most one byte past the limit.
        match (&mut entry)
            .take(osv::MAX_RECORD_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
        {
            Ok(_) if bytes.len() > osv::MAX_RECORD_BYTES => {
                w.reject(format!(
                    "{what}: larger than declared, over the record limit"
                ));
            }
            Ok(_) => put_osv(w, &bytes, &what)?,
            Err(e) => {
                return Err(Error::input(
                    &what,
                    format!("{e} (damaged archive: nothing of it imported)"),
                ));
            }
        }
    }
    Ok(())
}

fn rubysec_dir(w: &mut SourceWriter<'_>, dir: &Path) -> Result<()> {
    let mut seen = 0;
    let source = w.info.name.clone();
    for (gem_dir, ft) in sorted_entries(&dir.join("gems"), &mut seen)? {
        if !ft.is_dir() {
            continue;
        }
        for (p, ft) in sorted_entries(&gem_dir, &mut seen)? {
            if !ft.is_file() || p.extension().is_none_or(|e| e != "yml" && e != "yaml") {
                continue;
            }
            let what = p.display().to_string();
            let stem = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text = match read_limited(&p, MAX_FILE_BYTES) {
                Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                Err(e) => {
                    w.reject(e.to_string());
                    continue;
                }
            };
            match rubysec::convert(&text, &stem, &source) {
                Ok(adv) => w.put(adv)?,
                Err(e) => w.reject(format!("{what}: {e}")),
            }
        }
    }
    let rubies = dir.join("rubies");
    if rubies.is_dir() {
        let mut n = 0u64;
        for (engine, ft) in sorted_entries(&rubies, &mut seen)? {
            if ft.is_dir() {
                n += sorted_entries(&engine, &mut seen)?.len() as u64;
            }
        }
        if n > 0 {
            w.info.skipped += n;
            w.info.note(format!(
                "{}: {n} interpreter advisories skipped (no package ecosystem for Ruby interpreters)",
                rubies.display()
            ));
        }
    }
    Ok(())
}

fn nodejs_dir(w: &mut SourceWriter<'_>, dir: &Path) -> Result<()> {
    let mut seen = 0;
    let source = w.info.name.clone();
    for (p, ft) in sorted_entries(&dir.join("npm"), &mut seen)? {
        // `index.json` is the data set's table of contents, not an advisory.
        if !ft.is_file()
            || p.extension().is_none_or(|e| e != "json")
            || p.file_name().is_some_and(|n| n == "index.json")
        {
            continue;
        }
        let what = p.display().to_string();
        match read_limited(&p, MAX_FILE_BYTES) {
            Ok(bytes) => match native::nodejs(&bytes, &source) {
                Ok(adv) => w.put(adv)?,
                Err(e) => w.reject(format!("{what}: {e}")),
            },
            Err(e) => w.reject(e.to_string()),
        }
    }
    for sub in ["core", "deps"] {
        let d = dir.join(sub);
        if d.is_dir() {
            let n = sorted_entries(&d, &mut seen)?.len() as u64;
            w.info.skipped += n;
            w.info.note(format!(
                "{}: {n} Node.js runtime advisories skipped (no package ecosystem for the runtime)",
                d.display()
            ));
        }
    }
    Ok(())
}

fn alpine_file(w: &mut SourceWriter<'_>, path: &Path, yaml: bool) -> Result<()> {
    let bytes = read_limited(path, MAX_FILE_BYTES)?;
    let text = String::from_utf8_lossy(&bytes);
    let source = w.info.name.clone();
    let (advs, problems) =
        native::alpine(&text, yaml, &source).map_err(|e| Error::input(path.display(), e))?;
    for p in problems {
        w.skip(format!("{}: {p}", path.display()));
    }
    for a in advs {
        w.put(a)?;
    }
    Ok(())
}

fn open_maybe_compressed(path: &Path) -> Result<Box<dyn BufRead>> {
    let f = fs::File::open(path).map_err(|e| Error::input(path.display(), e))?;
    let name = path.to_string_lossy().to_ascii_lowercase();
    let reader: Box<dyn Read> = if name.ends_with(".gz") {
        Box::new(flate2::read::MultiGzDecoder::new(BufReader::new(f)))
    } else if name.ends_with(".bz2") {
        Box::new(bzip2::read::MultiBzDecoder::new(BufReader::new(f)))
    } else {
        Box::new(f)
    };
    Ok(Box::new(BufReader::new(reader.take(MAX_STREAM_BYTES))))
}

fn debian_list(w: &mut SourceWriter<'_>, path: &Path) -> Result<()> {
    let source = w.info.name.clone();
    let file = path.display().to_string();
    let mut list = native::TrackerList::new(&source, &file);
    let mut reader = open_maybe_compressed(path)?;
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| Error::input(&file, format!("cannot decompress or read: {e}")))?;
        if n == 0 {
            break;
        }
        let text = String::from_utf8_lossy(&line);
        if let Some(adv) = list.line(text.trim_end_matches(['\n', '\r'])) {
            put_tracker(w, adv)?;
        }
    }
    if let Some(adv) = list.finish() {
        put_tracker(w, adv)?;
    }
    for p in list.problems {
        w.skip(p);
    }
    Ok(())
}

fn put_tracker(w: &mut SourceWriter<'_>, adv: crate::Advisory) -> Result<()> {
    // Advisories of releases no longer listed, or only `<not-affected>`
    // lines, have nothing to match; they still date the data.
    if adv.affected.is_empty() {
        w.info.saw_advisory(&adv);
        return Ok(());
    }
    w.put(adv)
}

fn debian_oval(w: &mut SourceWriter<'_>, path: &Path) -> Result<()> {
    let source = w.info.name.clone();
    let file = path.display().to_string();
    let reader = open_maybe_compressed(path)?;
    let stats = oval::read(reader, &source, &file, |adv| w.put(adv))?;
    if let Some(g) = &stats.generated {
        w.info.saw_date(g);
    }
    w.info.skipped += stats.problem_count;
    for p in stats.problems {
        w.info.note(p);
    }
    Ok(())
}
