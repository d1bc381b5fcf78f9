use crate::rules::{Cx, Rule};

declare_rule! {
    /// ## What it does
    /// Finds workloads whose `metadata.labels` lack one of the labels listed
    /// in `settings.required-labels` (by default `app.kubernetes.io/name`).
    /// Opt-in: enable it once the list matches your conventions.
    ///
    /// ## Why is this bad?
    /// Labels are how people and tools find a workload's owner, its
    /// application and its cost centre. During an incident, an unlabelled
    /// Deployment in a shared cluster is a question nobody can answer
    /// quickly; policies, NetworkPolicies and dashboards keyed on labels
    /// silently skip it.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Deployment
    /// metadata:
    ///   name: api
    ///   labels: {tier: backend}
    /// ```
    ///
    /// ## Fix
    /// Add the required labels:
    /// ```yaml
    /// metadata:
    ///   name: api
    ///   labels:
    ///     app.kubernetes.io/name: api
    ///     tier: backend
    /// ```
    ///
    /// ## References
    /// - https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/
    pub struct MissingRequiredLabels {
        code: "K8S078",
        name: "missing-required-labels",
        title: "Workload lacks a required label",
        severity: Low,
        references: [Url("https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/")],
        fix: "Add the labels listed in `settings.required-labels` to the workload's metadata.",
    }
}

impl Rule for MissingRequiredLabels {
    fn enabled_by_default(&self) -> bool {
        false
    }

    fn check(&self, cx: &mut Cx<'_>) {
        if cx.pod().is_none() {
            return;
        }
        let labels = cx.obj.metadata().and_then(|m| m.get("labels"));
        for label in &cx.settings.required_labels {
            if labels.is_some_and(|l| l.has(label)) {
                continue;
            }
            let message = format!("{} has no `{label}` label", cx.describe());
            cx.report(cx.at(&["metadata", "labels", label]), message);
        }
    }
}
