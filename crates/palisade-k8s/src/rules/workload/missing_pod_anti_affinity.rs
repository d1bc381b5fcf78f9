use crate::rules::{Cx, Rule};
use crate::yaml::Node;

declare_rule! {
    /// ## What it does
    /// Finds Deployments and StatefulSets with two or more replicas whose
    /// pod template has neither `affinity.podAntiAffinity` nor
    /// `topologySpreadConstraints`.
    ///
    /// ## Why is this bad?
    /// Nothing stops the scheduler from putting every replica on the same
    /// node (or in the same zone). Then one node failure, or one drain, takes
    /// all of them down together, and the extra replicas buy no
    /// availability.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Deployment
    /// spec:
    ///   replicas: 3
    ///   template:
    ///     spec:
    ///       containers:
    ///         - name: api
    ///           image: registry.example.com/api:2.1.0
    /// ```
    ///
    /// ## Fix
    /// Spread the replicas over nodes (and zones):
    /// ```yaml
    ///     spec:
    ///       topologySpreadConstraints:
    ///         - maxSkew: 1
    ///           topologyKey: kubernetes.io/hostname
    ///           whenUnsatisfiable: ScheduleAnyway
    ///           labelSelector:
    ///             matchLabels: {app: api}
    /// ```
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Resource policies
    /// - https://kubernetes.io/docs/concepts/scheduling-eviction/topology-spread-constraints/
    pub struct MissingPodAntiAffinity {
        code: "K8S070",
        name: "missing-pod-anti-affinity",
        title: "Replicas may all run on one node",
        severity: Low,
        references: [
            Nsa("Resource policies"),
            Url("https://kubernetes.io/docs/concepts/scheduling-eviction/topology-spread-constraints/"),
        ],
        fix: "Add `topologySpreadConstraints` or a `podAntiAffinity` on `kubernetes.io/hostname` to the pod template.",
    }
}

impl Rule for MissingPodAntiAffinity {
    fn check(&self, cx: &mut Cx<'_>) {
        if !matches!(cx.obj.kind.as_str(), "Deployment" | "StatefulSet") {
            return;
        }
        let Some(pod) = cx.pod() else { return };
        let replicas = match cx
            .obj
            .root
            .path(&["spec", "replicas"])
            .filter(|n| !n.is_null())
        {
            None => 1,
            Some(n) => n.as_i64().unwrap_or(0),
        };
        if replicas < 2 {
            return;
        }
        let anti_affinity = pod
            .get("affinity")
            .and_then(|a| a.get("podAntiAffinity"))
            .is_some_and(|n| !n.entries().is_empty());
        let spread = pod
            .get("topologySpreadConstraints")
            .is_some_and(|n| !Node::items(n).is_empty());
        if anti_affinity || spread {
            return;
        }
        let message = format!(
            "the {replicas} replicas of {} have no pod anti-affinity or topology spread constraints; they may all land on one node",
            cx.describe()
        );
        cx.report(pod.at(&["affinity", "podAntiAffinity"]), message);
    }
}
