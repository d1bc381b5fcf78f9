use super::report_added_capability;
use crate::rules::{Cx, Rule};

declare_rule! {
    /// ## What it does
    /// Finds containers that add the `SYS_MODULE` capability (with or
    /// without the `CAP_` prefix).
    ///
    /// ## Why is this bad?
    /// `SYS_MODULE` allows loading and unloading kernel modules. A module
    /// runs with full kernel privileges, so a container that can load one
    /// can do anything on the node: disable every security mechanism, read
    /// all memory, hide processes. It is a direct node takeover.
    ///
    /// ## Example
    /// ```yaml
    /// securityContext:
    ///   capabilities:
    ///     add: [SYS_MODULE]
    /// ```
    ///
    /// ## Fix
    /// Remove `SYS_MODULE`. Load the modules a workload needs through the
    /// node's configuration (for example `/etc/modules-load.d`) instead of
    /// from a container.
    ///
    /// ## References
    /// - Pod Security Standards, baseline: Capabilities
    /// - CIS Kubernetes Benchmark 5.2.9: Minimize the admission of containers with added capabilities
    /// - NSA/CISA Kubernetes Hardening Guide: Pod security
    /// - CWE-250: Execution with Unnecessary Privileges
    pub struct SysModuleCapability {
        code: "K8S015",
        name: "sys-module-capability",
        title: "Container adds the SYS_MODULE capability",
        severity: High,
        references: [Pss("baseline"), Cis("5.2.9"), Nsa("Pod security"), Cwe("CWE-250")],
        fix: "Remove SYS_MODULE from `capabilities.add`; load kernel modules through node configuration.",
    }
}

impl Rule for SysModuleCapability {
    fn check(&self, cx: &mut Cx<'_>) {
        report_added_capability(cx, "SYS_MODULE", " (can load kernel modules)");
    }
}
