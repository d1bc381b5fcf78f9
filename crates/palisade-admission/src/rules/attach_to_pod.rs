use palisade_k8s::declare_rule;

declare_rule! {
    /// ## What it does
    /// Denies `kubectl attach` (a `CONNECT` on `pods/attach`) to running
    /// containers, except for the configured break-glass users and groups.
    /// Every decision is logged with the user and the pod.
    ///
    /// ## Why is this bad?
    /// Attaching connects to the main process's standard input and output:
    /// on a container started with `stdin: true` and a shell, it is an
    /// interactive session inside the workload, as `exec` is.
    ///
    /// ## Example
    /// ```sh
    /// kubectl attach -it web-7d9f
    /// ```
    ///
    /// ## Fix
    /// Read logs with `kubectl logs`; ship changes through CI. Break-glass
    /// identities may attach in an incident.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Pod security (immutable containers)
    /// - CWE-284: Improper Access Control
    pub struct AttachToPod {
        code: "ADM002",
        name: "attach-to-pod",
        title: "Attach to a running container",
        severity: High,
        references: [Nsa("Pod security"), Cwe("CWE-284")],
        fix: "Use `kubectl logs` and ship changes through CI; in an incident use a break-glass identity.",
    }
}
