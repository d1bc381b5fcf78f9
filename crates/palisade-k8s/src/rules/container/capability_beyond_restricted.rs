use super::{BASELINE_CAPABILITIES, added_capabilities};
use crate::rules::{Cx, Rule};

declare_rule! {
    /// ## What it does
    /// Finds containers that add a capability the baseline level allows but
    /// the restricted level does not: anything in the default set other
    /// than `NET_BIND_SERVICE` (`CHOWN`, `DAC_OVERRIDE`, `FOWNER`, `SETUID`,
    /// `SETGID`, `KILL`, `MKNOD`, …). Capabilities outside the default set
    /// are reported by `dangerous-capability`.
    ///
    /// ## Why is this bad?
    /// These capabilities let a process act as root on files and
    /// identities: `DAC_OVERRIDE` ignores file permissions, `SETUID` and
    /// `SETGID` switch to any user, `CHOWN`/`FOWNER` take over files,
    /// `MKNOD` creates device nodes. They make a compromise of the process
    /// worth more, and the restricted Pod Security level rejects them.
    ///
    /// ## Example
    /// ```yaml
    /// securityContext:
    ///   capabilities:
    ///     drop: [ALL]
    ///     add: [CHOWN, SETUID]
    /// ```
    ///
    /// ## Fix
    /// Fix file ownership at build time (or with `fsGroup`) and run as the
    /// right user from the start, keeping at most `NET_BIND_SERVICE`:
    /// ```yaml
    /// securityContext:
    ///   runAsUser: 10001
    ///   capabilities:
    ///     drop: [ALL]
    /// ```
    ///
    /// ## References
    /// - Pod Security Standards, restricted: Capabilities
    /// - CIS Kubernetes Benchmark 5.2.9: Minimize the admission of containers with added capabilities
    /// - NSA/CISA Kubernetes Hardening Guide: Pod security
    pub struct CapabilityBeyondRestricted {
        code: "K8S012",
        name: "capability-beyond-restricted",
        title: "Container adds a capability the restricted level forbids",
        severity: Low,
        references: [Pss("restricted"), Cis("5.2.9"), Nsa("Pod security")],
        fix: "Remove the capability from `capabilities.add`; only NET_BIND_SERVICE is allowed at the restricted level.",
    }
}

impl Rule for CapabilityBeyondRestricted {
    fn check(&self, cx: &mut Cx<'_>) {
        let Some(pod) = cx.pod() else { return };
        if pod.is_windows() {
            return;
        }
        for c in pod.containers() {
            for (cap, _, loc) in added_capabilities(&c) {
                if cap != "NET_BIND_SERVICE" && BASELINE_CAPABILITIES.contains(&cap.as_str()) {
                    cx.report(
                        loc,
                        format!(
                            "{} adds capability {cap}, which the restricted level forbids",
                            c.describe()
                        ),
                    );
                }
            }
        }
    }
}
