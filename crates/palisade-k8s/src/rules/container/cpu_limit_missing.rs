use super::report_missing_resource;
use crate::rules::{Cx, Rule};

declare_rule! {
    /// ## What it does
    /// Finds init and regular containers without `resources.limits.cpu`.
    ///
    /// ## Why is this bad?
    /// A container without a CPU limit can use every idle core of the node.
    /// A busy loop, a crypto-miner planted through a vulnerability or a
    /// traffic spike then slows down every other pod on the node and can
    /// starve node components. Limits cap the blast radius of one workload.
    /// (Some teams deliberately omit CPU limits to avoid throttling and rely
    /// on requests; if so, disable this rule for those workloads.)
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
    ///       limits: {cpu: "1", memory: 256Mi}
    /// ```
    /// A namespace LimitRange can set defaults for containers that omit it.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Resource policies
    pub struct CpuLimitMissing {
        code: "K8S030",
        name: "cpu-limit-missing",
        title: "Container has no CPU limit",
        severity: Low,
        references: [Nsa("Resource policies")],
        fix: "Set `resources.limits.cpu` on the container (or a default through a namespace LimitRange).",
    }
}

impl Rule for CpuLimitMissing {
    fn check(&self, cx: &mut Cx<'_>) {
        report_missing_resource(cx, "limits", "cpu", "CPU limit");
    }
}
