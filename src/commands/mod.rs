//! One module per subcommand.

pub mod admission;
pub mod guard;
mod output;
pub mod policy;
pub mod rbac;
pub mod rules;
pub mod sbom;
pub mod scan;
mod scan_images;
pub mod scan_policy;
pub mod scan_secrets;
pub mod vuln;
