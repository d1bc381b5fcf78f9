//! Secrets in container images: `palisade scan --scanners secret --image
//! IMAGE`. Every regular file of every layer is read from the layer stream
//! (nothing is extracted to disk) and scanned with the secret rules, in
//! parallel batches.
//!
//! A file that a later layer deletes or replaces is still in the image:
//! whoever pulls it can read the layer. Its secrets are reported too, and
//! say so. A secret that several layers carry unchanged at one path is
//! reported once, at the first layer holding it.
//!
//! Locations read `IMAGE!/path/in/image`, as archive members are named
//! elsewhere in Palisade; messages name the layer.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, mpsc};

use palisade_core::{Finding, InputError};
use palisade_k8s::Outcome;
use palisade_sca::source::layer::Entry;
use palisade_sca::source::{self, SourceOptions};
use palisade_secrets::{Scanner, binary_by_name, read_text};
use rayon::prelude::*;

use super::scan_secrets::SecretScan;
use crate::{diagnostics, progress};

/// Bytes of file content held before a batch is scanned.
const BATCH_BYTES: usize = 32 * 1024 * 1024;

/// Files read from one layer, waiting to be scanned: their contents back to
/// back in one buffer that is reused (a fresh allocation per file costs
/// more in page faults than the scan).
struct Batch {
    data: Vec<u8>,
    files: Vec<(usize, String, std::ops::Range<usize>)>,
}

/// A finding and where it came from.
struct Found {
    layer: usize,
    path: String,
    finding: Finding,
    /// Deleted or replaced by a later layer.
    superseded: bool,
}

impl SecretScan {
    /// Scans each image's layers, adding findings and counters to
    /// `outcome`. An image that cannot be opened or read is an input
    /// error, returned; the other images are still scanned.
    pub(crate) fn scan_images(
        &self,
        images: &[String],
        options: &SourceOptions,
        quiet: bool,
        no_progress: bool,
        outcome: &mut Outcome,
    ) -> Vec<InputError> {
        let mut errors = Vec::new();
        for image in images {
            let bar = progress::files(0, || 0, !quiet && !no_progress);
            match scan_image(self.scanner(), image, options, &|| bar.inc(1)) {
                Ok(result) => {
                    outcome.findings.extend(result.findings);
                    outcome.stats.files += result.files;
                    if !quiet {
                        for w in result.warnings {
                            diagnostics::warn(&w);
                        }
                    }
                }
                Err(e) => errors.push(e),
            }
            bar.finish_and_clear();
        }
        errors
    }
}

/// What one image yielded.
struct ImageResult {
    findings: Vec<Finding>,
    /// Text files scanned.
    files: u64,
    warnings: Vec<String>,
}

fn scan_image(
    scanner: &Scanner,
    image: &str,
    options: &SourceOptions,
    on_file: &(dyn Fn() + Sync),
) -> Result<ImageResult, InputError> {
    let opened = source::open_image(image, options).map_err(InputError::from)?;
    let max = scanner.options().max_file_size;
    // Reading (decompression, tar) runs on this thread while a second one
    // scans the previous batch in parallel; two buffers go back and forth.
    let (full_tx, full_rx) = mpsc::sync_channel::<Batch>(1);
    let (empty_tx, empty_rx) = mpsc::sync_channel::<Batch>(2);
    for _ in 0..2 {
        let _ = empty_tx.send(Batch {
            data: Vec::with_capacity(BATCH_BYTES + BATCH_BYTES / 4),
            files: Vec::new(),
        });
    }
    let mut touches = Touches::default();
    let mut files = 0u64;
    let mut too_large = 0u64;
    let (walked, mut found) = std::thread::scope(|scope| {
        let scanning = scope.spawn(move || {
            let mut found = Vec::new();
            for mut batch in full_rx {
                found.extend(scan_batch(scanner, image, &mut batch, on_file));
                batch.data.clear();
                // The reader may be gone (an error); the buffer is dropped.
                let _ = empty_tx.send(batch);
            }
            found
        });
        let mut batch = empty_rx.recv().ok();
        let walked = opened.walk_layers(&mut |layer, entry| {
            touches.record(layer, &entry);
            let Entry::File {
                path, size, reader, ..
            } = entry
            else {
                return Ok(());
            };
            if binary_by_name(std::path::Path::new(path)) {
                return Ok(());
            }
            if size > max {
                too_large += 1;
                return Ok(());
            }
            let Some(b) = batch.as_mut() else {
                return Err(io_error(
                    image,
                    path,
                    &std::io::Error::other("scanner stopped"),
                ));
            };
            let start = b.data.len();
            let skipped =
                read_text(reader, size, max, &mut b.data).map_err(|e| io_error(image, path, &e))?;
            if skipped.is_some() {
                return Ok(());
            }
            files += 1;
            b.files.push((layer, path.to_owned(), start..b.data.len()));
            if b.data.len() >= BATCH_BYTES
                && let Some(b) = batch.take()
            {
                let _ = full_tx.send(b);
                batch = empty_rx.recv().ok();
            }
            Ok(())
        });
        if let Some(b) = batch.take()
            && !b.files.is_empty()
        {
            let _ = full_tx.send(b);
        }
        drop(full_tx);
        let found = scanning.join().unwrap_or_default();
        (walked, found)
    });
    let escapes = walked.map_err(InputError::from)?;
    for f in &mut found {
        f.superseded = touches.superseded(f.layer, &f.path);
    }

    let mut warnings: Vec<String> = escapes.into_iter().map(|e| e.to_string()).collect();
    if too_large > 0 {
        warnings.push(format!(
            "secret scan of {image}: skipped {too_large} file(s) larger than {} (raise with --max-file-size)",
            palisade_core::source::human_bytes(max)
        ));
    }
    let layers = &opened.resolved.layers;
    Ok(ImageResult {
        findings: merge(
            found,
            |i| {
                layers
                    .get(i)
                    .map_or_else(String::new, |l| l.layer.digest.clone())
            },
            layers.len(),
        ),
        files,
        warnings,
    })
}

/// Scans a batch's files in parallel.
fn scan_batch(
    scanner: &Scanner,
    image: &str,
    batch: &mut Batch,
    on_file: &(dyn Fn() + Sync),
) -> Vec<Found> {
    let data = &batch.data;
    batch
        .files
        .par_drain(..)
        .flat_map_iter(|(layer, path, range)| {
            let display: Arc<str> = Arc::from(format!("{image}!/{path}"));
            on_file();
            let text = data.get(range).unwrap_or(&[]);
            scanner
                .scan_bytes(&display, text)
                .into_iter()
                .map(move |finding| Found {
                    layer,
                    path: path.clone(),
                    finding,
                    superseded: false,
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// What the layers did to paths, to tell which files a later layer
/// deleted or replaced.
#[derive(Default)]
struct Touches {
    /// The last layer that wrote each path.
    last_write: HashMap<String, usize>,
    /// Whiteouts and opaque directories: (layer, path), covering below.
    deletions: Vec<(usize, String)>,
}

impl Touches {
    fn record(&mut self, layer: usize, entry: &Entry<'_>) {
        match entry {
            Entry::File { path, .. }
            | Entry::HardLink { path, .. }
            | Entry::Dir { path }
            | Entry::Other { path } => match self.last_write.get_mut(*path) {
                Some(l) => *l = layer,
                None => {
                    self.last_write.insert((*path).to_owned(), layer);
                }
            },
            Entry::Deleted { path } | Entry::Opaque { path } => {
                self.deletions.push((layer, (*path).to_owned()));
            }
        }
    }

    /// Whether the file `path` of `layer` is gone from the final
    /// filesystem. A whiteout deletes; an opaque directory hides only
    /// lower layers' entries, which `later > layer` expresses for both.
    fn superseded(&self, layer: usize, path: &str) -> bool {
        self.last_write.get(path).is_some_and(|&l| l > layer)
            || self
                .deletions
                .iter()
                .any(|(l, d)| *l > layer && covers(d, path, true))
    }
}

/// One finding per fingerprint (the same secret at the same path in
/// several layers): the first layer's, superseded only when every copy is.
fn merge(found: Vec<Found>, digest: impl Fn(usize) -> String, layers: usize) -> Vec<Finding> {
    let mut by_print: BTreeMap<String, (Found, bool)> = BTreeMap::new();
    for f in found {
        let print = f.finding.fingerprint.clone();
        match by_print.get_mut(&print) {
            Some((first, superseded)) => {
                *superseded &= f.superseded;
                if f.layer < first.layer {
                    *first = f;
                }
            }
            None => {
                let s = f.superseded;
                by_print.insert(print, (f, s));
            }
        }
    }
    by_print
        .into_values()
        .map(|(mut f, superseded)| {
            let short = digest(f.layer);
            let short = short.get(..19).unwrap_or(&short);
            f.finding.message = if superseded {
                format!(
                    "{} (layer {} of {layers}, {short}; deleted or replaced by a later layer, still readable in the image)",
                    f.finding.message,
                    f.layer + 1
                )
            } else {
                format!(
                    "{} (layer {} of {layers}, {short})",
                    f.finding.message,
                    f.layer + 1
                )
            };
            f.finding
        })
        .collect()
}

/// Whether an entry at `touched` affects `path`: the same path, or (for
/// deletions and opaque directories) a directory above it.
fn covers(touched: &str, path: &str, below: bool) -> bool {
    path == touched
        || (below
            && (touched.is_empty()
                || path
                    .strip_prefix(touched)
                    .is_some_and(|rest| rest.starts_with('/'))))
}

fn io_error(image: &str, path: &str, e: &std::io::Error) -> palisade_sca::error::Error {
    palisade_sca::error::Error::parse(image, format!("cannot read {path} from a layer: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deletions_cover_what_is_below_them() {
        assert!(covers("etc/app", "etc/app", false));
        assert!(covers("etc", "etc/app/key.pem", true));
        assert!(!covers("etc", "etc/app/key.pem", false));
        assert!(!covers("et", "etc/app", true));
        assert!(covers("", "etc/app", true));
    }
}
