use crate::rules::{Cx, Rule};
use crate::workload::effective_at;

declare_rule! {
    /// ## What it does
    /// Finds containers whose effective `runAsUser` or `runAsGroup` (the
    /// container's, else the pod's) is set explicitly to a low ID: from 1 up
    /// to, not including, the `min-high-id` setting (10000 by default).
    /// Unset IDs are not reported here, and 0 is reported by `run-as-root`
    /// and `root-group`.
    ///
    /// ## Why is this bad?
    /// Low UIDs and GIDs are those the node's own users and system services
    /// use. If the container escapes its namespaces, or writes to a host
    /// mount, its files and processes belong to an existing host account
    /// (often a system daemon with access to sensitive files). A high,
    /// dedicated ID owns nothing on the node.
    ///
    /// ## Example
    /// ```yaml
    /// securityContext:
    ///   runAsUser: 1000
    ///   runAsGroup: 1000
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    /// securityContext:
    ///   runAsUser: 10001
    ///   runAsGroup: 10001
    /// ```
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Non-root containers
    /// - Also checked by Trivy (KSV020, KSV021) and Checkov (CKV_K8S_40)
    pub struct LowUserId {
        code: "K8S018",
        name: "low-user-id",
        title: "Container runs with a low user or group ID",
        severity: Low,
        references: [Nsa("Non-root containers")],
        fix: "Set `runAsUser` and `runAsGroup` to IDs of at least 10000 (the `min-high-id` setting).",
    }
}

impl Rule for LowUserId {
    fn check(&self, cx: &mut Cx<'_>) {
        let Some(pod) = cx.pod() else { return };
        let min = cx.settings.min_high_id;
        for c in pod.containers() {
            for (key, what) in [("runAsUser", "user ID"), ("runAsGroup", "group ID")] {
                let Some((node, loc)) = effective_at(&pod, &c, key) else {
                    continue;
                };
                let Some(id) = node.as_i64() else { continue };
                if id >= 1 && id < min {
                    cx.report(
                        loc,
                        format!(
                            "{} runs with low {what} {id} (below {min}; may clash with host accounts)",
                            c.describe()
                        ),
                    );
                }
            }
        }
    }
}
