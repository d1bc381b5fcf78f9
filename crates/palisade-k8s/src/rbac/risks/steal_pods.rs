use super::{Perm, RiskCx, RiskRule};

declare_rule! {
    /// ## What it does
    /// Finds subjects that can both evict or delete pods and change nodes
    /// (cordon, taint, relabel), cluster-wide.
    ///
    /// ## Why is this bad?
    /// Together these move workloads at will: cordon or taint every node
    /// but one the attacker controls, then evict the target's pods — the
    /// scheduler places them, with their Secrets and tokens, on the
    /// attacker's node.
    ///
    /// ## Example
    /// ```yaml
    /// rules:
    ///   - apiGroups: [""]
    ///     resources: ["pods"]
    ///     verbs: ["delete"]
    ///   - apiGroups: [""]
    ///     resources: ["nodes"]
    ///     verbs: ["patch"]
    /// ```
    ///
    /// ## Fix
    /// Keep node changes with cluster operators and the cluster
    /// autoscaler; application identities need neither.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Role-based access control
    /// - rbac-police: steal_pods
    pub struct StealPods {
        code: "RBAC017",
        name: "steal-pods",
        title: "Subject can move pods onto chosen nodes (evict + change nodes)",
        severity: High,
        scanner: Rbac,
        references: [Nsa("Role-based access control"), Url("https://github.com/PaloAltoNetworks/rbac-police")],
        fix: "Separate pod eviction and node changes; keep node changes with cluster operators.",
    }
}

impl RiskRule for StealPods {
    fn check(&self, cx: &mut RiskCx<'_>) {
        let evict: Vec<_> = cx
            .allowing_any(&[
                Perm::new("delete", "", "pods"),
                Perm::new("create", "", "pods/eviction"),
            ])
            .into_iter()
            .filter(|(scope, _)| scope.is_empty())
            .collect();
        let nodes = cx.allowing_any(&[
            Perm::new("patch", "", "nodes"),
            Perm::new("update", "", "nodes"),
        ]);
        if evict.is_empty() || nodes.is_empty() {
            return;
        }
        let mut evidence = evict;
        evidence.extend(nodes);
        cx.report(
            &evidence,
            "evict pods and cordon or relabel nodes (steering pods onto a chosen node)",
        );
    }
}
