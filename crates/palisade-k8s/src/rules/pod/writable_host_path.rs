use super::host_path_volumes;
use crate::rules::{Cx, Rule};
use crate::yaml::Node;

declare_rule! {
    /// ## What it does
    /// Finds containers that mount a `hostPath` volume without
    /// `readOnly: true` on the volumeMount.
    ///
    /// ## Why is this bad?
    /// A writable host mount lets the container change files on the node:
    /// drop a cron job or systemd unit, replace a binary the node runs,
    /// edit static pod manifests in `/etc/kubernetes/manifests`, or tamper
    /// with other pods' volumes. Each of these turns a compromised container
    /// into a compromised node. Writable mounts are also how the symlink
    /// escapes of CVE-2017-1002101 and CVE-2021-25741 were exploited.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: agent
    ///     volumeMounts:
    ///       - name: host-etc
    ///         mountPath: /host/etc
    /// volumes:
    ///   - name: host-etc
    ///     hostPath: {path: /etc}
    /// ```
    ///
    /// ## Fix
    /// Mount the host path read-only, or avoid the hostPath volume:
    /// ```yaml
    /// volumeMounts:
    ///   - name: host-etc
    ///     mountPath: /host/etc
    ///     readOnly: true
    /// ```
    ///
    /// ## References
    /// - Pod Security Standards, baseline: HostPath Volumes
    /// - NSA/CISA Kubernetes Hardening Guide: Pod security
    /// - CWE-250: Execution with Unnecessary Privileges
    pub struct WritableHostPath {
        code: "K8S007",
        name: "writable-host-path",
        title: "Container mounts a hostPath volume writable",
        severity: High,
        references: [Pss("baseline"), Nsa("Pod security"), Cwe("CWE-250")],
        fix: "Set `readOnly: true` on the volumeMount of the hostPath volume, or replace the hostPath volume.",
    }
}

impl Rule for WritableHostPath {
    fn check(&self, cx: &mut Cx<'_>) {
        let Some(pod) = cx.pod() else { return };
        let host_paths = host_path_volumes(&pod);
        if host_paths.is_empty() {
            return;
        }
        for c in pod.containers() {
            let mounts = c
                .get(&["volumeMounts"])
                .map(Node::items)
                .unwrap_or_default();
            for (i, m) in mounts.iter().enumerate() {
                let Some(name) = m.get("name").and_then(Node::as_str) else {
                    continue;
                };
                let Some(v) = host_paths.iter().find(|v| v.name == name) else {
                    continue;
                };
                if m.get("readOnly").and_then(Node::as_bool) == Some(true) {
                    continue;
                }
                let target = m.get("mountPath").and_then(Node::as_str).unwrap_or("?");
                let path = if v.path.is_empty() {
                    "<no path>"
                } else {
                    v.path
                };
                cx.report(
                    c.at_item(&["volumeMounts"], i, &[]),
                    format!(
                        "{} mounts host path {path} (volume `{name}`) writable at {target}",
                        c.describe()
                    ),
                );
            }
        }
    }
}
