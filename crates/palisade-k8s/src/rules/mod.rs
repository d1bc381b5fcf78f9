//! Built-in rules: one file per rule, grouped by what they look at. Each
//! rule's doc comment is its documentation; codes are stable and never
//! reused.

#[macro_use]
mod macros;
pub mod cx;
pub mod inventory;
pub mod registry;

mod cluster;
mod container;
mod network;
mod pod;
mod rbac;
mod workload;

use palisade_core::{Finding, RuleMeta};

pub use cx::{Cx, Subject};
pub use inventory::Inventory;
pub use registry::{CatalogEntry, RuleSelection, catalog};

use crate::settings::Settings;

/// Metadata of a rule (implemented by `declare_rule!`).
pub trait Described {
    fn meta(&self) -> &'static RuleMeta;
}

/// A rule that checks one object at a time.
pub trait Rule: Described + Send + Sync + 'static {
    /// Rules that need settings to be meaningful are opt-in.
    fn enabled_by_default(&self) -> bool {
        true
    }

    fn check(&self, cx: &mut Cx<'_>);
}

/// A rule that needs several objects (e.g. NetworkPolicy coverage). It sees
/// the [`Inventory`] gathered from every object of the run.
pub trait CrossRule: Described + Send + Sync + 'static {
    fn enabled_by_default(&self) -> bool {
        true
    }

    fn check(&self, inventory: &Inventory, settings: &Settings, out: &mut Vec<Finding>);
}
