use crate::rules::{Cx, Rule};
use crate::yaml::Node;

declare_rule! {
    /// ## What it does
    /// Finds pods that set sysctls outside the Pod Security Standards' safe
    /// set (`securityContext.sysctls[].name`). The safe, namespaced sysctls
    /// are `kernel.shm_rmid_forced`, `net.ipv4.ip_local_port_range`,
    /// `net.ipv4.ip_unprivileged_port_start`, `net.ipv4.tcp_syncookies`,
    /// `net.ipv4.ping_group_range`, `net.ipv4.ip_local_reserved_ports`,
    /// `net.ipv4.tcp_keepalive_time`, `net.ipv4.tcp_fin_timeout`,
    /// `net.ipv4.tcp_keepalive_intvl` and `net.ipv4.tcp_keepalive_probes`.
    ///
    /// ## Why is this bad?
    /// Other sysctls are either not isolated per pod, so the pod changes
    /// kernel behaviour for the whole node and every other pod on it, or
    /// let one pod exhaust shared kernel resources (message queues, shared
    /// memory limits) and starve its neighbours. The kubelet refuses unsafe
    /// sysctls unless an administrator allowed them node by node.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   securityContext:
    ///     sysctls:
    ///       - name: kernel.msgmax
    ///         value: "65536"
    /// ```
    ///
    /// ## Fix
    /// Remove the sysctl, or tune it on the nodes (for example with a
    /// node-level configuration tool) instead of from a workload.
    ///
    /// ## References
    /// - Pod Security Standards, baseline: Sysctls
    /// - NSA/CISA Kubernetes Hardening Guide: Pod security
    pub struct UnsafeSysctls {
        code: "K8S026",
        name: "unsafe-sysctls",
        title: "Pod sets an unsafe sysctl",
        severity: Medium,
        references: [Pss("baseline"), Nsa("Pod security")],
        fix: "Remove sysctls outside the safe set from the pod's securityContext, or tune them on the nodes.",
    }
}

const SAFE: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];

impl Rule for UnsafeSysctls {
    fn check(&self, cx: &mut Cx<'_>) {
        let Some(pod) = cx.pod() else { return };
        let sysctls = pod.security("sysctls").map(Node::items).unwrap_or_default();
        for (i, s) in sysctls.iter().enumerate() {
            let Some(name) = s.get("name").and_then(Node::as_str) else {
                continue;
            };
            // Sysctl names may use `/` as the separator (`net/ipv4/tcp_syncookies`).
            let normalized = name.replace('/', ".");
            if SAFE.contains(&normalized.as_str()) {
                continue;
            }
            let message = format!("{} sets unsafe sysctl `{name}`", cx.describe());
            cx.report(
                pod.at_item(&["securityContext", "sysctls"], i, &["name"]),
                message,
            );
        }
    }
}
