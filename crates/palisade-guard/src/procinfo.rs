//! What a process is, from `/proc/<pid>`: parent, executable, command line,
//! user and container. Every read is bounded; a process that has gone (or
//! a field that cannot be read) leaves the field empty.

#![deny(clippy::indexing_slicing)]

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cgroup::{self, Container};

/// Largest command line kept (bytes).
pub const MAX_CMDLINE: usize = 4096;
/// Most arguments kept.
pub const MAX_ARGS: usize = 64;
const MAX_STAT: usize = 4096;
const MAX_STATUS: usize = 8192;

/// A process's details for an event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ProcessInfo {
    pub ppid: Option<i32>,
    /// The executable the process runs *now*: for an exec event, the
    /// program that called execve (the exec has not happened yet).
    pub exe: Option<String>,
    pub cmdline: Option<Vec<String>>,
    /// Real user id.
    pub uid: Option<u32>,
    pub container: Option<Container>,
}

/// Reads a process's details; never fails, fields it cannot read are None.
pub fn process_info(pid: i32) -> ProcessInfo {
    let dir = PathBuf::from(format!("/proc/{pid}"));
    ProcessInfo {
        ppid: read_bounded(&dir.join("stat"), MAX_STAT)
            .ok()
            .and_then(|b| parse_ppid(&b)),
        exe: exe(pid).map(|p| p.to_string_lossy().into_owned()),
        cmdline: read_bounded(&dir.join("cmdline"), MAX_CMDLINE)
            .ok()
            .map(|b| parse_cmdline(&b)),
        uid: read_bounded(&dir.join("status"), MAX_STATUS)
            .ok()
            .and_then(|b| parse_uid(&b)),
        container: read_bounded(&dir.join("cgroup"), cgroup::MAX_CGROUP_FILE)
            .ok()
            .and_then(|b| {
                let text = String::from_utf8_lossy(&b);
                cgroup::cgroup_path(&text).map(cgroup::identify)
            }),
    }
}

/// The process's executable (`/proc/<pid>/exe`).
pub fn exe(pid: i32) -> Option<PathBuf> {
    std::fs::read_link(format!("/proc/{pid}/exe")).ok()
}

/// Reads at most `max` bytes of a file.
pub fn read_bounded(path: &Path, max: usize) -> std::io::Result<Vec<u8>> {
    let file = std::fs::File::open(path)?;
    let mut buf = Vec::new();
    file.take(max as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

/// The parent pid from `/proc/<pid>/stat`: the fourth field, counted after
/// the command name, which is in parentheses and may contain anything.
pub fn parse_ppid(stat: &[u8]) -> Option<i32> {
    let close = stat.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(stat.get(close + 1..)?).ok()?;
    let mut fields = rest.split_ascii_whitespace();
    let _state = fields.next()?;
    fields.next()?.parse().ok()
}

/// NUL-separated arguments, at most [`MAX_ARGS`].
pub fn parse_cmdline(raw: &[u8]) -> Vec<String> {
    let raw = raw.strip_suffix(b"\0").unwrap_or(raw);
    if raw.is_empty() {
        return Vec::new();
    }
    raw.split(|&b| b == 0)
        .take(MAX_ARGS)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

/// The real uid from the `Uid:` line of `/proc/<pid>/status`.
pub fn parse_uid(status: &[u8]) -> Option<u32> {
    let text = std::str::from_utf8(status).ok()?;
    let line = text.lines().find(|l| l.starts_with("Uid:"))?;
    line.get(4..)?.split_ascii_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_hostile_comm() {
        assert_eq!(parse_ppid(b"42 (a) b) c) S 7 42 42 0 -1"), Some(7));
        assert_eq!(parse_ppid(b"42 (sh) R 1 2 3"), Some(1));
        assert_eq!(parse_ppid(b"42 (sh"), None);
        assert_eq!(parse_ppid(b""), None);
    }

    #[test]
    fn parses_cmdline_and_uid() {
        assert_eq!(parse_cmdline(b"sh\0-c\0./x\0"), vec!["sh", "-c", "./x"]);
        assert!(parse_cmdline(b"").is_empty());
        let many = "a\0".repeat(MAX_ARGS + 10);
        assert_eq!(parse_cmdline(many.as_bytes()).len(), MAX_ARGS);
        assert_eq!(
            parse_uid(b"Name:\tsh\nUid:\t1000\t1000\t1000\t1000\n"),
            Some(1000)
        );
        assert_eq!(parse_uid(b"Name:\tsh\n"), None);
    }

    #[test]
    fn reads_this_process() {
        let me = process_info(std::process::id() as i32);
        assert!(me.ppid.is_some());
        assert!(me.exe.is_some());
        assert!(!me.cmdline.unwrap().is_empty());
        assert!(me.uid.is_some());
        let gone = process_info(i32::MAX);
        assert_eq!(gone, ProcessInfo::default());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(b in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let _ = parse_ppid(&b);
            let _ = parse_cmdline(&b);
            let _ = parse_uid(&b);
        }
    }
}
