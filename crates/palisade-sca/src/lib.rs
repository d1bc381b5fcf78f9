//! Software composition analysis for Palisade.
//!
//! - [`component`]: the model — [`Component`] (purl, ecosystem, version,
//!   source package, distro, licences, locations, direct/transitive,
//!   dependency edges) and [`Ecosystem`];
//! - [`purl`]: package URLs, built and parsed per the purl spec;
//! - [`bom`]: an SBOM in memory ([`Sbom`]: target facts, components,
//!   per-input errors);
//! - [`read`]: CycloneDX and SPDX JSON made by other tools (Trivy, Syft) or
//!   by Palisade, into an [`Sbom`].
//!
//! Vulnerability matching builds on these: read or generate an [`Sbom`],
//! then look each component up by [`Component::osv_ecosystem`] and
//! [`Component::osv_name`], comparing [`Component::version`] (OS packages
//! by [`Component::source`]).

#![forbid(unsafe_code)]

pub mod bom;
pub mod catalog;
pub mod component;
pub mod error;
pub mod purl;
pub mod read;
pub mod scan;
pub mod source;
pub mod write;

pub use bom::{Sbom, Target, TargetKind};
pub use component::{Component, Distro, Ecosystem, Location, Relationship, SourcePackage};
pub use error::{Error, Result};
pub use purl::Purl;
