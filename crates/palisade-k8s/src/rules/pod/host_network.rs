use crate::rules::{Cx, Rule};
use crate::yaml::Node;

declare_rule! {
    /// ## What it does
    /// Finds pods that share the host's network namespace
    /// (`hostNetwork: true`).
    ///
    /// ## Why is this bad?
    /// A pod on the host network sees every interface of the node. It can
    /// sniff or spoof traffic of other pods, reach services bound to the
    /// node's loopback (the kubelet's read-only and health ports, local
    /// databases, the cloud metadata endpoint without pod-level blocks), and
    /// bypass NetworkPolicies, which do not apply to host-network pods in
    /// most CNIs. Its ports also collide with the node's.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   hostNetwork: true
    ///   containers:
    ///     - name: proxy
    ///       image: registry.example.com/proxy:2.1.0
    /// ```
    ///
    /// ## Fix
    /// Remove `hostNetwork: true` and expose the pod through a Service (or a
    /// NodePort/LoadBalancer Service if it must be reachable from outside).
    ///
    /// ## References
    /// - Pod Security Standards, baseline: Host Namespaces
    /// - CIS Kubernetes Benchmark 5.2.5: Minimize the admission of containers wishing to share the host network namespace
    /// - NSA/CISA Kubernetes Hardening Guide: Pod security
    pub struct HostNetwork {
        code: "K8S004",
        name: "host-network",
        title: "Pod shares the host's network namespace",
        severity: High,
        references: [Pss("baseline"), Cis("5.2.5"), Nsa("Pod security")],
        fix: "Remove `hostNetwork: true` and expose the pod through a Service.",
    }
}

impl Rule for HostNetwork {
    fn check(&self, cx: &mut Cx<'_>) {
        let Some(pod) = cx.pod() else { return };
        if pod.get("hostNetwork").and_then(Node::as_bool) == Some(true) {
            let message = format!("{} shares the host's network namespace", cx.describe());
            cx.report(pod.at(&["hostNetwork"]), message);
        }
    }
}
