//! Rules on single containers: security context, capabilities, resources,
//! images, probes and environment.

pub(crate) mod credentials;
pub(crate) mod image;

mod capabilities_not_dropped;
mod capability_beyond_restricted;
mod cpu_limit_missing;
mod cpu_request_missing;
mod credential_in_configmap;
mod credential_in_env_value;
mod dangerous_capability;
mod host_port;
mod image_not_pinned_by_digest;
mod image_pull_policy_not_always;
mod image_tag_latest;
mod liveness_probe_missing;
mod low_user_id;
mod memory_limit_missing;
mod memory_request_missing;
mod missing_security_context;
mod net_raw_capability;
mod privilege_escalation_allowed;
mod privileged_container;
mod readiness_probe_missing;
mod run_as_root;
mod secret_in_env;
mod sys_admin_capability;
mod sys_module_capability;
mod unmasked_proc_mount;
mod untrusted_registry;
mod writable_root_filesystem;

pub use capabilities_not_dropped::CapabilitiesNotDropped;
pub use capability_beyond_restricted::CapabilityBeyondRestricted;
pub use cpu_limit_missing::CpuLimitMissing;
pub use cpu_request_missing::CpuRequestMissing;
pub use credential_in_configmap::CredentialInConfigmap;
pub use credential_in_env_value::CredentialInEnvValue;
pub use dangerous_capability::DangerousCapability;
pub use host_port::HostPort;
pub use image_not_pinned_by_digest::ImageNotPinnedByDigest;
pub use image_pull_policy_not_always::ImagePullPolicyNotAlways;
pub use image_tag_latest::ImageTagLatest;
pub use liveness_probe_missing::LivenessProbeMissing;
pub use low_user_id::LowUserId;
pub use memory_limit_missing::MemoryLimitMissing;
pub use memory_request_missing::MemoryRequestMissing;
pub use missing_security_context::MissingSecurityContext;
pub use net_raw_capability::NetRawCapability;
pub use privilege_escalation_allowed::PrivilegeEscalationAllowed;
pub use privileged_container::PrivilegedContainer;
pub use readiness_probe_missing::ReadinessProbeMissing;
pub use run_as_root::RunAsRoot;
pub use secret_in_env::SecretInEnv;
pub use sys_admin_capability::SysAdminCapability;
pub use sys_module_capability::SysModuleCapability;
pub use unmasked_proc_mount::UnmaskedProcMount;
pub use untrusted_registry::UntrustedRegistry;
pub use writable_root_filesystem::WritableRootFilesystem;

use super::Rule;
use crate::workload::{Container, Loc};
use crate::yaml::Node;

/// This group's rules, in code order.
pub(super) static RULES: &[&dyn Rule] = &[
    &PrivilegedContainer,
    &HostPort,
    &DangerousCapability,
    &CapabilitiesNotDropped,
    &CapabilityBeyondRestricted,
    &NetRawCapability,
    &SysAdminCapability,
    &SysModuleCapability,
    &PrivilegeEscalationAllowed,
    &RunAsRoot,
    &LowUserId,
    &WritableRootFilesystem,
    &UnmaskedProcMount,
    &MissingSecurityContext,
    &CpuLimitMissing,
    &CpuRequestMissing,
    &MemoryLimitMissing,
    &MemoryRequestMissing,
    &ImageTagLatest,
    &ImageNotPinnedByDigest,
    &ImagePullPolicyNotAlways,
    &UntrustedRegistry,
    &LivenessProbeMissing,
    &ReadinessProbeMissing,
    &SecretInEnv,
    &CredentialInEnvValue,
    &CredentialInConfigmap,
];

/// Capabilities the Pod Security Standards' baseline level allows adding
/// (Docker's historical default set, minus NET_RAW).
pub(super) const BASELINE_CAPABILITIES: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// A capability name as the runtime reads it: uppercase, without `CAP_`.
pub(super) fn capability_name(raw: &str) -> String {
    let upper = raw.trim().to_ascii_uppercase();
    match upper.strip_prefix("CAP_") {
        Some(rest) => rest.to_string(),
        None => upper,
    }
}

/// Path of the added capabilities.
const ADD: [&str; 3] = ["securityContext", "capabilities", "add"];

/// The capabilities a container adds: normalised name, as written, and the
/// location of the list item.
pub(super) fn added_capabilities<'a>(c: &Container<'a>) -> Vec<(String, &'a str, Loc)> {
    c.get(&ADD)
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .filter_map(|(i, n)| {
            let raw = n.as_str()?;
            Some((capability_name(raw), raw, c.at_item(&ADD, i, &[])))
        })
        .collect()
}

/// Reports every container that adds capability `cap` (normalised name),
/// with `impact` appended to the message.
pub(super) fn report_added_capability(cx: &mut super::Cx<'_>, cap: &str, impact: &str) {
    let Some(pod) = cx.pod() else { return };
    for c in pod.containers() {
        for (name, _, loc) in added_capabilities(&c) {
            if name == cap {
                cx.report(
                    loc,
                    format!("{} adds capability {cap}{impact}", c.describe()),
                );
            }
        }
    }
}

/// Reports every runtime container (init and regular) that does not set
/// `resources.<section>.<resource>`; `what` names it in messages. A
/// missing request is not reported when the limit is set: Kubernetes
/// defaults the request to the limit.
pub(super) fn report_missing_resource(
    cx: &mut super::Cx<'_>,
    section: &str,
    resource: &str,
    what: &str,
) {
    let Some(pod) = cx.pod() else { return };
    let set = |c: &Container<'_>, section: &str| {
        c.get(&["resources", section, resource])
            .is_some_and(|n| !n.is_null())
    };
    for c in pod.runtime_containers() {
        let path = ["resources", section, resource];
        let covered = set(&c, section) || (section == "requests" && set(&c, "limits"));
        if !covered {
            cx.report(c.at(&path), format!("{} has no {what}", c.describe()));
        }
    }
}

/// Reports regular containers without `probe`, except in Jobs and CronJobs
/// (run-to-completion pods have no service to keep alive or route to).
pub(super) fn report_missing_probe(cx: &mut super::Cx<'_>, probe: &str, what: &str) {
    if matches!(cx.obj.kind.as_str(), "Job" | "CronJob") {
        return;
    }
    let Some(pod) = cx.pod() else { return };
    for c in pod.containers() {
        if c.kind != crate::workload::ContainerKind::Regular {
            continue;
        }
        if c.get(&[probe]).is_none_or(Node::is_null) {
            cx.report(c.at(&[probe]), format!("{} has no {what}", c.describe()));
        }
    }
}
