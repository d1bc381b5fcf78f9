//! Where a report goes: a file, written whole or not at all (a temporary
//! file renamed into place), a device or pipe (`-o /dev/null`,
//! `-o /dev/stdout`), written in place, or stdout, where a closed pipe
//! (`| head`) ends the output quietly.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Reports run to 100+ MB of JSON; with the default 8 KiB buffer the write
/// calls alone were a tenth of a large vulnerability scan.
const BUFFER: usize = 256 * 1024;

/// Runs `write` against `path`, or stdout when there is none.
pub(crate) fn write_report(
    path: Option<&Path>,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    let Some(path) = path else {
        return match buffered(io::stdout().lock(), write) {
            Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e.into()),
            _ => Ok(()),
        };
    };
    let cannot = || format!("cannot write {}", path.display());
    match Destination::of(path) {
        Destination::Stdout => write_report(None, write),
        Destination::InPlace => {
            let file = fs::OpenOptions::new()
                .write(true)
                .open(path)
                .with_context(cannot)?;
            buffered(file, write).with_context(cannot)
        }
        Destination::Replace(real) => {
            let tmp = temporary_beside(&real);
            // `create_new`: never through a symlink someone planted there.
            let file = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)
                .with_context(cannot)?;
            let written = buffered(file, write).and_then(|()| fs::rename(&tmp, &real));
            if written.is_err() {
                let _ = fs::remove_file(&tmp);
            }
            written.with_context(cannot)
        }
    }
}

/// Runs `write` through a large buffer into `sink`, flushed.
fn buffered(
    sink: impl Write,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let mut out = BufWriter::with_capacity(BUFFER, sink);
    write(&mut out)?;
    out.flush()
}

/// How a report reaches its path.
#[derive(Debug, PartialEq, Eq)]
enum Destination {
    /// This process's standard output under another name (`/dev/stdout`,
    /// `/dev/fd/1`): written through it, so `>> log` keeps appending and a
    /// redirected file is never replaced.
    Stdout,
    /// Not a regular file (a device, FIFO or socket, possibly behind a
    /// symlink): renaming over it would replace `/dev/null` with a file.
    InPlace,
    /// A regular file, new or existing (through symlinks: the file they
    /// point at), replaced whole.
    Replace(PathBuf),
}

impl Destination {
    fn of(path: &Path) -> Destination {
        use std::os::unix::fs::MetadataExt;
        let stdout = io::stdout()
            .as_fd()
            .try_clone_to_owned()
            .map(fs::File::from)
            .and_then(|f| f.metadata());
        match fs::metadata(path) {
            Ok(m) if stdout.is_ok_and(|s| (s.dev(), s.ino()) == (m.dev(), m.ino())) => {
                Destination::Stdout
            }
            Ok(m) if !m.is_file() && !m.is_dir() => Destination::InPlace,
            Ok(_) => Destination::Replace(fs::canonicalize(path).unwrap_or_else(|_| path.into())),
            Err(_) => Destination::Replace(path.into()),
        }
    }
}

/// A name next to `path` that no other run uses at the same time.
fn temporary_beside(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".palisade-tmp-{}", std::process::id()));
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hello(out: &mut dyn Write) -> io::Result<()> {
        out.write_all(b"hello")
    }

    #[test]
    fn a_regular_file_is_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        fs::write(&path, "old and longer").unwrap();
        write_report(Some(&path), hello).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "hello");
        let failed = write_report(Some(&path), |_| Err(io::Error::other("boom")));
        assert!(failed.is_err());
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "hello",
            "kept on failure"
        );
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names, ["report.json"], "no temporary file left behind");
    }

    #[test]
    fn a_symlink_keeps_pointing_at_the_report() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.json");
        fs::write(&real, "old").unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_report(Some(&link), hello).unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read_to_string(&real).unwrap(), "hello");
    }

    #[test]
    fn a_planted_temporary_name_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, "keep").unwrap();
        let path = dir.path().join("report.json");
        std::os::unix::fs::symlink(&victim, temporary_beside(&path)).unwrap();
        assert!(write_report(Some(&path), hello).is_err());
        assert_eq!(fs::read_to_string(&victim).unwrap(), "keep");
        assert!(!path.exists());
    }

    #[test]
    fn a_fifo_is_written_in_place_not_replaced() {
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || fs::read_to_string(fifo).unwrap())
        };
        write_report(Some(&fifo), hello).unwrap();
        // Checked before joining: a FIFO renamed over would leave the
        // reader waiting forever.
        assert!(
            fs::metadata(&fifo).unwrap().file_type().is_fifo(),
            "still a FIFO"
        );
        assert_eq!(reader.join().unwrap(), "hello");
        assert_eq!(
            Destination::of(Path::new("/dev/null")),
            Destination::InPlace
        );
    }
}
