use crate::rules::rbac::{is_cluster_role, policy_rules};
use crate::rules::{Cx, Rule};

declare_rule! {
    /// ## What it does
    /// Finds ClusterRoles that grant `update` or `patch` on
    /// `certificatesigningrequests/approval`, or `approve` on `signers`
    /// (`certificates.k8s.io`).
    ///
    /// ## Why is this bad?
    /// Approving a CertificateSigningRequest makes the cluster's CA sign
    /// it. With the `kubernetes.io/kube-apiserver-client` signer the
    /// approver can issue itself a client certificate for any user and any
    /// group — `system:masters` included — which the API server trusts
    /// until it expires and which no RBAC change can revoke.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: rbac.authorization.k8s.io/v1
    /// kind: ClusterRole
    /// metadata: {name: csr-approver}
    /// rules:
    ///   - apiGroups: ["certificates.k8s.io"]
    ///     resources: ["certificatesigningrequests/approval"]
    ///     verbs: ["update"]
    ///   - apiGroups: ["certificates.k8s.io"]
    ///     resources: ["signers"]
    ///     verbs: ["approve"]
    /// ```
    ///
    /// ## Fix
    /// Keep approval with the controller manager and administrators. A
    /// custom approver should be limited to its own signer:
    /// ```yaml
    ///   - apiGroups: ["certificates.k8s.io"]
    ///     resources: ["signers"]
    ///     resourceNames: ["example.com/my-signer"]
    ///     verbs: ["approve"]
    /// ```
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.1.11: Minimize access to the approval sub-resource of certificatesigningrequests objects
    /// - NSA/CISA Kubernetes Hardening Guide: Authentication and authorization — Role-based access control
    /// - CWE-269: Improper Privilege Management
    pub struct CsrApproval {
        code: "K8S056",
        name: "rbac-csr-approval",
        title: "Role can approve certificate signing requests",
        severity: High,
        references: [Cis("5.1.11"), Nsa("Role-based access control"), Cwe("CWE-269")],
        fix: "Remove CSR approval permissions, or limit `approve` to a named custom signer.",
    }
}

const CERTIFICATES: &str = "certificates.k8s.io";

impl Rule for CsrApproval {
    fn check(&self, cx: &mut Cx<'_>) {
        // CSRs and signers are cluster-scoped: a Role cannot grant them.
        if !is_cluster_role(cx.obj) {
            return;
        }
        for rule in policy_rules(cx.obj) {
            let mut parts = Vec::new();
            if let Some(g) = rule.granted(
                &["update", "patch"],
                &[(CERTIFICATES, "certificatesigningrequests/approval")],
            ) {
                parts.push(g.describe());
            }
            if let Some(g) = rule.granted(&["approve"], &[(CERTIFICATES, "signers")]) {
                parts.push(g.describe());
            }
            if parts.is_empty() {
                continue;
            }
            let message = format!(
                "{} grants {}{}: its holders can approve certificate requests, up to client certificates for any user or group",
                cx.describe(),
                parts.join(" and "),
                rule.names_note()
            );
            cx.report(cx.at_item(&["rules"], rule.index, &["resources"]), message);
        }
    }
}
