use super::image;
use crate::rules::{Cx, Rule};

declare_rule! {
    /// ## What it does
    /// Finds container images not pinned by a content digest
    /// (`@sha256:…`).
    ///
    /// ## Why is this bad?
    /// Tags are mutable: whoever can push to the repository (a compromised
    /// CI job, a stolen registry token, a hijacked upstream project) can move
    /// a tag to a different image, and every node that pulls it next runs
    /// the new content. A digest names exactly one image; a changed image
    /// cannot match it. It also makes deployments reproducible and lets
    /// image-signature and vulnerability results apply to what really runs.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: web
    ///     image: nginx:1.27.1
    /// ```
    ///
    /// ## Fix
    /// Keep the tag for readability and add the digest (tools such as
    /// Renovate or `crane digest` keep it up to date):
    /// ```yaml
    ///     image: nginx:1.27.1@sha256:<digest>
    /// ```
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Upgrading and application security practices
    /// - CWE-494: Download of Code Without Integrity Check
    pub struct ImageNotPinnedByDigest {
        code: "K8S035",
        name: "image-not-pinned-by-digest",
        title: "Container image is not pinned by digest",
        severity: Low,
        references: [Nsa("Upgrading and application security practices"), Cwe("CWE-494")],
        fix: "Pin the image by digest (`image: repo:tag@sha256:<digest>`).",
    }
}

impl Rule for ImageNotPinnedByDigest {
    fn check(&self, cx: &mut Cx<'_>) {
        let Some(pod) = cx.pod() else { return };
        for c in pod.containers() {
            let Some(reference) = c.image() else { continue };
            let Some(parsed) = image::parse(reference) else {
                continue;
            };
            if !parsed.is_pinned() {
                cx.report(
                    c.at(&["image"]),
                    format!("{} uses image `{reference}` without a digest", c.describe()),
                );
            }
        }
    }
}
