//! `/proc/<pid>/mountinfo` parsing (proc(5)).
//!
//! ```text
//! 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//! (1)(2)(3)   (4)   (5)      (6)      (7)   (8) (9)   (10)         (11)
//! ```
//!
//! Paths are bytes with the kernel's octal escapes (`\040` for a space,
//! `\011`, `\012`, `\134`); [`unescape`] undoes them. A line that does not
//! have this shape is counted in [`MountTable::malformed`] and skipped: the
//! parser never panics and keeps at most [`MAX_ENTRIES`] entries.

#![deny(clippy::indexing_slicing)]

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

/// Most entries kept from one table; the rest are counted as malformed.
pub const MAX_ENTRIES: usize = 100_000;
/// Longest line accepted (the kernel limits paths to 4 KiB; overlay option
/// strings with many layers are longer, so leave ample room).
pub const MAX_LINE: usize = 256 * 1024;

/// A device number as mountinfo shows it (`major:minor`): the superblock
/// of the filesystem, shared by every mount of it in every namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DevId {
    pub major: u32,
    pub minor: u32,
}

impl std::fmt::Display for DevId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.major, self.minor)
    }
}

/// One mount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountEntry {
    pub mount_id: u64,
    pub parent_id: u64,
    pub dev: DevId,
    /// The directory of the filesystem that is the root of this mount.
    pub root: PathBuf,
    /// Where it is mounted, relative to the reading process's root.
    pub mount_point: PathBuf,
    pub mount_options: String,
    pub fs_type: String,
    pub source: String,
    /// Filesystem (superblock) options, unescaped per option by the caller:
    /// values may contain escaped commas.
    pub super_options: Vec<u8>,
}

/// A parsed table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MountTable {
    pub entries: Vec<MountEntry>,
    /// Lines that could not be parsed (or were over the limits).
    pub malformed: usize,
}

/// Parses a whole mountinfo file.
pub fn parse(text: &[u8]) -> MountTable {
    let mut table = MountTable::default();
    for line in text.split(|&b| b == b'\n') {
        if line.is_empty() {
            continue;
        }
        if table.entries.len() >= MAX_ENTRIES || line.len() > MAX_LINE {
            table.malformed += 1;
            continue;
        }
        match parse_line(line) {
            Some(entry) => table.entries.push(entry),
            None => table.malformed += 1,
        }
    }
    table
}

/// Parses one line; `None` when it is malformed.
pub fn parse_line(line: &[u8]) -> Option<MountEntry> {
    let mut fields = line.split(|&b| b == b' ').filter(|f| !f.is_empty());
    let mount_id = number(fields.next()?)?;
    let parent_id = number(fields.next()?)?;
    let dev = dev_id(fields.next()?)?;
    let root = path(fields.next()?);
    let mount_point = path(fields.next()?);
    let mount_options = text(fields.next()?);
    // Zero or more optional fields, then the separator.
    let mut separated = false;
    for field in fields.by_ref() {
        if field == b"-" {
            separated = true;
            break;
        }
    }
    if !separated {
        return None;
    }
    let fs_type = text(fields.next()?);
    let source = text(fields.next()?);
    // Some filesystems show no super options at all.
    let super_options = fields.next().map(<[u8]>::to_vec).unwrap_or_default();
    if fields.next().is_some() {
        return None;
    }
    Some(MountEntry {
        mount_id,
        parent_id,
        dev,
        root,
        mount_point,
        mount_options,
        fs_type,
        source,
        super_options,
    })
}

fn number(field: &[u8]) -> Option<u64> {
    if field.is_empty() || field.len() > 20 || !field.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(field).ok()?.parse().ok()
}

fn dev_id(field: &[u8]) -> Option<DevId> {
    let colon = field.iter().position(|&b| b == b':')?;
    let major = number(field.get(..colon)?)?;
    let minor = number(field.get(colon + 1..)?)?;
    Some(DevId {
        major: u32::try_from(major).ok()?,
        minor: u32::try_from(minor).ok()?,
    })
}

fn path(field: &[u8]) -> PathBuf {
    PathBuf::from(OsString::from_vec(unescape(field)))
}

fn text(field: &[u8]) -> String {
    String::from_utf8_lossy(&unescape(field)).into_owned()
}

/// Undoes the kernel's `\ooo` escapes. A backslash not followed by three
/// octal digits that fit a byte is kept as it is.
pub fn unescape(field: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while let Some(&b) = field.get(i) {
        if b == b'\\'
            && let Some(value) = octal(field.get(i + 1..i + 4))
        {
            out.push(value);
            i += 4;
            continue;
        }
        out.push(b);
        i += 1;
    }
    out
}

fn octal(digits: Option<&[u8]>) -> Option<u8> {
    let digits = digits?;
    let mut value: u32 = 0;
    for &d in digits {
        if !(b'0'..=b'7').contains(&d) {
            return None;
        }
        value = value * 8 + u32::from(d - b'0');
    }
    u8::try_from(value).ok()
}

/// Escapes like the kernel's `mangle()` (space, tab, newline, backslash);
/// used by tests and by anything that writes mountinfo-shaped text.
pub fn escape(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    for &b in raw {
        if matches!(b, b' ' | b'\t' | b'\n' | b'\\') {
            out.extend_from_slice(format!("\\{b:03o}").as_bytes());
        } else {
            out.push(b);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::os::unix::ffi::OsStrExt;

    const SAMPLE: &[u8] = b"22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard
45 27 0:40 / /tmp/gx/t/m rw,relatime - overlay overlay rw,lowerdir=/tmp/gx/t/lower,upperdir=/tmp/gx/t/up/u,workdir=/tmp/gx/t/up/w,uuid=on
46 27 0:41 /sub /tmp/with\\040space rw master:3 propagate_from:2 - tmpfs tmpfs rw
";

    #[test]
    fn parses_real_lines() {
        let table = parse(SAMPLE);
        assert_eq!(table.malformed, 0);
        assert_eq!(table.entries.len(), 4);
        let overlay = &table.entries[2];
        assert_eq!(overlay.mount_id, 45);
        assert_eq!(overlay.parent_id, 27);
        assert_eq!(
            overlay.dev,
            DevId {
                major: 0,
                minor: 40
            }
        );
        assert_eq!(overlay.mount_point, PathBuf::from("/tmp/gx/t/m"));
        assert_eq!(overlay.fs_type, "overlay");
        assert!(overlay.super_options.starts_with(b"rw,lowerdir="));
        let spaced = &table.entries[3];
        assert_eq!(spaced.root, PathBuf::from("/sub"));
        assert_eq!(spaced.mount_point, PathBuf::from("/tmp/with space"));
        assert_eq!(spaced.fs_type, "tmpfs");
        assert_eq!(table.entries[1].mount_options, "rw,relatime");
    }

    #[test]
    fn counts_malformed_lines() {
        let text = b"garbage\n1 2 3:4 / /x rw - ext4 /dev/x rw\n1 2 x:4 / /x rw - a b c\n1 2 3:4 / /x rw no separator\n\n";
        let table = parse(text);
        assert_eq!(table.entries.len(), 1);
        assert_eq!(table.malformed, 3);
    }

    #[test]
    fn missing_super_options_are_empty() {
        let entry = parse_line(b"1 2 3:4 / /x rw - fuse src").unwrap();
        assert!(entry.super_options.is_empty());
        assert!(parse_line(b"1 2 3:4 / /x rw - fuse").is_none());
        assert!(parse_line(b"1 2 3:4 / /x rw - fuse src opts extra").is_none());
    }

    #[test]
    fn unescapes_octal() {
        assert_eq!(unescape(b"a\\040b"), b"a b");
        assert_eq!(unescape(b"\\011\\012\\134"), b"\t\n\\");
        // Not escapes: kept literally.
        assert_eq!(unescape(b"a\\09b"), b"a\\09b");
        assert_eq!(unescape(b"a\\400"), b"a\\400");
        assert_eq!(unescape(b"trailing\\"), b"trailing\\");
        assert_eq!(unescape(b"\\04"), b"\\04");
    }

    #[test]
    fn rejects_out_of_range_numbers() {
        assert!(parse_line(b"99999999999999999999999 2 3:4 / /x rw - a b c").is_none());
        assert!(parse_line(b"1 2 4294967296:4 / /x rw - a b c").is_none());
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let table = parse(&bytes);
            prop_assert!(table.entries.len() + table.malformed <= bytes.len() + 1);
        }

        #[test]
        fn never_panics_on_near_valid_lines(
            prefix in "[0-9]{1,3} [0-9]{1,3} [0-9]{1,3}:[0-9]{1,3} ",
            rest in "[ -~\\\\]{0,80}",
        ) {
            let _ = parse_line(format!("{prefix}{rest}").as_bytes());
        }

        #[test]
        fn escape_round_trips(raw in proptest::collection::vec(any::<u8>(), 0..200)) {
            prop_assert_eq!(unescape(&escape(&raw)), raw);
        }

        #[test]
        fn paths_round_trip_through_a_line(
            point in proptest::collection::vec(any::<u8>().prop_filter("no NUL", |b| *b != 0), 1..64),
            id in 0u64..1_000_000,
        ) {
            let mut line = format!("{id} 1 0:5 / ").into_bytes();
            line.extend_from_slice(&escape(&point));
            line.extend_from_slice(b" rw shared:7 - overlay overlay rw,upperdir=/u");
            let entry = parse_line(&line).unwrap();
            prop_assert_eq!(entry.mount_id, id);
            prop_assert_eq!(entry.mount_point.as_os_str().as_bytes(), &point[..]);
            prop_assert_eq!(entry.fs_type, "overlay");
        }
    }
}
