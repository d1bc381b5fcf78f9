use crate::rules::{Cx, Rule};
use crate::yaml::Node;

declare_rule! {
    /// ## What it does
    /// Finds container ports bound to a port of the node
    /// (`ports[].hostPort` set and not 0).
    ///
    /// ## Why is this bad?
    /// A host port opens the container on every address of the node,
    /// outside Services and, with most CNIs, outside NetworkPolicies. It
    /// exposes the workload to whatever can reach the node (other
    /// networks, the internet on public nodes), lets it receive traffic
    /// meant for the node, and limits scheduling to one such pod per node
    /// and port.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: web
    ///     ports:
    ///       - containerPort: 8080
    ///         hostPort: 80
    /// ```
    ///
    /// ## Fix
    /// Remove `hostPort` and expose the pod through a Service (NodePort or
    /// LoadBalancer when it must be reachable from outside the cluster):
    /// ```yaml
    ///     ports:
    ///       - containerPort: 8080
    /// ```
    ///
    /// ## References
    /// - Pod Security Standards, baseline: Host Ports
    /// - CIS Kubernetes Benchmark 5.2.13: Minimize the admission of containers which use HostPorts
    /// - NSA/CISA Kubernetes Hardening Guide: Pod security
    pub struct HostPort {
        code: "K8S005",
        name: "host-port",
        title: "Container binds a port of the node",
        severity: Medium,
        references: [Pss("baseline"), Cis("5.2.13"), Nsa("Pod security")],
        fix: "Remove `hostPort` and expose the container through a Service.",
    }
}

impl Rule for HostPort {
    fn check(&self, cx: &mut Cx<'_>) {
        let Some(pod) = cx.pod() else { return };
        for c in pod.containers() {
            let ports = c.get(&["ports"]).map(Node::items).unwrap_or_default();
            for (i, p) in ports.iter().enumerate() {
                let Some(host_port) = p.get("hostPort").and_then(Node::as_i64) else {
                    continue;
                };
                if host_port == 0 {
                    continue;
                }
                cx.report(
                    c.at_item(&["ports"], i, &["hostPort"]),
                    format!("{} binds host port {host_port}", c.describe()),
                );
            }
        }
    }
}
