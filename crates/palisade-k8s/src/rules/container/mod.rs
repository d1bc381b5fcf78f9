//! Rules on single containers: security context, capabilities, resources,
//! images, probes and environment.

mod privileged_container;

pub use privileged_container::PrivilegedContainer;
