use crate::rules::{Cx, Rule};
use crate::yaml::Node;

declare_rule! {
    /// ## What it does
    /// Finds objects of any kind placed explicitly in the `default`
    /// namespace (`metadata.namespace: default`).
    ///
    /// Objects without a namespace are not reported: tools such as
    /// kustomize, Helm and Argo CD commonly set it at apply time, so a
    /// missing namespace in a manifest says nothing about where it lands.
    ///
    /// ## Why is this bad?
    /// `default` is where everything without a home ends up. Sharing it
    /// mixes unrelated applications under the same RBAC bindings, quotas,
    /// NetworkPolicies and Pod Security level, so a namespace-wide grant or
    /// a missing default-deny policy affects all of them. It is also the
    /// namespace attackers and careless `kubectl` sessions look at first.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: apps/v1
    /// kind: Deployment
    /// metadata:
    ///   name: api
    ///   namespace: default
    /// ```
    ///
    /// ## Fix
    /// Create a namespace per application or team and deploy there:
    /// ```yaml
    /// metadata:
    ///   name: api
    ///   namespace: shop
    /// ```
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.7.4: The default namespace should not be used
    /// - CIS Kubernetes Benchmark 5.7.1: Create administrative boundaries between resources using namespaces
    pub struct DefaultNamespace {
        code: "K8S045",
        name: "default-namespace",
        title: "Object is placed in the default namespace",
        severity: Low,
        references: [Cis("5.7.4"), Cis("5.7.1")],
        fix: "Deploy the object into a dedicated namespace instead of `default`.",
    }
}

impl Rule for DefaultNamespace {
    fn check(&self, cx: &mut Cx<'_>) {
        let namespace = cx
            .obj
            .metadata()
            .and_then(|m| m.get("namespace"))
            .and_then(Node::as_str);
        if namespace == Some("default") {
            let message = format!("{} is placed in the `default` namespace", cx.describe());
            cx.report(cx.at(&["metadata", "namespace"]), message);
        }
    }
}
