//! Where a report goes: a file, written whole or not at all (a temporary
//! file renamed into place), or stdout, where a closed pipe (`| head`) ends
//! the output quietly.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result};

/// Reports run to 100+ MB of JSON; with the default 8 KiB buffer the write
/// calls alone were a tenth of a large vulnerability scan.
const BUFFER: usize = 256 * 1024;

/// Runs `write` against `path`, or stdout when there is none.
pub(crate) fn write_report(
    path: Option<&Path>,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    match path {
        Some(path) => {
            let tmp = path.with_extension("palisade-tmp");
            {
                let file = fs::File::create(&tmp)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                let mut out = BufWriter::with_capacity(BUFFER, file);
                write(&mut out)?;
                out.flush()?;
            }
            fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
        }
        None => {
            let stdout = io::stdout();
            let mut out = BufWriter::with_capacity(BUFFER, stdout.lock());
            match write(&mut out).and_then(|()| out.flush()) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}
