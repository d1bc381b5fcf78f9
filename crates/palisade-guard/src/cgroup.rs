//! Container identity from a process's cgroup path (`/proc/<pid>/cgroup`).
//!
//! Runtimes name the cgroup after the container: `cri-containerd-<id>.scope`,
//! `crio-<id>.scope`, `docker-<id>.scope`, `libpod-<id>.scope` (systemd
//! driver) or a bare `<id>` directory (cgroupfs driver), below a
//! `kubepods…pod<uid>` directory when kubelet created it.

#![deny(clippy::indexing_slicing)]

use serde::Serialize;

/// Largest cgroup file read.
pub const MAX_CGROUP_FILE: usize = 16 * 1024;

/// Who a process belongs to, as far as its cgroup tells.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Container {
    /// The runtime's container id (64 hex digits), when the path has one.
    pub id: Option<String>,
    /// The Kubernetes pod UID, when kubelet made the cgroup.
    pub pod_uid: Option<String>,
    /// `containerd`, `cri-o`, `docker` or `podman`, when the prefix says.
    pub runtime: Option<&'static str>,
    /// The cgroup path itself.
    pub cgroup: String,
}

/// Picks the cgroup path from a `/proc/<pid>/cgroup` file: the unified
/// (v2) line `0::/path` when present, else the first v1 line whose path
/// names a container, else the first path.
pub fn cgroup_path(file: &str) -> Option<&str> {
    let mut first = None;
    let mut named = None;
    for line in file.lines().take(256) {
        let mut parts = line.splitn(3, ':');
        let (Some(hierarchy), Some(_controllers), Some(path)) =
            (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if hierarchy == "0" {
            return Some(path);
        }
        first.get_or_insert(path);
        if named.is_none() && identify(path).id.is_some() {
            named = Some(path);
        }
    }
    named.or(first)
}

/// Reads container id, pod UID and runtime from a cgroup path.
pub fn identify(path: &str) -> Container {
    let mut container = Container {
        cgroup: path.to_string(),
        ..Container::default()
    };
    for component in path.split('/') {
        if let Some(uid) = pod_uid(component) {
            container.pod_uid = Some(uid);
        }
        if let Some((runtime, id)) = container_id(component) {
            container.runtime = runtime;
            container.id = Some(id.to_string());
        }
    }
    container
}

const PREFIXES: [(&str, Option<&str>); 5] = [
    ("cri-containerd-", Some("containerd")),
    ("crio-", Some("cri-o")),
    ("docker-", Some("docker")),
    ("libpod-", Some("podman")),
    ("", None),
];

fn container_id(component: &str) -> Option<(Option<&'static str>, &str)> {
    let stem = component.strip_suffix(".scope").unwrap_or(component);
    for (prefix, runtime) in PREFIXES {
        if let Some(id) = stem.strip_prefix(prefix)
            && id.len() == 64
            && id.bytes().all(|b| b.is_ascii_hexdigit())
        {
            // A bare id (cgroupfs layouts such as `/docker/<id>` or
            // `/kubepods/.../<id>`) does not say which runtime.
            return Some((runtime, id));
        }
    }
    None
}

/// `pod<uid>` (cgroupfs) or `kubepods-<qos>-pod<uid_with_underscores>.slice`.
fn pod_uid(component: &str) -> Option<String> {
    let stem = component.strip_suffix(".slice").unwrap_or(component);
    let at = stem.rfind("pod")?;
    let uid = stem.get(at + 3..)?;
    let prefix_ok = at == 0 || stem.get(..at)?.ends_with('-');
    let shape_ok = uid.len() == 36
        && uid
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b'-' || b == b'_');
    (prefix_ok && shape_ok).then(|| uid.replace('_', "-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn containerd_systemd_driver() {
        let path = format!(
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1f2e3d4c_5b6a_4789_8abc_def012345678.slice/cri-containerd-{ID}.scope"
        );
        let c = identify(&path);
        assert_eq!(c.id.as_deref(), Some(ID));
        assert_eq!(c.runtime, Some("containerd"));
        assert_eq!(
            c.pod_uid.as_deref(),
            Some("1f2e3d4c-5b6a-4789-8abc-def012345678")
        );
    }

    #[test]
    fn cgroupfs_driver_and_docker() {
        let c = identify(&format!(
            "/kubepods/besteffort/pod1f2e3d4c-5b6a-4789-8abc-def012345678/{ID}"
        ));
        assert_eq!(c.id.as_deref(), Some(ID));
        assert_eq!(c.runtime, None);
        assert!(c.pod_uid.is_some());
        let c = identify(&format!("/system.slice/docker-{ID}.scope"));
        assert_eq!((c.id.as_deref(), c.runtime), (Some(ID), Some("docker")));
        let c = identify(&format!("/machine.slice/libpod-{ID}.scope/container"));
        assert_eq!(c.runtime, Some("podman"));
        let c = identify(&format!("/kubepods.slice/crio-{ID}.scope"));
        assert_eq!(c.runtime, Some("cri-o"));
    }

    #[test]
    fn host_processes_have_no_id() {
        let c = identify("/user.slice/user-0.slice/session-1.scope");
        assert_eq!(c.id, None);
        assert_eq!(c.pod_uid, None);
        assert_eq!(identify("/").id, None);
        // Not 64 hex digits.
        assert_eq!(identify("/docker/abc").id, None);
        assert_eq!(identify("/kubepods/podnotauid").pod_uid, None);
    }

    #[test]
    fn picks_the_unified_line_or_a_named_one() {
        let v2 = format!("1:name=systemd:/\n0::/system.slice/docker-{ID}.scope\n");
        assert_eq!(
            cgroup_path(&v2),
            Some(format!("/system.slice/docker-{ID}.scope").as_str())
        );
        let v1 = format!("12:cpu:/\n4:memory:/docker/{ID}\n");
        assert_eq!(cgroup_path(&v1), Some(format!("/docker/{ID}").as_str()));
        assert_eq!(cgroup_path("9:pids:/x\n"), Some("/x"));
        assert_eq!(cgroup_path("junk"), None);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,200}") {
            let _ = identify(&s);
            let _ = cgroup_path(&s);
        }
    }
}
