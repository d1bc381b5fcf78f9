use crate::rules::{Cx, Rule};
use crate::yaml::Node;

declare_rule! {
    /// ## What it does
    /// Finds containers for which neither the pod nor the container sets a
    /// non-empty `securityContext`.
    ///
    /// ## Why is this bad?
    /// Without any security context the container runs with every runtime
    /// default: as the image's user (often root), with privilege
    /// escalation allowed, the default capability set, a writable root
    /// filesystem and, on most clusters, no seccomp filtering. It usually
    /// means nobody has looked at how the workload should be confined.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   containers:
    ///     - name: app
    ///       image: registry.example.com/app:1.4.2
    /// ```
    ///
    /// ## Fix
    /// Start from the restricted profile:
    /// ```yaml
    /// spec:
    ///   securityContext:
    ///     runAsNonRoot: true
    ///     seccompProfile: {type: RuntimeDefault}
    ///   containers:
    ///     - name: app
    ///       securityContext:
    ///         allowPrivilegeEscalation: false
    ///         readOnlyRootFilesystem: true
    ///         capabilities: {drop: [ALL]}
    /// ```
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.7.3: Apply Security Context to Your Pods and Containers
    /// - NSA/CISA Kubernetes Hardening Guide: Pod security
    pub struct MissingSecurityContext {
        code: "K8S028",
        name: "missing-security-context",
        title: "Container has no security context",
        severity: Low,
        references: [Cis("5.7.3"), Nsa("Pod security")],
        fix: "Add a securityContext to the pod or container (runAsNonRoot, allowPrivilegeEscalation: false, drop ALL capabilities).",
    }
}

fn non_empty(n: Option<&Node>) -> bool {
    n.and_then(Node::as_map).is_some_and(|m| !m.is_empty())
}

impl Rule for MissingSecurityContext {
    fn check(&self, cx: &mut Cx<'_>) {
        let Some(pod) = cx.pod() else { return };
        if non_empty(pod.get("securityContext")) {
            return;
        }
        for c in pod.containers() {
            if !non_empty(c.get(&["securityContext"])) {
                cx.report(
                    c.at(&["securityContext"]),
                    format!("{} has no securityContext, nor does its pod", c.describe()),
                );
            }
        }
    }
}
