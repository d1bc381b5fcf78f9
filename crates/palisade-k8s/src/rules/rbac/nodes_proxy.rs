use crate::rules::rbac::{is_cluster_role, policy_rules};
use crate::rules::{Cx, Rule};

declare_rule! {
    /// ## What it does
    /// Finds ClusterRoles that grant `get` or `create` on `nodes/proxy`.
    ///
    /// ## Why is this bad?
    /// `nodes/proxy` opens the kubelet API of every node through the API
    /// server. Besides metrics, that API runs commands in any container on
    /// the node (`/exec`, `/run`) — reached over WebSocket with a plain
    /// `get` — and such requests bypass admission control and leave only a
    /// proxy entry in the audit log. Monitoring agents that hold it are a
    /// path from a scraped metrics endpoint to every node.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: rbac.authorization.k8s.io/v1
    /// kind: ClusterRole
    /// metadata: {name: metrics-scraper}
    /// rules:
    ///   - apiGroups: [""]
    ///     resources: ["nodes", "nodes/proxy", "nodes/metrics"]
    ///     verbs: ["get", "list", "watch"]
    /// ```
    ///
    /// ## Fix
    /// Grant the specific subresources the agent reads instead:
    /// ```yaml
    ///   - apiGroups: [""]
    ///     resources: ["nodes", "nodes/metrics", "nodes/stats"]
    ///     verbs: ["get", "list", "watch"]
    /// ```
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.1.10: Minimize access to the proxy sub-resource of nodes
    /// - NSA/CISA Kubernetes Hardening Guide: Authentication and authorization — Role-based access control
    /// - CWE-269: Improper Privilege Management
    /// - https://kubernetes.io/docs/concepts/security/rbac-good-practices/#access-to-proxy-subresource-of-nodes
    pub struct NodesProxy {
        code: "K8S057",
        name: "rbac-nodes-proxy",
        title: "Role can proxy to the kubelet API",
        severity: High,
        references: [
            Cis("5.1.10"),
            Nsa("Role-based access control"),
            Cwe("CWE-269"),
            Url("https://kubernetes.io/docs/concepts/security/rbac-good-practices/#access-to-proxy-subresource-of-nodes"),
        ],
        fix: "Replace `nodes/proxy` with the specific node subresources needed, such as `nodes/metrics` and `nodes/stats`.",
    }
}

impl Rule for NodesProxy {
    fn check(&self, cx: &mut Cx<'_>) {
        // Nodes are cluster-scoped: a Role cannot grant them.
        if !is_cluster_role(cx.obj) {
            return;
        }
        for rule in policy_rules(cx.obj) {
            let Some(granted) = rule.granted(&["get", "create"], &[("", "nodes/proxy")]) else {
                continue;
            };
            let message = format!(
                "{} grants {}{}: its holders reach the kubelet API, which runs commands in any container on the node",
                cx.describe(),
                granted.describe(),
                rule.names_note()
            );
            cx.report(cx.at_item(&["rules"], rule.index, &["resources"]), message);
        }
    }
}
