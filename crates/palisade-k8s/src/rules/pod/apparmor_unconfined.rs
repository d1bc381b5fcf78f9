use crate::rules::{Cx, Rule};
use crate::yaml::Node;

declare_rule! {
    /// ## What it does
    /// Finds pods and containers that switch AppArmor off: the annotation
    /// `container.apparmor.security.beta.kubernetes.io/<container>:
    /// unconfined`, or `securityContext.appArmorProfile.type: Unconfined` on
    /// the pod or a container.
    ///
    /// ## Why is this bad?
    /// On nodes with AppArmor (Ubuntu, Debian, COS, Bottlerocket…), the
    /// runtime confines every container with a default profile that denies
    /// mounting filesystems, writing to most of `/proc` and `/sys`, and
    /// other operations used to escape containers. `unconfined` removes
    /// that layer of defence for the container.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   annotations:
    ///     container.apparmor.security.beta.kubernetes.io/app: unconfined
    /// spec:
    ///   containers:
    ///     - name: app
    ///       securityContext:
    ///         appArmorProfile:
    ///           type: Unconfined
    /// ```
    ///
    /// ## Fix
    /// Remove the override (the runtime default applies), or set it
    /// explicitly:
    /// ```yaml
    ///       securityContext:
    ///         appArmorProfile:
    ///           type: RuntimeDefault
    /// ```
    ///
    /// ## References
    /// - Pod Security Standards, baseline: AppArmor
    /// - NSA/CISA Kubernetes Hardening Guide: Pod security
    pub struct ApparmorUnconfined {
        code: "K8S023",
        name: "apparmor-unconfined",
        title: "AppArmor is disabled for a container",
        severity: Medium,
        references: [Pss("baseline"), Nsa("Pod security")],
        fix: "Remove the `unconfined` AppArmor setting, or set the profile to `RuntimeDefault` or a `Localhost` profile.",
    }
}

const ANNOTATION_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";
const FIELD: [&str; 3] = ["securityContext", "appArmorProfile", "type"];

impl Rule for ApparmorUnconfined {
    fn check(&self, cx: &mut Cx<'_>) {
        let Some(pod) = cx.pod() else { return };
        let annotations = pod
            .metadata
            .and_then(|m| m.get("annotations"))
            .map(Node::entries)
            .unwrap_or_default();
        for e in annotations {
            let Some(name) = e.key.strip_prefix(ANNOTATION_PREFIX) else {
                continue;
            };
            if e.value.as_str().map(str::trim) != Some("unconfined") {
                continue;
            }
            let who = pod
                .containers()
                .find(|c| c.name == name)
                .map_or_else(|| format!("container `{name}`"), |c| c.describe());
            let mut loc = pod.annotation_at(&e.key);
            loc.container = Some(name.to_string());
            cx.report(
                loc,
                format!("{who} runs without AppArmor (annotation set to unconfined)"),
            );
        }
        if pod.node.path(&FIELD).and_then(Node::as_str) == Some("Unconfined") {
            let message = format!(
                "{} runs its containers without AppArmor (appArmorProfile Unconfined)",
                cx.describe()
            );
            cx.report(pod.at(&FIELD), message);
        }
        for c in pod.containers() {
            if c.get(&FIELD).and_then(Node::as_str) == Some("Unconfined") {
                cx.report(
                    c.at(&FIELD),
                    format!(
                        "{} runs without AppArmor (appArmorProfile Unconfined)",
                        c.describe()
                    ),
                );
            }
        }
    }
}
