//! Rules on cluster components and add-ons: control-plane flags in static
//! pod manifests, kubelet configuration, deprecated API versions, and
//! risky add-ons.

use super::Rule;

/// This group's rules, in code order.
pub(super) static RULES: &[&dyn Rule] = &[];
