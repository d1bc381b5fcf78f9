use crate::rules::rbac::{binding_subjects, role_ref};
use crate::rules::{Cx, Rule};

declare_rule! {
    /// ## What it does
    /// Finds RoleBindings and ClusterRoleBindings that grant the built-in
    /// `cluster-admin` ClusterRole. The bootstrap binding whose only subject
    /// is the group `system:masters` is left alone.
    ///
    /// ## Why is this bad?
    /// `cluster-admin` is every verb on every resource: whoever holds it can
    /// read every Secret, run privileged pods on any node and rewrite RBAC
    /// itself. A leaked token of a bound service account, or a compromised
    /// CI job bound to it, is a full cluster compromise. Bound through a
    /// RoleBinding it is still every permission within the namespace,
    /// including its Secrets and RBAC.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: rbac.authorization.k8s.io/v1
    /// kind: ClusterRoleBinding
    /// metadata: {name: ci-admin}
    /// roleRef:
    ///   apiGroup: rbac.authorization.k8s.io
    ///   kind: ClusterRole
    ///   name: cluster-admin
    /// subjects:
    ///   - kind: ServiceAccount
    ///     name: deployer
    ///     namespace: ci
    /// ```
    ///
    /// ## Fix
    /// Bind a role that lists only what the subject needs, in the namespaces
    /// where it needs it:
    /// ```yaml
    /// kind: RoleBinding
    /// metadata: {name: deployer, namespace: shop}
    /// roleRef:
    ///   apiGroup: rbac.authorization.k8s.io
    ///   kind: Role
    ///   name: deployer
    /// ```
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.1.1: Ensure that the cluster-admin role is only used where required
    /// - NSA/CISA Kubernetes Hardening Guide: Authentication and authorization — Role-based access control
    /// - CWE-269: Improper Privilege Management
    pub struct ClusterAdminBinding {
        code: "K8S049",
        name: "rbac-cluster-admin-binding",
        title: "Binding grants cluster-admin",
        severity: High,
        references: [Cis("5.1.1"), Nsa("Role-based access control"), Cwe("CWE-269")],
        fix: "Bind a least-privilege Role instead of `cluster-admin`.",
    }
}

impl Rule for ClusterAdminBinding {
    fn check(&self, cx: &mut Cx<'_>) {
        if role_ref(cx.obj) != Some(("ClusterRole", "cluster-admin")) {
            return;
        }
        let subjects = binding_subjects(cx.obj);
        if let [only] = subjects.as_slice()
            && only.is("Group", "system:masters")
        {
            return;
        }
        if subjects.is_empty() {
            return;
        }
        let who: Vec<String> = subjects.iter().map(|s| s.describe()).collect();
        let scope = match (cx.obj.kind.as_str(), cx.obj.namespace.as_deref()) {
            ("RoleBinding", Some(ns)) => format!(" within namespace {ns}"),
            ("RoleBinding", None) => " within its namespace".to_string(),
            _ => String::new(),
        };
        let message = format!(
            "{} grants cluster-admin{scope} to {}",
            cx.describe(),
            who.join(", ")
        );
        cx.report(cx.at(&["roleRef", "name"]), message);
    }
}
