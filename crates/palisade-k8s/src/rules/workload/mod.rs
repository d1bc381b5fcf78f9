//! Rules on workload objects as a whole: replicas, rollout strategy,
//! selectors, disruption budgets and required metadata.

mod dangling_hpa;
mod duplicate_env_var;
mod kubernetes_dashboard_deployed;
mod missing_pod_anti_affinity;
mod missing_pod_disruption_budget;
mod missing_required_labels;
mod no_rolling_update;
mod pdb_blocks_eviction;
mod selector_mismatch;
mod single_replica;
mod tiller_deployed;

pub use dangling_hpa::DanglingHpa;
pub use duplicate_env_var::DuplicateEnvVar;
pub use kubernetes_dashboard_deployed::KubernetesDashboardDeployed;
pub use missing_pod_anti_affinity::MissingPodAntiAffinity;
pub use missing_pod_disruption_budget::MissingPodDisruptionBudget;
pub use missing_required_labels::MissingRequiredLabels;
pub use no_rolling_update::NoRollingUpdate;
pub use pdb_blocks_eviction::PdbBlocksEviction;
pub use selector_mismatch::SelectorMismatch;
pub use single_replica::SingleReplica;
pub use tiller_deployed::TillerDeployed;

use super::{CrossRule, Rule};

/// This group's per-object rules, in code order.
pub(super) static RULES: &[&dyn Rule] = &[
    &TillerDeployed,
    &KubernetesDashboardDeployed,
    &SingleReplica,
    &PdbBlocksEviction,
    &MissingPodAntiAffinity,
    &SelectorMismatch,
    &DuplicateEnvVar,
    &NoRollingUpdate,
    &MissingRequiredLabels,
];

/// This group's cross-object rules, in code order.
pub(super) static CROSS_RULES: &[&dyn CrossRule] = &[&MissingPodDisruptionBudget, &DanglingHpa];

/// The repository of an image reference, lowercased, without its tag or
/// digest: `gcr.io/kubernetes-helm/tiller:v2.16.12` →
/// `gcr.io/kubernetes-helm/tiller`.
pub(crate) fn image_repository(image: &str) -> String {
    let name = image.split('@').next().unwrap_or_default().trim();
    let repo = match name.rsplit_once(':') {
        // A colon after the last slash starts the tag; before it, a port.
        Some((repo, tag)) if !tag.contains('/') => repo,
        _ => name,
    };
    repo.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::image_repository;

    #[test]
    fn strips_tags_and_digests_but_not_ports() {
        assert_eq!(
            image_repository("gcr.io/kubernetes-helm/tiller:v2.16.12"),
            "gcr.io/kubernetes-helm/tiller"
        );
        assert_eq!(
            image_repository("registry:5000/team/app@sha256:abc"),
            "registry:5000/team/app"
        );
        assert_eq!(image_repository("registry:5000/app"), "registry:5000/app");
        assert_eq!(image_repository("Busybox"), "busybox");
    }
}
