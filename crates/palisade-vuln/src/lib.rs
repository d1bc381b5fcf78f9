//! Palisade's offline advisory database and vulnerability matching.
//!
//! - [`version`]: version ordering per ecosystem, with "cannot compare" as
//!   an explicit outcome;
//! - [`advisory`] and [`osv`]: the OSV-shaped model and OSV JSON parsing;
//! - [`store`]: the redb store indexed by (ecosystem, package);
//! - [`import`]: streaming import of OSV directories and `all.zip` dumps,
//!   and converters for ruby-advisory-db, nodejs security-wg, Alpine secdb
//!   and Debian's security tracker lists and OVAL;
//! - [`update`]: downloading OSV dumps (HTTPS, resume, checks, atomic swap);
//! - [`matcher`]: OSV range semantics and alias merging;
//! - [`cvss`]: base scores and ratings;
//! - [`vex`]: OpenVEX and CycloneDX VEX statements;
//! - [`scan`]: components in, findings out.

#![forbid(unsafe_code)]

pub mod advisory;
pub mod cdx;
pub mod cvss;
pub mod error;
pub mod import;
pub mod matcher;
pub mod osv;
pub mod scan;
pub mod store;
pub mod update;
pub mod version;
pub mod vex;

pub use advisory::Advisory;
pub use error::{Error, Result};
pub use store::Store;
