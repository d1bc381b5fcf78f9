use super::report_missing_resource;
use crate::rules::{Cx, Rule};

declare_rule! {
    /// ## What it does
    /// Finds init and regular containers without `resources.requests.memory`
    /// (nor `resources.limits.memory`, from which Kubernetes defaults the
    /// request).
    ///
    /// ## Why is this bad?
    /// The scheduler only reserves the memory a pod requests. Without a
    /// request, pods are packed onto nodes that cannot hold them, and under
    /// memory pressure the kubelet evicts pods that use more than they
    /// requested first, so this container is among the first to go.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: app
    ///     resources:
    ///       requests: {cpu: 250m}
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    ///     resources:
    ///       requests: {cpu: 250m, memory: 256Mi}
    ///       limits: {memory: 512Mi}
    /// ```
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Resource policies
    pub struct MemoryRequestMissing {
        code: "K8S033",
        name: "memory-request-missing",
        title: "Container has no memory request",
        severity: Low,
        references: [Nsa("Resource policies")],
        fix: "Set `resources.requests.memory` on the container to its normal working set.",
    }
}

impl Rule for MemoryRequestMissing {
    fn check(&self, cx: &mut Cx<'_>) {
        report_missing_resource(cx, "requests", "memory", "memory request");
    }
}
