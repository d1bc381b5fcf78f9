//! Reading SBOMs made by other tools (Trivy, Syft, cdxgen, …) and by
//! Palisade itself: CycloneDX JSON 1.2–1.6 and SPDX JSON 2.2–2.3, detected
//! from the content. The result is the same [`Sbom`] the catalogers build,
//! so vulnerability matching treats both alike.
//!
//! ```no_run
//! let sbom = palisade_sca::read::read_file(std::path::Path::new("bom.json"))?;
//! for c in &sbom.components {
//!     println!("{} {:?}", c.name, c.purl);
//! }
//! # Ok::<(), palisade_sca::Error>(())
//! ```
//!
//! What is kept: every component with a purl (nested CycloneDX components
//! included), components of library-like types without one (their `purl`
//! is `None`, for the caller to count), versions (Debian/RPM epochs put back
//! from the `epoch=` qualifier), licences, source packages (Trivy's
//! `SrcName`/`SrcVersion` properties or annotations, Syft's `upstream=`
//! qualifier, Palisade's own properties), the distro (`distro=` qualifier or
//! the operating-system component), locations (file path, layer digest)
//! and dependency edges (CycloneDX `dependencies`, SPDX `DEPENDS_ON` /
//! `DEPENDENCY_OF`). Applications, files and the document's own subject
//! are not components.

mod cyclonedx;
mod spdx;

use std::io::Read;
use std::path::Path;

use crate::bom::Sbom;
use crate::component::{Component, Distro, Ecosystem, Location, SourcePackage};
use crate::error::{Error, Result};
use crate::purl::Purl;

/// Largest SBOM file read.
pub const MAX_SBOM_BYTES: u64 = 512 * 1024 * 1024;
/// Most components (and SPDX packages) in one SBOM.
pub const MAX_COMPONENTS: usize = 1_000_000;
/// Deepest nesting of CycloneDX components.
pub const MAX_NESTING: usize = 64;

/// SBOM formats this module reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    CycloneDx,
    Spdx,
}

/// Detects an SBOM from the first bytes of a JSON document, cheaply (for
/// deciding whether a file given on the command line is an SBOM).
pub fn sniff(head: &[u8]) -> Option<Format> {
    let text = String::from_utf8_lossy(head.get(..head.len().min(64 * 1024))?);
    if !text.trim_start().starts_with('{') {
        return None;
    }
    if text.contains("\"bomFormat\"") && text.contains("CycloneDX") {
        Some(Format::CycloneDx)
    } else if text.contains("\"spdxVersion\"") {
        Some(Format::Spdx)
    } else {
        None
    }
}

/// Reads an SBOM file (size-limited).
pub fn read_file(path: &Path) -> Result<Sbom> {
    let display = path.to_string_lossy().into_owned();
    let file = std::fs::File::open(path).map_err(|e| Error::io(&display, &e))?;
    let mut bytes = Vec::new();
    file.take(MAX_SBOM_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(&display, &e))?;
    if bytes.len() as u64 > MAX_SBOM_BYTES {
        return Err(Error::limit(
            &display,
            format!("SBOM is larger than {} bytes", MAX_SBOM_BYTES),
        ));
    }
    read_bytes(&bytes, &display)
}

/// Reads an SBOM from memory; `display` names it in errors.
pub fn read_bytes(bytes: &[u8], display: &str) -> Result<Sbom> {
    // A UTF-8 byte order mark (Windows tools write one) is not JSON.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| Error::json(display, &e))?;
    let obj = value
        .as_object()
        .ok_or_else(|| Error::parse(display, "not an SBOM: the document is not a JSON object"))?;
    let mut sbom = if obj.get("bomFormat").is_some() {
        cyclonedx::read(value, display)?
    } else if obj.get("spdxVersion").is_some() {
        spdx::read(value, display)?
    } else {
        return Err(Error::parse(
            display,
            "not an SBOM: neither CycloneDX (`bomFormat`) nor SPDX (`spdxVersion`) JSON",
        ));
    };
    sbom.target.kind = crate::bom::TargetKind::Sbom;
    sbom.target.name = display.to_owned();
    sbom.finalize();
    Ok(sbom)
}

/// Facts about one package gathered from format-specific fields, turned
/// into a [`Component`] the same way for both formats.
#[derive(Debug, Default)]
pub(crate) struct Raw {
    pub bom_ref: String,
    pub name: String,
    pub group: Option<String>,
    pub version: Option<String>,
    pub purl: Option<String>,
    pub licenses: Vec<String>,
    pub src_name: Option<String>,
    pub src_version: Option<String>,
    pub src_release: Option<String>,
    pub src_epoch: Option<String>,
    pub paths: Vec<String>,
    pub layer_digest: Option<String>,
    pub layer_diff_id: Option<String>,
    pub pkg_type: Option<String>,
    pub found_by: String,
    /// `…:location:N:path|layer-digest|layer-diff-id|layerID` properties
    /// (Palisade, Syft), by N.
    pub indexed: std::collections::BTreeMap<usize, Location>,
}

impl Raw {
    /// Builds the component; `Err` carries a message for a purl that does
    /// not parse (the component is still kept, without purl).
    pub fn into_component(self, display: &str, os: Option<&Distro>) -> (Component, Option<Error>) {
        let mut warning = None;
        let purl = match self.purl.as_deref().map(str::parse::<Purl>) {
            Some(Ok(p)) => Some(p),
            Some(Err(e)) => {
                warning = Some(Error::parse(
                    display,
                    format!(
                        "component `{}`: bad purl `{}`: {e}",
                        self.bom_ref,
                        self.purl.as_deref().unwrap_or_default()
                    ),
                ));
                None
            }
            None => None,
        };
        let ecosystem = match (&purl, &self.pkg_type) {
            (Some(p), _) => Ecosystem::from_purl_type(&p.ty),
            (None, Some(t)) => ecosystem_of_tool_type(t),
            (None, None) => Ecosystem::Other("generic".to_owned()),
        };
        let mut version = self
            .version
            .clone()
            .or_else(|| purl.as_ref().and_then(|p| p.version.clone()))
            .unwrap_or_default();
        // Trivy and the purl spec put RPM (and Trivy Debian) epochs in a
        // qualifier; matching needs them in the version.
        if let Some(epoch) = purl.as_ref().and_then(|p| p.qualifiers.get("epoch"))
            && matches!(ecosystem, Ecosystem::Deb | Ecosystem::Rpm)
            && epoch != "0"
            && !version.contains(':')
        {
            version = format!("{epoch}:{version}");
        }
        let (namespace, name) = match &purl {
            Some(p) => (p.namespace.clone(), p.name.clone()),
            None => (self.group.clone(), self.name.clone()),
        };
        let distro = purl
            .as_ref()
            .and_then(|p| p.qualifiers.get("distro"))
            .map(|q| {
                let mut d = Distro::from_purl_qualifier(q);
                if let Some(os) = os
                    && (d.id.is_empty() || d.id == os.id)
                {
                    d.id.clone_from(&os.id);
                    if d.version_id.is_empty() {
                        d.version_id.clone_from(&os.version_id);
                    }
                    if d.codename.is_empty() {
                        d.codename.clone_from(&os.codename);
                    }
                }
                if d.id.is_empty()
                    && let Some(ns) = &namespace
                {
                    d.id = ns.to_lowercase();
                }
                d
            })
            .or_else(|| os.filter(|_| ecosystem.is_os()).cloned());
        let upstream = purl.as_ref().and_then(|p| p.qualifiers.get("upstream"));
        let source = match (&self.src_name, upstream) {
            (Some(n), _) => {
                let mut v = self.src_version.clone().unwrap_or_else(|| version.clone());
                if let Some(r) = self.src_release.as_deref().filter(|r| !r.is_empty()) {
                    v = format!("{v}-{r}");
                }
                if let Some(e) = self
                    .src_epoch
                    .as_deref()
                    .filter(|e| !e.is_empty() && *e != "0")
                    && !v.contains(':')
                {
                    v = format!("{e}:{v}");
                }
                Some(SourcePackage {
                    name: n.clone(),
                    version: v,
                })
            }
            // Syft: `upstream=name` or `upstream=name@version`.
            (None, Some(u)) => {
                let (n, v) = u
                    .split_once('@')
                    .map_or((u.as_str(), version.as_str()), |(n, v)| (n, v));
                Some(SourcePackage {
                    name: n.to_owned(),
                    version: v.to_owned(),
                })
            }
            (None, None) if ecosystem.is_os() => Some(SourcePackage {
                name: name.clone(),
                version: version.clone(),
            }),
            _ => None,
        };
        let mut locations: Vec<Location> = if !self.indexed.is_empty() {
            self.indexed.values().cloned().collect()
        } else {
            Vec::new()
        };
        let plain: Vec<Location> = self
            .paths
            .iter()
            .map(|p| Location {
                path: p.clone(),
                layer_digest: self.layer_digest.clone(),
                layer_diff_id: self.layer_diff_id.clone(),
            })
            .collect();
        if locations.is_empty() {
            locations = plain;
        }
        if locations.is_empty() && (self.layer_digest.is_some() || self.layer_diff_id.is_some()) {
            locations.push(Location {
                path: String::new(),
                layer_digest: self.layer_digest.clone(),
                layer_diff_id: self.layer_diff_id.clone(),
            });
        }
        locations.sort();
        locations.dedup();
        let mut licenses = self.licenses;
        licenses.dedup();
        let component = Component {
            bom_ref: self.bom_ref,
            ecosystem,
            namespace,
            name,
            version,
            purl,
            source,
            distro,
            licenses,
            locations,
            relationship: Default::default(),
            dev: false,
            depends_on: Default::default(),
            found_by: self.found_by,
        };
        (component, warning)
    }
}

/// Trivy's `PkgType` / Syft's package type when there is no purl.
fn ecosystem_of_tool_type(t: &str) -> Ecosystem {
    match t {
        "debian" | "ubuntu" | "deb" => Ecosystem::Deb,
        "alpine" | "apk" | "wolfi" | "chainguard" => Ecosystem::Apk,
        "redhat" | "centos" | "rocky" | "alma" | "fedora" | "amazon" | "rpm" | "suse" => {
            Ecosystem::Rpm
        }
        "cargo" | "rust-binary" | "rust-crate" => Ecosystem::Cargo,
        "npm" | "yarn" | "pnpm" | "node-pkg" => Ecosystem::Npm,
        "pip" | "pipenv" | "poetry" | "python-pkg" | "uv" | "python" => Ecosystem::PyPI,
        "gomod" | "gobinary" | "go-module" => Ecosystem::Go,
        "jar" | "pom" | "gradle" | "java-archive" => Ecosystem::Maven,
        "bundler" | "gemspec" | "gem" => Ecosystem::RubyGems,
        "composer" | "php-composer" => Ecosystem::Composer,
        "nuget" | "dotnet-core" | "packages-props" | "dotnet" => Ecosystem::NuGet,
        other => Ecosystem::Other(other.to_owned()),
    }
}

/// Parses an OS name/version pair from an SBOM's operating-system entry.
pub(crate) fn distro_of(name: &str, version: &str) -> Distro {
    Distro {
        id: name.to_lowercase(),
        version_id: version.to_owned(),
        codename: String::new(),
        pretty_name: String::new(),
    }
}

/// Splits a `key: value` annotation or property into its parts.
pub(crate) fn apply_property(raw: &mut Raw, key: &str, value: &str) {
    let value = value.trim();
    if value.is_empty() {
        return;
    }
    let key = key
        .trim()
        .strip_prefix("aquasecurity:trivy:")
        .or_else(|| key.trim().strip_prefix("palisade:"))
        .unwrap_or(key.trim());
    match key {
        "SrcName" | "source-name" | "syft:metadata:source" => raw.src_name = Some(value.to_owned()),
        "SrcVersion" | "source-version" | "syft:metadata:sourceVersion" => {
            raw.src_version = Some(value.to_owned());
        }
        "SrcRelease" => raw.src_release = Some(value.to_owned()),
        "SrcEpoch" => raw.src_epoch = Some(value.to_owned()),
        "FilePath" | "location" => raw.paths.push(value.to_owned()),
        "LayerDigest" | "layer-digest" => raw.layer_digest = Some(value.to_owned()),
        "LayerDiffID" | "layer-diff-id" => raw.layer_diff_id = Some(value.to_owned()),
        "PkgType" | "syft:package:type" => raw.pkg_type = Some(value.to_owned()),
        k if k.starts_with("syft:location:") || k.starts_with("location:") => {
            let mut parts = k.trim_start_matches("syft:").split(':').skip(1);
            let (Some(i), Some(field)) = (
                parts.next().and_then(|i| i.parse::<usize>().ok()),
                parts.next(),
            ) else {
                return;
            };
            if i > 10_000 {
                return;
            }
            let loc = raw.indexed.entry(i).or_insert_with(|| Location::file(""));
            match field {
                "path" => loc.path = value.to_owned(),
                "layer-digest" => loc.layer_digest = Some(value.to_owned()),
                "layer-diff-id" | "layerID" => loc.layer_diff_id = Some(value.to_owned()),
                _ => {}
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_what_is_not_an_sbom() {
        let e = read_bytes(b"[1,2]", "x.json").unwrap_err();
        assert!(e.to_string().contains("x.json: not an SBOM"), "{e}");
        let e = read_bytes(b"{\"a\":1}", "x.json").unwrap_err();
        assert!(e.to_string().contains("neither CycloneDX"), "{e}");
        let e = read_bytes(b"{\"bomFormat\":\n\"CycloneDX\",", "x.json").unwrap_err();
        assert!(e.to_string().starts_with("x.json:2:"), "{e}");
        assert_eq!(
            sniff(b"  {\"bomFormat\": \"CycloneDX\""),
            Some(Format::CycloneDx)
        );
        assert_eq!(sniff(b"{\"spdxVersion\": \"SPDX-2.3\""), Some(Format::Spdx));
        assert_eq!(sniff(b"{\"name\": 1}"), None);
    }
}
