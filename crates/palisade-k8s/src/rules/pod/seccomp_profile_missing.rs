use super::{Seccomp, effective_seccomp};
use crate::rules::{Cx, Rule};

declare_rule! {
    /// ## What it does
    /// Finds containers that run without a seccomp profile: neither the
    /// container's nor the pod's `securityContext.seccompProfile.type` is
    /// `RuntimeDefault` or `Localhost` (the legacy annotations
    /// `seccomp.security.alpha.kubernetes.io/pod` and
    /// `container.seccomp.security.alpha.kubernetes.io/<container>` with
    /// `runtime/default`, `docker/default` or `localhost/…` count too).
    /// Containers whose profile is `Unconfined` are reported by
    /// `seccomp-unconfined` instead; Windows pods (`spec.os.name: windows`)
    /// are skipped.
    ///
    /// ## Why is this bad?
    /// Kubernetes runs containers `Unconfined` by default: every system call
    /// of the kernel is reachable. Many container escapes and kernel
    /// privilege escalations (for example `unshare` to get new user
    /// namespaces, `keyctl`, `bpf`, `io_uring` bugs) need system calls the
    /// runtime's default profile blocks. `RuntimeDefault` costs nothing for
    /// nearly every application.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   containers:
    ///     - name: app
    ///       image: registry.example.com/app:1.4.2
    /// ```
    ///
    /// ## Fix
    /// Set the runtime's default profile for the whole pod:
    /// ```yaml
    /// spec:
    ///   securityContext:
    ///     seccompProfile:
    ///       type: RuntimeDefault
    /// ```
    ///
    /// ## References
    /// - Pod Security Standards, restricted: Seccomp
    /// - CIS Kubernetes Benchmark 5.7.2: Ensure that the seccomp profile is set to docker/default in your Pod definitions
    /// - NSA/CISA Kubernetes Hardening Guide: Pod security
    pub struct SeccompProfileMissing {
        code: "K8S021",
        name: "seccomp-profile-missing",
        title: "Container runs without a seccomp profile",
        severity: Low,
        references: [Pss("restricted"), Cis("5.7.2"), Nsa("Pod security")],
        fix: "Set `securityContext.seccompProfile.type: RuntimeDefault` on the pod (or `Localhost` with a custom profile).",
    }
}

impl Rule for SeccompProfileMissing {
    fn check(&self, cx: &mut Cx<'_>) {
        let Some(pod) = cx.pod() else { return };
        if pod.is_windows() {
            return;
        }
        for c in pod.containers() {
            let (profile, loc) = effective_seccomp(&pod, &c);
            let message = match profile {
                None => format!("{} has no seccomp profile", c.describe()),
                Some((Seccomp::Other(value), source)) => format!(
                    "{} has unknown seccomp profile `{value}`{}",
                    c.describe(),
                    source.suffix()
                ),
                Some(_) => continue,
            };
            cx.report(loc, message);
        }
    }
}
