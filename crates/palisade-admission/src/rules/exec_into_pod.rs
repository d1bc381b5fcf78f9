use palisade_k8s::declare_rule;

declare_rule! {
    /// ## What it does
    /// Denies `kubectl exec` (a `CONNECT` on `pods/exec`) into running
    /// pods, except for the configured break-glass users and groups. Every
    /// decision, allowed or denied, is logged with the user and the pod.
    ///
    /// ## Why is this bad?
    /// A shell in a running container changes it outside of any review:
    /// files edited in place, tools installed, secrets read from the
    /// environment and the service account token. Immutable workloads are
    /// only changed by new rollouts from CI, so what runs is what was
    /// reviewed, and an attacker holding a developer's credentials cannot
    /// use exec to move into production pods.
    ///
    /// ## Example
    /// ```sh
    /// kubectl exec -it web-7d9f -- sh
    /// ```
    ///
    /// ## Fix
    /// Debug from logs, metrics and traces, or ship the fix through CI. In
    /// an incident, a member of a break-glass group (`immutability.break-glass`)
    /// may exec; the access is logged.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Pod security (immutable containers)
    /// - CWE-284: Improper Access Control
    pub struct ExecIntoPod {
        code: "ADM001",
        name: "exec-into-pod",
        title: "Exec into a running pod",
        severity: High,
        references: [Nsa("Pod security"), Cwe("CWE-284")],
        fix: "Ship changes through a new rollout; in an incident use a break-glass identity (immutability.break-glass).",
    }
}
