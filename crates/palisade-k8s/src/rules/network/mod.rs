//! Rules on networking: NetworkPolicy coverage, Services, Ingresses and
//! ports.

mod missing_network_policy;

pub use missing_network_policy::MissingNetworkPolicy;

use super::{CrossRule, Rule};

/// This group's per-object rules, in code order.
pub(super) static RULES: &[&dyn Rule] = &[];

/// This group's cross-object rules, in code order.
pub(super) static CROSS_RULES: &[&dyn CrossRule] = &[&MissingNetworkPolicy];
