use palisade_core::Finding;

use super::RiskRule;
use crate::rbac::policy::{Policy, Problem};
use crate::rules::Described;
use crate::workload::Loc;

declare_rule! {
    /// ## What it does
    /// Finds RoleBindings and ClusterRoleBindings whose `roleRef` names a
    /// role that is not among the scanned objects (or a ClusterRoleBinding
    /// referencing a namespaced Role, which the API server rejects).
    ///
    /// ## Why is this bad?
    /// The binding grants nothing today, but it is a loaded gun: whoever
    /// later creates a role with that name — including a Helm chart or
    /// operator installed for another purpose — silently grants it to the
    /// binding's subjects. It also usually means the manifests are
    /// incomplete or a rename went half-way.
    ///
    /// ## Example
    /// ```yaml
    /// kind: RoleBinding
    /// roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployer-v2}
    /// # no Role deployer-v2 in this namespace
    /// ```
    ///
    /// ## Fix
    /// Add the role, fix the name, or delete the binding. When the role
    /// lives elsewhere, scan it together. The Kubernetes bootstrap roles
    /// (`cluster-admin`, `admin`, `edit`, `view`, `system:*`) are built in
    /// and never missing.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Role-based access control
    pub struct BindingToMissingRole {
        code: "RBAC022",
        name: "binding-to-missing-role",
        title: "Binding references a role that does not exist",
        severity: Low,
        scanner: Rbac,
        references: [Nsa("Role-based access control")],
        fix: "Create the referenced role, correct the roleRef, or delete the binding.",
    }
}

impl RiskRule for BindingToMissingRole {
    fn check_policy(&self, policy: &Policy, out: &mut Vec<Finding>) {
        for p in &policy.problems {
            let Problem::MissingRole { binding } = p else {
                continue;
            };
            let Some(b) = policy.binding(*binding) else {
                continue;
            };
            // The bootstrap roles are built in (never missing); other
            // `system:` ClusterRoles come with the distribution (GKE, EKS…).
            let default = b.role_kind == crate::rbac::model::RoleKind::ClusterRole
                && b.role_name.starts_with("system:");
            if default && !(b.cluster && b.role_kind == crate::rbac::model::RoleKind::Role) {
                continue;
            }
            let message = if b.cluster && b.role_kind == crate::rbac::model::RoleKind::Role {
                format!(
                    "ClusterRoleBinding {} references Role {}: a ClusterRoleBinding can only reference a ClusterRole",
                    b.name, b.role_name
                )
            } else {
                format!(
                    "{} {} references {} {}, which is not among the scanned objects",
                    b.kind_str(),
                    if b.cluster {
                        b.name.clone()
                    } else {
                        format!("{}/{}", b.namespace, b.name)
                    },
                    b.role_kind.as_str(),
                    b.role_name
                )
            };
            let loc = Loc {
                span: b.role_ref_span,
                pointer: "/roleRef".into(),
                container: None,
            };
            out.push(b.origin.finding(self.meta(), loc, message));
        }
    }
}
