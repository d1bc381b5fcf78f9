//! RBAC analysis: the Kubernetes RBAC authorizer's semantics over the
//! scanned Roles, ClusterRoles and bindings — effective permissions per
//! subject, `who-can`, risky grants, escalation paths, and least-privilege
//! roles from audit logs.

pub mod audit;
mod bootstrap;
pub mod minimize;
pub mod model;
pub mod paths;
pub mod policy;
pub mod resources;
pub mod risks;

pub use model::RbacData;
pub use policy::{Decision, Grant, Policy, Principal, Request, UserInfo};
