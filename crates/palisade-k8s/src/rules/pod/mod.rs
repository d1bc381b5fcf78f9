//! Rules on the pod spec as a whole: host namespaces, volumes, service
//! accounts and pod-level security settings.

mod host_pid;

pub use host_pid::HostPid;

use super::Rule;

/// This group's rules, in code order.
pub(super) static RULES: &[&dyn Rule] = &[&HostPid];
