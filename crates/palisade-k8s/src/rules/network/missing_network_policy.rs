use palisade_core::Finding;

use crate::rules::inventory::Inventory;
use crate::rules::{CrossRule, Described, cx::describe};
use crate::settings::Settings;

declare_rule! {
    /// ## What it does
    /// Finds workloads whose pods no NetworkPolicy selects, among the
    /// NetworkPolicies scanned together with them (same namespace).
    ///
    /// ## Why is this bad?
    /// Pods that no NetworkPolicy selects accept traffic from, and send
    /// traffic to, anything in the cluster. One compromised pod can then
    /// reach every database, internal API and the cloud metadata service:
    /// lateral movement needs no exploit at all.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata: {name: api, namespace: shop}
    /// spec:
    ///   template:
    ///     metadata:
    ///       labels: {app: api}
    ///     # no NetworkPolicy in `shop` selects app=api
    /// ```
    ///
    /// ## Fix
    /// Add a default-deny NetworkPolicy to each namespace (`podSelector: {}`
    /// with `policyTypes: [Ingress, Egress]`), then allow the flows each
    /// workload needs:
    /// ```yaml
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: default-deny, namespace: shop}
    /// spec:
    ///   podSelector: {}
    ///   policyTypes: [Ingress, Egress]
    /// ```
    ///
    /// This is a cross-object rule: it compares workloads with the
    /// NetworkPolicies of the same scan, so scan a namespace's manifests
    /// together.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.3.2: Ensure that all Namespaces have Network Policies defined
    /// - NSA/CISA Kubernetes Hardening Guide: Network separation and hardening — Network policies
    pub struct MissingNetworkPolicy {
        code: "K8S047",
        name: "missing-network-policy",
        title: "Workload is not selected by any NetworkPolicy",
        severity: Medium,
        references: [Cis("5.3.2"), Nsa("Network policies")],
        fix: "Add a default-deny NetworkPolicy to the namespace and allow only the traffic the workload needs.",
    }
}

impl CrossRule for MissingNetworkPolicy {
    fn check(&self, inventory: &Inventory, _: &Settings, out: &mut Vec<Finding>) {
        for w in &inventory.workloads {
            let covered = inventory
                .network_policies
                .iter()
                .any(|np| np.namespace == w.namespace && np.selector.matches(&w.pod_labels));
            if !covered {
                let ns = if w.namespace.is_empty() {
                    "its namespace"
                } else {
                    w.namespace.as_str()
                };
                out.push(w.subject.finding(
                    self.meta(),
                    w.subject.at_anchor(),
                    format!(
                        "no NetworkPolicy in {ns} selects the pods of {}; their traffic is unrestricted",
                        describe(&w.subject.resource)
                    ),
                ));
            }
        }
    }
}
