use super::image;
use crate::rules::{Cx, Rule};
use crate::yaml::Node;

declare_rule! {
    /// ## What it does
    /// Finds containers whose effective `imagePullPolicy` is not `Always`
    /// while their image is not pinned by digest. When the field is
    /// omitted, Kubernetes defaults it to `Always` for untagged and `latest`
    /// images and to `IfNotPresent` otherwise.
    ///
    /// ## Why is this bad?
    /// With `IfNotPresent` (or `Never`) a node runs whatever image it has
    /// cached under the tag: nodes drift apart when a tag moves, and a
    /// poisoned or stale image stays in use. The kubelet also skips the
    /// registry's authorisation check for cached images, so any pod on the
    /// node can run a private image pulled earlier by another tenant (the
    /// reason the `AlwaysPullImages` admission plugin exists). Pinning the
    /// image by digest makes the policy irrelevant.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: app
    ///     image: registry.example.com/app:1.4.2
    /// ```
    ///
    /// ## Fix
    /// Pin the image by digest, or always pull it:
    /// ```yaml
    ///     image: registry.example.com/app:1.4.2
    ///     imagePullPolicy: Always
    /// ```
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Upgrading and application security practices
    /// - Kubernetes documentation: Images — Image pull policy
    pub struct ImagePullPolicyNotAlways {
        code: "K8S036",
        name: "image-pull-policy-not-always",
        title: "Unpinned image is not always pulled",
        severity: Low,
        references: [
            Nsa("Upgrading and application security practices"),
            Url("https://kubernetes.io/docs/concepts/containers/images/#image-pull-policy"),
        ],
        fix: "Pin the image by digest, or set `imagePullPolicy: Always`.",
    }
}

impl Rule for ImagePullPolicyNotAlways {
    fn check(&self, cx: &mut Cx<'_>) {
        let Some(pod) = cx.pod() else { return };
        for c in pod.containers() {
            let Some(reference) = c.image() else { continue };
            let Some(parsed) = image::parse(reference) else {
                continue;
            };
            if parsed.is_pinned() {
                continue;
            }
            let message = match c.get(&["imagePullPolicy"]).and_then(Node::as_str) {
                Some("Always") => continue,
                Some(policy) => format!(
                    "{} uses imagePullPolicy {policy} for unpinned image `{reference}`",
                    c.describe()
                ),
                None if parsed.tag.is_none() || parsed.tag == Some("latest") => continue,
                None => format!(
                    "{} pulls unpinned image `{reference}` only if not present (imagePullPolicy defaults to IfNotPresent)",
                    c.describe()
                ),
            };
            cx.report(c.at(&["imagePullPolicy"]), message);
        }
    }
}
