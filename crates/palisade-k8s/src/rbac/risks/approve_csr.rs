use super::{Perm, RiskCx, RiskRule};

declare_rule! {
    /// ## What it does
    /// Finds subjects that can both approve CertificateSigningRequests
    /// (`update` on `certificatesigningrequests/approval`) and use a signer
    /// (`approve` on `signers`).
    ///
    /// ## Why is this bad?
    /// With both, the holder can submit a CSR for any identity — including
    /// a user in the `system:masters` group — approve it, and receive a
    /// client certificate the API server trusts for its whole validity.
    /// Certificates cannot be revoked.
    ///
    /// ## Example
    /// ```yaml
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
    /// Leave CSR approval to the kube-controller-manager's approvers;
    /// restrict `signers` with `resourceNames` to a signer that cannot
    /// issue API client certificates.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.1.11: Minimize access to the approval sub-resource of certificatesigningrequests objects
    /// - NSA/CISA Kubernetes Hardening Guide: Role-based access control
    pub struct ApproveCsr {
        code: "RBAC013",
        name: "approve-csr",
        title: "Subject can approve certificate signing requests",
        severity: Critical,
        scanner: Rbac,
        references: [Cis("5.1.11"), Nsa("Role-based access control")],
        fix: "Remove CSR approval rights, or restrict `signers` to a signer that cannot issue API client certificates.",
    }
}

impl RiskRule for ApproveCsr {
    fn check(&self, cx: &mut RiskCx<'_>) {
        let approval = cx.allowing_any(&[
            Perm::new(
                "update",
                "certificates.k8s.io",
                "certificatesigningrequests/approval",
            ),
            Perm::new(
                "patch",
                "certificates.k8s.io",
                "certificatesigningrequests/approval",
            ),
        ]);
        let signer = cx.allowing_any(&[
            Perm::named(
                "approve",
                "certificates.k8s.io",
                "signers",
                "kubernetes.io/kube-apiserver-client",
            ),
            Perm::named(
                "approve",
                "certificates.k8s.io",
                "signers",
                "kubernetes.io/*",
            ),
        ]);
        if approval.is_empty() || signer.is_empty() {
            return;
        }
        let mut evidence = approval;
        evidence.extend(signer);
        cx.report(&evidence, "approve certificate signing requests for API client certificates (any user, any group)");
    }
}
