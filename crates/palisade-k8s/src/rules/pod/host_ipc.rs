use crate::rules::{Cx, Rule};
use crate::yaml::Node;

declare_rule! {
    /// ## What it does
    /// Finds pods that share the host's IPC namespace (`hostIPC: true`).
    ///
    /// ## Why is this bad?
    /// With the host's IPC namespace a container can read and write the
    /// System V shared memory segments, semaphores and message queues of
    /// every process on the node, and POSIX shared memory under the host's
    /// `/dev/shm`. Databases, caches and other pods' processes keep data
    /// there; an attacker in the container can read it or corrupt it.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   hostIPC: true
    ///   containers:
    ///     - name: app
    ///       image: registry.example.com/app:1.4.2
    /// ```
    ///
    /// ## Fix
    /// Remove `hostIPC: true`. Containers of the same pod already share an
    /// IPC namespace; share data with other pods through a volume or the
    /// network instead.
    ///
    /// ## References
    /// - Pod Security Standards, baseline: Host Namespaces
    /// - CIS Kubernetes Benchmark 5.2.4: Minimize the admission of containers wishing to share the host IPC namespace
    /// - NSA/CISA Kubernetes Hardening Guide: Pod security
    pub struct HostIpc {
        code: "K8S003",
        name: "host-ipc",
        title: "Pod shares the host's IPC namespace",
        severity: High,
        references: [Pss("baseline"), Cis("5.2.4"), Nsa("Pod security")],
        fix: "Remove `hostIPC: true` from the pod spec.",
    }
}

impl Rule for HostIpc {
    fn check(&self, cx: &mut Cx<'_>) {
        let Some(pod) = cx.pod() else { return };
        if pod.get("hostIPC").and_then(Node::as_bool) == Some(true) {
            let message = format!("{} shares the host's IPC namespace", cx.describe());
            cx.report(pod.at(&["hostIPC"]), message);
        }
    }
}
