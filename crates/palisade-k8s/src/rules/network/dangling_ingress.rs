use palisade_core::Finding;

use crate::rules::inventory::Inventory;
use crate::rules::{CrossRule, Described, cx::describe};
use crate::settings::Settings;

declare_rule! {
    /// ## What it does
    /// Finds Ingress backends that name a Service not among the Services
    /// scanned in the Ingress's namespace. It reports only for namespaces
    /// where the scan found Services.
    ///
    /// ## Why is this bad?
    /// Requests to that path get a 503 from the ingress controller. It is
    /// usually a renamed Service; and whoever later creates a Service with
    /// the old name — in a shared namespace, anyone allowed to create
    /// Services — receives the traffic, cookies and credentials of that
    /// host and path.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: networking.k8s.io/v1
    /// kind: Ingress
    /// metadata: {name: shop, namespace: shop}
    /// spec:
    ///   rules:
    ///     - host: shop.example.com
    ///       http:
    ///         paths:
    ///           - path: /
    ///             pathType: Prefix
    ///             backend: {service: {name: web-old, port: {number: 80}}}
    /// ```
    ///
    /// ## Fix
    /// Point the backend at the current Service name, or remove the path.
    ///
    /// This is a cross-object rule: scan the namespace's manifests together.
    ///
    /// ## References
    /// - https://kubernetes.io/docs/concepts/services-networking/ingress/#the-ingress-resource
    pub struct DanglingIngress {
        code: "K8S073",
        name: "dangling-ingress",
        title: "Ingress routes to a missing Service",
        severity: Low,
        references: [Url("https://kubernetes.io/docs/concepts/services-networking/ingress/#the-ingress-resource")],
        fix: "Point the Ingress backend at an existing Service, or remove the route.",
    }
}

impl CrossRule for DanglingIngress {
    fn check(&self, inventory: &Inventory, _: &Settings, out: &mut Vec<Finding>) {
        for ing in &inventory.ingresses {
            let mut services = inventory
                .services
                .iter()
                .filter(|s| s.namespace == ing.namespace)
                .peekable();
            if services.peek().is_none() {
                continue;
            }
            let names: Vec<&str> = services.map(|s| s.name.as_str()).collect();
            let ns = if ing.namespace.is_empty() {
                "its namespace"
            } else {
                ing.namespace.as_str()
            };
            for (name, loc) in &ing.backends {
                if names.contains(&name.as_str()) {
                    continue;
                }
                out.push(ing.subject.finding(
                    self.meta(),
                    loc.clone(),
                    format!(
                        "{} routes to Service {name}, which is not among the Services scanned in {ns}",
                        describe(&ing.subject.resource)
                    ),
                ));
            }
        }
    }
}
