use super::is_control_plane_static_pod;
use crate::rules::{Cx, Rule};
use crate::workload::is_workload_kind;

declare_rule! {
    /// ## What it does
    /// Finds workloads (Pods, Deployments, DaemonSets, Jobs, …) deployed
    /// into the `kube-system` namespace. kubeadm's control-plane static pods
    /// (`kube-apiserver`, `etcd`, … labelled `tier: control-plane`) are not
    /// reported.
    ///
    /// ## Why is this bad?
    /// `kube-system` holds the cluster's own components and the secrets and
    /// service accounts they use, some of them very privileged. It is
    /// usually exempt from Pod Security admission and from the policies
    /// that guard application namespaces. A user workload placed there
    /// inherits that lax treatment and sits next to credentials that
    /// control the cluster; anyone allowed to manage it can reach them.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata:
    ///   name: reporting
    ///   namespace: kube-system
    /// ```
    ///
    /// ## Fix
    /// Deploy applications and add-ons into their own namespaces:
    /// ```yaml
    /// metadata:
    ///   name: reporting
    ///   namespace: reporting
    /// ```
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.7.1: Create administrative boundaries between resources using namespaces
    /// - NSA/CISA Kubernetes Hardening Guide: Pod security
    pub struct KubeSystemWorkload {
        code: "K8S046",
        name: "kube-system-workload",
        title: "Workload runs in the kube-system namespace",
        severity: Low,
        references: [Cis("5.7.1"), Nsa("Pod security")],
        fix: "Move the workload into a dedicated namespace; keep `kube-system` for cluster components.",
    }
}

impl Rule for KubeSystemWorkload {
    fn check(&self, cx: &mut Cx<'_>) {
        if !is_workload_kind(&cx.obj.kind)
            || cx.obj.namespace.as_deref() != Some("kube-system")
            || is_control_plane_static_pod(cx.obj)
        {
            return;
        }
        let message = format!("{} runs in the `kube-system` namespace", cx.describe());
        cx.report(cx.at(&["metadata", "namespace"]), message);
    }
}
