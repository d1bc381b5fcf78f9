//! From an event's file descriptor to (overlay, path inside the overlay).
//!
//! The descriptor's mount id (`statx`) names the mount the process used:
//! in the guard's mount table for the overlays it mounted itself or sees,
//! else in the process's own table (`/proc/<pid>/mountinfo`: a container's
//! root is a clone of the runtime's mount, in the container's mount
//! namespace). The mount's device number names the overlay (it is the
//! superblock's, the same in every namespace), and `readlink` of the
//! descriptor, less the mount point, plus the mount's root, is the path
//! inside the overlay.

#![deny(clippy::indexing_slicing)]

use std::collections::HashMap;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::sync::Arc;

use rustix::fs::{AtFlags, Mode, OFlags, StatxFlags};

use crate::known::Identity;
use crate::layers::LowerStatus;
use crate::mountinfo::{self, DevId, MountEntry};

/// `STATX_MNT_ID_UNIQUE` (Linux 6.8): a 64-bit mount id never reused.
const STATX_MNT_ID_UNIQUE: u32 = 0x4000;
/// Largest mountinfo file read for one process.
pub const MAX_MOUNTINFO: usize = 16 * 1024 * 1024;
/// Mounts remembered from other namespaces before the cache is cleared.
const MAX_FOREIGN: usize = 8192;

/// A mount of a guarded overlay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountView {
    pub dev: DevId,
    pub mount_point: Vec<u8>,
    /// The directory of the overlay that is this mount's root (`/` unless
    /// it is a bind mount of a subdirectory).
    pub root: Vec<u8>,
}

impl MountView {
    pub fn from_entry(entry: &MountEntry) -> MountView {
        MountView {
            dev: entry.dev,
            mount_point: entry.mount_point.as_os_str().as_bytes().to_vec(),
            root: entry.root.as_os_str().as_bytes().to_vec(),
        }
    }
}

/// What `statx` says of the event's file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileFacts {
    pub mount_key: u64,
    pub nlink: u32,
    pub ino: u64,
    pub dev: (u32, u32),
    /// Seconds and nanoseconds since the epoch.
    pub ctime: (i64, u32),
    pub mtime: (i64, u32),
    pub size: u64,
    pub mode: u16,
    /// Whether the filesystem gave all of the above.
    pub complete: bool,
}

impl FileFacts {
    /// The file's identity, when the filesystem gives all of it.
    pub fn identity(&self) -> Option<Identity> {
        self.complete.then_some(Identity {
            dev: self.dev,
            ino: self.ino,
            ctime: self.ctime,
        })
    }

    /// Whether this is what the overlay shows for `lower`, the file that
    /// provides the path in the lower layers, when only they have it.
    pub fn shows(&self, lower: &LowerStatus) -> bool {
        self.complete
            && (self.ctime, self.mtime, self.size) == (lower.ctime, lower.mtime, lower.size)
    }

    pub fn executable(&self) -> bool {
        self.mode & 0o111 != 0
    }
}

/// Why an event's file could not be placed.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("statx of the event file: {0}")]
    Statx(io::Error),
    #[error("readlink of the event file: {0}")]
    Readlink(io::Error),
    #[error("mount {0} is in no mount table the guard can read")]
    UnknownMount(u64),
    #[error("path `{path}` is not below its mount point `{mount_point}`")]
    OutsideMount { path: String, mount_point: String },
}

/// Maps mount ids to guarded overlays' mounts.
#[derive(Debug, Default)]
pub struct Resolver {
    /// Mounts in the guard's mount table, by (old-style) mount id.
    own: HashMap<u64, Arc<MountView>>,
    /// Mounts found in processes' tables, by unique id when the kernel has
    /// them, else by old-style id. Misses are not remembered: the mount may
    /// be in the next refresh of the guard's table.
    foreign: HashMap<u64, Arc<MountView>>,
    /// Whether the kernel reports unique mount ids (never reused).
    unique_ids: Option<bool>,
    /// `/proc/self/fd`, opened once: reading a link relative to it skips
    /// the walk through `/proc` and `self` on every event.
    fd_dir: Option<OwnedFd>,
}

impl Resolver {
    /// Replaces the guard's own table. Old-style ids can be reused once a
    /// mount is gone, and devices numbers once an overlay is gone, so the
    /// cache of other namespaces' mounts is dropped with every change.
    pub fn set_own(&mut self, own: HashMap<u64, MountView>) {
        self.own = own.into_iter().map(|(id, v)| (id, Arc::new(v))).collect();
        self.foreign.clear();
    }

    pub fn facts(&mut self, fd: BorrowedFd<'_>) -> Result<FileFacts, ResolveError> {
        let want_unique = self.unique_ids != Some(false);
        let status = StatxFlags::INO
            | StatxFlags::CTIME
            | StatxFlags::MTIME
            | StatxFlags::SIZE
            | StatxFlags::MODE;
        let mask = StatxFlags::NLINK
            | status
            | if want_unique {
                StatxFlags::from_bits_retain(STATX_MNT_ID_UNIQUE)
            } else {
                StatxFlags::MNT_ID
            };
        let stx = rustix::fs::statx(fd, "", AtFlags::EMPTY_PATH, mask)
            .map_err(|e| ResolveError::Statx(e.into()))?;
        if want_unique && self.unique_ids.is_none() {
            self.unique_ids = Some(stx.stx_mask & STATX_MNT_ID_UNIQUE != 0);
        }
        Ok(FileFacts {
            mount_key: stx.stx_mnt_id,
            nlink: stx.stx_nlink,
            ino: stx.stx_ino,
            dev: (stx.stx_dev_major, stx.stx_dev_minor),
            ctime: (stx.stx_ctime.tv_sec, stx.stx_ctime.tv_nsec),
            mtime: (stx.stx_mtime.tv_sec, stx.stx_mtime.tv_nsec),
            size: stx.stx_size,
            mode: stx.stx_mode,
            complete: stx.stx_mask & status.bits() == status.bits(),
        })
    }

    /// Writes the event's file's path inside the overlay of `view` (its
    /// mount, from [`Resolver::view`]) into `path`: absolute, e.g.
    /// `/usr/bin/true`.
    pub fn path(
        &mut self,
        fd: BorrowedFd<'_>,
        view: &MountView,
        path: &mut Vec<u8>,
    ) -> Result<(), ResolveError> {
        let link = self.readlink_fd(fd).map_err(ResolveError::Readlink)?;
        let suffix = below(&link, &view.mount_point).ok_or_else(|| ResolveError::OutsideMount {
            path: String::from_utf8_lossy(&link).into_owned(),
            mount_point: String::from_utf8_lossy(&view.mount_point).into_owned(),
        })?;
        path.clear();
        join(path, &view.root, suffix);
        Ok(())
    }

    /// `readlink /proc/self/fd/N`, relative to the open `/proc/self/fd`
    /// and without a heap allocation for the name.
    fn readlink_fd(&mut self, fd: BorrowedFd<'_>) -> io::Result<Vec<u8>> {
        let dir = match &self.fd_dir {
            Some(dir) => dir,
            None => self.fd_dir.insert(rustix::fs::open(
                "/proc/self/fd",
                OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )?),
        };
        let mut name = [0u8; 16];
        let n = {
            use std::io::Write;
            let mut cursor = std::io::Cursor::new(&mut name[..]);
            write!(cursor, "{}", fd.as_raw_fd())?;
            cursor.position() as usize
        };
        let name = name.get(..n).unwrap_or_default();
        let target = rustix::fs::readlinkat(dir, std::ffi::OsStr::from_bytes(name), Vec::new())?;
        Ok(target.into_bytes())
    }

    /// The mount the event's process used, which names the overlay.
    pub fn view(
        &mut self,
        fd: BorrowedFd<'_>,
        facts: &FileFacts,
        pid: i32,
    ) -> Result<Arc<MountView>, ResolveError> {
        let unique = self.unique_ids == Some(true);
        if !unique && let Some(view) = self.own.get(&facts.mount_key) {
            return Ok(Arc::clone(view));
        }
        if let Some(cached) = self.foreign.get(&facts.mount_key) {
            return Ok(Arc::clone(cached));
        }
        // Unique ids are not in mountinfo: find the old-style id.
        let old_id = if unique {
            rustix::fs::statx(fd, "", AtFlags::EMPTY_PATH, StatxFlags::MNT_ID)
                .map_err(|e| ResolveError::Statx(e.into()))?
                .stx_mnt_id
        } else {
            facts.mount_key
        };
        let found = match self.own.get(&old_id) {
            Some(view) => Arc::clone(view),
            None => Arc::new(foreign_view(pid, old_id).ok_or(ResolveError::UnknownMount(old_id))?),
        };
        if self.foreign.len() >= MAX_FOREIGN {
            self.foreign.clear();
        }
        self.foreign.insert(facts.mount_key, Arc::clone(&found));
        Ok(found)
    }
}

/// Finds mount `id` in `/proc/<pid>/mountinfo`.
fn foreign_view(pid: i32, id: u64) -> Option<MountView> {
    let text = crate::procinfo::read_bounded(
        std::path::Path::new(&format!("/proc/{pid}/mountinfo")),
        MAX_MOUNTINFO,
    )
    .ok()?;
    text.split(|&b| b == b'\n')
        .filter_map(mountinfo::parse_line)
        .find(|e| e.mount_id == id)
        .map(|e| MountView::from_entry(&e))
}

/// The part of `path` below `mount_point`, starting with `/` (or empty for
/// the mount point itself); `None` when `path` is not below it.
pub fn below<'a>(path: &'a [u8], mount_point: &[u8]) -> Option<&'a [u8]> {
    if mount_point == b"/" {
        return Some(path);
    }
    let rest = path.strip_prefix(mount_point)?;
    (rest.is_empty() || rest.first() == Some(&b'/')).then_some(rest)
}

/// `root` + `suffix`, with exactly one `/` between them, into `out`.
pub fn join(out: &mut Vec<u8>, root: &[u8], suffix: &[u8]) {
    out.extend_from_slice(root.strip_suffix(b"/").unwrap_or(root));
    if suffix.first() != Some(&b'/') {
        out.push(b'/');
    }
    out.extend_from_slice(suffix);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_mount_points() {
        assert_eq!(below(b"/m/usr/bin/x", b"/m"), Some(&b"/usr/bin/x"[..]));
        assert_eq!(below(b"/m", b"/m"), Some(&b""[..]));
        assert_eq!(below(b"/mx/bin", b"/m"), None);
        assert_eq!(below(b"/other", b"/m"), None);
        assert_eq!(below(b"/usr/bin/x", b"/"), Some(&b"/usr/bin/x"[..]));
    }

    #[test]
    fn joins_roots() {
        let mut out = Vec::new();
        join(&mut out, b"/", b"/usr/bin/x");
        assert_eq!(out, b"/usr/bin/x");
        out.clear();
        join(&mut out, b"/sub", b"/x");
        assert_eq!(out, b"/sub/x");
        out.clear();
        join(&mut out, b"/", b"");
        assert_eq!(out, b"/");
    }

    #[test]
    fn a_file_shows_a_lower_status_only_when_all_of_it_matches() {
        let facts = FileFacts {
            mount_key: 1,
            nlink: 1,
            ino: 7,
            dev: (0, 42),
            ctime: (100, 5),
            mtime: (90, 0),
            size: 10,
            mode: 0o100755,
            complete: true,
        };
        let lower = LowerStatus {
            ctime: (100, 5),
            mtime: (90, 0),
            size: 10,
        };
        assert!(facts.shows(&lower));
        assert!(facts.executable());
        assert!(facts.identity().is_some());
        for other in [
            LowerStatus {
                ctime: (100, 6),
                ..lower
            },
            LowerStatus {
                mtime: (91, 0),
                ..lower
            },
            LowerStatus { size: 11, ..lower },
        ] {
            assert!(!facts.shows(&other), "{other:?}");
        }
        let partial = FileFacts {
            complete: false,
            ..facts
        };
        assert!(!partial.shows(&lower));
        assert!(partial.identity().is_none());
        assert!(
            !FileFacts {
                mode: 0o100644,
                ..facts
            }
            .executable()
        );
    }

    #[test]
    fn reads_facts_and_links_of_a_descriptor() {
        let file = std::fs::File::open("/proc/self/exe").unwrap();
        let fd = std::os::fd::AsFd::as_fd(&file);
        let mut resolver = Resolver::default();
        let facts = resolver.facts(fd).unwrap();
        assert!(facts.nlink >= 1);
        let link = resolver.readlink_fd(fd).unwrap();
        assert!(link.starts_with(b"/"), "{}", String::from_utf8_lossy(&link));
        // Our own mount table has no overlays registered: unknown, unless a
        // process table has it (this test's own mountinfo has every mount).
        let view = resolver
            .view(fd, &facts, std::process::id() as i32)
            .unwrap();
        let mut path = Vec::new();
        join(
            &mut path,
            &view.root,
            below(&link, &view.mount_point).unwrap(),
        );
        assert!(path.starts_with(b"/"));
    }
}
