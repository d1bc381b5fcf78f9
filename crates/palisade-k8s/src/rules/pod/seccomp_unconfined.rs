use super::{Seccomp, effective_seccomp};
use crate::rules::{Cx, Rule};

declare_rule! {
    /// ## What it does
    /// Finds containers whose effective seccomp profile is explicitly
    /// `Unconfined`: `securityContext.seccompProfile.type: Unconfined` on the
    /// container, or on the pod without a container override, or the legacy
    /// annotation `unconfined`.
    ///
    /// ## Why is this bad?
    /// `Unconfined` switches off system call filtering on purpose, even on
    /// clusters whose kubelet applies `RuntimeDefault` by default. The whole
    /// kernel API is then reachable from the container, including the calls
    /// that most kernel exploits and container escapes rely on (`unshare`,
    /// `mount`, `keyctl`, `bpf`, `ptrace`, …).
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: app
    ///     securityContext:
    ///       seccompProfile:
    ///         type: Unconfined
    /// ```
    ///
    /// ## Fix
    /// Use the runtime's default profile, or a `Localhost` profile that
    /// allows the extra system calls the application really needs:
    /// ```yaml
    ///     securityContext:
    ///       seccompProfile:
    ///         type: RuntimeDefault
    /// ```
    ///
    /// ## References
    /// - Pod Security Standards, baseline: Seccomp
    /// - CIS Kubernetes Benchmark 5.7.2: Ensure that the seccomp profile is set to docker/default in your Pod definitions
    /// - NSA/CISA Kubernetes Hardening Guide: Pod security
    pub struct SeccompUnconfined {
        code: "K8S022",
        name: "seccomp-unconfined",
        title: "Container runs with seccomp Unconfined",
        severity: Medium,
        references: [Pss("baseline"), Cis("5.7.2"), Nsa("Pod security")],
        fix: "Set `seccompProfile.type` to `RuntimeDefault` (or a `Localhost` profile) instead of `Unconfined`.",
    }
}

impl Rule for SeccompUnconfined {
    fn check(&self, cx: &mut Cx<'_>) {
        let Some(pod) = cx.pod() else { return };
        for c in pod.containers() {
            if let (Some((Seccomp::Unconfined, source)), loc) = effective_seccomp(&pod, &c) {
                cx.report(
                    loc,
                    format!(
                        "{} runs with seccomp profile Unconfined{}",
                        c.describe(),
                        source.suffix()
                    ),
                );
            }
        }
    }
}
