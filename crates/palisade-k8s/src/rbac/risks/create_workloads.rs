use super::{Perm, RiskCx, RiskRule};

declare_rule! {
    /// ## What it does
    /// Finds subjects that can create pods, directly or through a workload
    /// controller (Deployment, DaemonSet, StatefulSet, ReplicaSet, Job,
    /// CronJob, ReplicationController).
    ///
    /// ## Why is this bad?
    /// Whoever creates a pod chooses its service account: any account of
    /// the namespace, whose token is mounted into the pod. Creating pods in
    /// a namespace therefore grants the union of every service account's
    /// permissions there — and, unless admission forbids it, privileged
    /// pods that own the node. `palisade rbac paths` shows where it leads.
    ///
    /// ## Example
    /// ```yaml
    /// rules:
    ///   - apiGroups: ["apps"]
    ///     resources: ["deployments"]
    ///     verbs: ["create", "update", "patch"]
    /// ```
    ///
    /// ## Fix
    /// Grant workload creation only to deployment automation, in namespaces
    /// whose service accounts are not more privileged than the deployer,
    /// and enforce Pod Security admission (`restricted`) there.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.1.4: Minimize access to create pods
    /// - NSA/CISA Kubernetes Hardening Guide: Role-based access control
    pub struct CreateWorkloads {
        code: "RBAC004",
        name: "create-workloads",
        title: "Subject can create pods (and run them as any service account)",
        severity: Medium,
        scanner: Rbac,
        references: [Cis("5.1.4"), Nsa("Role-based access control")],
        fix: "Limit pod and workload creation to deployment automation in namespaces with Pod Security admission.",
    }
}

const PERMS: &[Perm] = &[
    Perm::new("create", "", "pods"),
    Perm::new("create", "", "replicationcontrollers"),
    Perm::new("create", "apps", "deployments"),
    Perm::new("create", "apps", "daemonsets"),
    Perm::new("create", "apps", "statefulsets"),
    Perm::new("create", "apps", "replicasets"),
    Perm::new("create", "batch", "jobs"),
    Perm::new("create", "batch", "cronjobs"),
];

impl RiskRule for CreateWorkloads {
    fn check(&self, cx: &mut RiskCx<'_>) {
        let grants = cx.allowing_any(PERMS);
        if !grants.is_empty() {
            cx.report(&grants, "create pods and run them as any service account");
        }
    }
}
