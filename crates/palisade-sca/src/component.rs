//! The component model: one software package found in an artifact (or read
//! from an SBOM), identified by its purl, with where it was found, its
//! licences, its source package (OS packages) and its dependencies.
//!
//! This is the contract between SBOM generation and vulnerability matching:
//! a matcher needs [`Component::ecosystem`], [`Component::name`] (with
//! [`Component::namespace`]), [`Component::version`] in the ecosystem's own
//! syntax, [`Component::source`] for distributions whose advisories name
//! source packages (Debian, Ubuntu), and [`Component::distro`] to pick the
//! release an advisory applies to. [`Component::osv_ecosystem`] and
//! [`Component::osv_name`] give the OSV spelling of both.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::purl::Purl;

/// Package ecosystems Palisade catalogues or reads.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ecosystem {
    /// Debian and derivatives (dpkg): purl type `deb`.
    Deb,
    /// Alpine and Wolfi (apk): purl type `apk`.
    Apk,
    /// Red Hat family, SUSE, Amazon Linux (rpm): purl type `rpm`.
    Rpm,
    /// Rust crates: `cargo`.
    Cargo,
    /// npm, Yarn and pnpm packages: `npm`.
    Npm,
    /// Python packages: `pypi`.
    PyPI,
    /// Go modules: `golang`.
    Go,
    /// Maven artifacts (pom.xml, JARs): `maven`.
    Maven,
    /// Ruby gems: `gem`.
    RubyGems,
    /// PHP Composer packages: `composer`.
    Composer,
    /// .NET NuGet packages: `nuget`.
    NuGet,
    /// Any other purl type (from SBOMs made by other tools).
    Other(String),
}

impl Ecosystem {
    /// The purl type of this ecosystem.
    pub fn purl_type(&self) -> &str {
        match self {
            Ecosystem::Deb => "deb",
            Ecosystem::Apk => "apk",
            Ecosystem::Rpm => "rpm",
            Ecosystem::Cargo => "cargo",
            Ecosystem::Npm => "npm",
            Ecosystem::PyPI => "pypi",
            Ecosystem::Go => "golang",
            Ecosystem::Maven => "maven",
            Ecosystem::RubyGems => "gem",
            Ecosystem::Composer => "composer",
            Ecosystem::NuGet => "nuget",
            Ecosystem::Other(t) => t,
        }
    }

    /// The ecosystem of a purl type.
    pub fn from_purl_type(ty: &str) -> Ecosystem {
        match ty.to_ascii_lowercase().as_str() {
            "deb" => Ecosystem::Deb,
            "apk" => Ecosystem::Apk,
            "rpm" => Ecosystem::Rpm,
            "cargo" => Ecosystem::Cargo,
            "npm" => Ecosystem::Npm,
            "pypi" => Ecosystem::PyPI,
            "golang" => Ecosystem::Go,
            "maven" => Ecosystem::Maven,
            "gem" => Ecosystem::RubyGems,
            "composer" => Ecosystem::Composer,
            "nuget" => Ecosystem::NuGet,
            other => Ecosystem::Other(other.to_owned()),
        }
    }

    /// Whether packages of this ecosystem are installed by the operating
    /// system's package manager (they carry a distro and source package).
    pub fn is_os(&self) -> bool {
        matches!(self, Ecosystem::Deb | Ecosystem::Apk | Ecosystem::Rpm)
    }

    /// The OSV ecosystem name for language ecosystems; OS ecosystems need
    /// the distro (see [`Component::osv_ecosystem`]).
    pub fn osv_name(&self) -> Option<&'static str> {
        Some(match self {
            Ecosystem::Cargo => "crates.io",
            Ecosystem::Npm => "npm",
            Ecosystem::PyPI => "PyPI",
            Ecosystem::Go => "Go",
            Ecosystem::Maven => "Maven",
            Ecosystem::RubyGems => "RubyGems",
            Ecosystem::Composer => "Packagist",
            Ecosystem::NuGet => "NuGet",
            Ecosystem::Deb | Ecosystem::Apk | Ecosystem::Rpm | Ecosystem::Other(_) => return None,
        })
    }

    /// A short label for tables and counts: `deb`, `npm`, `pypi`, ….
    pub fn label(&self) -> &str {
        self.purl_type()
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The operating system release, from `/etc/os-release` (or an SBOM's
/// `distro=` qualifier).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
pub struct Distro {
    /// `ID`: `debian`, `ubuntu`, `alpine`, `rhel`, `fedora`, ….
    pub id: String,
    /// `VERSION_ID`: `12`, `22.04`, `3.19.1`; may be empty (Debian sid).
    pub version_id: String,
    /// `VERSION_CODENAME`: `bookworm`, `jammy`; may be empty.
    pub codename: String,
    /// `PRETTY_NAME`, for people.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pretty_name: String,
}

impl Distro {
    /// The purl `distro=` qualifier: `debian-12`, `alpine-3.19.1`, or the
    /// codename when there is no version (`debian-trixie`).
    pub fn purl_qualifier(&self) -> String {
        let v = if self.version_id.is_empty() {
            &self.codename
        } else {
            &self.version_id
        };
        if v.is_empty() {
            self.id.clone()
        } else {
            format!("{}-{v}", self.id)
        }
    }

    /// Parses a `distro=` qualifier (`debian-12.4`, `alpine-3.19`,
    /// `bookworm`) as well as it can.
    pub fn from_purl_qualifier(q: &str) -> Distro {
        match q.split_once('-') {
            Some((id, v)) if v.starts_with(|c: char| c.is_ascii_digit()) => Distro {
                id: id.to_owned(),
                version_id: v.to_owned(),
                ..Distro::default()
            },
            Some((id, codename)) => Distro {
                id: id.to_owned(),
                codename: codename.to_owned(),
                ..Distro::default()
            },
            None => Distro {
                codename: q.to_owned(),
                ..Distro::default()
            },
        }
    }
}

/// The source package an OS binary package was built from. Debian and
/// Ubuntu advisories name source packages, not binary ones.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SourcePackage {
    pub name: String,
    /// The source version when it differs from the binary's (binNMUs,
    /// `Source: name (version)`); else the binary version.
    pub version: String,
}

/// Where a component was found.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Location {
    /// Path of the evidence file inside the artifact, `/`-separated, relative
    /// to the scanned directory (or absolute inside an image/rootfs), with
    /// `!` separating nested archives (`app.war!WEB-INF/lib/x.jar`).
    pub path: String,
    /// Digest of the image layer the file came from (`sha256:…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer_digest: Option<String>,
    /// Uncompressed digest (diff ID) of that layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer_diff_id: Option<String>,
}

impl Location {
    pub fn file(path: impl Into<String>) -> Location {
        Location {
            path: path.into(),
            layer_digest: None,
            layer_diff_id: None,
        }
    }
}

/// Whether the project asks for a package itself or gets it through
/// another one.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Relationship {
    /// The evidence does not say (installed packages, flat lists).
    #[default]
    Unknown,
    /// Declared by the project (manifest dependency, lockfile root's deps).
    Direct,
    /// Pulled in by another package.
    Transitive,
}

/// One package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Component {
    /// Unique, stable reference inside one SBOM; dependency edges use it.
    /// For catalogued packages it is the canonical purl.
    pub bom_ref: String,
    pub ecosystem: Ecosystem,
    /// Maven group id, npm scope (`@babel`), Go module path prefix, PHP
    /// vendor; `None` when the ecosystem has none.
    pub namespace: Option<String>,
    pub name: String,
    /// The version in the ecosystem's own syntax (Debian epochs included:
    /// `1:4.13+dfsg1-1`; RPM `epoch:version-release`; Go `v1.2.3`).
    pub version: String,
    /// `None` only for components read from an SBOM without one.
    pub purl: Option<Purl>,
    /// OS packages: the source package.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourcePackage>,
    /// OS packages: the release they belong to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distro: Option<Distro>,
    /// Declared licences as SPDX expressions where they are (`MIT`,
    /// `Apache-2.0 OR MIT`), else the declared text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<String>,
    /// Every place it was found, sorted.
    pub locations: Vec<Location>,
    #[serde(default)]
    pub relationship: Relationship,
    /// A development-only dependency (npm `dev`, poetry/uv dev groups).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dev: bool,
    /// `bom_ref`s of the components this one depends on, sorted.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub depends_on: BTreeSet<String>,
    /// Which cataloger (or SBOM reader) produced it: `dpkg`, `npm-lock`, ….
    pub found_by: String,
}

impl Component {
    /// A component with its purl built from the parts (namespace, name,
    /// version normalised per the purl type); `bom_ref` is the purl.
    pub fn new(
        ecosystem: Ecosystem,
        namespace: Option<&str>,
        name: &str,
        version: &str,
        found_by: &str,
        location: Location,
    ) -> Component {
        let purl = Purl::new(ecosystem.purl_type(), namespace, name, Some(version));
        Component::from_purl(ecosystem, purl, version, found_by, location)
    }

    /// A component with a purl built by the caller (OS packages add
    /// qualifiers).
    pub fn from_purl(
        ecosystem: Ecosystem,
        purl: Purl,
        version: &str,
        found_by: &str,
        location: Location,
    ) -> Component {
        Component {
            bom_ref: purl.to_string(),
            ecosystem,
            namespace: purl.namespace.clone(),
            name: purl.name.clone(),
            version: version.to_owned(),
            purl: Some(purl),
            source: None,
            distro: None,
            licenses: Vec::new(),
            locations: vec![location],
            relationship: Relationship::Unknown,
            dev: false,
            depends_on: BTreeSet::new(),
            found_by: found_by.to_owned(),
        }
    }

    /// The OSV ecosystem string: `npm`, `crates.io`, `Debian:12`,
    /// `Alpine:v3.19`, `Ubuntu:22.04`, …; `None` when unknown.
    pub fn osv_ecosystem(&self) -> Option<String> {
        if let Some(n) = self.ecosystem.osv_name() {
            return Some(n.to_owned());
        }
        let d = self.distro.as_ref()?;
        let major_minor = |v: &str| v.split('.').take(2).collect::<Vec<_>>().join(".");
        Some(match d.id.as_str() {
            "debian" => format!("Debian:{}", d.version_id.split('.').next().unwrap_or("")),
            "ubuntu" => format!("Ubuntu:{}", d.version_id),
            "alpine" => format!("Alpine:v{}", major_minor(&d.version_id)),
            "rocky" => format!(
                "Rocky Linux:{}",
                d.version_id.split('.').next().unwrap_or("")
            ),
            "almalinux" => format!("AlmaLinux:{}", d.version_id.split('.').next().unwrap_or("")),
            "wolfi" => "Wolfi".to_owned(),
            "chainguard" => "Chainguard".to_owned(),
            _ => return None,
        })
    }

    /// The package name as OSV spells it: `group:artifact` for Maven,
    /// `namespace/name` for Go, npm scopes and Composer; the name otherwise.
    pub fn osv_name(&self) -> String {
        match (&self.ecosystem, &self.namespace) {
            (Ecosystem::Maven, Some(ns)) => format!("{ns}:{}", self.name),
            (Ecosystem::Go | Ecosystem::Npm | Ecosystem::Composer, Some(ns)) => {
                format!("{ns}/{}", self.name)
            }
            _ => self.name.clone(),
        }
    }

    /// Merges another sighting of the same package (same `bom_ref`):
    /// locations, licences and edges are unioned; direct wins over
    /// transitive; a package needed outside development is not `dev`.
    pub fn merge(&mut self, other: Component) {
        self.locations.extend(other.locations);
        self.locations.sort();
        self.locations.dedup();
        for l in other.licenses {
            if !self.licenses.contains(&l) {
                self.licenses.push(l);
            }
        }
        self.depends_on.extend(other.depends_on);
        self.relationship = match (self.relationship, other.relationship) {
            (Relationship::Direct, _) | (_, Relationship::Direct) => Relationship::Direct,
            (Relationship::Transitive, _) | (_, Relationship::Transitive) => {
                Relationship::Transitive
            }
            _ => Relationship::Unknown,
        };
        self.dev = self.dev && other.dev;
        if self.source.is_none() {
            self.source = other.source;
        }
        if self.distro.is_none() {
            self.distro = other.distro;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_purls_and_osv_names() {
        let c = Component::new(
            Ecosystem::Maven,
            Some("org.apache.commons"),
            "commons-text",
            "1.9",
            "pom",
            Location::file("pom.xml"),
        );
        assert_eq!(c.bom_ref, "pkg:maven/org.apache.commons/commons-text@1.9");
        assert_eq!(c.osv_name(), "org.apache.commons:commons-text");
        assert_eq!(c.osv_ecosystem().as_deref(), Some("Maven"));
        let mut d = Component::new(
            Ecosystem::Deb,
            Some("debian"),
            "libc6",
            "2.36-9",
            "dpkg",
            Location::file("/var/lib/dpkg/status"),
        );
        assert_eq!(d.osv_ecosystem(), None);
        d.distro = Some(Distro {
            id: "debian".into(),
            version_id: "12".into(),
            codename: "bookworm".into(),
            pretty_name: String::new(),
        });
        assert_eq!(d.osv_ecosystem().as_deref(), Some("Debian:12"));
        assert_eq!(
            Distro::from_purl_qualifier("alpine-3.19.1").version_id,
            "3.19.1"
        );
    }

    #[test]
    fn merge_unions_locations_and_keeps_direct() {
        let mk = |p: &str, r| {
            let mut c =
                Component::new(Ecosystem::Npm, None, "a", "1.0.0", "npm", Location::file(p));
            c.relationship = r;
            c
        };
        let mut a = mk("b/package-lock.json", Relationship::Transitive);
        a.merge(mk("a/package-lock.json", Relationship::Direct));
        assert_eq!(a.relationship, Relationship::Direct);
        assert_eq!(a.locations.len(), 2);
        assert_eq!(a.locations[0].path, "a/package-lock.json");
    }
}
