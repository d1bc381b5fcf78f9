//! Applying image layers, in order, to a temporary root: OCI whiteouts
//! (`.wh.NAME` deletes, `.wh..wh..opq` makes a directory opaque), gzip,
//! zstd (pure-Rust `ruzstd`) and uncompressed tars.
//!
//! Confinement: entry paths are normalised (leading `/` and `./` dropped);
//! an entry with a `..` component is refused and reported. Symbolic links
//! are never created on disk, so no later entry can be written through
//! one; hard links are copies of files already inside the root, resolved
//! by normalised path. Only the files the catalogers read are written
//! (package databases, manifests, lockfiles, archives, executables,
//! licence files), which keeps extraction fast and small.

#![deny(clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::pipe::Pipe;
use super::section::Section;
use crate::catalog::{self, Limits};
use crate::error::{Error, Result};

/// Which layer last wrote each extracted path (relative, `/`-separated).
pub type Owners = BTreeMap<String, usize>;

/// Most entries in one layer.
const MAX_LAYER_ENTRIES: u64 = 5_000_000;
/// Most bytes written to the temporary root over all layers.
const MAX_EXTRACTED_BYTES: u64 = 64 * 1024 * 1024 * 1024;
/// Executables smaller than this are not inspected (scripts, stubs).
const MIN_BINARY_BYTES: u64 = 4096;

/// Layer compressions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// The compression a layer media type names; `Err` for media types that
/// are not filesystem layers.
pub fn compression_of(media_type: &str, display: &str) -> Result<Option<Compression>> {
    let mt = media_type.trim();
    Ok(match mt {
        // Empty: docker-archive layers carry no media type; sniff.
        "" => None,
        "application/vnd.oci.image.layer.v1.tar"
        | "application/vnd.oci.image.layer.nondistributable.v1.tar"
        | "application/vnd.docker.image.rootfs.diff.tar" => Some(Compression::None),
        "application/vnd.oci.image.layer.v1.tar+gzip"
        | "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
        | "application/vnd.docker.image.rootfs.diff.tar.gzip"
        | "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip" => Some(Compression::Gzip),
        "application/vnd.oci.image.layer.v1.tar+zstd"
        | "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd" => Some(Compression::Zstd),
        other => {
            return Err(Error::unsupported(
                display,
                format!("unsupported layer media type `{other}` (not an image filesystem layer)"),
            ));
        }
    })
}

/// Whether the catalogers (or the distro/licence lookups) read this file.
pub fn wanted(rel: &str, mode: u32, size: u64) -> bool {
    wanted_by_name(rel) || executable(mode, size)
}

/// Files read for their name, whatever their mode.
fn wanted_by_name(rel: &str) -> bool {
    if catalog::classify(rel).is_some() {
        return true;
    }
    let name = rel.rsplit('/').next().unwrap_or(rel);
    if matches!(rel, "etc/os-release" | "usr/lib/os-release") || name == "package.json" {
        return true;
    }
    name == "copyright" && rel.starts_with("usr/share/doc/")
}

/// Executables big enough to be worth inspecting for embedded build data.
fn executable(mode: u32, size: u64) -> bool {
    mode & 0o111 != 0 && size >= MIN_BINARY_BYTES
}

/// Normalises an entry path; `None` for the root itself; `Err` for `..`.
pub fn normalise(raw: &str) -> std::result::Result<Option<String>, String> {
    let mut parts: Vec<&str> = Vec::new();
    for seg in raw.split('/') {
        match seg {
            "" | "." => {}
            ".." => return Err(format!("path `{raw}` leaves the image root (`..`)")),
            s => parts.push(s),
        }
    }
    Ok((!parts.is_empty()).then(|| parts.join("/")))
}

/// A layer's tar, ready to walk.
pub enum TarStream<'a> {
    /// Uncompressed, in a file: contents nobody reads are seeked over.
    Seekable(Section),
    /// Read (and decompressed) in order.
    Stream(Box<dyn Read + 'a>),
}

impl std::fmt::Debug for TarStream<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TarStream::Seekable(s) => f.debug_tuple("Seekable").field(s).finish(),
            TarStream::Stream(_) => f.write_str("Stream"),
        }
    }
}

/// The compression `hint` names, or the one the first bytes show.
fn compression<B: BufRead>(
    r: &mut B,
    hint: Option<Compression>,
    display: &str,
) -> Result<Compression> {
    if let Some(k) = hint {
        return Ok(k);
    }
    let head = r.fill_buf().map_err(|e| Error::io(display, &e))?;
    Ok(if head.starts_with(&[0x1f, 0x8b]) {
        Compression::Gzip
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Compression::Zstd
    } else {
        Compression::None
    })
}

fn zstd<R: Read>(
    r: R,
    display: &str,
) -> Result<ruzstd::decoding::StreamingDecoder<R, ruzstd::decoding::FrameDecoder>> {
    ruzstd::decoding::StreamingDecoder::new(r)
        .map_err(|e| Error::parse(display, format!("corrupt zstd layer: {e}")))
}

/// Wraps a layer stream in its decompressor (sniffing when the media type
/// does not say), decompressing on this thread.
pub fn decompress<'a, R: Read + 'a>(
    r: R,
    hint: Option<Compression>,
    display: &str,
) -> Result<TarStream<'a>> {
    let mut br = BufReader::with_capacity(256 * 1024, r);
    Ok(TarStream::Stream(
        match compression(&mut br, hint, display)? {
            Compression::None => Box::new(br),
            Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(br)),
            Compression::Zstd => Box::new(zstd(br, display)?),
        },
    ))
}

/// A layer blob's tar: an uncompressed one is walked with seeks, a
/// compressed one is decompressed ahead of the walk on a helper thread.
pub fn open_blob(
    mut blob: Section,
    hint: Option<Compression>,
    display: &str,
) -> Result<TarStream<'static>> {
    let piped = |p: std::io::Result<Pipe>| p.map_err(|e| Error::io(display, &e));
    Ok(match compression(&mut blob, hint, display)? {
        Compression::None => TarStream::Seekable(blob),
        Compression::Gzip => TarStream::Stream(Box::new(piped(Pipe::spawn(
            flate2::bufread::MultiGzDecoder::new(blob),
        ))?)),
        Compression::Zstd => TarStream::Stream(Box::new(piped(Pipe::spawn(zstd(blob, display)?))?)),
    })
}

/// A layer read error, named for what users see: truncation or corruption.
fn corrupt_layer(display: &str, e: &std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::UnexpectedEof || e.to_string().contains("unexpected EOF") {
        Error::parse(
            display,
            "truncated layer: the archive ends in the middle of an entry",
        )
    } else {
        Error::parse(display, format!("corrupt layer: {e}"))
    }
}

/// One entry of a layer, as [`walk`] reports it.
pub enum Entry<'a> {
    /// A regular file; `reader` yields its `size` bytes.
    File {
        path: &'a str,
        size: u64,
        mode: u32,
        reader: &'a mut dyn Read,
    },
    /// A hard link to `target` (normalised; a target outside the root is
    /// skipped by [`walk`] with a warning).
    HardLink { path: &'a str, target: &'a str },
    /// A directory.
    Dir { path: &'a str },
    /// Anything else written at `path` (symlink, device, FIFO): it
    /// replaces what lower layers had there but holds nothing to read.
    Other { path: &'a str },
    /// A whiteout: `path` and everything below it is deleted.
    Deleted { path: &'a str },
    /// An opaque directory: what lower layers put below `path` is hidden.
    Opaque { path: &'a str },
}

impl std::fmt::Debug for Entry<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Entry::File { path, size, .. } => write!(f, "File({path}, {size} bytes)"),
            Entry::HardLink { path, target } => write!(f, "HardLink({path} -> {target})"),
            Entry::Dir { path } => write!(f, "Dir({path})"),
            Entry::Other { path } => write!(f, "Other({path})"),
            Entry::Deleted { path } => write!(f, "Deleted({path})"),
            Entry::Opaque { path } => write!(f, "Opaque({path})"),
        }
    }
}

/// Reads one (decompressed) layer tar entry by entry, writing nothing:
/// every path is normalised and an entry that would leave the root is
/// skipped and returned as a warning.
pub fn walk(
    tar: TarStream<'_>,
    display: &str,
    visit: &mut dyn FnMut(Entry<'_>) -> Result<()>,
) -> Result<Vec<Error>> {
    match tar {
        TarStream::Seekable(s) => {
            walk_entries(tar::Archive::new(s).entries_with_seek(), display, visit)
        }
        TarStream::Stream(r) => walk_entries(tar::Archive::new(r).entries(), display, visit),
    }
}

fn walk_entries<R: Read>(
    entries: std::io::Result<tar::Entries<'_, R>>,
    display: &str,
    visit: &mut dyn FnMut(Entry<'_>) -> Result<()>,
) -> Result<Vec<Error>> {
    let corrupt = |e: std::io::Error| corrupt_layer(display, &e);
    let mut warnings = Vec::new();
    for (count, entry) in entries.map_err(corrupt)?.enumerate() {
        if count as u64 >= MAX_LAYER_ENTRIES {
            return Err(Error::limit(
                display,
                format!("layer has more than {MAX_LAYER_ENTRIES} entries"),
            ));
        }
        let mut entry = entry.map_err(corrupt)?;
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let rel = match normalise(&raw) {
            Ok(Some(r)) => r,
            Ok(None) => continue,
            Err(message) => {
                warnings.push(Error::Escape {
                    path: display.to_owned(),
                    message,
                });
                continue;
            }
        };
        let (parent, name) = rel
            .rsplit_once('/')
            .map_or(("", rel.as_str()), |(p, n)| (p, n));
        if name == ".wh..wh..opq" {
            visit(Entry::Opaque { path: parent })?;
            continue;
        }
        if let Some(target) = name.strip_prefix(".wh.") {
            let victim = if parent.is_empty() {
                target.to_owned()
            } else {
                format!("{parent}/{target}")
            };
            visit(Entry::Deleted { path: &victim })?;
            continue;
        }
        let header = entry.header();
        let (ty, mode, size) = (
            header.entry_type(),
            header.mode().unwrap_or(0),
            header.size().unwrap_or(0),
        );
        match ty {
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let mut reader = (&mut entry).take(size);
                visit(Entry::File {
                    path: &rel,
                    size,
                    mode,
                    reader: &mut reader,
                })?;
                // Whatever the visitor left unread is skipped by the archive.
            }
            tar::EntryType::Link => {
                let raw = entry
                    .link_name_bytes()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default();
                match normalise(&raw) {
                    Ok(Some(target)) => visit(Entry::HardLink {
                        path: &rel,
                        target: &target,
                    })?,
                    Ok(None) => {}
                    Err(m) => warnings.push(Error::Escape {
                        path: display.to_owned(),
                        message: format!("hard link {rel}: {m}"),
                    }),
                }
            }
            tar::EntryType::Directory => visit(Entry::Dir { path: &rel })?,
            _ => visit(Entry::Other { path: &rel })?,
        }
    }
    Ok(warnings)
}

/// State carried across the layers of one image.
#[derive(Debug, Default)]
pub struct Applier {
    pub owners: Owners,
    written: u64,
    /// Problems with single entries (escapes); the layer goes on.
    pub warnings: Vec<Error>,
    /// Reused for copying files out: large reads and writes (8 KiB ones
    /// were 4,000 write calls for a Debian image with apps).
    copy_buf: Vec<u8>,
    /// An executable being looked at before it is staged.
    held: Vec<u8>,
}

/// Largest executable looked at in memory; bigger ones are staged and
/// left to the cataloger.
const MAX_HELD_BINARY: u64 = 64 * 1024 * 1024;

/// Bytes per read and write when a file is copied out of a layer.
const COPY_CHUNK: usize = 256 * 1024;

impl Applier {
    /// Applies one (decompressed) layer tar to `root`.
    pub fn apply(
        &mut self,
        tar: TarStream<'_>,
        index: usize,
        root: &Path,
        display: &str,
        limits: &Limits,
    ) -> Result<()> {
        let warnings = walk(tar, display, &mut |entry| match entry {
            // SIGINT/SIGTERM: stop writing, so the staging directory can go.
            _ if super::staging::cancelled() => Err(Error::Io {
                path: display.to_owned(),
                message: "interrupted".into(),
            }),
            Entry::Opaque { path } => {
                self.opaque(path, index, root);
                Ok(())
            }
            Entry::Deleted { path } => {
                self.remove_tree(path, root);
                Ok(())
            }
            Entry::File {
                path,
                size,
                mode,
                reader,
            } => {
                // Whatever was at `path` (a file, or a directory of files)
                // is replaced, whether or not this file is staged.
                self.remove_tree(path, root);
                if !wanted(path, mode, size) || size > limits.max_archive_bytes {
                    return Ok(());
                }
                self.written = self.written.saturating_add(size);
                if self.written > MAX_EXTRACTED_BYTES {
                    return Err(Error::limit(
                        display,
                        "image expands past the extraction limit",
                    ));
                }
                // Executables are looked at in memory first: most (C
                // programs and libraries) hold nothing the binary cataloger
                // reads, and staging them was most of the files written.
                let held = !wanted_by_name(path) && size <= MAX_HELD_BINARY;
                if held {
                    self.held.clear();
                    self.held.reserve(usize::try_from(size).unwrap_or(0));
                    reader
                        .read_to_end(&mut self.held)
                        .map_err(|e| corrupt_layer(display, &e))?;
                    if !catalog::binary::worth_reading(&self.held) {
                        return Ok(());
                    }
                }
                let dest = root.join(path);
                prepare(&dest, root).map_err(|e| Error::io(display, &e))?;
                // Executables stay executable: the cataloger picks binaries
                // by mode. Never setuid, never writable by others.
                let mut f = std::fs::OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .mode(if executable(mode, size) { 0o755 } else { 0o644 })
                    .open(&dest)
                    .map_err(|e| Error::io(display, &e))?;
                if held {
                    std::io::Write::write_all(&mut f, &self.held)
                        .map_err(|e| Error::io(display, &e))?;
                } else {
                    self.copy_buf.resize(COPY_CHUNK, 0);
                    copy(reader, &mut f, &mut self.copy_buf, display)?;
                }
                self.owners.insert(path.to_owned(), index);
                Ok(())
            }
            Entry::HardLink { path, target } => {
                self.remove_tree(path, root);
                if self.owners.contains_key(target) {
                    let dest = root.join(path);
                    prepare(&dest, root).map_err(|e| Error::io(display, &e))?;
                    std::fs::copy(root.join(target), &dest).map_err(|e| Error::io(display, &e))?;
                    self.owners.insert(path.to_owned(), index);
                }
                Ok(())
            }
            Entry::Dir { .. } => Ok(()),
            // Symlinks, devices, FIFOs: nothing to catalogue, never materialised.
            Entry::Other { path } => {
                self.remove_tree(path, root);
                Ok(())
            }
        })?;
        self.warnings.extend(warnings);
        // Up to 64 MiB held for one large executable: not for the image.
        self.held = Vec::new();
        Ok(())
    }

    fn remove_file(&mut self, rel: &str, root: &Path) {
        if self.owners.remove(rel).is_some() {
            let _ = std::fs::remove_file(root.join(rel));
        }
    }

    /// Removes `rel` and, when it was a directory in a lower layer,
    /// everything staged below it (an entry of any kind at `rel` replaces
    /// the directory). Staged paths are kept sorted, so what is below
    /// `rel/` is one range.
    fn remove_tree(&mut self, rel: &str, root: &Path) {
        self.remove_file(rel, root);
        let prefix = format!("{rel}/");
        let victims: Vec<String> = self
            .owners
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, _)| k.clone())
            .collect();
        for v in victims {
            self.remove_file(&v, root);
        }
    }

    /// An opaque directory hides what lower layers put in it (entries of
    /// the same layer stay).
    fn opaque(&mut self, dir: &str, index: usize, root: &Path) {
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let victims: Vec<String> = self
            .owners
            .iter()
            .filter(|(k, layer)| k.starts_with(&prefix) && **layer < index)
            .map(|(k, _)| k.clone())
            .collect();
        for v in victims {
            self.remove_file(&v, root);
        }
    }
}

/// Copies all of `from` into `to` through `buf`; read errors are the
/// layer's (truncated or corrupt), write errors the file system's.
fn copy(from: &mut dyn Read, to: &mut std::fs::File, buf: &mut [u8], display: &str) -> Result<()> {
    use std::io::Write;
    loop {
        let n = match from.read(buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(corrupt_layer(display, &e)),
        };
        let chunk = buf.get(..n).unwrap_or_default();
        to.write_all(chunk).map_err(|e| Error::io(display, &e))?;
    }
}

/// Makes the parent directories of `dest` (all inside `root`, none a
/// symlink since none is ever created) and clears a directory in the way.
fn prepare(dest: &Path, root: &Path) -> std::io::Result<()> {
    debug_assert!(dest.starts_with(root));
    if let Some(parent) = dest.parent() {
        // A file from a lower layer where a directory is now needed.
        let mut p = parent;
        while p != root {
            if p.is_file() {
                std::fs::remove_file(p)?;
                break;
            }
            match p.parent() {
                Some(pp) => p = pp,
                None => break,
            }
        }
        std::fs::create_dir_all(parent)?;
    }
    if dest.is_dir() {
        std::fs::remove_dir_all(dest)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_paths() {
        assert_eq!(normalise("./a/b/"), Ok(Some("a/b".into())));
        assert_eq!(
            normalise("/etc/os-release"),
            Ok(Some("etc/os-release".into()))
        );
        assert_eq!(normalise("./"), Ok(None));
        assert!(normalise("a/../../etc/passwd").is_err());
        assert!(normalise("..").is_err());
    }

    #[test]
    fn media_types() {
        assert_eq!(
            compression_of("application/vnd.oci.image.layer.v1.tar+zstd", "l").unwrap(),
            Some(Compression::Zstd)
        );
        let e =
            compression_of("application/vnd.cncf.helm.chart.content.v1.tar+gzip", "l").unwrap_err();
        assert!(
            e.to_string().contains("unsupported layer media type"),
            "{e}"
        );
    }
}
