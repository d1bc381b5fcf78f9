//! fanotify(7): the group, its marks, its events and the answers to them.
//!
//! This is the only module allowed `unsafe`: `fanotify_init` and
//! `fanotify_mark` have no safe wrapper in libc or rustix, and the event file descriptors the kernel hands us in a
//! read have to be taken into ownership. Everything else (reading events,
//! writing responses) goes through rustix's safe calls, and the event
//! records are decoded from bytes without `unsafe`.

#![allow(unsafe_code)]
#![deny(clippy::indexing_slicing)]

use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Exec permission events.
pub const OPEN_EXEC_PERM: u64 = libc::FAN_OPEN_EXEC_PERM;
/// Open permission events (the interpreter coverage option).
pub const OPEN_PERM: u64 = libc::FAN_OPEN_PERM;
/// The queue overflowed (never for permission events, which are not
/// dropped, but the kernel may still send it).
pub const Q_OVERFLOW: u64 = libc::FAN_Q_OVERFLOW;

/// Size of `struct fanotify_event_metadata` (version 3).
const METADATA_LEN: usize = 24;

/// A fanotify group of class `FAN_CLASS_CONTENT` (permission events).
#[derive(Debug)]
pub struct Fanotify {
    fd: OwnedFd,
}

/// What `init` needs to say when the kernel refuses.
#[derive(Debug)]
pub enum InitError {
    /// EPERM: no CAP_SYS_ADMIN in the initial user namespace.
    NotPermitted(io::Error),
    /// EINVAL / ENOSYS: no fanotify or no permission events in this kernel.
    Unsupported(io::Error),
    Other(io::Error),
}

impl Fanotify {
    /// Creates a non-blocking group with unlimited queue and marks (both
    /// need CAP_SYS_ADMIN, which permission events need anyway). Event file
    /// descriptors are opened read-only and close-on-exec.
    pub fn init() -> Result<Fanotify, InitError> {
        let flags = libc::FAN_CLASS_CONTENT
            | libc::FAN_CLOEXEC
            | libc::FAN_NONBLOCK
            | libc::FAN_UNLIMITED_QUEUE
            | libc::FAN_UNLIMITED_MARKS;
        let event_flags = (libc::O_RDONLY | libc::O_LARGEFILE | libc::O_CLOEXEC) as libc::c_uint;
        // SAFETY: fanotify_init takes two integer arguments and returns a
        // new file descriptor or -1; it touches no memory of ours.
        let fd = unsafe { libc::fanotify_init(flags, event_flags) };
        if fd < 0 {
            let err = io::Error::last_os_error();
            return Err(match err.raw_os_error() {
                Some(libc::EPERM) => InitError::NotPermitted(err),
                Some(libc::EINVAL | libc::ENOSYS) => InitError::Unsupported(err),
                _ => InitError::Other(err),
            });
        }
        // SAFETY: `fd` was just returned by fanotify_init, is valid and is
        // owned by nothing else; OwnedFd becomes its only owner.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Fanotify { fd })
    }

    /// `fanotify_mark(fd, flags, mask, AT_FDCWD, path)`.
    pub fn mark(&self, flags: u32, mask: u64, path: &Path) -> io::Result<()> {
        let path = CString::new(path.as_os_str().as_bytes())
            .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        // SAFETY: `self.fd` is a live fanotify descriptor and `path` a
        // NUL-terminated string that outlives the call; the kernel only
        // reads it.
        let rc = unsafe {
            libc::fanotify_mark(
                self.fd.as_raw_fd(),
                flags,
                mask,
                libc::AT_FDCWD,
                path.as_ptr(),
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Marks the filesystem (superblock) that the open directory `dir` is
    /// on: every mount of it, in every mount namespace, reports to this
    /// group. A descriptor rather than a path, so the filesystem marked is
    /// the one the caller checked, not whatever is mounted there by now.
    pub fn mark_filesystem(&self, mask: u64, dir: BorrowedFd<'_>) -> io::Result<()> {
        // `.` relative to `dir`: fanotify_mark resolves a path against an
        // O_PATH descriptor, but will not take one as the object itself.
        let dot = c".";
        // SAFETY: both descriptors are live for the call and `dot` is a
        // static NUL-terminated string; the kernel only reads it.
        let rc = unsafe {
            libc::fanotify_mark(
                self.fd.as_raw_fd(),
                libc::FAN_MARK_ADD | libc::FAN_MARK_FILESYSTEM | libc::FAN_MARK_ONLYDIR,
                mask,
                dir.as_raw_fd(),
                dot.as_ptr(),
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Marks one inode (used to probe for permission-event support).
    pub fn mark_inode(&self, add: bool, mask: u64, path: &Path) -> io::Result<()> {
        let cmd = if add {
            libc::FAN_MARK_ADD
        } else {
            libc::FAN_MARK_REMOVE
        };
        self.mark(
            cmd | libc::FAN_MARK_INODE | libc::FAN_MARK_ONLYDIR,
            mask,
            path,
        )
    }

    /// Removes every filesystem mark of this group.
    pub fn flush_filesystem_marks(&self) -> io::Result<()> {
        self.mark(
            libc::FAN_MARK_FLUSH | libc::FAN_MARK_FILESYSTEM,
            0,
            Path::new("/"),
        )
    }

    /// Reads queued events into `buf`; `Ok(0)` when none are queued.
    pub fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        match rustix::io::read(&self.fd, buf) {
            Ok(n) => Ok(n),
            Err(rustix::io::Errno::AGAIN) => Ok(0),
            Err(e) => Err(e.into()),
        }
    }

    /// Answers a permission event.
    pub fn respond(&self, event_fd: BorrowedFd<'_>, allow: bool) -> io::Result<()> {
        let response = if allow {
            libc::FAN_ALLOW
        } else {
            libc::FAN_DENY
        };
        // struct fanotify_response { __s32 fd; __u32 response; }
        let mut bytes = [0u8; 8];
        let (fd_part, response_part) = bytes.split_at_mut(4);
        fd_part.copy_from_slice(&event_fd.as_raw_fd().to_ne_bytes());
        response_part.copy_from_slice(&response.to_ne_bytes());
        let n = rustix::io::write(&self.fd, &bytes)?;
        if n != bytes.len() {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "short fanotify response",
            ));
        }
        Ok(())
    }
}

impl AsFd for Fanotify {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// One event record.
#[derive(Debug)]
pub struct RawEvent {
    pub mask: u64,
    /// The file, opened by the kernel for us; `None` for queue overflow.
    pub fd: Option<OwnedFd>,
    /// The process (thread group) that caused the event.
    pub pid: i32,
}

/// Event records could not be decoded (a kernel/ABI mismatch): the guard
/// stops, and the kernel answers what is pending when the group closes.
#[derive(Debug, thiserror::Error)]
#[error("undecodable fanotify event at byte {offset}: {reason}")]
pub struct DecodeError {
    pub offset: usize,
    pub reason: &'static str,
}

/// Decodes the records of one `read`: the events decoded, and the error
/// that stopped decoding, if any (the events before it still need answers).
/// Every descriptor in the buffer is taken into ownership exactly once, so
/// the caller must call this once per read and must not use the buffer's
/// descriptors any other way.
pub fn decode(buf: &[u8]) -> (Vec<RawEvent>, Option<DecodeError>) {
    let mut events = Vec::new();
    let error = decode_into(buf, &mut events).err();
    (events, error)
}

fn decode_into(buf: &[u8], events: &mut Vec<RawEvent>) -> Result<(), DecodeError> {
    let mut offset = 0;
    while offset < buf.len() {
        let rest = buf.get(offset..).unwrap_or_default();
        let error = |reason| DecodeError { offset, reason };
        let header = rest.get(..METADATA_LEN).ok_or(error("truncated header"))?;
        let event_len = u32_at(header, 0) as usize;
        let vers = header.get(4).copied().unwrap_or_default();
        let metadata_len = u16::from_ne_bytes([
            header.get(6).copied().unwrap_or_default(),
            header.get(7).copied().unwrap_or_default(),
        ]) as usize;
        if vers != libc::FANOTIFY_METADATA_VERSION {
            return Err(error("unknown metadata version"));
        }
        if event_len < METADATA_LEN || event_len > rest.len() || metadata_len < METADATA_LEN {
            return Err(error("bad event length"));
        }
        let mask = u64_at(header, 8);
        let raw_fd = u32_at(header, 16) as i32;
        let pid = u32_at(header, 20) as i32;
        let fd = if raw_fd == libc::FAN_NOFD || raw_fd < 0 {
            None
        } else {
            // SAFETY: the kernel installed `raw_fd` in our descriptor table
            // for this event during the read that filled `buf`; this
            // function is the only place that takes it, once per read, so
            // OwnedFd becomes its only owner and closes it exactly once.
            Some(unsafe { OwnedFd::from_raw_fd(raw_fd) })
        };
        events.push(RawEvent { mask, fd, pid });
        offset += event_len;
    }
    Ok(())
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0u8; 4];
    if let Some(src) = bytes.get(at..at + 4) {
        word.copy_from_slice(src);
    }
    u32::from_ne_bytes(word)
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    if let Some(src) = bytes.get(at..at + 8) {
        word.copy_from_slice(src);
    }
    u64::from_ne_bytes(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(mask: u64, fd: i32, pid: i32) -> Vec<u8> {
        let mut r = Vec::new();
        r.extend_from_slice(&24u32.to_ne_bytes());
        r.push(libc::FANOTIFY_METADATA_VERSION);
        r.push(0);
        r.extend_from_slice(&24u16.to_ne_bytes());
        r.extend_from_slice(&mask.to_ne_bytes());
        r.extend_from_slice(&fd.to_ne_bytes());
        r.extend_from_slice(&pid.to_ne_bytes());
        r
    }

    #[test]
    fn decodes_records_without_descriptors() {
        let mut buf = record(Q_OVERFLOW, libc::FAN_NOFD, 0);
        buf.extend(record(Q_OVERFLOW, libc::FAN_NOFD, 7));
        let (events, error) = decode(&buf);
        assert!(error.is_none());
        assert_eq!(events.len(), 2);
        assert_eq!(events[1].pid, 7);
        assert!(events[0].fd.is_none());
        assert_eq!(events[0].mask, Q_OVERFLOW);
    }

    #[test]
    fn rejects_bad_records() {
        let mut buf = record(0, -1, 0);
        buf[4] = 2; // old metadata version
        assert!(decode(&buf).1.is_some());
        let buf = record(0, -1, 0);
        assert!(decode(&buf[..20]).1.is_some());
        // A good record, then one longer than the buffer: the first is kept.
        let mut buf = record(0, -1, 3);
        let mut bad = record(0, -1, 0);
        bad[0] = 200;
        buf.extend(bad);
        let (events, error) = decode(&buf);
        assert_eq!(events.len(), 1);
        assert_eq!(error.unwrap().offset, 24);
    }
}
