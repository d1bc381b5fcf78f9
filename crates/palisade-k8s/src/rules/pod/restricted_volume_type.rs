use crate::rules::{Cx, Rule};
use crate::yaml::Node;

declare_rule! {
    /// ## What it does
    /// Finds volumes of a type outside the Pod Security Standards'
    /// restricted allow-list: `configMap`, `csi`, `downwardAPI`, `emptyDir`,
    /// `ephemeral`, `persistentVolumeClaim`, `projected` and `secret`.
    /// `hostPath` volumes are reported by `host-path-volume` instead.
    ///
    /// ## Why is this bad?
    /// In-tree volume types such as `nfs`, `iscsi`, `rbd`, `cephfs`,
    /// `glusterfs` or `flexVolume` let whoever writes the pod spec point the
    /// kubelet at arbitrary storage servers and credentials, bypassing the
    /// PersistentVolume layer where administrators control storage. The
    /// deprecated `gitRepo` volume runs `git` on the node as root against a
    /// repository the pod names; CVE-2024-10220 showed that a crafted
    /// repository executes arbitrary commands on the node through its hooks.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   volumes:
    ///     - name: site
    ///       gitRepo:
    ///         repository: https://git.example.com/site.git
    /// ```
    ///
    /// ## Fix
    /// Use a PersistentVolumeClaim for network storage, and clone
    /// repositories in an init container into an `emptyDir`:
    /// ```yaml
    /// spec:
    ///   initContainers:
    ///     - name: clone
    ///       image: alpine/git:2.45.2
    ///       args: [clone, --depth=1, "https://git.example.com/site.git", /site]
    ///       volumeMounts: [{name: site, mountPath: /site}]
    ///   volumes:
    ///     - name: site
    ///       emptyDir: {}
    /// ```
    ///
    /// ## References
    /// - Pod Security Standards, restricted: Volume Types
    /// - NSA/CISA Kubernetes Hardening Guide: Pod security
    /// - CVE-2024-10220: arbitrary command execution through the gitRepo volume
    pub struct RestrictedVolumeType {
        code: "K8S027",
        name: "restricted-volume-type",
        title: "Pod uses a volume type outside the restricted set",
        severity: Low,
        references: [
            Pss("restricted"),
            Nsa("Pod security"),
            Url("https://nvd.nist.gov/vuln/detail/CVE-2024-10220"),
        ],
        fix: "Use a PersistentVolumeClaim, ephemeral, CSI, emptyDir, configMap, secret, projected or downwardAPI volume instead.",
    }
}

const ALLOWED: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

impl Rule for RestrictedVolumeType {
    fn check(&self, cx: &mut Cx<'_>) {
        let Some(pod) = cx.pod() else { return };
        for (i, v) in pod.volumes() {
            let name = v.get("name").and_then(Node::as_str).unwrap_or("<unnamed>");
            for e in v.entries() {
                let kind = e.key.as_str();
                if kind == "name"
                    || kind == "hostPath"
                    || ALLOWED.contains(&kind)
                    || e.value.is_null()
                {
                    continue;
                }
                let message = format!(
                    "{} uses volume `{name}` of type {kind}, outside the restricted volume types",
                    cx.describe()
                );
                cx.report(pod.at_item(&["volumes"], i, &[kind]), message);
            }
        }
    }
}
