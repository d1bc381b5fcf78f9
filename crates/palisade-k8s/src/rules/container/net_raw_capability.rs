use super::report_added_capability;
use crate::rules::{Cx, Rule};

declare_rule! {
    /// ## What it does
    /// Finds containers that add the `NET_RAW` capability (with or without
    /// the `CAP_` prefix).
    ///
    /// ## Why is this bad?
    /// `NET_RAW` lets a process open raw and packet sockets: forge any
    /// packet, sniff traffic on its interfaces, and spoof ARP, DNS or IPv6
    /// router advertisements towards other pods on the node (as in
    /// CVE-2020-14386 and the CVE-2020-10749 IPv6 route injection). Only
    /// tools like `ping` and packet capture need it, and modern `ping`
    /// works without it.
    ///
    /// ## Example
    /// ```yaml
    /// securityContext:
    ///   capabilities:
    ///     add: [NET_RAW]
    /// ```
    ///
    /// ## Fix
    /// Remove `NET_RAW` and drop all capabilities:
    /// ```yaml
    /// securityContext:
    ///   capabilities:
    ///     drop: [ALL]
    /// ```
    ///
    /// ## References
    /// - Pod Security Standards, baseline: Capabilities
    /// - CIS Kubernetes Benchmark 5.2.8: Minimize the admission of containers with the NET_RAW capability
    /// - NSA/CISA Kubernetes Hardening Guide: Pod security
    pub struct NetRawCapability {
        code: "K8S013",
        name: "net-raw-capability",
        title: "Container adds the NET_RAW capability",
        severity: Medium,
        references: [Pss("baseline"), Cis("5.2.8"), Nsa("Pod security")],
        fix: "Remove NET_RAW from `capabilities.add` and drop ALL capabilities.",
    }
}

impl Rule for NetRawCapability {
    fn check(&self, cx: &mut Cx<'_>) {
        report_added_capability(cx, "NET_RAW", " (raw sockets: packet forging and spoofing)");
    }
}
