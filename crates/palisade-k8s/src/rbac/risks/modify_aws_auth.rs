use super::{Perm, RiskCx, RiskRule};

declare_rule! {
    /// ## What it does
    /// Finds subjects that can update or patch the `aws-auth` ConfigMap
/// in `kube-system` (all ConfigMaps there, or that one by name).
    ///
    /// ## Why is this bad?
    /// On EKS, `aws-auth` maps AWS IAM identities to Kubernetes users and
/// groups. Adding an IAM role mapped to `system:masters` makes any
/// holder of that role cluster-admin.
    ///
    /// ## Example
    /// ```yaml
    /// rules:
///   - apiGroups: [""]
///     resources: ["configmaps"]
///     verbs: ["update", "patch"]   # bound in kube-system
    /// ```
    ///
    /// ## Fix
    /// Grant ConfigMap writes in `kube-system` to nobody but cluster
/// administrators, or move to EKS access entries.
    ///
    /// ## References
    /// - Amazon EKS: Managing users or IAM roles for your cluster (aws-auth)
    pub struct ModifyAwsAuth {
        code: "RBAC021",
        name: "modify-aws-auth",
        title: "Subject can edit the EKS aws-auth ConfigMap",
        severity: High,
        scanner: Rbac,
        references: [Url("https://docs.aws.amazon.com/eks/latest/userguide/auth-configmap.html")],
        fix: "Restrict changes to `kube-system/aws-auth` to cluster administrators (or use EKS access entries).",
    }
}

const PERMS: &[Perm] = &[
    Perm::named("update", "", "configmaps", "aws-auth"),
    Perm::named("patch", "", "configmaps", "aws-auth"),
];

impl RiskRule for ModifyAwsAuth {
    fn check(&self, cx: &mut RiskCx<'_>) {
        let grants: Vec<_> = cx
            .allowing_any(PERMS)
            .into_iter()
            .filter(|(scope, _)| scope.is_empty() || scope == "kube-system")
            .collect();
        if !grants.is_empty() {
            cx.report(&grants, "edit the EKS aws-auth ConfigMap (maps IAM roles to cluster groups such as system:masters)");
        }
    }
}
