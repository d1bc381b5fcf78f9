use super::{Perm, RiskCx, RiskRule};

declare_rule! {
    /// ## What it does
    /// Finds subjects that can create, change or delete admission
/// policies: ValidatingAdmissionPolicies and their bindings, Gatekeeper
/// ConstraintTemplates, Kyverno (Cluster)Policies.
    ///
    /// ## Why is this bad?
    /// These policies are the guardrails that stop privileged pods and
/// unsigned images. Whoever can edit them can switch them off before
/// deploying what they forbid.
    ///
    /// ## Example
    /// ```yaml
    /// rules:
///   - apiGroups: ["kyverno.io"]
///     resources: ["clusterpolicies"]
///     verbs: ["*"]
    /// ```
    ///
    /// ## Fix
    /// Restrict policy management to the platform team's GitOps identity.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Control plane hardening
    pub struct ModifyPolicyEngines {
        code: "RBAC020",
        name: "modify-policy-engines",
        title: "Subject can change admission policies",
        severity: Medium,
        scanner: Rbac,
        references: [Nsa("Control plane hardening")],
        fix: "Manage admission policies through reviewed changes applied by the platform identity.",
    }
}

const PERMS: &[Perm] = &[
    Perm::new(
        "create",
        "admissionregistration.k8s.io",
        "validatingadmissionpolicies",
    ),
    Perm::new(
        "update",
        "admissionregistration.k8s.io",
        "validatingadmissionpolicies",
    ),
    Perm::new(
        "patch",
        "admissionregistration.k8s.io",
        "validatingadmissionpolicies",
    ),
    Perm::new(
        "delete",
        "admissionregistration.k8s.io",
        "validatingadmissionpolicies",
    ),
    Perm::new(
        "create",
        "admissionregistration.k8s.io",
        "validatingadmissionpolicybindings",
    ),
    Perm::new(
        "update",
        "admissionregistration.k8s.io",
        "validatingadmissionpolicybindings",
    ),
    Perm::new(
        "patch",
        "admissionregistration.k8s.io",
        "validatingadmissionpolicybindings",
    ),
    Perm::new(
        "delete",
        "admissionregistration.k8s.io",
        "validatingadmissionpolicybindings",
    ),
    Perm::new("create", "templates.gatekeeper.sh", "constrainttemplates"),
    Perm::new("update", "templates.gatekeeper.sh", "constrainttemplates"),
    Perm::new("patch", "templates.gatekeeper.sh", "constrainttemplates"),
    Perm::new("delete", "templates.gatekeeper.sh", "constrainttemplates"),
    Perm::new("create", "kyverno.io", "clusterpolicies"),
    Perm::new("update", "kyverno.io", "clusterpolicies"),
    Perm::new("patch", "kyverno.io", "clusterpolicies"),
    Perm::new("delete", "kyverno.io", "clusterpolicies"),
    Perm::new("create", "kyverno.io", "policies"),
    Perm::new("update", "kyverno.io", "policies"),
    Perm::new("patch", "kyverno.io", "policies"),
    Perm::new("delete", "kyverno.io", "policies"),
];

impl RiskRule for ModifyPolicyEngines {
    fn check(&self, cx: &mut RiskCx<'_>) {
        let grants = cx.allowing_any(PERMS);
        if !grants.is_empty() {
            cx.report(&grants, "change admission policies (ValidatingAdmissionPolicies, Gatekeeper templates, Kyverno policies)");
        }
    }
}
