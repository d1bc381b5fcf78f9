use super::report_missing_resource;
use crate::rules::{Cx, Rule};

declare_rule! {
    /// ## What it does
    /// Finds init and regular containers without `resources.limits.memory`.
    ///
    /// ## Why is this bad?
    /// Without a memory limit, a leak, a large request or a deliberate
    /// memory-exhaustion attack grows until the node runs out of memory.
    /// The kernel's OOM killer and the kubelet's evictions then hit other
    /// pods on the node, and sometimes node components, instead of only the
    /// offending container. Memory, unlike CPU, cannot be throttled.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: app
    ///     resources:
    ///       requests: {cpu: 250m, memory: 256Mi}
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    ///     resources:
    ///       requests: {cpu: 250m, memory: 256Mi}
    ///       limits: {memory: 512Mi}
    /// ```
    /// A namespace LimitRange can set defaults for containers that omit it.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Resource policies
    pub struct MemoryLimitMissing {
        code: "K8S032",
        name: "memory-limit-missing",
        title: "Container has no memory limit",
        severity: Low,
        references: [Nsa("Resource policies")],
        fix: "Set `resources.limits.memory` on the container (or a default through a namespace LimitRange).",
    }
}

impl Rule for MemoryLimitMissing {
    fn check(&self, cx: &mut Cx<'_>) {
        report_missing_resource(cx, "limits", "memory", "memory limit");
    }
}
