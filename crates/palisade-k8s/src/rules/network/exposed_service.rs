use palisade_core::Severity;

use crate::rules::{Cx, Rule};
use crate::yaml::Node;

declare_rule! {
    /// ## What it does
    /// Finds Services exposed outside the cluster network: type `NodePort`
    /// (low), type `LoadBalancer` without `loadBalancerSourceRanges`
    /// (medium; internal load balancers are left alone), and any
    /// `externalIPs` (medium).
    ///
    /// ## Why is this bad?
    /// A NodePort listens on every node's address, bypassing the Ingress
    /// and whatever authentication it enforces. A public load balancer with
    /// no source ranges is open to the whole internet — often for services
    /// (admin UIs, databases) that were never meant to be. `externalIPs`
    /// makes kube-proxy capture traffic for addresses the cluster does not
    /// own: anyone who can create a Service can use it to intercept traffic
    /// to any IP (CVE-2020-8554, never fixed in Kubernetes itself).
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: v1
    /// kind: Service
    /// metadata: {name: admin, namespace: shop}
    /// spec:
    ///   type: LoadBalancer
    ///   ports: [{port: 443, targetPort: 8443}]
    /// ```
    ///
    /// ## Fix
    /// Expose HTTP services through an Ingress or Gateway and keep Services
    /// `ClusterIP`. When a load balancer is needed, restrict who can reach
    /// it, and block `externalIPs` cluster-wide with the
    /// `DenyServiceExternalIPs` admission plugin:
    /// ```yaml
    /// spec:
    ///   type: LoadBalancer
    ///   loadBalancerSourceRanges: ["203.0.113.0/24"]
    /// ```
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Network separation and hardening — Network policies
    /// - CWE-668: Exposure of Resource to Wrong Sphere
    /// - https://nvd.nist.gov/vuln/detail/CVE-2020-8554
    pub struct ExposedService {
        code: "K8S063",
        name: "exposed-service",
        title: "Service is exposed outside the cluster",
        severity: Medium,
        references: [
            Nsa("Network policies"),
            Cwe("CWE-668"),
            Url("https://nvd.nist.gov/vuln/detail/CVE-2020-8554"),
        ],
        fix: "Use a ClusterIP Service behind an Ingress, restrict load balancers with `loadBalancerSourceRanges`, and remove `externalIPs`.",
    }
}

/// Annotations that make a cloud load balancer internal (private network).
const INTERNAL_LB: &[(&str, &str)] = &[
    (
        "service.beta.kubernetes.io/aws-load-balancer-internal",
        "true",
    ),
    (
        "service.beta.kubernetes.io/aws-load-balancer-scheme",
        "internal",
    ),
    (
        "service.beta.kubernetes.io/azure-load-balancer-internal",
        "true",
    ),
    ("networking.gke.io/load-balancer-type", "Internal"),
    ("cloud.google.com/load-balancer-type", "Internal"),
    (
        "service.beta.kubernetes.io/oci-load-balancer-internal",
        "true",
    ),
];

impl Rule for ExposedService {
    fn check(&self, cx: &mut Cx<'_>) {
        if !cx.obj.group().is_empty() || cx.obj.kind != "Service" {
            return;
        }
        let Some(spec) = cx.obj.root.get("spec") else {
            return;
        };
        match spec.get("type").and_then(Node::as_str) {
            Some("NodePort") => {
                let ports: Vec<&str> = spec
                    .get("ports")
                    .map(Node::items)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|p| p.get("nodePort").and_then(Node::as_str))
                    .collect();
                let on = if ports.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", ports.join(", "))
                };
                let message = format!(
                    "{} is a NodePort Service: it listens on a port{on} of every node, bypassing the Ingress",
                    cx.describe()
                );
                cx.report_with(Severity::Low, cx.at(&["spec", "type"]), message);
            }
            Some("LoadBalancer") => {
                let restricted = spec
                    .get("loadBalancerSourceRanges")
                    .is_some_and(|r| !r.items().is_empty());
                let internal = INTERNAL_LB.iter().any(|(key, value)| {
                    cx.obj
                        .annotation(key)
                        .is_some_and(|v| v.eq_ignore_ascii_case(value))
                });
                if !restricted && !internal {
                    let message = format!(
                        "{} is a LoadBalancer without loadBalancerSourceRanges: anyone who can reach the load balancer can connect",
                        cx.describe()
                    );
                    cx.report_with(Severity::Medium, cx.at(&["spec", "type"]), message);
                }
            }
            _ => {}
        }
        let ips: Vec<&str> = spec
            .get("externalIPs")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .filter_map(Node::as_str)
            .collect();
        if !ips.is_empty() {
            let message = format!(
                "{} sets externalIPs {}: kube-proxy captures traffic to these addresses on every node (CVE-2020-8554)",
                cx.describe(),
                ips.join(", ")
            );
            cx.report_with(Severity::Medium, cx.at(&["spec", "externalIPs"]), message);
        }
    }
}
