//! Palisade's shared model.
//!
//! Every scanner (Kubernetes configuration, RBAC, secrets, vulnerabilities,
//! policies) produces the same [`Finding`]s, described by [`RuleMeta`], located
//! by [`Location`], collected into a [`Report`] and written by a
//! [`reporter`]. Findings are data, never errors: problems with the inputs
//! themselves are [`InputError`]s, reported after the findings.

pub mod date;
pub mod finding;
pub mod location;
pub mod names;
pub mod report;
pub mod reporter;
pub mod resource;
pub mod rule;
pub mod severity;
pub mod source;
pub mod suppress;
pub mod text;

pub use finding::{Finding, Suppression, SuppressionKind};
pub use location::{Location, Position, Span};
pub use report::{InputError, Report, Stats};
pub use resource::ResourceRef;
pub use rule::{Framework, Reference, RuleMeta, Scanner};
pub use severity::Severity;

/// The version written into reports.
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");
