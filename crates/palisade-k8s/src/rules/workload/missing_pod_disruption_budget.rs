use palisade_core::Finding;

use crate::rules::inventory::Inventory;
use crate::rules::{CrossRule, Described, cx::describe};
use crate::settings::Settings;

declare_rule! {
    /// ## What it does
    /// Finds Deployments and StatefulSets with two or more replicas whose
    /// pods no PodDisruptionBudget selects, among the PodDisruptionBudgets
    /// scanned together with them (same namespace).
    ///
    /// ## Why is this bad?
    /// Without a PodDisruptionBudget, a node drain — a cluster upgrade, the
    /// autoscaler removing a node — may evict every replica at once, and the
    /// replicas you run for availability go down together.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata: {name: api, namespace: shop}
    /// spec:
    ///   replicas: 3
    ///   template:
    ///     metadata:
    ///       labels: {app: api}
    ///     # no PodDisruptionBudget in `shop` selects app=api
    /// ```
    ///
    /// ## Fix
    /// Add a PodDisruptionBudget that keeps enough replicas up:
    /// ```yaml
    /// apiVersion: policy/v1
    /// kind: PodDisruptionBudget
    /// metadata: {name: api, namespace: shop}
    /// spec:
    ///   maxUnavailable: 1
    ///   selector:
    ///     matchLabels: {app: api}
    /// ```
    ///
    /// This is a cross-object rule: it compares workloads with the
    /// PodDisruptionBudgets of the same scan, so scan a namespace's
    /// manifests together.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Resource policies
    /// - https://kubernetes.io/docs/tasks/run-application/configure-pdb/
    pub struct MissingPodDisruptionBudget {
        code: "K8S068",
        name: "missing-pod-disruption-budget",
        title: "Replicated workload has no PodDisruptionBudget",
        severity: Low,
        references: [
            Nsa("Resource policies"),
            Url("https://kubernetes.io/docs/tasks/run-application/configure-pdb/"),
        ],
        fix: "Add a PodDisruptionBudget (e.g. `maxUnavailable: 1`) selecting the workload's pods.",
    }
}

impl CrossRule for MissingPodDisruptionBudget {
    fn check(&self, inventory: &Inventory, _: &Settings, out: &mut Vec<Finding>) {
        for w in &inventory.workloads {
            let Some(replicas) = w.replicas.filter(|r| w.replicated && *r >= 2) else {
                continue;
            };
            let covered = inventory
                .pdbs
                .iter()
                .any(|pdb| pdb.namespace == w.namespace && pdb.selector.matches(&w.pod_labels));
            if covered {
                continue;
            }
            let ns = if w.namespace.is_empty() {
                "its namespace"
            } else {
                w.namespace.as_str()
            };
            out.push(w.subject.finding(
                self.meta(),
                w.subject.at_anchor(),
                format!(
                    "no PodDisruptionBudget in {ns} selects the {replicas} replicas of {}; a node drain may evict them all at once",
                    describe(&w.subject.resource)
                ),
            ));
        }
    }
}
