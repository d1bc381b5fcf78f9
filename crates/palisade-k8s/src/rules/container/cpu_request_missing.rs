use super::report_missing_resource;
use crate::rules::{Cx, Rule};

declare_rule! {
    /// ## What it does
    /// Finds init and regular containers without `resources.requests.cpu`
    /// (nor `resources.limits.cpu`, from which Kubernetes defaults the
    /// request).
    ///
    /// ## Why is this bad?
    /// The scheduler places pods by their requests. A container without a
    /// CPU request counts as needing nothing: nodes get overcommitted, and
    /// under contention the container gets the smallest CPU share, so its
    /// latency collapses exactly when the node is busy. It also makes capacity
    /// planning and autoscaling on CPU utilisation meaningless.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: app
    ///     resources:
    ///       limits: {memory: 256Mi}
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    ///     resources:
    ///       requests: {cpu: 250m, memory: 256Mi}
    ///       limits: {memory: 256Mi}
    /// ```
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Resource policies
    pub struct CpuRequestMissing {
        code: "K8S031",
        name: "cpu-request-missing",
        title: "Container has no CPU request",
        severity: Low,
        references: [Nsa("Resource policies")],
        fix: "Set `resources.requests.cpu` on the container to what it uses under normal load.",
    }
}

impl Rule for CpuRequestMissing {
    fn check(&self, cx: &mut Cx<'_>) {
        report_missing_resource(cx, "requests", "cpu", "CPU request");
    }
}
