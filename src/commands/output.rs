//! Where a report goes: a file, written whole or not at all (a temporary
//! file renamed into place), a device or pipe (`-o /dev/null`,
//! `-o /dev/stdout`), written in place, or stdout, where a closed pipe
//! (`| head`) ends the output quietly.

use std::fs;
use std::io::{self, BufWriter, Write};
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
        let stdout = io::stdout();
        let mut out = BufWriter::with_capacity(BUFFER, stdout.lock());
        return match write(&mut out).and_then(|()| out.flush()) {
            Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e.into()),
            _ => Ok(()),
        };
    };
    let cannot = || format!("cannot write {}", path.display());
    match Destination::of(path) {
        Destination::InPlace => {
            let file = fs::OpenOptions::new()
                .write(true)
                .open(path)
                .with_context(cannot)?;
            let mut out = BufWriter::with_capacity(BUFFER, file);
            write(&mut out)
                .and_then(|()| out.flush())
                .with_context(cannot)
        }
        Destination::Replace(real) => {
            let tmp = temporary_beside(&real);
            let written = fs::File::create(&tmp).and_then(|file| {
                let mut out = BufWriter::with_capacity(BUFFER, file);
                write(&mut out)?;
                out.flush()
            });
            let renamed = written.and_then(|()| fs::rename(&tmp, &real));
            if renamed.is_err() {
                let _ = fs::remove_file(&tmp);
            }
            renamed.with_context(cannot)
        }
    }
}

/// How a report reaches its path.
#[derive(Debug, PartialEq, Eq)]
enum Destination {
    /// Not a regular file (a device, FIFO or socket, possibly behind a
    /// symlink): renaming over it would replace `/dev/null` with a file.
    InPlace,
    /// A regular file, new or existing (through symlinks: the file they
    /// point at), replaced whole.
    Replace(PathBuf),
}

impl Destination {
    fn of(path: &Path) -> Destination {
        match fs::metadata(path) {
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
        assert_eq!(reader.join().unwrap(), "hello");
        assert!(
            fs::metadata(&fifo).unwrap().file_type().is_fifo(),
            "still a FIFO"
        );
        assert_eq!(
            Destination::of(Path::new("/dev/null")),
            Destination::InPlace
        );
    }
}
