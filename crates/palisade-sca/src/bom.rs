//! An SBOM in memory: what was scanned, the components found, and the
//! problems met on the way. Writers ([`crate::write`]) and readers
//! ([`crate::read`]) go through this one type.

use std::collections::BTreeMap;

use palisade_core::InputError;
use serde::{Deserialize, Serialize};

use crate::component::{Component, Distro};

/// What kind of artifact was scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetKind {
    /// A project directory (lockfiles, manifests, installed packages).
    #[default]
    Directory,
    /// A root filesystem: OS package databases are authoritative.
    Rootfs,
    /// A container image (OCI layout, docker-archive, registry).
    Image,
    /// An SBOM file made by another tool, read back.
    Sbom,
}

/// One image layer, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layer {
    /// Digest of the layer blob as stored (`sha256:…`).
    pub digest: String,
    /// Digest of the uncompressed tar (the config's `diff_ids`).
    pub diff_id: Option<String>,
    pub media_type: String,
    pub size: u64,
}

/// Facts about the scanned target.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Target {
    /// As the user named it (`.`, `alpine:3.19`, `image.tar`).
    pub name: String,
    pub kind: TargetKind,
    /// The operating system, when one was detected.
    pub distro: Option<Distro>,
    /// Image manifest digest (`sha256:…`), for images.
    pub image_digest: Option<String>,
    /// Image config digest (the image ID), for images.
    pub image_id: Option<String>,
    /// `linux/amd64`, for images.
    pub platform: Option<String>,
    pub layers: Vec<Layer>,
    /// Repository tags and digests the image is known by.
    pub repo_tags: Vec<String>,
}

/// Components, target facts and problems.
#[derive(Debug, Clone, Default)]
pub struct Sbom {
    pub target: Target,
    /// Sorted by `bom_ref`, unique.
    pub components: Vec<Component>,
    /// Problems with individual inputs (a corrupt lockfile, an unreadable
    /// layer). The SBOM is still valid for everything else.
    pub errors: Vec<InputError>,
    /// For SBOMs read back: the format and tool that made them
    /// (`CycloneDX 1.5`, `trivy 0.59.1`).
    pub origin: Option<Origin>,
    /// RFC 3339 creation time, only when asked for (`--timestamp`) or read
    /// from an SBOM; generated SBOMs are otherwise reproducible.
    pub timestamp: Option<String>,
}

/// Where a read SBOM came from.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Origin {
    /// `CycloneDX` or `SPDX`.
    pub format: String,
    /// `1.6`, `2.3`.
    pub spec_version: String,
    /// Tools named in the document's metadata (`trivy 0.59.1`, `syft 1.0.0`).
    pub tools: Vec<String>,
    /// Document serial number / namespace.
    pub serial: Option<String>,
}

impl Sbom {
    /// Sorts components by `bom_ref` and merges duplicates (the same package
    /// found in several places); dependency edges to unknown refs are kept
    /// only if they point at a component; errors are sorted.
    pub fn finalize(&mut self) {
        let mut by_ref: BTreeMap<String, Component> = BTreeMap::new();
        for c in std::mem::take(&mut self.components) {
            match by_ref.get_mut(&c.bom_ref) {
                Some(existing) => existing.merge(c),
                None => {
                    by_ref.insert(c.bom_ref.clone(), c);
                }
            }
        }
        let refs: std::collections::BTreeSet<String> = by_ref.keys().cloned().collect();
        self.components = by_ref
            .into_values()
            .map(|mut c| {
                c.locations.sort();
                c.locations.dedup();
                let own = c.bom_ref.clone();
                c.depends_on.retain(|r| refs.contains(r) && *r != own);
                c
            })
            .collect();
        self.errors
            .sort_by(|a, b| (&a.path, a.span, &a.message).cmp(&(&b.path, b.span, &b.message)));
        self.errors.dedup();
    }

    /// Component counts per ecosystem label, sorted.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for c in &self.components {
            *m.entry(c.ecosystem.label().to_owned()).or_insert(0) += 1;
        }
        m
    }

    /// The component with this `bom_ref`.
    pub fn get(&self, bom_ref: &str) -> Option<&Component> {
        self.components
            .binary_search_by(|c| c.bom_ref.as_str().cmp(bom_ref))
            .ok()
            .and_then(|i| self.components.get(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::component::{Ecosystem, Location};

    #[test]
    fn finalize_merges_and_prunes_edges() {
        let mut a = Component::new(
            Ecosystem::Cargo,
            None,
            "a",
            "1.0.0",
            "cargo",
            Location::file("x/Cargo.lock"),
        );
        a.depends_on.insert("pkg:cargo/b@1.0.0".into());
        a.depends_on.insert("pkg:cargo/missing@1".into());
        let a2 = Component::new(
            Ecosystem::Cargo,
            None,
            "a",
            "1.0.0",
            "cargo",
            Location::file("y/Cargo.lock"),
        );
        let b = Component::new(
            Ecosystem::Cargo,
            None,
            "b",
            "1.0.0",
            "cargo",
            Location::file("x/Cargo.lock"),
        );
        let mut sbom = Sbom {
            components: vec![b, a2, a],
            ..Sbom::default()
        };
        sbom.finalize();
        assert_eq!(sbom.components.len(), 2);
        let a = sbom.get("pkg:cargo/a@1.0.0").unwrap();
        assert_eq!(a.locations.len(), 2);
        assert_eq!(a.depends_on.len(), 1);
        assert_eq!(sbom.counts().get("cargo"), Some(&2));
    }
}
