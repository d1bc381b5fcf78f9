use crate::rules::{Cx, Rule};
use crate::workload::effective_at;

declare_rule! {
    /// ## What it does
    /// Finds containers that run, or may run, as root: the effective
    /// `runAsUser` (the container's, else the pod's) is 0, or the effective
    /// `runAsNonRoot` is not `true` and no effective `runAsUser` above 0 is
    /// set, so the image's `USER` (often root) decides.
    ///
    /// ## Why is this bad?
    /// Root in a container is root on the node's kernel, only fenced by
    /// namespaces, capabilities and LSMs. Every container escape (runtime
    /// bugs such as CVE-2019-5736 and CVE-2024-21626, kernel bugs, writable
    /// host mounts) is far more damaging from UID 0, and root inside can
    /// modify the image's binaries and read every file in the container.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: app
    ///     image: registry.example.com/app:1.4.2
    /// ```
    ///
    /// ## Fix
    /// Build the image with a non-root `USER` and enforce it:
    /// ```yaml
    /// spec:
    ///   securityContext:
    ///     runAsNonRoot: true
    ///     runAsUser: 10001
    /// ```
    ///
    /// ## References
    /// - Pod Security Standards, restricted: Running as Non-root
    /// - CIS Kubernetes Benchmark 5.2.7: Minimize the admission of root containers
    /// - NSA/CISA Kubernetes Hardening Guide: Non-root containers
    /// - CWE-250: Execution with Unnecessary Privileges
    pub struct RunAsRoot {
        code: "K8S017",
        name: "run-as-root",
        title: "Container may run as root",
        severity: Medium,
        references: [Pss("restricted"), Cis("5.2.7"), Nsa("Non-root containers"), Cwe("CWE-250")],
        fix: "Set `runAsNonRoot: true` and a non-zero `runAsUser` in the pod or container securityContext.",
    }
}

impl Rule for RunAsRoot {
    fn check(&self, cx: &mut Cx<'_>) {
        let Some(pod) = cx.pod() else { return };
        for c in pod.containers() {
            let user = effective_at(&pod, &c, "runAsUser")
                .and_then(|(n, loc)| n.as_i64().map(|uid| (uid, loc)));
            match user {
                Some((0, loc)) => {
                    cx.report(loc, format!("{} runs as root (UID 0)", c.describe()));
                    continue;
                }
                Some((uid, _)) if uid > 0 => continue,
                _ => {}
            }
            match effective_at(&pod, &c, "runAsNonRoot") {
                Some((n, _)) if n.as_bool() == Some(true) => {}
                Some((n, loc)) if n.as_bool() == Some(false) => cx.report(
                    loc,
                    format!("{} may run as root: runAsNonRoot is false", c.describe()),
                ),
                _ => cx.report(
                    c.at(&["securityContext", "runAsNonRoot"]),
                    format!("{} may run as root: runAsNonRoot is not set", c.describe()),
                ),
            }
        }
    }
}
