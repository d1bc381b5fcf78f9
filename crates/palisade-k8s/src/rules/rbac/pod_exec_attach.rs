use crate::rules::rbac::policy_rules;
use crate::rules::{Cx, Rule};

declare_rule! {
    /// ## What it does
    /// Finds Roles and ClusterRoles that grant `create` or `get` on
    /// `pods/exec` or `pods/attach`.
    ///
    /// ## Why is this bad?
    /// Exec and attach run commands in, or take over the terminal of, any
    /// container the subject can reach: every Secret, token and file the
    /// container holds becomes theirs, and a privileged container hands
    /// them the node. `get` is enough: exec over WebSocket is an HTTP GET,
    /// and API servers before 1.35 authorize it as `get` on `pods/exec`, so
    /// a "read-only" role that includes subresources grants a shell.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: rbac.authorization.k8s.io/v1
    /// kind: Role
    /// metadata: {name: support, namespace: shop}
    /// rules:
    ///   - apiGroups: [""]
    ///     resources: ["pods", "pods/log", "pods/exec"]
    ///     verbs: ["get", "list"]
    /// ```
    ///
    /// ## Fix
    /// Remove `pods/exec` and `pods/attach`; grant them only to break-glass
    /// roles, bound for a limited time and audited:
    /// ```yaml
    /// rules:
    ///   - apiGroups: [""]
    ///     resources: ["pods", "pods/log"]
    ///     verbs: ["get", "list"]
    /// ```
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Authentication and authorization — Role-based access control
    /// - CWE-269: Improper Privilege Management
    /// - https://github.com/kubernetes/kubernetes/issues/78741
    pub struct PodExecAttach {
        code: "K8S052",
        name: "rbac-pod-exec-attach",
        title: "Role can exec into or attach to pods",
        severity: High,
        references: [
            Nsa("Role-based access control"),
            Cwe("CWE-269"),
            Url("https://github.com/kubernetes/kubernetes/issues/78741"),
        ],
        fix: "Remove `pods/exec` and `pods/attach` from the role; grant them only to audited break-glass roles.",
    }
}

impl Rule for PodExecAttach {
    fn check(&self, cx: &mut Cx<'_>) {
        for rule in policy_rules(cx.obj) {
            let Some(granted) = rule.granted(
                &["create", "get"],
                &[("", "pods/exec"), ("", "pods/attach")],
            ) else {
                continue;
            };
            let note = if granted.verbs.contains(&"create") {
                ""
            } else {
                " (get is enough for exec over WebSocket on API servers before 1.35)"
            };
            let message = format!(
                "{} grants {}{}: its holders can run commands in the pods' containers{note}",
                cx.describe(),
                granted.describe(),
                rule.names_note()
            );
            cx.report(cx.at_item(&["rules"], rule.index, &["resources"]), message);
        }
    }
}
