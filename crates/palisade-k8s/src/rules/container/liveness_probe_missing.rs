use super::report_missing_probe;
use crate::rules::{Cx, Rule};

declare_rule! {
    /// ## What it does
    /// Finds regular containers (not init or ephemeral containers) without a
    /// `livenessProbe`. Jobs and CronJobs are skipped.
    ///
    /// ## Why is this bad?
    /// Without a liveness probe the kubelet only restarts a container whose
    /// process exits. A deadlocked, wedged or resource-starved process that
    /// stays up keeps its pod "Running" and, without a readiness probe,
    /// keeps receiving traffic: the outage lasts until a human notices.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: api
    ///     image: registry.example.com/api:2.0.1
    /// ```
    ///
    /// ## Fix
    /// Probe a cheap endpoint that fails only when the process must be
    /// restarted (not when a dependency is down):
    /// ```yaml
    ///     livenessProbe:
    ///       httpGet: {path: /livez, port: 8080}
    ///       periodSeconds: 10
    ///       failureThreshold: 3
    /// ```
    ///
    /// ## References
    /// - Kubernetes documentation: Configure Liveness, Readiness and Startup Probes
    pub struct LivenessProbeMissing {
        code: "K8S038",
        name: "liveness-probe-missing",
        title: "Container has no liveness probe",
        severity: Low,
        references: [Url("https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/")],
        fix: "Add a `livenessProbe` that fails only when the process must be restarted.",
    }
}

impl Rule for LivenessProbeMissing {
    fn check(&self, cx: &mut Cx<'_>) {
        report_missing_probe(cx, "livenessProbe", "liveness probe");
    }
}
