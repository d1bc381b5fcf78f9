use super::host_path_volumes;
use crate::rules::{Cx, Rule};

declare_rule! {
    /// ## What it does
    /// Finds pods with `hostPath` volumes: directories or files of the node
    /// mounted into the pod.
    ///
    /// ## Why is this bad?
    /// A hostPath volume breaks the boundary between the pod and the node.
    /// Depending on the path, a container can read other pods' data and
    /// secrets (`/var/lib/kubelet`), node credentials (`/etc/kubernetes`),
    /// control the container runtime (its socket), or plant files the node
    /// later executes. Even read-only mounts leak data, and symlink tricks
    /// in writable subpaths have repeatedly led to host file access
    /// (CVE-2017-1002101, CVE-2021-25741). Pods with hostPath volumes are
    /// also pinned to what one node happens to have on disk.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   volumes:
    ///     - name: logs
    ///       hostPath:
    ///         path: /var/log
    /// ```
    ///
    /// ## Fix
    /// Use an `emptyDir`, a PersistentVolumeClaim, a ConfigMap/Secret or a
    /// CSI volume instead:
    /// ```yaml
    /// spec:
    ///   volumes:
    ///     - name: logs
    ///       emptyDir: {}
    /// ```
    /// Node agents that genuinely need host files belong in a dedicated
    /// namespace with a privileged Pod Security level, mounting the narrowest
    /// path read-only.
    ///
    /// ## References
    /// - Pod Security Standards, baseline: HostPath Volumes
    /// - CIS Kubernetes Benchmark 5.2.12: Minimize the admission of HostPath volumes
    /// - NSA/CISA Kubernetes Hardening Guide: Pod security
    pub struct HostPathVolume {
        code: "K8S006",
        name: "host-path-volume",
        title: "Pod mounts a hostPath volume",
        severity: Medium,
        references: [Pss("baseline"), Cis("5.2.12"), Nsa("Pod security")],
        fix: "Replace the hostPath volume with an emptyDir, PersistentVolumeClaim, ConfigMap, Secret or CSI volume.",
    }
}

impl Rule for HostPathVolume {
    fn check(&self, cx: &mut Cx<'_>) {
        let Some(pod) = cx.pod() else { return };
        for v in host_path_volumes(&pod) {
            let path = if v.path.is_empty() {
                "<no path>"
            } else {
                v.path
            };
            let message = format!(
                "{} mounts host path {path} as volume `{}`",
                cx.describe(),
                v.name
            );
            cx.report(pod.at_item(&["volumes"], v.index, &["hostPath"]), message);
        }
    }
}
