use crate::rules::{Cx, Rule};
use crate::yaml::Node;

declare_rule! {
    /// ## What it does
    /// Finds Ingresses that route traffic but have no `spec.tls`, and hosts
    /// of an Ingress that no `spec.tls` entry covers.
    ///
    /// ## Why is this bad?
    /// Those hosts are served over plain HTTP: session cookies, bearer
    /// tokens and form data cross the network in clear text, and anyone on
    /// the path can read or change responses. Certificates are free and
    /// automated (cert-manager), so there is rarely a reason left.
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
    ///             backend: {service: {name: web, port: {number: 80}}}
    /// ```
    ///
    /// ## Fix
    /// Add a TLS entry for every host:
    /// ```yaml
    /// spec:
    ///   tls:
    ///     - hosts: [shop.example.com]
    ///       secretName: shop-tls
    /// ```
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Network separation and hardening — Network policies
    /// - CWE-319: Cleartext Transmission of Sensitive Information
    /// - https://kubernetes.io/docs/concepts/services-networking/ingress/#tls
    pub struct IngressWithoutTls {
        code: "K8S064",
        name: "ingress-without-tls",
        title: "Ingress serves hosts without TLS",
        severity: Medium,
        references: [
            Nsa("Network policies"),
            Cwe("CWE-319"),
            Url("https://kubernetes.io/docs/concepts/services-networking/ingress/#tls"),
        ],
        fix: "Add a `spec.tls` entry (with a certificate Secret) covering every host of the Ingress.",
    }
}

/// Whether TLS host `pattern` (possibly `*.example.com`) covers `host`.
fn covers(pattern: &str, host: &str) -> bool {
    if pattern.eq_ignore_ascii_case(host) {
        return true;
    }
    match (pattern.strip_prefix("*."), host.split_once('.')) {
        (Some(suffix), Some((_, rest))) => suffix.eq_ignore_ascii_case(rest),
        _ => false,
    }
}

impl Rule for IngressWithoutTls {
    fn check(&self, cx: &mut Cx<'_>) {
        if !matches!(cx.obj.group(), "networking.k8s.io" | "extensions") || cx.obj.kind != "Ingress"
        {
            return;
        }
        let Some(spec) = cx.obj.root.get("spec") else {
            return;
        };
        let rules = spec.get("rules").map(Node::items).unwrap_or_default();
        if rules.is_empty() {
            return;
        }
        let tls = spec.get("tls").map(Node::items).unwrap_or_default();
        if tls.is_empty() {
            let hosts: Vec<&str> = rules
                .iter()
                .filter_map(|r| r.get("host").and_then(Node::as_str))
                .collect();
            let what = if hosts.is_empty() {
                "its routes".to_string()
            } else {
                hosts.join(", ")
            };
            let message = format!(
                "{} serves {what} over plain HTTP: it has no spec.tls",
                cx.describe()
            );
            cx.report(cx.at(&["spec", "tls"]), message);
            return;
        }
        let tls_hosts: Vec<&str> = tls
            .iter()
            .flat_map(|t| t.get("hosts").map(Node::items).unwrap_or_default())
            .filter_map(Node::as_str)
            .collect();
        for (i, rule) in rules.iter().enumerate() {
            let Some(host) = rule.get("host").and_then(Node::as_str) else {
                continue;
            };
            if tls_hosts.iter().any(|p| covers(p, host)) {
                continue;
            }
            let message = format!(
                "{} serves {host} over plain HTTP: no spec.tls entry lists it",
                cx.describe()
            );
            cx.report(cx.at_item(&["spec", "rules"], i, &["host"]), message);
        }
    }
}
