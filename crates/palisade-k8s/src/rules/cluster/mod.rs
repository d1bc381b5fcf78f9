//! Rules on cluster components and add-ons: control-plane flags in static
//! pod manifests, kubelet configuration, deprecated API versions, and
//! risky add-ons.

mod deprecated_api_version;
mod flags;
mod insecure_apiserver_flag;
mod insecure_controller_manager_flag;
mod insecure_etcd_flag;
mod insecure_kubelet_configuration;
mod insecure_scheduler_flag;

pub use deprecated_api_version::DeprecatedApiVersion;
pub use insecure_apiserver_flag::InsecureApiserverFlag;
pub use insecure_controller_manager_flag::InsecureControllerManagerFlag;
pub use insecure_etcd_flag::InsecureEtcdFlag;
pub use insecure_kubelet_configuration::InsecureKubeletConfiguration;
pub use insecure_scheduler_flag::InsecureSchedulerFlag;

use super::Rule;

/// This group's rules, in code order.
pub(super) static RULES: &[&dyn Rule] = &[
    &DeprecatedApiVersion,
    &InsecureApiserverFlag,
    &InsecureControllerManagerFlag,
    &InsecureSchedulerFlag,
    &InsecureEtcdFlag,
    &InsecureKubeletConfiguration,
];
