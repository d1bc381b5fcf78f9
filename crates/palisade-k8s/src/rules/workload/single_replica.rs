use crate::rules::{Cx, Rule};

declare_rule! {
    /// ## What it does
    /// Finds Deployments and StatefulSets that run fewer replicas than
    /// `settings.min-replicas` (default 2). A missing `spec.replicas` means
    /// one; `replicas: 0` (scaled down on purpose) is left alone.
    ///
    /// ## Why is this bad?
    /// With one replica, every node drain, eviction, crash or rollout of a
    /// StatefulSet is an outage: there is no other pod to take the traffic
    /// while the only one is rescheduled and starts up.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata: {name: api, namespace: shop}
    /// spec:
    ///   replicas: 1
    /// ```
    ///
    /// ## Fix
    /// Run at least two replicas, spread over nodes (pod anti-affinity or
    /// topology spread constraints), with a PodDisruptionBudget:
    /// ```yaml
    /// spec:
    ///   replicas: 3
    /// ```
    /// Workloads scaled by a HorizontalPodAutoscaler should set its
    /// `minReplicas` to 2 or more instead.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Resource policies
    /// - https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#replicas
    pub struct SingleReplica {
        code: "K8S067",
        name: "single-replica",
        title: "Workload runs a single replica",
        severity: Low,
        references: [
            Nsa("Resource policies"),
            Url("https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#replicas"),
        ],
        fix: "Set `spec.replicas` to at least 2 (or the HorizontalPodAutoscaler's `minReplicas`).",
    }
}

impl Rule for SingleReplica {
    fn check(&self, cx: &mut Cx<'_>) {
        if !matches!(cx.obj.kind.as_str(), "Deployment" | "StatefulSet") || cx.pod().is_none() {
            return;
        }
        let set = cx
            .obj
            .root
            .path(&["spec", "replicas"])
            .filter(|n| !n.is_null());
        let replicas = match set {
            None => 1,
            Some(n) => match n.as_i64() {
                Some(r) => r,
                None => return,
            },
        };
        let min = cx.settings.min_replicas;
        if replicas <= 0 || replicas >= min {
            return;
        }
        let message = format!(
            "{} runs {replicas} replica{}{}, fewer than {min}: any eviction or node failure is an outage",
            cx.describe(),
            if replicas == 1 { "" } else { "s" },
            if set.is_none() {
                " (spec.replicas is unset)"
            } else {
                ""
            }
        );
        cx.report(cx.at(&["spec", "replicas"]), message);
    }
}
