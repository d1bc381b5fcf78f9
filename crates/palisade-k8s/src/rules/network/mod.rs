//! Rules on networking: NetworkPolicy coverage, Services, Ingresses and
//! ports.

mod dangling_ingress;
mod dangling_network_policy;
mod dangling_service;
mod exposed_service;
mod ingress_nginx_snippet_annotations;
mod ingress_without_tls;
mod missing_network_policy;
mod privileged_port;
mod ssh_port;

pub use dangling_ingress::DanglingIngress;
pub use dangling_network_policy::DanglingNetworkPolicy;
pub use dangling_service::DanglingService;
pub use exposed_service::ExposedService;
pub use ingress_nginx_snippet_annotations::IngressNginxSnippetAnnotations;
pub use ingress_without_tls::IngressWithoutTls;
pub use missing_network_policy::MissingNetworkPolicy;
pub use privileged_port::PrivilegedPort;
pub use ssh_port::SshPort;

use super::{CrossRule, Rule};

/// This group's per-object rules, in code order.
pub(super) static RULES: &[&dyn Rule] = &[
    &IngressNginxSnippetAnnotations,
    &ExposedService,
    &IngressWithoutTls,
    &PrivilegedPort,
    &SshPort,
];

/// This group's cross-object rules, in code order.
pub(super) static CROSS_RULES: &[&dyn CrossRule] = &[
    &MissingNetworkPolicy,
    &DanglingService,
    &DanglingIngress,
    &DanglingNetworkPolicy,
];
