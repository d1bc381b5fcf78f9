use palisade_k8s::declare_rule;

declare_rule! {
    /// ## What it does
    /// Denies `kubectl port-forward` (a `CONNECT` on `pods/portforward`),
    /// except for the configured break-glass users and groups. Every
    /// decision is logged with the user and the pod.
    ///
    /// ## Why is this bad?
    /// Port forwarding tunnels the caller's machine into the pod's network
    /// namespace, past NetworkPolicies, Services and ingress
    /// authentication: admin ports, debug endpoints and databases that are
    /// never exposed become reachable from a laptop.
    ///
    /// ## Example
    /// ```sh
    /// kubectl port-forward pod/db-0 5432
    /// ```
    ///
    /// ## Fix
    /// Expose what must be reachable through a Service with its own
    /// authentication; use a break-glass identity in an incident.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Network separation and hardening
    /// - CWE-284: Improper Access Control
    pub struct PortForwardToPod {
        code: "ADM003",
        name: "port-forward-to-pod",
        title: "Port-forward into a pod",
        severity: Medium,
        references: [Nsa("Network separation and hardening"), Cwe("CWE-284")],
        fix: "Expose the port through an authenticated Service; in an incident use a break-glass identity.",
    }
}
