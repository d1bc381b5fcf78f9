use super::{BASELINE_CAPABILITIES, added_capabilities};
use crate::rules::{Cx, Rule};

declare_rule! {
    /// ## What it does
    /// Finds containers that add Linux capabilities beyond the Pod Security
    /// Standards' baseline set (`AUDIT_WRITE`, `CHOWN`, `DAC_OVERRIDE`,
    /// `FOWNER`, `FSETID`, `KILL`, `MKNOD`, `NET_BIND_SERVICE`, `SETFCAP`,
    /// `SETGID`, `SETPCAP`, `SETUID`, `SYS_CHROOT`), including `ALL`.
    /// Names are matched with or without the `CAP_` prefix, in any case.
    /// `NET_RAW`, `SYS_ADMIN` and `SYS_MODULE` have their own rules.
    ///
    /// ## Why is this bad?
    /// Capabilities outside the default set hand the container pieces of
    /// root's power over the kernel: `SYS_PTRACE` to inspect and inject into
    /// other processes, `NET_ADMIN` to reconfigure networking and intercept
    /// traffic, `DAC_READ_SEARCH` to read any file by handle (the "shocker"
    /// escape), `SYS_RAWIO`, `BPF`, `PERFMON`, `SYS_TIME`… Several of them
    /// are known container escape paths; `ALL` grants every one.
    ///
    /// ## Example
    /// ```yaml
    /// securityContext:
    ///   capabilities:
    ///     add: [SYS_PTRACE, NET_ADMIN]
    /// ```
    ///
    /// ## Fix
    /// Drop everything and add back only what the process needs, which is
    /// usually nothing or `NET_BIND_SERVICE`:
    /// ```yaml
    /// securityContext:
    ///   capabilities:
    ///     drop: [ALL]
    ///     add: [NET_BIND_SERVICE]
    /// ```
    ///
    /// ## References
    /// - Pod Security Standards, baseline: Capabilities
    /// - CIS Kubernetes Benchmark 5.2.9: Minimize the admission of containers with added capabilities
    /// - NSA/CISA Kubernetes Hardening Guide: Pod security
    /// - CWE-250: Execution with Unnecessary Privileges
    pub struct DangerousCapability {
        code: "K8S010",
        name: "dangerous-capability",
        title: "Container adds a capability beyond the baseline set",
        severity: High,
        references: [Pss("baseline"), Cis("5.2.9"), Nsa("Pod security"), Cwe("CWE-250")],
        fix: "Remove the capability from `capabilities.add`; add back only baseline capabilities the process needs.",
    }
}

/// Reported by their own rules.
const OWN_RULES: &[&str] = &["NET_RAW", "SYS_ADMIN", "SYS_MODULE"];

impl Rule for DangerousCapability {
    fn check(&self, cx: &mut Cx<'_>) {
        let Some(pod) = cx.pod() else { return };
        for c in pod.containers() {
            for (cap, _, loc) in added_capabilities(&c) {
                if cap.is_empty()
                    || BASELINE_CAPABILITIES.contains(&cap.as_str())
                    || OWN_RULES.contains(&cap.as_str())
                {
                    continue;
                }
                let message = if cap == "ALL" {
                    format!("{} adds ALL capabilities", c.describe())
                } else {
                    format!("{} adds capability {cap}", c.describe())
                };
                cx.report(loc, message);
            }
        }
    }
}
