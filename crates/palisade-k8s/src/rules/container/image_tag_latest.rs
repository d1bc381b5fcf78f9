use super::image;
use crate::rules::{Cx, Rule};

declare_rule! {
    /// ## What it does
    /// Finds container images with neither a tag nor a digest (the runtime
    /// pulls `latest`), or tagged `latest` without a digest. A registry
    /// port is not a tag (`registry:5000/app` is untagged) and a digest pins
    /// the image (`app@sha256:…`, `app:latest@sha256:…` are fine).
    ///
    /// ## Why is this bad?
    /// `latest` names whatever was pushed last. Two nodes, or the same node
    /// before and after a restart, can run different code under the same
    /// manifest; rollbacks do not roll anything back; and anyone who can
    /// push to the repository changes what runs in the cluster without a
    /// change to the manifests or an audit trail in Git.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: web
    ///     image: nginx
    /// ```
    ///
    /// ## Fix
    /// Use an immutable version tag, ideally with its digest:
    /// ```yaml
    ///     image: nginx:1.27.1@sha256:<digest>
    /// ```
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Upgrading and application security practices
    /// - CWE-1357: Reliance on Insufficiently Trustworthy Component
    pub struct ImageTagLatest {
        code: "K8S034",
        name: "image-tag-latest",
        title: "Container image uses the latest tag",
        severity: Medium,
        references: [Nsa("Upgrading and application security practices"), Cwe("CWE-1357")],
        fix: "Reference the image by a specific version tag (and digest) instead of `latest`.",
    }
}

impl Rule for ImageTagLatest {
    fn check(&self, cx: &mut Cx<'_>) {
        let Some(pod) = cx.pod() else { return };
        for c in pod.containers() {
            let Some(reference) = c.image() else { continue };
            let Some(parsed) = image::parse(reference) else {
                continue;
            };
            let message = if parsed.is_untagged() {
                format!(
                    "{} uses image `{reference}` without a tag (the runtime pulls `latest`)",
                    c.describe()
                )
            } else if parsed.tag == Some("latest") && !parsed.is_pinned() {
                format!(
                    "{} uses image `{reference}` with the `latest` tag",
                    c.describe()
                )
            } else {
                continue;
            };
            cx.report(c.at(&["image"]), message);
        }
    }
}
