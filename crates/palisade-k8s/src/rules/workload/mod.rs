//! Rules on workload objects as a whole: replicas, rollout strategy,
//! selectors, disruption budgets and required metadata.

use super::{CrossRule, Rule};

/// This group's per-object rules, in code order.
pub(super) static RULES: &[&dyn Rule] = &[];

/// This group's cross-object rules, in code order.
pub(super) static CROSS_RULES: &[&dyn CrossRule] = &[];
