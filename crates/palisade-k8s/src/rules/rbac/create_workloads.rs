use crate::rules::rbac::policy_rules;
use crate::rules::{Cx, Rule};

declare_rule! {
    /// ## What it does
    /// Finds Roles and ClusterRoles that grant `create` on Pods or on the
    /// controllers that create them: Deployments, DaemonSets, StatefulSets,
    /// ReplicaSets (`apps`), Jobs, CronJobs (`batch`) and
    /// ReplicationControllers.
    ///
    /// ## Why is this bad?
    /// Whoever can create a pod chooses what it runs and as whom: it can
    /// name any service account of the namespace and mount its token, mount
    /// any Secret or ConfigMap of the namespace, and — unless Pod Security
    /// Admission forbids it — ask for a privileged container or the host's
    /// filesystem. The permission is therefore worth every service account
    /// and Secret of the namespace, and often the node.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: rbac.authorization.k8s.io/v1
    /// kind: Role
    /// metadata: {name: ci, namespace: shop}
    /// rules:
    ///   - apiGroups: ["apps"]
    ///     resources: ["deployments"]
    ///     verbs: ["get", "list", "create", "update"]
    /// ```
    ///
    /// ## Fix
    /// Grant workload creation only to deployment pipelines, in namespaces
    /// enforcing the `restricted` Pod Security Standard and holding no
    /// privileged service accounts; give people read access instead:
    /// ```yaml
    /// rules:
    ///   - apiGroups: ["apps"]
    ///     resources: ["deployments"]
    ///     verbs: ["get", "list", "watch"]
    /// ```
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.1.4: Minimize access to create pods
    /// - NSA/CISA Kubernetes Hardening Guide: Authentication and authorization — Role-based access control
    /// - https://kubernetes.io/docs/concepts/security/rbac-good-practices/#workload-creation
    pub struct CreateWorkloads {
        code: "K8S054",
        name: "rbac-create-workloads",
        title: "Role can create pods or workloads",
        severity: Medium,
        references: [
            Cis("5.1.4"),
            Nsa("Role-based access control"),
            Url("https://kubernetes.io/docs/concepts/security/rbac-good-practices/#workload-creation"),
        ],
        fix: "Grant `create` on pods and workload controllers only to deployment pipelines in namespaces that enforce Pod Security.",
    }
}

const WORKLOADS: &[(&str, &str)] = &[
    ("", "pods"),
    ("apps", "deployments"),
    ("apps", "daemonsets"),
    ("apps", "statefulsets"),
    ("apps", "replicasets"),
    ("batch", "jobs"),
    ("batch", "cronjobs"),
    ("", "replicationcontrollers"),
];

impl Rule for CreateWorkloads {
    fn check(&self, cx: &mut Cx<'_>) {
        for rule in policy_rules(cx.obj) {
            // `create` cannot be limited by name: with resourceNames the rule
            // grants no creation at all.
            if !rule.resource_names.is_empty() {
                continue;
            }
            let Some(granted) = rule.granted(&["create"], WORKLOADS) else {
                continue;
            };
            let message = format!(
                "{} grants {}: its holders can run pods as any service account of the namespace and mount its token",
                cx.describe(),
                granted.describe()
            );
            cx.report(cx.at_item(&["rules"], rule.index, &["resources"]), message);
        }
    }
}
