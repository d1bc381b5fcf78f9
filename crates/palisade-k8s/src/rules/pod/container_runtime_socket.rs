use super::host_path_volumes;
use crate::rules::{Cx, Rule};

declare_rule! {
    /// ## What it does
    /// Finds `hostPath` volumes that expose the container runtime: its API
    /// socket (Docker, containerd, CRI-O, cri-dockerd), a directory holding
    /// one (`/var/run`, `/run`, `/run/containerd`, …, or a parent such as
    /// `/`), or its state directory (`/var/lib/docker`,
    /// `/var/lib/containerd`). Trailing and repeated slashes are ignored.
    ///
    /// ## Why is this bad?
    /// The runtime socket is an unauthenticated root API on the node.
    /// Whoever can talk to it can start a privileged container with the
    /// host's root filesystem mounted, exec into any container on the node
    /// and read its secrets, or pull and run arbitrary images, outside of
    /// Kubernetes admission control and audit logging. Mounting it is
    /// equivalent to root on the node; write access to the runtime's state
    /// directory is not far behind.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   volumes:
    ///     - name: docker
    ///       hostPath:
    ///         path: /var/run/docker.sock
    /// ```
    ///
    /// ## Fix
    /// Do not mount the runtime. Build images with a daemonless builder
    /// (BuildKit rootless, kaniko, buildah) and read container metadata
    /// from the Kubernetes API or the kubelet instead. Node agents that
    /// truly need the runtime belong in a dedicated, tightly controlled
    /// namespace.
    ///
    /// ## References
    /// - Pod Security Standards, baseline: HostPath Volumes
    /// - CIS Kubernetes Benchmark 5.2.12: Minimize the admission of HostPath volumes
    /// - NSA/CISA Kubernetes Hardening Guide: Pod security
    /// - CWE-250: Execution with Unnecessary Privileges
    pub struct ContainerRuntimeSocket {
        code: "K8S008",
        name: "container-runtime-socket",
        title: "Pod mounts the container runtime socket",
        severity: Critical,
        references: [Pss("baseline"), Cis("5.2.12"), Nsa("Pod security"), Cwe("CWE-250")],
        fix: "Remove the hostPath volume that exposes the container runtime; use a daemonless image builder or the Kubernetes API instead.",
    }
}

/// Runtime API sockets.
const SOCKETS: &[&str] = &[
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/var/run/containerd/containerd.sock",
    "/run/containerd/containerd.sock",
    "/var/run/crio/crio.sock",
    "/run/crio/crio.sock",
    "/var/run/cri-dockerd.sock",
    "/run/cri-dockerd.sock",
];

/// Runtime state directories (container filesystems, metadata, snapshots).
const STATE_DIRS: &[&str] = &["/var/lib/docker", "/var/lib/containerd"];

/// `//var/run//` → `/var/run`; `/` stays `/`.
fn normalize(path: &str) -> String {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    format!("/{}", parts.join("/"))
}

/// Whether `dir` is `target` or one of its parent directories.
fn covers(dir: &str, target: &str) -> bool {
    dir == target
        || dir == "/"
        || target
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
}

impl Rule for ContainerRuntimeSocket {
    fn check(&self, cx: &mut Cx<'_>) {
        let Some(pod) = cx.pod() else { return };
        for v in host_path_volumes(&pod) {
            if !v.path.starts_with('/') {
                continue;
            }
            let path = normalize(v.path);
            let message = if SOCKETS.contains(&path.as_str()) {
                format!(
                    "{} mounts the container runtime socket {path} (volume `{}`)",
                    cx.describe(),
                    v.name
                )
            } else if SOCKETS
                .iter()
                .chain(STATE_DIRS)
                .any(|target| covers(&path, target))
            {
                format!(
                    "{} mounts host path {path} (volume `{}`), which holds the container runtime's socket or state",
                    cx.describe(),
                    v.name
                )
            } else {
                continue;
            };
            cx.report(
                pod.at_item(&["volumes"], v.index, &["hostPath", "path"]),
                message,
            );
        }
    }
}
