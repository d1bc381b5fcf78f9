use crate::rules::{Cx, Rule};
use crate::yaml::Node;

declare_rule! {
    /// ## What it does
    /// Finds pods that set `hostAliases`, i.e. write their own entries into
    /// the containers' `/etc/hosts`.
    ///
    /// ## Why is this bad?
    /// Host aliases silently override cluster DNS for the names they list.
    /// They hard-code IP addresses that go stale when the target moves, hide
    /// where traffic really goes from anyone reading DNS or service
    /// configuration, and can redirect a dependency (a registry, an identity
    /// provider, an internal API) to another host without any change to the
    /// application's configuration.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   hostAliases:
    ///     - ip: 10.0.3.7
    ///       hostnames: [auth.example.com]
    /// ```
    ///
    /// ## Fix
    /// Remove `hostAliases` and publish the name in DNS, or point clients at
    /// a Service (an `ExternalName` Service or a Service without selector
    /// with explicit Endpoints for out-of-cluster addresses).
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Pod security
    /// - Kubernetes documentation: Adding entries to Pod /etc/hosts with HostAliases
    pub struct HostAliases {
        code: "K8S029",
        name: "host-aliases",
        title: "Pod overrides /etc/hosts with hostAliases",
        severity: Low,
        references: [
            Nsa("Pod security"),
            Url("https://kubernetes.io/docs/tasks/network/customize-hosts-file-for-pods/"),
        ],
        fix: "Remove `hostAliases` and resolve the names through DNS or a Service.",
    }
}

impl Rule for HostAliases {
    fn check(&self, cx: &mut Cx<'_>) {
        let Some(pod) = cx.pod() else { return };
        let Some(aliases) = pod.get("hostAliases") else {
            return;
        };
        if aliases.items().is_empty() {
            return;
        }
        let names: Vec<&str> = aliases
            .items()
            .iter()
            .flat_map(|a| a.get("hostnames").map(Node::items).unwrap_or_default())
            .filter_map(Node::as_str)
            .collect();
        let message = format!(
            "{} overrides /etc/hosts for {}",
            cx.describe(),
            if names.is_empty() {
                "its containers".to_string()
            } else {
                names.join(", ")
            }
        );
        cx.report(pod.at(&["hostAliases"]), message);
    }
}
