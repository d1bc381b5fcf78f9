use crate::rules::{Cx, Rule};
use crate::yaml::Node;

declare_rule! {
    /// ## What it does
    /// Finds PodDisruptionBudgets that allow no voluntary disruption at all:
    /// `maxUnavailable: 0` (or `"0%"`) or `minAvailable: "100%"`.
    ///
    /// ## Why is this bad?
    /// `kubectl drain`, cluster upgrades and the cluster autoscaler evict
    /// pods through the eviction API, which refuses every eviction such a
    /// budget covers. Drains hang until someone deletes the budget by hand,
    /// node upgrades and security patches stall, and scale-down never
    /// happens.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: policy/v1
    /// kind: PodDisruptionBudget
    /// metadata: {name: api, namespace: shop}
    /// spec:
    ///   maxUnavailable: 0
    ///   selector:
    ///     matchLabels: {app: api}
    /// ```
    ///
    /// ## Fix
    /// Allow at least one pod to be disrupted, and run enough replicas that
    /// losing one is harmless:
    /// ```yaml
    /// spec:
    ///   maxUnavailable: 1
    /// ```
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Upgrading and application security practices
    /// - https://kubernetes.io/docs/tasks/run-application/configure-pdb/#think-about-how-your-application-reacts-to-disruptions
    pub struct PdbBlocksEviction {
        code: "K8S069",
        name: "pdb-blocks-eviction",
        title: "PodDisruptionBudget blocks all evictions",
        severity: Low,
        references: [
            Nsa("Upgrading and application security practices"),
            Url("https://kubernetes.io/docs/tasks/run-application/configure-pdb/#think-about-how-your-application-reacts-to-disruptions"),
        ],
        fix: "Set `maxUnavailable` to at least 1 (or `minAvailable` below 100%).",
    }
}

/// `0`, `"0"` or `"0%"`.
fn is_zero(n: &Node) -> bool {
    n.as_i64() == Some(0)
        || n.as_str()
            .and_then(|s| s.trim().strip_suffix('%'))
            .is_some_and(|p| p.trim().parse::<f64>().ok() == Some(0.0))
}

/// `"100%"`.
fn is_all(n: &Node) -> bool {
    n.as_str()
        .and_then(|s| s.trim().strip_suffix('%'))
        .is_some_and(|p| p.trim().parse::<f64>().is_ok_and(|v| v >= 100.0))
}

impl Rule for PdbBlocksEviction {
    fn check(&self, cx: &mut Cx<'_>) {
        if cx.obj.group() != "policy" || cx.obj.kind != "PodDisruptionBudget" {
            return;
        }
        let spec = cx.obj.root.get("spec");
        let (field, value) = if let Some(n) = spec
            .and_then(|s| s.get("maxUnavailable"))
            .filter(|n| is_zero(n))
        {
            ("maxUnavailable", n)
        } else if let Some(n) = spec
            .and_then(|s| s.get("minAvailable"))
            .filter(|n| is_all(n))
        {
            ("minAvailable", n)
        } else {
            return;
        };
        let shown = value.as_str().unwrap_or_default();
        let message = format!(
            "{} allows no voluntary disruption ({field}: {shown}); node drains and upgrades hang on its pods",
            cx.describe()
        );
        cx.report(cx.at(&["spec", field]), message);
    }
}
