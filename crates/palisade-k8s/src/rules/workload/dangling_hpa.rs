use palisade_core::Finding;

use crate::rules::inventory::Inventory;
use crate::rules::{CrossRule, Described, cx::describe};
use crate::settings::Settings;

declare_rule! {
    /// ## What it does
    /// Finds HorizontalPodAutoscalers whose `scaleTargetRef` names a
    /// Deployment, StatefulSet, ReplicaSet or ReplicationController that is
    /// not among the workloads scanned in the same namespace. It reports
    /// only for namespaces where the scan found workloads, and leaves
    /// targets of other kinds (such as Argo Rollouts) alone.
    ///
    /// ## Why is this bad?
    /// An autoscaler pointing at nothing scales nothing: usually the
    /// workload was renamed and the HPA was not, so the real workload runs
    /// at its fixed replica count under load, while the HPA only emits
    /// `FailedGetScale` events.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: autoscaling/v2
    /// kind: HorizontalPodAutoscaler
    /// metadata: {name: api, namespace: shop}
    /// spec:
    ///   scaleTargetRef:
    ///     apiVersion: apps/v1
    ///     kind: Deployment
    ///     name: api-v1   # the Deployment is now called `api`
    /// ```
    ///
    /// ## Fix
    /// Point `scaleTargetRef` at the workload's current kind and name, or
    /// delete the autoscaler.
    ///
    /// This is a cross-object rule: scan the namespace's manifests together.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Resource policies
    /// - https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/
    pub struct DanglingHpa {
        code: "K8S075",
        name: "dangling-hpa",
        title: "HorizontalPodAutoscaler targets a missing workload",
        severity: Low,
        references: [
            Nsa("Resource policies"),
            Url("https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/"),
        ],
        fix: "Point `scaleTargetRef` at an existing workload, or delete the autoscaler.",
    }
}

/// Kinds an HPA can scale that the scan records as workloads.
const SCALABLE: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "ReplicaSet",
    "ReplicationController",
];

impl CrossRule for DanglingHpa {
    fn check(&self, inventory: &Inventory, _: &Settings, out: &mut Vec<Finding>) {
        for hpa in &inventory.hpas {
            if !SCALABLE.contains(&hpa.target_kind.as_str()) {
                continue;
            }
            let mut in_namespace = inventory
                .workloads
                .iter()
                .filter(|w| w.namespace == hpa.namespace)
                .peekable();
            if in_namespace.peek().is_none() {
                continue;
            }
            let found = in_namespace.any(|w| {
                w.subject.resource.kind == hpa.target_kind
                    && w.subject.resource.name.as_deref() == Some(hpa.target_name.as_str())
            });
            if found {
                continue;
            }
            let ns = if hpa.namespace.is_empty() {
                "its namespace"
            } else {
                hpa.namespace.as_str()
            };
            out.push(hpa.subject.finding(
                self.meta(),
                hpa.target_loc.clone(),
                format!(
                    "{} scales {} {}, which is not among the workloads scanned in {ns}",
                    describe(&hpa.subject.resource),
                    hpa.target_kind,
                    hpa.target_name
                ),
            ));
        }
    }
}
