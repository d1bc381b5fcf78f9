use crate::rules::{Cx, Rule};
use crate::yaml::Node;

declare_rule! {
    /// ## What it does
    /// Finds containers whose `securityContext.allowPrivilegeEscalation` is
    /// not `false` (missing or `true`). Windows pods
    /// (`spec.os.name: windows`) are skipped.
    ///
    /// ## Why is this bad?
    /// Unless the field is `false`, the kernel's `no_new_privs` flag is not
    /// set: a process in the container can gain privileges by executing a
    /// setuid or setgid binary (`sudo`, `su`, `ping` on older images, or one
    /// an attacker plants) or file capabilities. That turns a compromise of
    /// a non-root process into root inside the container, one step closer
    /// to the node.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: app
    ///     securityContext:
    ///       runAsNonRoot: true
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    ///     securityContext:
    ///       runAsNonRoot: true
    ///       allowPrivilegeEscalation: false
    /// ```
    ///
    /// ## References
    /// - Pod Security Standards, restricted: Privilege Escalation
    /// - CIS Kubernetes Benchmark 5.2.6: Minimize the admission of containers with allowPrivilegeEscalation
    /// - NSA/CISA Kubernetes Hardening Guide: Pod security
    /// - CWE-250: Execution with Unnecessary Privileges
    pub struct PrivilegeEscalationAllowed {
        code: "K8S016",
        name: "privilege-escalation-allowed",
        title: "Container allows privilege escalation",
        severity: Medium,
        references: [Pss("restricted"), Cis("5.2.6"), Nsa("Pod security"), Cwe("CWE-250")],
        fix: "Set `securityContext.allowPrivilegeEscalation: false` on the container.",
    }
}

impl Rule for PrivilegeEscalationAllowed {
    fn check(&self, cx: &mut Cx<'_>) {
        let Some(pod) = cx.pod() else { return };
        if pod.is_windows() {
            return;
        }
        for c in pod.containers() {
            let message = match c
                .security("allowPrivilegeEscalation")
                .and_then(Node::as_bool)
            {
                Some(false) => continue,
                Some(true) => format!(
                    "{} allows privilege escalation (allowPrivilegeEscalation: true)",
                    c.describe()
                ),
                None => format!(
                    "{} allows privilege escalation (allowPrivilegeEscalation is not false)",
                    c.describe()
                ),
            };
            cx.report(
                c.at(&["securityContext", "allowPrivilegeEscalation"]),
                message,
            );
        }
    }
}
