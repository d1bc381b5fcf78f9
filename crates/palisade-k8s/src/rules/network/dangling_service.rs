use palisade_core::Finding;

use crate::rules::inventory::Inventory;
use crate::rules::{CrossRule, Described, cx::describe};
use crate::settings::Settings;

declare_rule! {
    /// ## What it does
    /// Finds Services whose `spec.selector` matches the pods of no workload
    /// scanned in the same namespace. It reports only for namespaces where
    /// the scan found workloads, and skips Services without a selector
    /// (those with manually managed endpoints, or `ExternalName`).
    ///
    /// ## Why is this bad?
    /// A Service that selects nothing has no endpoints: clients get
    /// connection refused or time out. Usually a label was renamed in the
    /// Deployment but not in the Service — and when someone later deploys
    /// a pod with the old labels, it silently starts receiving that
    /// traffic.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: v1
    /// kind: Service
    /// metadata: {name: api, namespace: shop}
    /// spec:
    ///   selector: {app: api-server}   # the pods are labelled app=api
    ///   ports: [{port: 80, targetPort: 8080}]
    /// ```
    ///
    /// ## Fix
    /// Make the selector match the workload's pod template labels, or
    /// delete the Service.
    ///
    /// This is a cross-object rule: scan the namespace's manifests together.
    ///
    /// ## References
    /// - https://kubernetes.io/docs/concepts/services-networking/service/#defining-a-service
    pub struct DanglingService {
        code: "K8S072",
        name: "dangling-service",
        title: "Service selects no pods",
        severity: Low,
        references: [Url("https://kubernetes.io/docs/concepts/services-networking/service/#defining-a-service")],
        fix: "Make the Service's selector match the pod template labels of the workload it fronts, or delete it.",
    }
}

impl CrossRule for DanglingService {
    fn check(&self, inventory: &Inventory, _: &Settings, out: &mut Vec<Finding>) {
        for svc in &inventory.services {
            let Some((selector, loc)) = &svc.selector else {
                continue;
            };
            let mut in_namespace = inventory
                .workloads
                .iter()
                .filter(|w| w.namespace == svc.namespace)
                .peekable();
            if in_namespace.peek().is_none() {
                continue;
            }
            if in_namespace.any(|w| selector.matches(&w.pod_labels)) {
                continue;
            }
            let ns = if svc.namespace.is_empty() {
                "its namespace"
            } else {
                svc.namespace.as_str()
            };
            out.push(svc.subject.finding(
                self.meta(),
                loc.clone(),
                format!(
                    "the selector of {} matches no pods of the workloads scanned in {ns}; the Service has no endpoints",
                    describe(&svc.subject.resource)
                ),
            ));
        }
    }
}
