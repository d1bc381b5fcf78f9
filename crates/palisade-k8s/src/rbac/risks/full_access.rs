use palisade_core::Severity;

use super::{RiskCx, RiskRule};

declare_rule! {
    /// ## What it does
    /// Finds users, groups and service accounts that can do everything:
    /// every verb on every resource of every API group, through a
    /// ClusterRoleBinding (cluster-admin equivalent) or a RoleBinding
    /// (full control of a namespace).
    ///
    /// ## Why is this bad?
    /// Cluster-wide, this is the cluster: every Secret, every workload,
    /// the RBAC policy itself, and through privileged pods every node.
    /// Namespace-wide it still includes every Secret and service account
    /// token of the namespace. A compromised holder — a CI token, an
    /// operator's service account, a leaked kubeconfig — is a full breach.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: rbac.authorization.k8s.io/v1
    /// kind: ClusterRoleBinding
    /// metadata: {name: ci-admin}
    /// roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
    /// subjects:
    ///   - {kind: ServiceAccount, name: deployer, namespace: ci}
    /// ```
    ///
    /// ## Fix
    /// Bind a role listing only what the subject needs; derive it from
    /// audit logs with `palisade rbac minimize`. Keep cluster-admin for
    /// break-glass humans, not automation.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.1.1: Ensure that the cluster-admin role is only used where required
    /// - NSA/CISA Kubernetes Hardening Guide: Role-based access control
    /// - CWE-269: Improper Privilege Management
    pub struct FullAccess {
        code: "RBAC001",
        name: "full-access",
        title: "Subject can do everything (cluster-admin equivalent)",
        severity: Critical,
        scanner: Rbac,
        references: [Cis("5.1.1"), Nsa("Role-based access control"), Cwe("CWE-269")],
        fix: "Bind a role with only the verbs and resources the subject needs.",
    }
}

impl RiskRule for FullAccess {
    fn check(&self, cx: &mut RiskCx<'_>) {
        let full: Vec<_> = cx
            .grants
            .iter()
            .filter(|(_, g)| {
                cx.policy.rule(g.rule).is_some_and(|r| {
                    r.verbs.iter().any(|v| v == "*")
                        && r.resources.iter().any(|x| x == "*")
                        && r.api_groups.iter().any(|x| x == "*")
                        && r.resource_names.is_empty()
                })
            })
            .collect();
        if full.is_empty() {
            return;
        }
        let cluster_wide: Vec<_> = full.iter().copied().filter(|(s, _)| s.is_empty()).collect();
        if cluster_wide.is_empty() {
            cx.report_with(
                Severity::High,
                &full,
                "do everything (every verb on every resource)",
            );
        } else {
            cx.report(
                &cluster_wide,
                "do everything (every verb on every resource)",
            );
        }
    }
}
