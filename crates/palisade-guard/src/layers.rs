//! Where a file of an overlay comes from: the image (a lower layer only),
//! or the container's writable upper layer (new, or copied up when
//! modified).
//!
//! Lookups are `openat2(O_PATH)` relative to a descriptor of each layer
//! directory with `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV`:
//! the container owns what is in its upper layer and could plant symlinks
//! there to steer a lookup outside of it, so a lookup never follows one.

#![deny(clippy::indexing_slicing)]

use std::collections::HashMap;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, Mode, OFlags, ResolveFlags, StatxFlags};
use rustix::io::Errno;
use serde::Serialize;

use crate::overlay::OverlayLayers;

/// Where an executed (or read) file comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// Only in the image's lower layers: allowed.
    Image,
    /// Only in the upper layer: written after the container started.
    New,
    /// In the upper layer and in a lower one: an image file, changed
    /// (copied up; a metadata-only change such as chmod counts too).
    Modified,
    /// Unlinked while being executed: it cannot be checked, so it is drift.
    Deleted,
    /// In no layer by its path: renamed while being checked, or a layout
    /// the guard cannot see through (e.g. redirected directories). Drift,
    /// because the guard cannot show it is from the image.
    Unknown,
}

impl Origin {
    pub fn is_drift(self) -> bool {
        self != Origin::Image
    }
}

/// What `statx` says of the file that provides a path in the lower layers:
/// for a file only there, the overlay shows exactly these, so an event's
/// file that shows others is not that file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LowerStatus {
    /// Seconds and nanoseconds since the epoch.
    pub ctime: (i64, u32),
    pub mtime: (i64, u32),
    pub size: u64,
}

/// Paths whose presence in the lower layers is remembered. Beyond it the
/// memory starts over: a bound, not an eviction policy.
pub const MAX_LOWER_CACHE: usize = 4096;

/// Open descriptors of an overlay's layer directories.
#[derive(Debug)]
pub struct LayerDirs {
    pub upper: OwnedFd,
    pub lower: Vec<OwnedFd>,
    pub upper_path: PathBuf,
    /// Whether a path is in some lower layer (and that file's status), by
    /// path. Lower layers do not change while the overlay is mounted
    /// (overlayfs forbids it), so an answer stays true; it spares the one
    /// lookup per lower layer that an image file from a deep layer would
    /// otherwise cost on every exec.
    lower_cache: HashMap<Box<[u8]>, Option<LowerStatus>>,
}

/// Whether a path exists in one layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Absent,
    Present,
    /// A symlink or a mount in the way: not a plain path in this layer.
    Redirected,
}

impl LayerDirs {
    /// Opens the layers; `prefix` (e.g. `/proc/1/root`) is put before each
    /// layer path when the guard reaches another mount namespace's files.
    /// `None` when the overlay has no upper layer (nothing can drift).
    pub fn open(layers: &OverlayLayers, prefix: Option<&Path>) -> io::Result<Option<LayerDirs>> {
        let Some(upper_path) = &layers.upper else {
            return Ok(None);
        };
        let upper = open_dir(&reach(prefix, upper_path))
            .map_err(|e| context(e, "upper layer", upper_path))?;
        let mut lower = Vec::with_capacity(layers.lower.len());
        for path in &layers.lower {
            lower
                .push(open_dir(&reach(prefix, path)).map_err(|e| context(e, "lower layer", path))?);
        }
        Ok(Some(LayerDirs {
            upper,
            lower,
            upper_path: upper_path.clone(),
            lower_cache: HashMap::new(),
        }))
    }

    /// Classifies `rel` (a path inside the overlay, without the leading
    /// `/`). With `full == false` it only answers Image vs drift by the
    /// upper layer (for open events, where speed matters and a lower-only
    /// file is allowed anyway); drift is then reported as `New` until a
    /// full check labels it.
    pub fn classify(&mut self, rel: &[u8], full: bool) -> io::Result<Origin> {
        let in_upper = lookup(self.upper.as_fd(), rel)?;
        if in_upper == Presence::Absent {
            if !full {
                return Ok(Origin::Image);
            }
            // Prove it: an image file is in a lower layer at this path.
            return Ok(if self.lower_status(rel)?.is_some() {
                Origin::Image
            } else {
                Origin::Unknown
            });
        }
        // Present (or a symlink/mount in the way, which a file from the
        // image would not have in the upper layer).
        if full && self.lower_status(rel)?.is_some() {
            Ok(Origin::Modified)
        } else {
            Ok(Origin::New)
        }
    }

    /// Whether the file that provides `rel` in the lower layers has a
    /// status `matches` accepts. A remembered status that does not match
    /// is read again first: the host may have changed the file's status (a
    /// relabel, a chown) since it was remembered.
    pub fn lower_file_matches(
        &mut self,
        rel: &[u8],
        matches: impl Fn(&LowerStatus) -> bool,
    ) -> io::Result<bool> {
        match self.lower_status(rel)? {
            Some(status) if matches(&status) => return Ok(true),
            None => return Ok(false),
            Some(_) => {}
        }
        self.lower_cache.remove(rel);
        Ok(self
            .lower_status(rel)?
            .is_some_and(|status| matches(&status)))
    }

    /// The status of the file that provides `rel` in the lower layers (the
    /// uppermost one that has it), or `None` when none has it.
    pub fn lower_status(&mut self, rel: &[u8]) -> io::Result<Option<LowerStatus>> {
        if let Some(&known) = self.lower_cache.get(rel) {
            return Ok(known);
        }
        let mut found = None;
        for dir in &self.lower {
            if let Found::File(fd) = find(dir.as_fd(), rel)? {
                let mask = StatxFlags::CTIME | StatxFlags::MTIME | StatxFlags::SIZE;
                let stx = rustix::fs::statx(&fd, "", AtFlags::EMPTY_PATH, mask)?;
                // A status the filesystem does not give proves nothing.
                found = (stx.stx_mask & mask.bits() == mask.bits()).then_some(LowerStatus {
                    ctime: (stx.stx_ctime.tv_sec, stx.stx_ctime.tv_nsec),
                    mtime: (stx.stx_mtime.tv_sec, stx.stx_mtime.tv_nsec),
                    size: stx.stx_size,
                });
                break;
            }
        }
        if self.lower_cache.len() >= MAX_LOWER_CACHE {
            self.lower_cache.clear();
        }
        self.lower_cache.insert(rel.into(), found);
        Ok(found)
    }
}

fn reach(prefix: Option<&Path>, path: &Path) -> PathBuf {
    match prefix {
        Some(prefix) => prefix.join(path.strip_prefix("/").unwrap_or(path)),
        None => path.to_path_buf(),
    }
}

fn open_dir(path: &Path) -> io::Result<OwnedFd> {
    Ok(rustix::fs::open(
        path,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?)
}

fn context(err: io::Error, what: &str, path: &Path) -> io::Error {
    io::Error::new(
        err.kind(),
        format!("cannot open {what} {}: {err}", path.display()),
    )
}

/// Looks `rel` up beneath `dir` without following symlinks or crossing
/// mounts.
pub fn lookup(dir: BorrowedFd<'_>, rel: &[u8]) -> io::Result<Presence> {
    Ok(match find(dir, rel)? {
        Found::File(_) => Presence::Present,
        Found::Absent => Presence::Absent,
        Found::Redirected => Presence::Redirected,
    })
}

enum Found {
    File(OwnedFd),
    Absent,
    Redirected,
}

fn find(dir: BorrowedFd<'_>, rel: &[u8]) -> io::Result<Found> {
    let rel = if rel.is_empty() { &b"."[..] } else { rel };
    let flags = OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let resolve = ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_XDEV;
    // EAGAIN: a concurrent rename or mount was seen; the kernel asks for a
    // retry. Bounded, then reported as an error (answered by default).
    for _ in 0..4 {
        match rustix::fs::openat2(dir, rel, flags, Mode::empty(), resolve) {
            Ok(fd) => return Ok(Found::File(fd)),
            Err(Errno::NOENT | Errno::NOTDIR) => return Ok(Found::Absent),
            Err(Errno::LOOP | Errno::XDEV) => return Ok(Found::Redirected),
            Err(Errno::AGAIN) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Errno::AGAIN.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn layers(tmp: &Path) -> OverlayLayers {
        for d in ["upper/bin", "l1/bin", "l2/bin", "l2/lib"] {
            fs::create_dir_all(tmp.join(d)).unwrap();
        }
        fs::write(tmp.join("l2/bin/image"), b"x").unwrap();
        fs::write(tmp.join("l2/bin/changed"), b"x").unwrap();
        fs::write(tmp.join("upper/bin/changed"), b"y").unwrap();
        fs::write(tmp.join("upper/bin/new"), b"y").unwrap();
        fs::write(tmp.join("outside"), b"y").unwrap();
        // A symlink in the upper layer pointing out of it.
        std::os::unix::fs::symlink(tmp, tmp.join("upper/escape")).unwrap();
        std::os::unix::fs::symlink("/", tmp.join("upper/root")).unwrap();
        OverlayLayers {
            lower: vec![tmp.join("l1"), tmp.join("l2")],
            upper: Some(tmp.join("upper")),
        }
    }

    #[test]
    fn classifies_by_layer() {
        let tmp = tempfile::tempdir().unwrap();
        let mut dirs = LayerDirs::open(&layers(tmp.path()), None).unwrap().unwrap();
        assert_eq!(dirs.classify(b"bin/image", true).unwrap(), Origin::Image);
        assert_eq!(dirs.classify(b"bin/new", true).unwrap(), Origin::New);
        assert_eq!(
            dirs.classify(b"bin/changed", true).unwrap(),
            Origin::Modified
        );
        assert_eq!(
            dirs.classify(b"bin/nowhere", true).unwrap(),
            Origin::Unknown
        );
        // Fast mode: only the upper layer is consulted.
        assert_eq!(dirs.classify(b"bin/nowhere", false).unwrap(), Origin::Image);
        assert_eq!(dirs.classify(b"bin/changed", false).unwrap(), Origin::New);
    }

    #[test]
    fn never_follows_symlinks_out_of_a_layer() {
        let tmp = tempfile::tempdir().unwrap();
        let mut dirs = LayerDirs::open(&layers(tmp.path()), None).unwrap().unwrap();
        assert_eq!(
            lookup(dirs.upper.as_fd(), b"escape/outside").unwrap(),
            Presence::Redirected
        );
        assert_eq!(
            lookup(dirs.upper.as_fd(), b"root/etc/passwd").unwrap(),
            Presence::Redirected
        );
        // Drift, not "absent from upper" (which would have been allowed).
        assert!(dirs.classify(b"escape/outside", true).unwrap().is_drift());
        assert!(dirs.classify(b"root/bin/sh", false).unwrap().is_drift());
    }

    #[test]
    fn read_only_overlays_have_no_dirs() {
        let l = OverlayLayers {
            lower: vec![PathBuf::from("/")],
            upper: None,
        };
        assert!(LayerDirs::open(&l, None).unwrap().is_none());
        let missing = OverlayLayers {
            lower: vec![PathBuf::from("/")],
            upper: Some(PathBuf::from("/nonexistent/palisade/upper")),
        };
        let err = LayerDirs::open(&missing, None).unwrap_err();
        assert!(err.to_string().contains("upper layer"), "{err}");
    }

    #[test]
    fn remembers_lower_layer_lookups_within_a_bound() {
        let tmp = tempfile::tempdir().unwrap();
        let mut dirs = LayerDirs::open(&layers(tmp.path()), None).unwrap().unwrap();
        assert_eq!(dirs.classify(b"bin/image", true).unwrap(), Origin::Image);
        // Answered from memory: the lower layers are not consulted again
        // (they cannot change under a mounted overlay).
        fs::remove_file(tmp.path().join("l2/bin/image")).unwrap();
        assert_eq!(dirs.classify(b"bin/image", true).unwrap(), Origin::Image);
        // The upper layer always is: a file written there is drift at once.
        fs::write(tmp.path().join("upper/bin/image"), b"z").unwrap();
        assert_eq!(dirs.classify(b"bin/image", true).unwrap(), Origin::Modified);
        for i in 0..MAX_LOWER_CACHE + 10 {
            let rel = format!("bin/missing-{i}");
            assert_eq!(
                dirs.classify(rel.as_bytes(), true).unwrap(),
                Origin::Unknown
            );
            assert!(dirs.lower_cache.len() <= MAX_LOWER_CACHE);
        }
    }

    #[test]
    fn gives_the_status_of_the_uppermost_lower_file() {
        use std::os::unix::fs::MetadataExt;
        let tmp = tempfile::tempdir().unwrap();
        let layers = layers(tmp.path());
        fs::write(tmp.path().join("l1/bin/image"), b"top layer").unwrap();
        let mut dirs = LayerDirs::open(&layers, None).unwrap().unwrap();
        let status = dirs.lower_status(b"bin/image").unwrap().unwrap();
        let top = fs::metadata(tmp.path().join("l1/bin/image")).unwrap();
        assert_eq!(status.size, 9);
        assert_eq!(status.ctime, (top.ctime(), top.ctime_nsec() as u32));
        assert_eq!(status.mtime, (top.mtime(), top.mtime_nsec() as u32));
        assert_eq!(dirs.lower_status(b"bin/new").unwrap(), None);
        assert_eq!(dirs.lower_status(b"bin/changed").unwrap().unwrap().size, 1);
        // Changed on the host after it was remembered: read again.
        let remembered = dirs.lower_status(b"bin/image").unwrap().unwrap();
        fs::write(tmp.path().join("l1/bin/image"), b"top layer, longer").unwrap();
        assert!(
            dirs.lower_file_matches(b"bin/image", |s| s.size == 17)
                .unwrap()
        );
        assert!(
            !dirs
                .lower_file_matches(b"bin/image", |s| *s == remembered)
                .unwrap()
        );
        assert!(!dirs.lower_file_matches(b"bin/new", |_| true).unwrap());
    }

    #[test]
    fn reaches_through_a_prefix() {
        assert_eq!(
            reach(Some(Path::new("/proc/1/root")), Path::new("/var/lib/x")),
            PathBuf::from("/proc/1/root/var/lib/x")
        );
        assert_eq!(reach(None, Path::new("/a")), PathBuf::from("/a"));
    }
}
