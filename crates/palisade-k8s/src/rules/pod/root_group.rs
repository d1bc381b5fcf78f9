use crate::rules::{Cx, Rule};
use crate::workload::effective_at;
use crate::yaml::Node;

declare_rule! {
    /// ## What it does
    /// Finds containers that run with the root group: an effective
    /// `runAsGroup: 0` (the container's, else the pod's), a pod `fsGroup: 0`,
    /// or `0` in the pod's `supplementalGroups`.
    ///
    /// ## Why is this bad?
    /// Many files on the node and in images are group-owned by root and
    /// group-writable or group-readable (device nodes, sockets, config
    /// files). A process with GID 0 can use them even when it does not run
    /// as UID 0, which makes a container escape or a misplaced host mount
    /// far more damaging. `fsGroup: 0` also makes every volume of the pod
    /// owned by the root group.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   securityContext:
    ///     runAsUser: 10001
    ///     runAsGroup: 0
    ///     fsGroup: 0
    /// ```
    ///
    /// ## Fix
    /// Use a dedicated non-zero group:
    /// ```yaml
    /// spec:
    ///   securityContext:
    ///     runAsUser: 10001
    ///     runAsGroup: 10001
    ///     fsGroup: 10001
    /// ```
    ///
    /// ## References
    /// - Pod Security Standards, restricted: Non-root groups (optional)
    /// - NSA/CISA Kubernetes Hardening Guide: Non-root containers
    /// - CWE-250: Execution with Unnecessary Privileges
    pub struct RootGroup {
        code: "K8S019",
        name: "root-group",
        title: "Container runs with the root group",
        severity: Low,
        references: [Pss("restricted"), Nsa("Non-root containers"), Cwe("CWE-250")],
        fix: "Set `runAsGroup`, `fsGroup` and `supplementalGroups` to non-zero group IDs.",
    }
}

impl Rule for RootGroup {
    fn check(&self, cx: &mut Cx<'_>) {
        let Some(pod) = cx.pod() else { return };
        for c in pod.containers() {
            let Some((gid, loc)) = effective_at(&pod, &c, "runAsGroup") else {
                continue;
            };
            if gid.as_i64() == Some(0) {
                let via = if c.security("runAsGroup").is_some_and(|n| !n.is_null()) {
                    ""
                } else {
                    " (inherited from the pod securityContext)"
                };
                cx.report(
                    loc,
                    format!(
                        "{} runs with the root group (runAsGroup 0){via}",
                        c.describe()
                    ),
                );
            }
        }
        if pod.security("fsGroup").and_then(Node::as_i64) == Some(0) {
            let message = format!(
                "{} sets fsGroup 0: its volumes are owned by the root group",
                cx.describe()
            );
            cx.report(pod.at(&["securityContext", "fsGroup"]), message);
        }
        let groups = pod
            .security("supplementalGroups")
            .map(Node::items)
            .unwrap_or_default();
        for (i, g) in groups.iter().enumerate() {
            if g.as_i64() == Some(0) {
                let message = format!(
                    "{} adds the root group (0) to supplementalGroups",
                    cx.describe()
                );
                cx.report(
                    pod.at_item(&["securityContext", "supplementalGroups"], i, &[]),
                    message,
                );
            }
        }
    }
}
