use palisade_k8s::declare_rule;

declare_rule! {
    /// ## What it does
    /// Checks that every container image (containers, init and ephemeral
    /// containers of Pods and of workload templates) carries a cosign
    /// signature made with the configured key: the registry must hold a
    /// `sha256-<digest>.sig` tag whose simple-signing payload names the
    /// image's digest and whose ECDSA P-256 signature verifies with the
    /// public key in `images.signatures.public-key`. Tags are resolved to
    /// digests first. Results are cached per digest.
    ///
    /// Only active when `images.signatures` is configured. A registry that
    /// cannot be reached is not a violation: the request is answered by
    /// the failure policy.
    ///
    /// ## Why is this bad?
    /// An unsigned image did not come out of the organisation's build
    /// pipeline, or was changed after it: a pushed-over tag, a compromised
    /// registry account, or an image built on a laptop.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: web
    ///     image: registry.example.com/web:1.4   # no signature for its digest
    /// ```
    ///
    /// ## Fix
    /// Sign the image in CI (`cosign sign --key cosign.key IMAGE@DIGEST`)
    /// and deploy it by digest.
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.5.1: Configure Image Provenance using ImagePolicyWebhook admission controller
    /// - https://docs.sigstore.dev/cosign/signing/signing_with_containers/
    /// - CWE-494: Download of Code Without Integrity Check
    pub struct UnsignedImage {
        code: "ADM006",
        name: "unsigned-image",
        title: "Container image has no valid signature from the configured key",
        severity: High,
        references: [
            Cis("5.5.1"),
            Url("https://docs.sigstore.dev/cosign/signing/signing_with_containers/"),
            Cwe("CWE-494"),
        ],
        fix: "Sign the image in CI with the organisation's key (`cosign sign --key …`) and deploy it by digest.",
    }
}
