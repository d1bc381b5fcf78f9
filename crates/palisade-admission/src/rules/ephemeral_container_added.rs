use palisade_k8s::declare_rule;

declare_rule! {
    /// ## What it does
    /// Denies adding ephemeral containers to running pods (`kubectl debug`,
    /// an `UPDATE` on `pods/ephemeralcontainers`), except for the
    /// configured break-glass users and groups. Every decision is logged
    /// with the user and the pod.
    ///
    /// ## Why is this bad?
    /// An ephemeral container runs any image, with any command, inside the
    /// pod's namespaces and with access to its volumes: a way to put new
    /// code next to a production workload without a rollout, and around
    /// image policy on the pod's own containers.
    ///
    /// ## Example
    /// ```sh
    /// kubectl debug -it web-7d9f --image=busybox --target=web
    /// ```
    ///
    /// ## Fix
    /// Debug a copy of the pod in a non-production namespace, or use a
    /// break-glass identity in an incident.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Pod security (immutable containers)
    /// - CWE-284: Improper Access Control
    pub struct EphemeralContainerAdded {
        code: "ADM004",
        name: "ephemeral-container-added",
        title: "Ephemeral container added to a running pod",
        severity: High,
        references: [Nsa("Pod security"), Cwe("CWE-284")],
        fix: "Debug a copy of the pod (`kubectl debug --copy-to`) elsewhere; in an incident use a break-glass identity.",
    }
}
