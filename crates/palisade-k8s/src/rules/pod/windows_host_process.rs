use crate::rules::{Cx, Rule};
use crate::yaml::Node;

declare_rule! {
    /// ## What it does
    /// Finds Windows HostProcess pods and containers
    /// (`securityContext.windowsOptions.hostProcess: true` on the pod or a
    /// container).
    ///
    /// ## Why is this bad?
    /// A HostProcess container is not isolated at all: it runs directly on
    /// the Windows node as a process, shares the host's network, can see
    /// and change the node's filesystem and runs as a node account such as
    /// `NT AUTHORITY\SYSTEM`. Code in it owns the node and every pod on it.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   securityContext:
    ///     windowsOptions:
    ///       hostProcess: true
    ///       runAsUserName: "NT AUTHORITY\\SYSTEM"
    ///   hostNetwork: true
    /// ```
    ///
    /// ## Fix
    /// Remove `hostProcess: true` and run the workload as a regular Windows
    /// container. Node management agents that need it belong in a dedicated
    /// namespace with a privileged Pod Security level.
    ///
    /// ## References
    /// - Pod Security Standards, baseline: HostProcess
    /// - CIS Kubernetes Benchmark 5.2.11: Minimize the admission of Windows HostProcess containers
    /// - NSA/CISA Kubernetes Hardening Guide: Pod security
    /// - CWE-250: Execution with Unnecessary Privileges
    pub struct WindowsHostProcess {
        code: "K8S009",
        name: "windows-host-process",
        title: "Pod runs Windows HostProcess containers",
        severity: Critical,
        references: [Pss("baseline"), Cis("5.2.11"), Nsa("Pod security"), Cwe("CWE-250")],
        fix: "Remove `windowsOptions.hostProcess: true` and run the workload as a regular Windows container.",
    }
}

const FIELD: [&str; 3] = ["securityContext", "windowsOptions", "hostProcess"];

impl Rule for WindowsHostProcess {
    fn check(&self, cx: &mut Cx<'_>) {
        let Some(pod) = cx.pod() else { return };
        if pod.node.path(&FIELD).and_then(Node::as_bool) == Some(true) {
            let message = format!(
                "{} runs its containers as Windows HostProcess containers",
                cx.describe()
            );
            cx.report(pod.at(&FIELD), message);
        }
        for c in pod.containers() {
            if c.get(&FIELD).and_then(Node::as_bool) == Some(true) {
                cx.report(
                    c.at(&FIELD),
                    format!("{} runs as a Windows HostProcess container", c.describe()),
                );
            }
        }
    }
}
