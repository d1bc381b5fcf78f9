//! Rule settings from `palisade.yaml` (`settings:`), with defaults that work
//! without any configuration.

use serde::Deserialize;

/// Inputs some rules need.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct Settings {
    /// Image registries (and path prefixes) images may come from, for
    /// `untrusted-registry`; the rule reports nothing while this is empty.
    pub allowed_registries: Vec<String>,
    /// Labels every workload must carry, for `missing-required-labels`.
    pub required_labels: Vec<String>,
    /// Fewest replicas a Deployment or StatefulSet should run, for
    /// `single-replica`.
    pub min_replicas: i64,
    /// Ports below which a container port counts as privileged.
    pub privileged_port_limit: i64,
    /// Lowest UID/GID that counts as "high" (unlikely to clash with host users).
    pub min_high_id: i64,
    /// Report RBAC risks of Kubernetes' own controller identities at full
    /// severity instead of as info.
    pub include_system: bool,
    /// Namespace assumed for namespaced RBAC objects and workloads written
    /// without one (as `kubectl apply -n NS` would place them).
    pub default_namespace: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            allowed_registries: Vec::new(),
            required_labels: vec!["app.kubernetes.io/name".into()],
            min_replicas: 2,
            privileged_port_limit: 1024,
            min_high_id: 10_000,
            include_system: false,
            default_namespace: "default".into(),
        }
    }
}
