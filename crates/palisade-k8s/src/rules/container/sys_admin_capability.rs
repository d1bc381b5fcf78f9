use super::report_added_capability;
use crate::rules::{Cx, Rule};

declare_rule! {
    /// ## What it does
    /// Finds containers that add the `SYS_ADMIN` capability (with or
    /// without the `CAP_` prefix).
    ///
    /// ## Why is this bad?
    /// `SYS_ADMIN` is "the new root": it allows mounting filesystems,
    /// creating namespaces, using `bpf` and many device ioctls. With it a
    /// container can mount a cgroup filesystem and abuse `release_agent` to
    /// run commands on the node (CVE-2022-0492), or mount host devices it
    /// can reach. It turns most container bugs into node compromises.
    ///
    /// ## Example
    /// ```yaml
    /// securityContext:
    ///   capabilities:
    ///     add: [SYS_ADMIN]
    /// ```
    ///
    /// ## Fix
    /// Remove `SYS_ADMIN`. For FUSE or in-container mounts use a CSI driver
    /// or a device plugin; for image builds use a rootless builder.
    ///
    /// ## References
    /// - Pod Security Standards, baseline: Capabilities
    /// - CIS Kubernetes Benchmark 5.2.9: Minimize the admission of containers with added capabilities
    /// - NSA/CISA Kubernetes Hardening Guide: Pod security
    /// - CWE-250: Execution with Unnecessary Privileges
    pub struct SysAdminCapability {
        code: "K8S014",
        name: "sys-admin-capability",
        title: "Container adds the SYS_ADMIN capability",
        severity: High,
        references: [Pss("baseline"), Cis("5.2.9"), Nsa("Pod security"), Cwe("CWE-250")],
        fix: "Remove SYS_ADMIN from `capabilities.add`.",
    }
}

impl Rule for SysAdminCapability {
    fn check(&self, cx: &mut Cx<'_>) {
        report_added_capability(cx, "SYS_ADMIN", "");
    }
}
