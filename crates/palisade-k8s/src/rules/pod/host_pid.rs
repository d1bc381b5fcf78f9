use crate::rules::{Cx, Rule};
use crate::yaml::Node;

declare_rule! {
    /// ## What it does
    /// Finds pods that share the host's process ID namespace
    /// (`hostPID: true`).
    ///
    /// ## Why is this bad?
    /// With the host's PID namespace a container sees every process on the
    /// node, can read their environment and `/proc/<pid>/root`, and, with
    /// `ptrace` or root, inject code into them — including the kubelet and
    /// other pods' processes. It is a short step from there to the node.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   hostPID: true
    ///   containers:
    ///     - name: debug
    ///       image: busybox:1.36
    /// ```
    ///
    /// ## Fix
    /// Remove `hostPID: true`. To share processes between the containers of
    /// one pod, use `shareProcessNamespace: true` instead.
    ///
    /// ## References
    /// - Pod Security Standards, baseline: Host Namespaces
    /// - CIS Kubernetes Benchmark 5.2.3: Minimize the admission of containers wishing to share the host process ID namespace
    /// - NSA/CISA Kubernetes Hardening Guide: Pod security
    pub struct HostPid {
        code: "K8S002",
        name: "host-pid",
        title: "Pod shares the host's process namespace",
        severity: High,
        references: [Pss("baseline"), Cis("5.2.3"), Nsa("Pod security")],
        fix: "Remove `hostPID: true` (use `shareProcessNamespace` to share processes within the pod).",
    }
}

impl Rule for HostPid {
    fn check(&self, cx: &mut Cx<'_>) {
        let Some(pod) = cx.pod() else { return };
        if pod.get("hostPID").and_then(Node::as_bool) == Some(true) {
            let message = format!("{} shares the host's process ID namespace", cx.describe());
            cx.report(pod.at(&["hostPID"]), message);
        }
    }
}
