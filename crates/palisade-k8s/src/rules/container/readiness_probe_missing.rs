use super::report_missing_probe;
use crate::rules::{Cx, Rule};

declare_rule! {
    /// ## What it does
    /// Finds regular containers (not init or ephemeral containers) without a
    /// `readinessProbe`. Jobs and CronJobs are skipped.
    ///
    /// ## Why is this bad?
    /// Without a readiness probe a pod receives Service traffic as soon as
    /// its containers start, before the application can answer, and keeps
    /// receiving it while it is overloaded or has lost a dependency. Every
    /// rollout and restart then drops requests, and rolling updates cannot
    /// tell a broken new version from a working one.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: api
    ///     image: registry.example.com/api:2.0.1
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    ///     readinessProbe:
    ///       httpGet: {path: /readyz, port: 8080}
    ///       periodSeconds: 5
    /// ```
    ///
    /// ## References
    /// - Kubernetes documentation: Configure Liveness, Readiness and Startup Probes
    pub struct ReadinessProbeMissing {
        code: "K8S039",
        name: "readiness-probe-missing",
        title: "Container has no readiness probe",
        severity: Low,
        references: [Url("https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/")],
        fix: "Add a `readinessProbe` that succeeds only when the container can serve traffic.",
    }
}

impl Rule for ReadinessProbeMissing {
    fn check(&self, cx: &mut Cx<'_>) {
        report_missing_probe(cx, "readinessProbe", "readiness probe");
    }
}
