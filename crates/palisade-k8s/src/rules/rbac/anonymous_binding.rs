use crate::rules::rbac::{binding_subjects, role_ref};
use crate::rules::{Cx, Rule};

declare_rule! {
    /// ## What it does
    /// Finds RoleBindings and ClusterRoleBindings whose subjects include the
    /// user `system:anonymous`, the group `system:unauthenticated` or the
    /// group `system:authenticated`. Bindings of the default discovery roles
    /// (`system:public-info-viewer`, `system:discovery`, `system:basic-user`)
    /// are left alone.
    ///
    /// ## Why is this bad?
    /// `system:anonymous` and `system:unauthenticated` are anyone who can
    /// reach the API server, with no credentials at all; on a cloud
    /// endpoint that is the internet. `system:authenticated` is everyone
    /// with any valid credential — every service account token of every
    /// pod, and on some managed clusters any account of the cloud
    /// provider. Whatever the role grants, it grants it to all of them.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: rbac.authorization.k8s.io/v1
    /// kind: ClusterRoleBinding
    /// metadata: {name: view-all}
    /// roleRef:
    ///   apiGroup: rbac.authorization.k8s.io
    ///   kind: ClusterRole
    ///   name: view
    /// subjects:
    ///   - kind: Group
    ///     apiGroup: rbac.authorization.k8s.io
    ///     name: system:authenticated
    /// ```
    ///
    /// ## Fix
    /// Bind the role to the specific users, groups or service accounts that
    /// need it:
    /// ```yaml
    /// subjects:
    ///   - kind: Group
    ///     apiGroup: rbac.authorization.k8s.io
    ///     name: shop-developers
    /// ```
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Authentication and authorization — Role-based access control
    /// - CWE-284: Improper Access Control
    /// - https://kubernetes.io/docs/reference/access-authn-authz/rbac/#discovery-roles
    pub struct AnonymousBinding {
        code: "K8S058",
        name: "rbac-anonymous-binding",
        title: "Binding grants a role to anonymous or all authenticated users",
        severity: Critical,
        references: [
            Nsa("Role-based access control"),
            Cwe("CWE-284"),
            Url("https://kubernetes.io/docs/reference/access-authn-authz/rbac/#discovery-roles"),
        ],
        fix: "Replace `system:anonymous`, `system:unauthenticated` and `system:authenticated` with the specific subjects that need the role.",
    }
}

/// Roles the API server binds to these groups by default.
const BOOTSTRAP_ROLES: &[&str] = &[
    "system:public-info-viewer",
    "system:discovery",
    "system:basic-user",
];

impl Rule for AnonymousBinding {
    fn check(&self, cx: &mut Cx<'_>) {
        let Some((role_kind, role_name)) = role_ref(cx.obj) else {
            return;
        };
        if role_kind == "ClusterRole" && BOOTSTRAP_ROLES.contains(&role_name) {
            return;
        }
        for s in binding_subjects(cx.obj) {
            let who = if s.is("User", "system:anonymous") {
                "anonymous requests"
            } else if s.is("Group", "system:unauthenticated") {
                "every unauthenticated request"
            } else if s.is("Group", "system:authenticated") {
                "every authenticated user and service account"
            } else {
                continue;
            };
            let message = format!(
                "{} grants {role_kind} {role_name} to {} ({who})",
                cx.describe(),
                s.describe()
            );
            cx.report(cx.at_item(&["subjects"], s.index, &["name"]), message);
        }
    }
}
