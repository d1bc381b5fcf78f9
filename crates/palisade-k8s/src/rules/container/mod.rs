//! Rules on single containers: security context, capabilities, resources,
//! images, probes and environment.

mod privileged_container;

pub use privileged_container::PrivilegedContainer;

use super::Rule;

/// This group's rules, in code order.
pub(super) static RULES: &[&dyn Rule] = &[&PrivilegedContainer];
