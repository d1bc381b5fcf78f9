use crate::rules::{Cx, Rule};
use crate::yaml::Node;

declare_rule! {
    /// ## What it does
    /// Finds containers that run in privileged mode
    /// (`securityContext.privileged: true`).
    ///
    /// ## Why is this bad?
    /// A privileged container gets every Linux capability, all host devices
    /// and no seccomp, AppArmor or SELinux confinement. Anyone who can run
    /// code in it can load kernel modules, mount the host's disks and take
    /// over the node, and from the node every pod and secret on it.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: app
    ///     image: registry.example.com/app:1.4.2
    ///     securityContext:
    ///       privileged: true
    /// ```
    ///
    /// ## Fix
    /// Remove `privileged: true`. If the workload needs one specific power,
    /// grant only that capability (and document why); node agents that truly
    /// need the host belong in a dedicated, tightly controlled namespace.
    ///
    /// ## References
    /// - Pod Security Standards, baseline: Privileged Containers
    /// - CIS Kubernetes Benchmark 5.2.2: Minimize the admission of privileged containers
    /// - NSA/CISA Kubernetes Hardening Guide: Pod security
    /// - CWE-250: Execution with Unnecessary Privileges
    pub struct PrivilegedContainer {
        code: "K8S001",
        name: "privileged-container",
        title: "Container runs in privileged mode",
        severity: Critical,
        references: [Pss("baseline"), Cis("5.2.2"), Nsa("Pod security"), Cwe("CWE-250")],
        fix: "Remove `securityContext.privileged: true`; grant only the specific capability the container needs.",
    }
}

impl Rule for PrivilegedContainer {
    fn check(&self, cx: &mut Cx<'_>) {
        let Some(pod) = cx.pod() else { return };
        for c in pod.containers() {
            if c.security("privileged").and_then(Node::as_bool) == Some(true) {
                cx.report(
                    c.at(&["securityContext", "privileged"]),
                    format!("{} runs in privileged mode", c.describe()),
                );
            }
        }
    }
}
