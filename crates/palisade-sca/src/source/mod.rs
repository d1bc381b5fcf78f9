//! Targets: what `palisade sbom TARGET` can read, and how it is told
//! apart — a directory (or `--rootfs`), an OCI image layout directory, a
//! tarball (docker-archive or OCI layout), a CycloneDX/SPDX SBOM to read
//! back, a single lockfile or binary, or a registry reference.

pub mod image;
pub mod layer;
mod pipe;
pub mod registry;
pub mod section;
pub mod staging;

use std::io::Read;
use std::path::Path;

use crate::bom::Sbom;
use crate::error::{Error, Result};
use crate::scan::{self, ScanOptions};

/// Registry credentials.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum Credentials {
    #[default]
    Anonymous,
    Basic {
        user: String,
        password: String,
    },
    Bearer(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print secrets.
        f.write_str(match self {
            Credentials::Anonymous => "Anonymous",
            Credentials::Basic { .. } => "Basic(…)",
            Credentials::Bearer(_) => "Bearer(…)",
        })
    }
}

/// Options for [`sbom_of`].
#[derive(Debug, Clone, Default)]
pub struct SourceOptions {
    pub scan: ScanOptions,
    /// `os/arch[/variant]` to pick from multi-platform images.
    pub platform: String,
    /// Plain HTTP to the registry.
    pub insecure: bool,
    pub credentials: Credentials,
}

/// What a target is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetType {
    Directory,
    OciLayout,
    /// docker-archive or OCI layout tarball.
    ImageArchive,
    Sbom,
    File,
    Registry,
}

/// JSON files of a project that are no SBOM and no lockfile (`package.json`
/// outside `node_modules`, `composer.json`, `tsconfig.json`): read as a
/// single file, as before SBOMs were recognised by their keys anywhere.
fn is_project_manifest(target: &str) -> bool {
    let name = target.rsplit(['/', '\\']).next().unwrap_or(target);
    matches!(
        name,
        "package.json" | "composer.json" | "tsconfig.json" | "jsconfig.json"
    )
}

/// Decides what `target` is.
pub fn classify(target: &str) -> Result<TargetType> {
    let p = Path::new(target);
    match std::fs::metadata(p) {
        Ok(m) if m.is_dir() => {
            if p.join("oci-layout").is_file() && p.join("index.json").is_file() {
                Ok(TargetType::OciLayout)
            } else {
                Ok(TargetType::Directory)
            }
        }
        Ok(_) => {
            let mut head = [0u8; 1024];
            let n = std::fs::File::open(p)
                .and_then(|mut f| f.read(&mut head))
                .map_err(|e| Error::io(target, &e))?;
            let head = head.get(..n).unwrap_or(&[]);
            // JSON after a UTF-8 byte order mark, if any.
            let json = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
            if crate::read::sniff(json).is_some() {
                Ok(TargetType::Sbom)
            } else if head.get(257..262) == Some(b"ustar") {
                Ok(TargetType::ImageArchive)
            } else if json.trim_ascii_start().starts_with(b"{")
                && crate::catalog::classify(&target.replace('\\', "/")).is_none()
                && !is_project_manifest(target)
            {
                // A JSON object no cataloger reads by name is read as an SBOM
                // even when `bomFormat`/`spdxVersion` is beyond the head
                // (Palisade's own SPDX has keys sorted, `spdxVersion` last);
                // with neither key that is an error, not an empty inventory.
                Ok(TargetType::Sbom)
            } else {
                Ok(TargetType::File)
            }
        }
        Err(e)
            if e.kind() == std::io::ErrorKind::NotFound
                && registry::looks_like_reference(target) =>
        {
            Ok(TargetType::Registry)
        }
        Err(e) => Err(Error::io(target, &e)),
    }
}

/// Builds (or reads) the SBOM of `target`.
pub fn sbom_of(target: &str, opts: &SourceOptions) -> Result<Sbom> {
    match classify(target)? {
        TargetType::Directory | TargetType::File => {
            Ok(scan::scan(Path::new(target), target, &opts.scan))
        }
        TargetType::Sbom => crate::read::read_file(Path::new(target)),
        ty @ (TargetType::OciLayout | TargetType::ImageArchive | TargetType::Registry) => {
            let opened = open_typed(target, ty, opts)?;
            image::scan_image(opened.blobs.as_ref(), opened.resolved, target, &opts.scan)
        }
    }
}

/// An image whose layers can be read: its blobs, the resolved manifest, and
/// the directory a pulled image was downloaded to (removed on drop).
pub struct OpenedImage {
    pub blobs: Box<dyn image::Blobs>,
    pub resolved: image::Resolved,
    _download: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for OpenedImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedImage")
            .field("image", &self.blobs.display())
            .field("resolved", &self.resolved)
            .finish()
    }
}

impl OpenedImage {
    /// Reads every layer in order, visiting each entry with its layer's
    /// index; returns the entries skipped for leaving the root.
    pub fn walk_layers(
        &self,
        visit: &mut dyn FnMut(usize, layer::Entry<'_>) -> Result<()>,
    ) -> Result<Vec<Error>> {
        let mut warnings = Vec::new();
        for (i, l) in self.resolved.layers.iter().enumerate() {
            let (tar, display) = image::open_layer(self.blobs.as_ref(), l)?;
            warnings.extend(layer::walk(tar, &display, &mut |e| visit(i, e))?);
        }
        Ok(warnings)
    }
}

/// Opens an image: an OCI layout directory, a docker-archive or OCI layout
/// tarball, or a registry reference (pulled to a temporary directory).
pub fn open_image(target: &str, opts: &SourceOptions) -> Result<OpenedImage> {
    open_typed(target, classify(target)?, opts)
}

fn open_typed(target: &str, ty: TargetType, opts: &SourceOptions) -> Result<OpenedImage> {
    let platform = if opts.platform.is_empty() {
        "linux/amd64"
    } else {
        opts.platform.as_str()
    };
    match ty {
        TargetType::OciLayout | TargetType::ImageArchive => open_local_image(target, ty, platform),
        TargetType::Registry => {
            let (download, blobs, resolved) = registry::pull_reference(
                target,
                platform,
                opts.insecure,
                &opts.credentials,
                &opts.scan,
            )?;
            Ok(OpenedImage {
                blobs: Box::new(blobs),
                resolved,
                _download: Some(download),
            })
        }
        TargetType::Directory | TargetType::File | TargetType::Sbom => Err(Error::unsupported(
            target,
            "not an image: expected an OCI layout directory, a docker-archive or OCI tarball, or a registry reference",
        )),
    }
}

fn open_local_image(target: &str, ty: TargetType, platform: &str) -> Result<OpenedImage> {
    if ty == TargetType::OciLayout {
        let blobs = image::LayoutDir {
            dir: Path::new(target).to_path_buf(),
            display: target.to_owned(),
        };
        let index: serde_json::Value = {
            let bytes =
                scan::read_limited(&blobs.dir.join("index.json"), target, 16 * 1024 * 1024)?;
            serde_json::from_slice(&bytes)
                .map_err(|e| Error::json(format!("{target}/index.json"), &e))?
        };
        let resolved = image::resolve_layout(&blobs, &index, platform)?;
        return Ok(OpenedImage {
            blobs: Box::new(blobs),
            resolved,
            _download: None,
        });
    }
    let idx = image::TarIndex::open(Path::new(target), target)?;
    let resolved = if idx.has("manifest.json") {
        image::resolve_docker_archive(&idx)?
    } else if idx.has("index.json") && idx.has("oci-layout") {
        let mut buf = Vec::new();
        image::Blobs::open_path(&idx, "index.json")?
            .take(16 * 1024 * 1024)
            .read_to_end(&mut buf)
            .map_err(|e| Error::io(target, &e))?;
        let index: serde_json::Value = serde_json::from_slice(&buf)
            .map_err(|e| Error::json(format!("{target}: index.json"), &e))?;
        image::resolve_layout(&idx, &index, platform)?
    } else {
        return Err(Error::unsupported(
            target,
            "tar archive is neither a docker-archive (`manifest.json`) nor an OCI layout (`oci-layout`, `index.json`)",
        ));
    };
    Ok(OpenedImage {
        blobs: Box::new(idx),
        resolved,
        _download: None,
    })
}
