use palisade_core::Finding;

use crate::rules::inventory::Inventory;
use crate::rules::{CrossRule, Described, cx::describe};
use crate::settings::Settings;

declare_rule! {
    /// ## What it does
    /// Finds NetworkPolicies with a non-empty `podSelector` that matches the
    /// pods of no workload scanned in the same namespace. It reports only
    /// for namespaces where the scan found workloads.
    ///
    /// ## Why is this bad?
    /// A policy that selects nothing protects nothing, while reviewers
    /// believe the workload it was written for is isolated. It is usually a
    /// label typo or a renamed app, and the pods it was meant for accept
    /// traffic from anywhere.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: db-ingress, namespace: shop}
    /// spec:
    ///   podSelector:
    ///     matchLabels: {app: postgress}   # the pods are labelled app=postgres
    ///   policyTypes: [Ingress]
    /// ```
    ///
    /// ## Fix
    /// Make `podSelector` match the labels of the pods the policy is meant
    /// to protect, or delete the policy.
    ///
    /// This is a cross-object rule: scan the namespace's manifests together.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Network separation and hardening — Network policies
    /// - https://kubernetes.io/docs/concepts/services-networking/network-policies/
    pub struct DanglingNetworkPolicy {
        code: "K8S074",
        name: "dangling-network-policy",
        title: "NetworkPolicy selects no pods",
        severity: Low,
        references: [
            Nsa("Network policies"),
            Url("https://kubernetes.io/docs/concepts/services-networking/network-policies/"),
        ],
        fix: "Make the NetworkPolicy's `podSelector` match the pods it is meant to protect, or delete it.",
    }
}

impl CrossRule for DanglingNetworkPolicy {
    fn check(&self, inventory: &Inventory, _: &Settings, out: &mut Vec<Finding>) {
        for np in &inventory.network_policies {
            if np.selector.is_empty() {
                continue;
            }
            let mut in_namespace = inventory
                .workloads
                .iter()
                .filter(|w| w.namespace == np.namespace)
                .peekable();
            if in_namespace.peek().is_none() {
                continue;
            }
            if in_namespace.any(|w| np.selector.matches(&w.pod_labels)) {
                continue;
            }
            let ns = if np.namespace.is_empty() {
                "its namespace"
            } else {
                np.namespace.as_str()
            };
            out.push(np.subject.finding(
                self.meta(),
                np.selector_loc.clone(),
                format!(
                    "the podSelector of {} matches no pods of the workloads scanned in {ns}; the policy protects nothing",
                    describe(&np.subject.resource)
                ),
            ));
        }
    }
}
