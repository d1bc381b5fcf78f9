use crate::rules::{Cx, Rule};
use crate::selector::{LabelSelector, labels_of};

declare_rule! {
    /// ## What it does
    /// Finds Deployments, StatefulSets, DaemonSets and ReplicaSets (and Jobs
    /// with an explicit selector) whose `spec.selector` does not match the
    /// labels of their own pod template.
    ///
    /// ## Why is this bad?
    /// A controller manages the pods its selector matches. If the template's
    /// pods do not match, the API server rejects the object (`selector does
    /// not match template labels`), so the rollout fails; for a Job with
    /// `manualSelector`, the controller loses track of its pods, or adopts
    /// someone else's.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Deployment
    /// spec:
    ///   selector:
    ///     matchLabels: {app: api}
    ///   template:
    ///     metadata:
    ///       labels: {app: api-v2}
    /// ```
    ///
    /// ## Fix
    /// Make the template carry every label the selector requires:
    /// ```yaml
    ///   template:
    ///     metadata:
    ///       labels: {app: api, version: v2}
    /// ```
    ///
    /// ## References
    /// - https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#selector
    pub struct SelectorMismatch {
        code: "K8S071",
        name: "selector-mismatch",
        title: "Selector does not match the pod template labels",
        severity: Medium,
        references: [Url("https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#selector")],
        fix: "Add the labels the selector requires to the pod template's `metadata.labels`.",
    }
}

impl Rule for SelectorMismatch {
    fn check(&self, cx: &mut Cx<'_>) {
        if !matches!(
            cx.obj.kind.as_str(),
            "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job"
        ) {
            return;
        }
        let Some(pod) = cx.pod() else { return };
        let Some(selector) = cx
            .obj
            .root
            .path(&["spec", "selector"])
            .filter(|n| !n.is_null())
        else {
            return;
        };
        let labels = labels_of(pod.metadata.and_then(|m| m.get("labels")));
        if LabelSelector::parse(Some(selector)).matches(&labels) {
            return;
        }
        let shown = if labels.is_empty() {
            "none".to_string()
        } else {
            labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let message = format!(
            "the selector of {} does not match its pod template labels ({shown})",
            cx.describe()
        );
        cx.report(cx.at(&["spec", "selector"]), message);
    }
}
