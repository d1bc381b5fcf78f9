use super::capability_name;
use crate::rules::{Cx, Rule};
use crate::yaml::Node;

declare_rule! {
    /// ## What it does
    /// Finds containers whose `securityContext.capabilities.drop` does not
    /// contain `ALL`. Windows pods (`spec.os.name: windows`) are skipped:
    /// Linux capabilities do not apply to them.
    ///
    /// ## Why is this bad?
    /// Without `drop: [ALL]` a container keeps the runtime's default
    /// capabilities, among them `NET_RAW` (forge packets, ARP and DNS
    /// spoofing inside the node's network), `MKNOD`, `SETUID`/`SETGID`,
    /// `DAC_OVERRIDE` and `CHOWN`. Most applications need none of them; a
    /// process that is compromised or tricked keeps them all.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: app
    ///     securityContext:
    ///       capabilities:
    ///         drop: [NET_RAW]
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    ///     securityContext:
    ///       capabilities:
    ///         drop: [ALL]
    ///         add: [NET_BIND_SERVICE]   # only if it binds a port below 1024
    /// ```
    ///
    /// ## References
    /// - Pod Security Standards, restricted: Capabilities
    /// - CIS Kubernetes Benchmark 5.2.10: Minimize the admission of containers with capabilities assigned
    /// - NSA/CISA Kubernetes Hardening Guide: Pod security
    pub struct CapabilitiesNotDropped {
        code: "K8S011",
        name: "capabilities-not-dropped",
        title: "Container does not drop all capabilities",
        severity: Low,
        references: [Pss("restricted"), Cis("5.2.10"), Nsa("Pod security")],
        fix: "Set `securityContext.capabilities.drop: [ALL]` and add back only what the process needs.",
    }
}

impl Rule for CapabilitiesNotDropped {
    fn check(&self, cx: &mut Cx<'_>) {
        let Some(pod) = cx.pod() else { return };
        if pod.is_windows() {
            return;
        }
        for c in pod.containers() {
            let drops_all = c
                .get(&["securityContext", "capabilities", "drop"])
                .map(Node::items)
                .unwrap_or_default()
                .iter()
                .filter_map(Node::as_str)
                .any(|cap| capability_name(cap) == "ALL");
            if !drops_all {
                cx.report(
                    c.at(&["securityContext", "capabilities", "drop"]),
                    format!("{} does not drop ALL capabilities", c.describe()),
                );
            }
        }
    }
}
