use super::is_control_plane_static_pod;
use crate::rules::{Cx, Rule};

declare_rule! {
    /// ## What it does
    /// Finds bare Pods: objects of kind `Pod` without
    /// `metadata.ownerReferences`, so no controller (Deployment, StatefulSet,
    /// DaemonSet, Job) manages them. kubeadm's control-plane static pods are
    /// not reported.
    ///
    /// ## Why is this bad?
    /// Nothing recreates a bare Pod when its node fails, is drained or is
    /// upgraded, so the application silently disappears. It cannot be
    /// rolled out or rolled back, scaled, or covered by the controller-level
    /// policies (PodDisruptionBudgets with rollouts, revision history) that
    /// the rest of the cluster relies on. Bare pods are also a common
    /// leftover of manual debugging, holding privileges nobody reviews.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: v1
    /// kind: Pod
    /// metadata:
    ///   name: api
    /// spec:
    ///   containers:
    ///     - name: api
    ///       image: registry.example.com/api:2.0.1
    /// ```
    ///
    /// ## Fix
    /// Wrap the pod in a controller:
    /// ```yaml
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata:
    ///   name: api
    /// spec:
    ///   selector:
    ///     matchLabels: {app: api}
    ///   template:
    ///     metadata:
    ///       labels: {app: api}
    ///     spec:
    ///       containers:
    ///         - name: api
    ///           image: registry.example.com/api:2.0.1
    /// ```
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Pod security
    /// - Kubernetes documentation: Configuration best practices — "Naked" Pods
    pub struct NakedPod {
        code: "K8S048",
        name: "naked-pod",
        title: "Pod is not managed by a controller",
        severity: Low,
        references: [
            Nsa("Pod security"),
            Url("https://kubernetes.io/docs/concepts/configuration/overview/#naked-pods-vs-replicasets-deployments-and-jobs"),
        ],
        fix: "Run the pod through a Deployment, StatefulSet, DaemonSet or Job instead of a bare Pod.",
    }
}

impl Rule for NakedPod {
    fn check(&self, cx: &mut Cx<'_>) {
        if cx.obj.kind != "Pod" || cx.obj.api_version != "v1" || is_control_plane_static_pod(cx.obj)
        {
            return;
        }
        let owned = cx
            .obj
            .metadata()
            .and_then(|m| m.get("ownerReferences"))
            .is_some_and(|o| !o.items().is_empty());
        if !owned {
            let message = format!(
                "{} is a bare Pod: no controller recreates it or rolls it out",
                cx.describe()
            );
            cx.report(cx.at_object(), message);
        }
    }
}
