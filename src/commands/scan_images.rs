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
use std::io::Read;
use std::sync::Arc;

use palisade_core::{Finding, InputError};
use palisade_k8s::Outcome;
use palisade_sca::source::layer::Entry;
use palisade_sca::source::{self, SourceOptions};
use palisade_secrets::{Scanner, is_binary};
use rayon::prelude::*;

use super::scan_secrets::SecretScan;
use crate::{diagnostics, progress};

/// Bytes of file content held before a batch is scanned.
const BATCH_BYTES: usize = 32 * 1024 * 1024;
/// Bytes read to tell text from binary.
const SNIFF_BYTES: usize = 8000;

/// How images are fetched.
pub(crate) struct ImageOptions {
    pub platform: String,
    pub insecure: bool,
}

/// A file read from a layer, waiting in a batch.
struct Pending {
    layer: usize,
    path: String,
    text: Vec<u8>,
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
        options: &ImageOptions,
        quiet: bool,
        no_progress: bool,
        outcome: &mut Outcome,
    ) -> Vec<InputError> {
        let mut errors = Vec::new();
        for image in images {
            let bar = progress::files(0, 0, !quiet && !no_progress);
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
    options: &ImageOptions,
    on_file: &(dyn Fn() + Sync),
) -> Result<ImageResult, InputError> {
    let opened = source::open_image(
        image,
        &SourceOptions {
            platform: options.platform.clone(),
            insecure: options.insecure,
            credentials: super::sbom::credentials(),
            ..SourceOptions::default()
        },
    )
    .map_err(InputError::from)?;
    let max = scanner.options().max_file_size;
    let mut found: Vec<Found> = Vec::new();
    // Paths with findings, to mark them when a later layer touches them.
    let mut by_path: HashMap<String, Vec<usize>> = HashMap::new();
    let mut batch: Vec<Pending> = Vec::new();
    let mut batch_bytes = 0usize;
    let mut files = 0u64;
    let mut too_large = 0u64;
    let mut buf = vec![0u8; SNIFF_BYTES];
    let flush = |batch: &mut Vec<Pending>,
                 found: &mut Vec<Found>,
                 by_path: &mut HashMap<String, Vec<usize>>| {
        let scanned: Vec<Found> = std::mem::take(batch)
            .into_par_iter()
            .flat_map_iter(|p| {
                let display: Arc<str> = Arc::from(format!("{image}!/{}", p.path));
                on_file();
                scanner
                    .scan_bytes(&display, &p.text)
                    .into_iter()
                    .map(move |finding| Found {
                        layer: p.layer,
                        path: p.path.clone(),
                        finding,
                        superseded: false,
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        for f in scanned {
            by_path.entry(f.path.clone()).or_default().push(found.len());
            found.push(f);
        }
    };
    let walked = opened.walk_layers(&mut |layer, entry| {
        // Whatever this entry does to a path with findings from a lower
        // layer, those findings are no longer in the final filesystem.
        let (touched, below) = match &entry {
            Entry::File { path, .. } | Entry::Other { path } => (*path, false),
            Entry::Deleted { path } => (*path, true),
            Entry::Opaque { path } => (*path, true),
        };
        // A batch holds one layer's files: scanned before the next layer
        // can mark their paths.
        if batch.first().is_some_and(|p| p.layer != layer) {
            flush(&mut batch, &mut found, &mut by_path);
            batch_bytes = 0;
        }
        let mut mark = |ids: &Vec<usize>| {
            for &i in ids {
                if let Some(f) = found.get_mut(i)
                    && f.layer < layer
                {
                    f.superseded = true;
                }
            }
        };
        if below {
            for (path, ids) in &by_path {
                if covers(touched, path, true) {
                    mark(ids);
                }
            }
        } else if let Some(ids) = by_path.get(touched) {
            mark(ids);
        }
        let Entry::File { path, size, reader } = entry else {
            return Ok(());
        };
        if size > max {
            too_large += 1;
            return Ok(());
        }
        let head = read_up_to(reader, &mut buf).map_err(|e| io_error(image, path, &e))?;
        let head = buf.get(..head).unwrap_or(&[]);
        if is_binary(head) {
            return Ok(());
        }
        let mut text = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        text.extend_from_slice(head);
        reader
            .read_to_end(&mut text)
            .map_err(|e| io_error(image, path, &e))?;
        files += 1;
        batch_bytes += text.len();
        batch.push(Pending {
            layer,
            path: path.to_owned(),
            text,
        });
        if batch_bytes >= BATCH_BYTES {
            flush(&mut batch, &mut found, &mut by_path);
            batch_bytes = 0;
        }
        Ok(())
    });
    let escapes = walked.map_err(InputError::from)?;
    flush(&mut batch, &mut found, &mut by_path);

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

/// Fills `buf` as far as the reader goes; the number of bytes read.
fn read_up_to(reader: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        let Some(rest) = buf.get_mut(n..) else { break };
        match reader.read(rest) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
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
