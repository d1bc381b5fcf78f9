use crate::rules::rbac::{is_cluster_role, policy_rules};
use crate::rules::{Cx, Rule};

declare_rule! {
    /// ## What it does
    /// Finds ClusterRoles that grant `create`, `update`, `patch` or `delete`
    /// on `validatingwebhookconfigurations` or
    /// `mutatingwebhookconfigurations`.
    ///
    /// ## Why is this bad?
    /// Admission webhooks see, and mutating webhooks may rewrite, every
    /// object sent to the API server — Secrets included. Whoever can
    /// register one can inject a sidecar or a privileged container into
    /// every new pod, or copy every Secret to their own server; whoever can
    /// delete or edit one can switch off the policy engine (Gatekeeper,
    /// Kyverno) that enforces pod security.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: rbac.authorization.k8s.io/v1
    /// kind: ClusterRole
    /// metadata: {name: cert-helper}
    /// rules:
    ///   - apiGroups: ["admissionregistration.k8s.io"]
    ///     resources: ["mutatingwebhookconfigurations"]
    ///     verbs: ["get", "list", "create", "patch"]
    /// ```
    ///
    /// ## Fix
    /// Leave webhook configurations to cluster administrators. A controller
    /// that only injects a CA bundle needs `get` and `patch` on its own
    /// configuration, named in `resourceNames`.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.1.12: Minimize access to webhook configuration objects
    /// - NSA/CISA Kubernetes Hardening Guide: Authentication and authorization — Role-based access control
    /// - CWE-269: Improper Privilege Management
    pub struct WebhookConfiguration {
        code: "K8S055",
        name: "rbac-webhook-configuration",
        title: "Role can modify admission webhook configurations",
        severity: High,
        references: [Cis("5.1.12"), Nsa("Role-based access control"), Cwe("CWE-269")],
        fix: "Remove write access to webhook configurations, or limit it to the named configuration the controller owns.",
    }
}

const ADMISSION: &str = "admissionregistration.k8s.io";

impl Rule for WebhookConfiguration {
    fn check(&self, cx: &mut Cx<'_>) {
        // Webhook configurations are cluster-scoped: a Role cannot grant them.
        if !is_cluster_role(cx.obj) {
            return;
        }
        for rule in policy_rules(cx.obj) {
            let Some(mut granted) = rule.granted(
                &["create", "update", "patch", "delete"],
                &[
                    (ADMISSION, "validatingwebhookconfigurations"),
                    (ADMISSION, "mutatingwebhookconfigurations"),
                ],
            ) else {
                continue;
            };
            // `create` cannot be limited by name.
            if !rule.resource_names.is_empty() {
                granted.verbs.retain(|v| *v != "create");
                if granted.verbs.is_empty() {
                    continue;
                }
            }
            let writes = granted.verbs.iter().any(|v| *v != "delete");
            let effect = if !writes {
                "its holders can remove admission checks"
            } else if granted.resources.contains(&"mutatingwebhookconfigurations") {
                "its holders can intercept and rewrite objects sent to the API server"
            } else {
                "its holders can intercept objects sent to the API server or switch policy checks off"
            };
            let message = format!(
                "{} grants {}{}: {effect}",
                cx.describe(),
                granted.describe(),
                rule.names_note()
            );
            cx.report(cx.at_item(&["rules"], rule.index, &["resources"]), message);
        }
    }
}
