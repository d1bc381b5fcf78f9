use palisade_k8s::declare_rule;

declare_rule! {
    /// ## What it does
    /// Denies changing a container's image on an existing Pod (an `UPDATE`
    /// of `pods` whose `spec.containers[*].image` or
    /// `spec.initContainers[*].image` differs from the old object's), except
    /// for the configured break-glass users and groups.
    ///
    /// ## Why is this bad?
    /// `kubectl set image pod/…` or a patch swaps the code of a running
    /// pod in place: the kubelet restarts the container with the new image,
    /// outside of the Deployment's rollout, its history and the CI that
    /// reviewed and scanned the image. The workload then runs something no
    /// manifest in version control describes.
    ///
    /// ## Example
    /// ```sh
    /// kubectl set image pod/web-7d9f web=registry.example.com/web:hotfix
    /// ```
    ///
    /// ## Fix
    /// Change the image in the Deployment (through CI) and let it roll out
    /// new pods.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Pod security (immutable containers)
    /// - CWE-284: Improper Access Control
    pub struct InPlaceImageChange {
        code: "ADM005",
        name: "in-place-image-change",
        title: "Container image changed on a running pod",
        severity: High,
        references: [Nsa("Pod security"), Cwe("CWE-284")],
        fix: "Change the image in the workload's manifest and roll out new pods through CI.",
    }
}
