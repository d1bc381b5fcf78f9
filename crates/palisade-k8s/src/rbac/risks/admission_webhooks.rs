use super::{Perm, RiskCx, RiskRule};

declare_rule! {
    /// ## What it does
    /// Finds subjects that can create, change or delete validating or
/// mutating webhook configurations.
    ///
    /// ## Why is this bad?
    /// A mutating webhook sees and can rewrite every object sent to the
/// API server — Secrets included — and deleting a validating webhook
/// switches off the guardrails (Palisade's own admission webhook among
/// them).
    ///
    /// ## Example
    /// ```yaml
    /// rules:
///   - apiGroups: ["admissionregistration.k8s.io"]
///     resources: ["mutatingwebhookconfigurations"]
///     verbs: ["create", "update", "patch", "delete"]
    /// ```
    ///
    /// ## Fix
    /// Only the platform's installer identity should manage webhook
/// configurations.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.1.12: Minimize access to webhook configuration objects
    /// - NSA/CISA Kubernetes Hardening Guide: Control plane hardening
    pub struct AdmissionWebhooks {
        code: "RBAC014",
        name: "admission-webhooks",
        title: "Subject can change admission webhook configuration",
        severity: High,
        scanner: Rbac,
        references: [Cis("5.1.12"), Nsa("Control plane hardening")],
        fix: "Limit webhook configuration changes to the cluster's platform administrators.",
    }
}

const PERMS: &[Perm] = &[
    Perm::new(
        "create",
        "admissionregistration.k8s.io",
        "validatingwebhookconfigurations",
    ),
    Perm::new(
        "update",
        "admissionregistration.k8s.io",
        "validatingwebhookconfigurations",
    ),
    Perm::new(
        "patch",
        "admissionregistration.k8s.io",
        "validatingwebhookconfigurations",
    ),
    Perm::new(
        "delete",
        "admissionregistration.k8s.io",
        "validatingwebhookconfigurations",
    ),
    Perm::new(
        "create",
        "admissionregistration.k8s.io",
        "mutatingwebhookconfigurations",
    ),
    Perm::new(
        "update",
        "admissionregistration.k8s.io",
        "mutatingwebhookconfigurations",
    ),
    Perm::new(
        "patch",
        "admissionregistration.k8s.io",
        "mutatingwebhookconfigurations",
    ),
    Perm::new(
        "delete",
        "admissionregistration.k8s.io",
        "mutatingwebhookconfigurations",
    ),
];

impl RiskRule for AdmissionWebhooks {
    fn check(&self, cx: &mut RiskCx<'_>) {
        let grants = cx.allowing_any(PERMS);
        if !grants.is_empty() {
            cx.report(&grants, "change admission webhook configurations");
        }
    }
}
