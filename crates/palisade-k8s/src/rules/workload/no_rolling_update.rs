use crate::rules::{Cx, Rule};
use crate::yaml::Node;

declare_rule! {
    /// ## What it does
    /// Finds Deployments using the `Recreate` strategy, and DaemonSets and
    /// StatefulSets using the `OnDelete` update strategy.
    ///
    /// ## Why is this bad?
    /// `Recreate` stops every pod before starting any new one, so each
    /// rollout — including an urgent security patch — is an outage.
    /// `OnDelete` never replaces running pods at all: a new image or config
    /// reaches a pod only when someone deletes it, so patched manifests can
    /// sit unapplied on most nodes for months.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Deployment
    /// spec:
    ///   strategy:
    ///     type: Recreate
    /// ```
    ///
    /// ## Fix
    /// Use rolling updates:
    /// ```yaml
    /// spec:
    ///   strategy:
    ///     type: RollingUpdate
    ///     rollingUpdate: {maxUnavailable: 0, maxSurge: 1}
    /// ```
    /// Keep `Recreate` only where two versions must never run at once (for
    /// example a single-writer volume), and say so in a suppression.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Upgrading and application security practices
    /// - https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#strategy
    pub struct NoRollingUpdate {
        code: "K8S077",
        name: "no-rolling-update",
        title: "Workload does not use rolling updates",
        severity: Low,
        references: [
            Nsa("Upgrading and application security practices"),
            Url("https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#strategy"),
        ],
        fix: "Set the update strategy type to `RollingUpdate`.",
    }
}

impl Rule for NoRollingUpdate {
    fn check(&self, cx: &mut Cx<'_>) {
        let (field, bad) = match cx.obj.kind.as_str() {
            "Deployment" => ("strategy", "Recreate"),
            "DaemonSet" | "StatefulSet" => ("updateStrategy", "OnDelete"),
            _ => return,
        };
        let value = cx
            .obj
            .root
            .path(&["spec", field, "type"])
            .and_then(Node::as_str);
        if value != Some(bad) {
            return;
        }
        let effect = if bad == "Recreate" {
            "every rollout stops all pods before starting new ones"
        } else {
            "running pods get a new version only when someone deletes them"
        };
        let message = format!("{} uses the {bad} update strategy: {effect}", cx.describe());
        cx.report(cx.at(&["spec", field, "type"]), message);
    }
}
