//! Rules on the pod spec as a whole: host namespaces, volumes, service
//! accounts and pod-level security settings.

mod apparmor_unconfined;
mod container_runtime_socket;
mod default_namespace;
mod default_service_account;
mod host_aliases;
mod host_ipc;
mod host_network;
mod host_path_volume;
mod host_pid;
mod kube_system_workload;
mod naked_pod;
mod restricted_volume_type;
mod root_group;
mod seccomp_profile_missing;
mod seccomp_unconfined;
mod selinux_custom_options;
mod service_account_token_automount;
mod unsafe_sysctls;
mod windows_host_process;
mod writable_host_path;

pub use apparmor_unconfined::ApparmorUnconfined;
pub use container_runtime_socket::ContainerRuntimeSocket;
pub use default_namespace::DefaultNamespace;
pub use default_service_account::DefaultServiceAccount;
pub use host_aliases::HostAliases;
pub use host_ipc::HostIpc;
pub use host_network::HostNetwork;
pub use host_path_volume::HostPathVolume;
pub use host_pid::HostPid;
pub use kube_system_workload::KubeSystemWorkload;
pub use naked_pod::NakedPod;
pub use restricted_volume_type::RestrictedVolumeType;
pub use root_group::RootGroup;
pub use seccomp_profile_missing::SeccompProfileMissing;
pub use seccomp_unconfined::SeccompUnconfined;
pub use selinux_custom_options::SelinuxCustomOptions;
pub use service_account_token_automount::ServiceAccountTokenAutomount;
pub use unsafe_sysctls::UnsafeSysctls;
pub use windows_host_process::WindowsHostProcess;
pub use writable_host_path::WritableHostPath;

use super::Rule;
use crate::object::Object;
use crate::workload::{Container, Loc, PodSpec};
use crate::yaml::Node;

/// This group's rules, in code order.
pub(super) static RULES: &[&dyn Rule] = &[
    &HostPid,
    &HostIpc,
    &HostNetwork,
    &HostPathVolume,
    &WritableHostPath,
    &ContainerRuntimeSocket,
    &WindowsHostProcess,
    &RootGroup,
    &SeccompProfileMissing,
    &SeccompUnconfined,
    &ApparmorUnconfined,
    &SelinuxCustomOptions,
    &UnsafeSysctls,
    &RestrictedVolumeType,
    &HostAliases,
    &ServiceAccountTokenAutomount,
    &DefaultServiceAccount,
    &DefaultNamespace,
    &KubeSystemWorkload,
    &NakedPod,
];

/// A `hostPath` volume of a pod spec.
#[derive(Debug)]
pub(super) struct HostPathEntry<'a> {
    /// Index in `volumes`.
    pub index: usize,
    pub name: &'a str,
    /// The host path as written (empty when missing).
    pub path: &'a str,
}

/// The pod's `hostPath` volumes.
pub(super) fn host_path_volumes<'a>(pod: &PodSpec<'a>) -> Vec<HostPathEntry<'a>> {
    pod.volumes()
        .filter_map(|(index, v)| {
            let host_path = v.get("hostPath").filter(|h| !h.is_null())?;
            Some(HostPathEntry {
                index,
                name: v.get("name").and_then(Node::as_str).unwrap_or("<unnamed>"),
                path: host_path.get("path").and_then(Node::as_str).unwrap_or(""),
            })
        })
        .collect()
}

/// A seccomp profile type, from the field or a legacy annotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Seccomp {
    RuntimeDefault,
    Localhost,
    Unconfined,
    /// A value Kubernetes does not know.
    Other(String),
}

/// Where an effective setting comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    Container,
    ContainerAnnotation,
    Pod,
    PodAnnotation,
}

impl Source {
    /// A suffix for messages: how the container got the setting.
    pub fn suffix(self) -> &'static str {
        match self {
            Source::Container => "",
            Source::ContainerAnnotation => " (legacy seccomp annotation)",
            Source::Pod => " (inherited from the pod securityContext)",
            Source::PodAnnotation => " (inherited from the legacy pod seccomp annotation)",
        }
    }
}

/// The legacy pod-wide seccomp annotation.
const SECCOMP_POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";
/// The legacy per-container seccomp annotation prefix.
const SECCOMP_CONTAINER_ANNOTATION: &str = "container.seccomp.security.alpha.kubernetes.io/";

fn seccomp_field(value: &str) -> Seccomp {
    match value {
        "RuntimeDefault" => Seccomp::RuntimeDefault,
        "Localhost" => Seccomp::Localhost,
        "Unconfined" => Seccomp::Unconfined,
        other => Seccomp::Other(other.to_string()),
    }
}

fn seccomp_annotation(value: &str) -> Seccomp {
    let value = value.trim();
    match value {
        "runtime/default" | "docker/default" => Seccomp::RuntimeDefault,
        "unconfined" => Seccomp::Unconfined,
        v if v.starts_with("localhost/") => Seccomp::Localhost,
        other => Seccomp::Other(other.to_string()),
    }
}

/// The seccomp profile a container runs with, as the API server and kubelet
/// resolve it: the container's field, else its legacy annotation, else the
/// pod's field, else the pod's legacy annotation. `None` when nothing sets
/// one; the location is then the container's (missing) field.
pub(super) fn effective_seccomp(
    pod: &PodSpec<'_>,
    c: &Container<'_>,
) -> (Option<(Seccomp, Source)>, Loc) {
    const FIELD: [&str; 3] = ["securityContext", "seccompProfile", "type"];
    let attribute = |mut loc: Loc| {
        loc.container = Some(c.name.to_string());
        loc
    };
    if let Some(t) = c.get(&FIELD).and_then(Node::as_str) {
        return (Some((seccomp_field(t), Source::Container)), c.at(&FIELD));
    }
    let key = format!("{SECCOMP_CONTAINER_ANNOTATION}{}", c.name);
    if let Some(a) = pod.annotation(&key) {
        return (
            Some((seccomp_annotation(a), Source::ContainerAnnotation)),
            attribute(pod.annotation_at(&key)),
        );
    }
    if let Some(t) = pod
        .security("seccompProfile")
        .and_then(|p| p.get("type"))
        .and_then(Node::as_str)
    {
        return (
            Some((seccomp_field(t), Source::Pod)),
            attribute(pod.at(&FIELD)),
        );
    }
    if let Some(a) = pod.annotation(SECCOMP_POD_ANNOTATION) {
        return (
            Some((seccomp_annotation(a), Source::PodAnnotation)),
            attribute(pod.annotation_at(SECCOMP_POD_ANNOTATION)),
        );
    }
    (None, c.at(&FIELD))
}

/// Control-plane static pods as kubeadm writes them (`kube-apiserver`,
/// `etcd`, …, labelled `tier: control-plane`): they legitimately live in
/// `kube-system` without an owner.
pub(super) fn is_control_plane_static_pod(obj: &Object) -> bool {
    obj.kind == "Pod"
        && obj.namespace.as_deref() == Some("kube-system")
        && (obj.label("tier") == Some("control-plane")
            || obj.label("component").is_some_and(|c| {
                matches!(
                    c,
                    "kube-apiserver" | "kube-controller-manager" | "kube-scheduler" | "etcd"
                )
            }))
}
