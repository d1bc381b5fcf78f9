//! Walking a directory or root filesystem and running the catalogers on
//! the files they read, in parallel. One corrupt file becomes one error in
//! [`Sbom::errors`]; the rest of the tree is still catalogued.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use palisade_core::InputError;
use rayon::prelude::*;

use crate::bom::{Sbom, TargetKind};
use crate::catalog::{self, Ctx, Kind, Limits};
use crate::component::Distro;
use crate::error::Error;

/// How a tree is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// A project directory: language manifests, lockfiles and installed
    /// packages; `.gitignore` honoured inside git repositories; OS package
    /// databases are not read.
    #[default]
    Directory,
    /// A root filesystem (or an image's): OS package databases are read
    /// and the distro detected; no ignore files; paths are reported
    /// absolute (`/var/lib/dpkg/status`).
    Rootfs,
}

/// Progress reports for long scans (the binary draws a bar on a TTY).
pub trait Progress: Send + Sync {
    /// A phase starts with `total` steps (0 when unknown).
    fn start(&self, what: &str, total: u64);
    /// `n` more steps are done.
    fn inc(&self, n: u64);
    /// The phase is over.
    fn finish(&self);
}

/// Options of a scan.
#[derive(Clone, Default)]
pub struct ScanOptions {
    pub mode: Mode,
    /// Also read package-manager caches (`~/.cargo/registry`, `~/.npm`,
    /// pip caches, …), skipped by default: they hold downloads, not what
    /// is installed.
    pub include_caches: bool,
    /// Directories (relative to the root, `/`-separated) not to enter.
    pub skip_dirs: Vec<String>,
    pub limits: Limits,
    pub progress: Option<Arc<dyn Progress>>,
}

impl std::fmt::Debug for ScanOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScanOptions")
            .field("mode", &self.mode)
            .field("include_caches", &self.include_caches)
            .field("skip_dirs", &self.skip_dirs)
            .finish_non_exhaustive()
    }
}

/// Package-manager caches, as path suffixes of directories.
pub const CACHE_DIRS: &[&str] = &[
    ".cargo/registry",
    ".cargo/git",
    ".npm",
    ".cache/pip",
    ".cache/pypoetry",
    ".cache/uv",
    ".cache/yarn",
    ".yarn/cache",
    ".yarn/berry/cache",
    ".pnpm-store",
    ".local/share/pnpm/store",
    ".m2/repository",
    ".gradle/caches",
    ".nuget/packages",
    ".cache/composer",
    ".composer/cache",
    "go/pkg/mod/cache",
    ".cache/go-build",
    ".gem/specs",
    ".bundle/cache",
    "root/.cache",
];

/// Whether `rel` (a directory, `/`-separated, relative) is a cache.
pub fn is_cache_dir(rel: &str) -> bool {
    CACHE_DIRS
        .iter()
        .any(|c| rel == *c || rel.ends_with(&format!("/{c}")))
}

/// A file the catalogers will read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Candidate {
    /// `/`-separated path relative to the root.
    pub rel: String,
    pub kind: Kind,
    pub path: PathBuf,
}

/// Reads `/etc/os-release` (or `/usr/lib/os-release`) under `root`.
pub fn detect_distro(root: &Path) -> Option<Distro> {
    for p in ["etc/os-release", "usr/lib/os-release"] {
        let Ok(meta) = std::fs::metadata(root.join(p)) else {
            continue;
        };
        if meta.len() > 64 * 1024 {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(root.join(p)) else {
            continue;
        };
        if let Some(d) = parse_os_release(&text) {
            return Some(d);
        }
    }
    None
}

/// Parses `KEY=value` lines (quotes removed).
pub fn parse_os_release(text: &str) -> Option<Distro> {
    let mut d = Distro::default();
    for line in text.lines() {
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = v.trim().trim_matches('"').trim_matches('\'').to_owned();
        match k.trim() {
            "ID" => d.id = v.to_lowercase(),
            "VERSION_ID" => d.version_id = v,
            "VERSION_CODENAME" => d.codename = v,
            "PRETTY_NAME" => d.pretty_name = v,
            _ => {}
        }
    }
    (!d.id.is_empty()).then_some(d)
}

fn rel_of(root: &Path, p: &Path) -> String {
    let r = p.strip_prefix(root).unwrap_or(p);
    let s = r.to_string_lossy().replace('\\', "/");
    s.trim_start_matches('/').to_owned()
}

/// Walks `root` and returns the files to catalogue, sorted, plus walk
/// errors.
pub fn collect(root: &Path, opts: &ScanOptions) -> (Vec<Candidate>, Vec<InputError>) {
    let found: Mutex<(Vec<Candidate>, Vec<InputError>)> = Mutex::new((Vec::new(), Vec::new()));
    let rootfs = opts.mode == Mode::Rootfs;
    let root_buf = root.to_path_buf();
    let skip: Vec<String> = opts
        .skip_dirs
        .iter()
        .map(|s| s.trim_matches('/').to_owned())
        .chain(if rootfs {
            vec!["proc".into(), "sys".into(), "dev".into()]
        } else {
            Vec::new()
        })
        .collect();
    let include_caches = opts.include_caches;
    let filter_root = root_buf.clone();
    let mut builder = ignore::WalkBuilder::new(root);
    builder
        .follow_links(false)
        .hidden(false)
        .git_ignore(!rootfs)
        .git_exclude(!rootfs)
        .git_global(false)
        .ignore(!rootfs)
        .parents(!rootfs)
        .require_git(true)
        .same_file_system(false)
        .filter_entry(move |e| {
            if !e.file_type().is_some_and(|t| t.is_dir()) {
                return true;
            }
            let rel = rel_of(&filter_root, e.path());
            if rel.is_empty() {
                return true;
            }
            let name = e.file_name().to_string_lossy();
            if name == ".git" || name == ".hg" || name == ".svn" {
                return false;
            }
            if skip.contains(&rel) {
                return false;
            }
            include_caches || !is_cache_dir(&rel)
        });
    if !rootfs {
        builder.add_custom_ignore_filename(".palisadeignore");
    }
    builder.build_parallel().run(|| {
        let found = &found;
        let root = &root_buf;
        Box::new(move |entry| {
            let entry = match entry {
                Ok(e) => e,
                Err(err) => {
                    if let Ok(mut g) = found.lock() {
                        g.1.push(InputError::new(
                            root.to_string_lossy(),
                            palisade_core::report::InputErrorKind::Io,
                            err.to_string(),
                        ));
                    }
                    return ignore::WalkState::Continue;
                }
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                return ignore::WalkState::Continue;
            }
            let rel = rel_of(root, entry.path());
            let kind = match catalog::classify(&rel) {
                Some(k) if k.is_os() && !rootfs => None,
                Some(k) => Some(k),
                None => is_executable(&entry).then_some(Kind::Binary),
            };
            if let Some(kind) = kind
                && let Ok(mut g) = found.lock()
            {
                g.0.push(Candidate {
                    rel,
                    kind,
                    path: entry.into_path(),
                });
            }
            ignore::WalkState::Continue
        })
    });
    let (mut c, e) = found.into_inner().unwrap_or_default();
    c.sort();
    (c, e)
}

/// Smallest file worth checking for an ELF header.
const MIN_BINARY_BYTES: u64 = 4096;

#[cfg(unix)]
fn is_executable(e: &ignore::DirEntry) -> bool {
    use std::os::unix::fs::PermissionsExt;
    e.metadata()
        .is_ok_and(|m| m.permissions().mode() & 0o111 != 0 && m.len() >= MIN_BINARY_BYTES)
}

#[cfg(not(unix))]
fn is_executable(_: &ignore::DirEntry) -> bool {
    false
}

/// Scans a directory or root filesystem.
pub fn scan(root: &Path, name: &str, opts: &ScanOptions) -> Sbom {
    let mut sbom = Sbom::default();
    sbom.target.name = name.to_owned();
    sbom.target.kind = match opts.mode {
        Mode::Directory => TargetKind::Directory,
        Mode::Rootfs => TargetKind::Rootfs,
    };
    let meta = std::fs::metadata(root);
    if let Err(e) = &meta {
        sbom.errors.push(Error::io(name, e).into());
        return sbom;
    }
    if meta.as_ref().is_ok_and(|m| m.is_file()) {
        // A single file: catalogue it by its name.
        let file_name = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // Classified by its full path (so `…/var/lib/dpkg/status` works);
        // anything else may be an executable.
        let full = root.to_string_lossy().replace('\\', "/");
        let kind = catalog::classify(&full).or(Some(Kind::Binary));
        let cands = kind.map(|k| Candidate {
            rel: file_name,
            kind: k,
            path: root.to_path_buf(),
        });
        run(
            &mut sbom,
            cands.into_iter().collect(),
            None,
            Some(name),
            opts,
        );
        sbom.finalize();
        return sbom;
    }
    let distro = if opts.mode == Mode::Rootfs {
        detect_distro(root)
    } else {
        None
    };
    sbom.target.distro = distro.clone();
    if let Some(p) = &opts.progress {
        p.start("finding package files", 0);
    }
    let (cands, errors) = collect(root, opts);
    sbom.errors.extend(errors);
    if let Some(p) = &opts.progress {
        p.finish();
    }
    run(&mut sbom, cands, Some(root), None, opts);
    sbom.finalize();
    sbom
}

/// Runs the catalogers on the candidates in parallel.
fn run(
    sbom: &mut Sbom,
    cands: Vec<Candidate>,
    root: Option<&Path>,
    single: Option<&str>,
    opts: &ScanOptions,
) {
    if let Some(p) = &opts.progress {
        p.start("cataloguing", cands.len() as u64);
    }
    let distro = sbom.target.distro.clone();
    let rootfs = opts.mode == Mode::Rootfs;
    let results: Vec<(Vec<crate::Component>, Option<InputError>)> = cands
        .par_iter()
        .map(|c| {
            let display = match single {
                Some(s) => s.to_owned(),
                None if rootfs => format!("/{}", c.rel),
                None => c.rel.clone(),
            };
            let ctx = Ctx {
                path: &display,
                distro: distro.as_ref(),
                limits: &opts.limits,
                fs_path: Some(&c.path),
                fs_root: root,
            };
            let r = parse_candidate(c, &ctx);
            if let Some(p) = &opts.progress {
                p.inc(1);
            }
            match r {
                Ok(v) => (v, None),
                Err(e) => (Vec::new(), Some(e.into())),
            }
        })
        .collect();
    if let Some(p) = &opts.progress {
        p.finish();
    }
    for (comps, err) in results {
        sbom.components.extend(comps);
        sbom.errors.extend(err);
    }
}

/// Reads one candidate (size-limited) and runs its cataloger.
pub fn parse_candidate(c: &Candidate, ctx: &Ctx<'_>) -> crate::Result<Vec<crate::Component>> {
    match c.kind {
        Kind::Binary => catalog::binary::parse_file(&c.path, ctx),
        Kind::JavaArchive => {
            let meta = std::fs::metadata(&c.path).map_err(|e| Error::io(ctx.path, &e))?;
            if meta.len() > ctx.limits.max_archive_bytes {
                return Err(Error::limit(
                    ctx.path,
                    "archive is larger than the size limit",
                ));
            }
            catalog::java::parse_archive_file(&c.path, ctx)
        }
        Kind::RpmSqlite => catalog::rpm::parse_path(&c.path, ctx),
        kind => {
            let bytes = read_limited(&c.path, ctx.path, ctx.limits.max_file_bytes)?;
            catalog::parse(kind, &bytes, ctx)
        }
    }
}

/// Reads a file, refusing more than `max` bytes.
pub fn read_limited(path: &Path, display: &str, max: u64) -> crate::Result<Vec<u8>> {
    let f = std::fs::File::open(path).map_err(|e| Error::io(display, &e))?;
    let mut buf = Vec::new();
    f.take(max + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Error::io(display, &e))?;
    if buf.len() as u64 > max {
        return Err(Error::limit(
            display,
            format!(
                "file is larger than the {} limit",
                palisade_core::source::human_bytes(max)
            ),
        ));
    }
    Ok(buf)
}

/// Counts components per cataloger (`found_by`), for summaries.
pub fn counts_by_cataloger(sbom: &Sbom) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for c in &sbom.components {
        *m.entry(c.found_by.clone()).or_insert(0) += 1;
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_dirs() {
        assert!(is_cache_dir("home/u/.cargo/registry"));
        assert!(is_cache_dir(".npm"));
        assert!(!is_cache_dir("app/node_modules"));
    }

    #[test]
    fn os_release() {
        let d =
            parse_os_release("ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n").unwrap();
        assert_eq!(
            (d.id.as_str(), d.version_id.as_str(), d.codename.as_str()),
            ("debian", "12", "bookworm")
        );
        assert!(parse_os_release("X=1").is_none());
    }
}
