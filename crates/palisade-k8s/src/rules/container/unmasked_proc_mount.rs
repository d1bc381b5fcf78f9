use crate::rules::{Cx, Rule};
use crate::yaml::Node;

declare_rule! {
    /// ## What it does
    /// Finds containers with `securityContext.procMount` set to anything
    /// other than `Default` (in practice `Unmasked`).
    ///
    /// ## Why is this bad?
    /// The runtime masks and makes read-only the sensitive parts of `/proc`
    /// (`/proc/kcore`, `/proc/sysrq-trigger`, `/proc/sys`, timer and key
    /// lists…). `Unmasked` removes that protection, exposing kernel memory
    /// and tunables to the container; outside of nested-container use cases
    /// with user namespaces, it is a path to node compromise.
    ///
    /// ## Example
    /// ```yaml
    /// securityContext:
    ///   procMount: Unmasked
    /// ```
    ///
    /// ## Fix
    /// Remove `procMount` (or set it to `Default`).
    ///
    /// ## References
    /// - Pod Security Standards, baseline: /proc Mount Type
    /// - NSA/CISA Kubernetes Hardening Guide: Pod security
    pub struct UnmaskedProcMount {
        code: "K8S025",
        name: "unmasked-proc-mount",
        title: "Container mounts /proc unmasked",
        severity: Medium,
        references: [Pss("baseline"), Nsa("Pod security")],
        fix: "Remove `securityContext.procMount` or set it to `Default`.",
    }
}

impl Rule for UnmaskedProcMount {
    fn check(&self, cx: &mut Cx<'_>) {
        let Some(pod) = cx.pod() else { return };
        for c in pod.containers() {
            let Some(mount) = c.security("procMount").and_then(Node::as_str) else {
                continue;
            };
            if mount != "Default" {
                cx.report(
                    c.at(&["securityContext", "procMount"]),
                    format!("{} mounts /proc with procMount {mount}", c.describe()),
                );
            }
        }
    }
}
