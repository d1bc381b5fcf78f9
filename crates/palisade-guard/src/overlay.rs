//! Overlay mounts: which mountinfo entries are container root filesystems,
//! and their layers (overlayfs `lowerdir=`, `lowerdir+=`, `upperdir=`).

#![deny(clippy::indexing_slicing)]

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

use crate::mountinfo::{DevId, MountEntry, unescape};

/// Most lower layers accepted for one overlay (the kernel allows 500).
pub const MAX_LAYERS: usize = 512;

/// An overlay mount's layers, as its super options show them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverlayLayers {
    /// Lower layers, top (highest priority) first. Data-only layers are
    /// left out: their files are reachable only through metacopy redirects.
    pub lower: Vec<PathBuf>,
    /// The writable layer; `None` for a read-only overlay.
    pub upper: Option<PathBuf>,
}

/// Why an overlay's options could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayerError {
    #[error("no lowerdir option")]
    NoLower,
    #[error("more than {MAX_LAYERS} lower layers")]
    TooManyLayers,
    #[error("layer path `{0}` is not absolute (the guard cannot tell what it is relative to)")]
    Relative(String),
}

/// A mountinfo entry is an overlay when its filesystem type is `overlay`
/// (FUSE overlays such as fuse-overlayfs are not covered: see docs/guard.md).
pub fn is_overlay(entry: &MountEntry) -> bool {
    entry.fs_type == "overlay"
}

/// Reads the layers from an overlay's super options.
pub fn layers(super_options: &[u8]) -> Result<OverlayLayers, LayerError> {
    let mut lower = Vec::new();
    let mut upper = None;
    let mut saw_lower = false;
    for option in super_options.split(|&b| b == b',') {
        // Values are escaped per option (`,` and `=` as octal), so split
        // on the first raw `=` before unescaping.
        let (key, value) = match option.iter().position(|&b| b == b'=') {
            Some(eq) => (
                option.get(..eq).unwrap_or_default(),
                option.get(eq + 1..).unwrap_or_default(),
            ),
            None => (option, &[][..]),
        };
        let value = unescape(value);
        match key {
            b"lowerdir" => {
                saw_lower = true;
                for layer in split_lowerdir(&value) {
                    push_layer(&mut lower, layer)?;
                }
            }
            b"lowerdir+" => {
                saw_lower = true;
                push_layer(&mut lower, value)?;
            }
            b"upperdir" => upper = Some(absolute(value)?),
            _ => {}
        }
    }
    if !saw_lower || lower.is_empty() {
        return Err(LayerError::NoLower);
    }
    Ok(OverlayLayers { lower, upper })
}

fn push_layer(lower: &mut Vec<PathBuf>, layer: Vec<u8>) -> Result<(), LayerError> {
    if lower.len() >= MAX_LAYERS {
        return Err(LayerError::TooManyLayers);
    }
    lower.push(absolute(layer)?);
    Ok(())
}

fn absolute(path: Vec<u8>) -> Result<PathBuf, LayerError> {
    if path.first() != Some(&b'/') {
        return Err(LayerError::Relative(
            String::from_utf8_lossy(&path).into_owned(),
        ));
    }
    Ok(PathBuf::from(OsString::from_vec(path)))
}

/// Splits a `lowerdir=` value on `:` (a layer path escapes its own colons
/// as `\:`). Layers after `::` are data-only and are dropped.
fn split_lowerdir(value: &[u8]) -> Vec<Vec<u8>> {
    let mut layers = Vec::new();
    let mut current = Vec::new();
    let mut bytes = value.iter().copied().peekable();
    while let Some(b) = bytes.next() {
        match b {
            b'\\' => {
                if let Some(next) = bytes.next() {
                    current.push(next);
                }
            }
            b':' => {
                if bytes.peek() == Some(&b':') {
                    // `::`: everything after is a data-only layer.
                    break;
                }
                if !current.is_empty() {
                    layers.push(std::mem::take(&mut current));
                }
            }
            _ => current.push(b),
        }
    }
    if !current.is_empty() {
        layers.push(current);
    }
    layers
}

/// An overlay the guard knows, as seen in the mount table it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverlayMount {
    pub mount_id: u64,
    pub dev: DevId,
    pub mount_point: PathBuf,
    pub layers: OverlayLayers,
}

impl OverlayMount {
    pub fn from_entry(entry: &MountEntry) -> Result<OverlayMount, LayerError> {
        Ok(OverlayMount {
            mount_id: entry.mount_id,
            dev: entry.dev,
            mount_point: entry.mount_point.clone(),
            layers: layers(&entry.super_options)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(v: &[&str]) -> Vec<PathBuf> {
        v.iter().map(PathBuf::from).collect()
    }

    #[test]
    fn reads_classic_options() {
        let l = layers(b"rw,lowerdir=/l1:/l2,upperdir=/u,workdir=/w,uuid=on").unwrap();
        assert_eq!(l.lower, paths(&["/l1", "/l2"]));
        assert_eq!(l.upper, Some(PathBuf::from("/u")));
    }

    #[test]
    fn reads_lowerdir_plus_and_skips_data_layers() {
        let l = layers(b"ro,lowerdir+=/a,lowerdir+=/b,datadir+=/d").unwrap();
        assert_eq!(l.lower, paths(&["/a", "/b"]));
        assert_eq!(l.upper, None);
        let l = layers(b"ro,lowerdir=/a:/b::/data1::/data2").unwrap();
        assert_eq!(l.lower, paths(&["/a", "/b"]));
    }

    #[test]
    fn unescapes_paths() {
        // A comma and a space in the upper path, an escaped colon in a layer.
        let l = layers(b"rw,lowerdir=/x\\134:y:/z,upperdir=/up\\054per\\040dir").unwrap();
        assert_eq!(l.lower, paths(&["/x:y", "/z"]));
        assert_eq!(l.upper, Some(PathBuf::from("/up,per dir")));
    }

    #[test]
    fn refuses_unusable_options() {
        assert_eq!(layers(b"rw,upperdir=/u"), Err(LayerError::NoLower));
        assert!(matches!(
            layers(b"rw,lowerdir=rel:/abs"),
            Err(LayerError::Relative(_))
        ));
        let many = format!(
            "lowerdir={}",
            (0..=MAX_LAYERS)
                .map(|i| format!("/l{i}"))
                .collect::<Vec<_>>()
                .join(":")
        );
        assert_eq!(layers(many.as_bytes()), Err(LayerError::TooManyLayers));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let _ = layers(&bytes);
        }
    }
}
