use crate::rules::{Cx, Rule};
use crate::yaml::Node;

declare_rule! {
    /// ## What it does
    /// Finds KubeletConfiguration files (`kubelet.config.k8s.io/v1beta1`)
    /// with settings the CIS Kubernetes Benchmark (section 4.2) marks as
    /// insecure: anonymous access, `AlwaysAllow` authorization, no client
    /// CA, the read-only port, unlimited streaming idle time, no iptables
    /// chains, and certificate rotation turned off. One finding per
    /// setting, naming the recommendation. Unset fields with safe defaults
    /// (anonymous access off, read-only port 0) are not reported.
    ///
    /// ## Why is this bad?
    /// The kubelet API on port 10250 runs commands in every container of
    /// the node. With anonymous access or `AlwaysAllow`, anyone who reaches
    /// it owns the node's pods and their secrets — the way many
    /// cryptojacking campaigns get in. The read-only port 10255 serves pod
    /// specs, including environment variables, without any authentication.
    /// Disabling certificate rotation leaves long-lived credentials on the
    /// node.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: kubelet.config.k8s.io/v1beta1
    /// kind: KubeletConfiguration
    /// authentication:
    ///   anonymous: {enabled: true}
    /// authorization:
    ///   mode: AlwaysAllow
    /// readOnlyPort: 10255
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    /// apiVersion: kubelet.config.k8s.io/v1beta1
    /// kind: KubeletConfiguration
    /// authentication:
    ///   anonymous: {enabled: false}
    ///   webhook: {enabled: true}
    ///   x509: {clientCAFile: /etc/kubernetes/pki/ca.crt}
    /// authorization:
    ///   mode: Webhook
    /// readOnlyPort: 0
    /// rotateCertificates: true
    /// serverTLSBootstrap: true
    /// ```
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 4.2: Kubelet
    /// - NSA/CISA Kubernetes Hardening Guide: Control plane hardening
    /// - CWE-306: Missing Authentication for Critical Function
    /// - https://kubernetes.io/docs/reference/access-authn-authz/kubelet-authn-authz/
    pub struct InsecureKubeletConfiguration {
        code: "K8S083",
        name: "insecure-kubelet-configuration",
        title: "Kubelet configuration is insecure",
        severity: High,
        references: [
            Cis("4.2"),
            Nsa("Control plane hardening"),
            Cwe("CWE-306"),
            Url("https://kubernetes.io/docs/reference/access-authn-authz/kubelet-authn-authz/"),
        ],
        fix: "Set the KubeletConfiguration fields the CIS Benchmark section 4.2 requires, as each finding names.",
    }
}

/// `0`, `0s`, `0m`, `0h0m0s`: a zero Go duration.
fn is_zero_duration(n: &Node) -> bool {
    let Some(text) = n.as_str() else {
        return false;
    };
    let digits: String = text.chars().filter(|c| !c.is_ascii_alphabetic()).collect();
    !digits.is_empty() && digits.chars().all(|c| c == '0' || c == '.')
}

impl Rule for InsecureKubeletConfiguration {
    fn check(&self, cx: &mut Cx<'_>) {
        if cx.obj.group() != "kubelet.config.k8s.io" || cx.obj.kind != "KubeletConfiguration" {
            return;
        }
        let root = &cx.obj.root;
        // Kubelet configuration files usually have no metadata.
        let what = if cx.obj.name.is_some() {
            cx.describe()
        } else {
            "the KubeletConfiguration".to_string()
        };
        let mut found: Vec<(&[&str], String)> = Vec::new();
        let mut flag = |path: &'static [&'static str], cis: &str, text: &str| {
            found.push((path, format!("{what} {text} (CIS {cis})")));
        };
        let get = |path: &[&str]| root.path(path).filter(|n| !n.is_null());

        const ANONYMOUS: &[&str] = &["authentication", "anonymous", "enabled"];
        if get(ANONYMOUS).and_then(Node::as_bool) == Some(true) {
            flag(
                ANONYMOUS,
                "4.2.1",
                "allows anonymous requests to the kubelet API",
            );
        }
        const MODE: &[&str] = &["authorization", "mode"];
        if get(MODE).and_then(Node::as_str) == Some("AlwaysAllow") {
            flag(
                MODE,
                "4.2.2",
                "authorizes every kubelet API request (AlwaysAllow)",
            );
        }
        const CLIENT_CA: &[&str] = &["authentication", "x509", "clientCAFile"];
        if get(CLIENT_CA)
            .and_then(Node::as_str)
            .is_none_or(|s| s.trim().is_empty())
        {
            flag(
                CLIENT_CA,
                "4.2.3",
                "sets no authentication.x509.clientCAFile, so client certificates are not verified",
            );
        }
        const READ_ONLY: &[&str] = &["readOnlyPort"];
        if let Some(port) = get(READ_ONLY).and_then(Node::as_i64)
            && port != 0
        {
            flag(
                READ_ONLY,
                "4.2.4",
                &format!("opens the unauthenticated read-only port {port}"),
            );
        }
        const IDLE: &[&str] = &["streamingConnectionIdleTimeout"];
        if get(IDLE).is_some_and(is_zero_duration) {
            flag(
                IDLE,
                "4.2.5",
                "never times out idle exec and port-forward streams",
            );
        }
        const IPTABLES: &[&str] = &["makeIPTablesUtilChains"];
        if get(IPTABLES).and_then(Node::as_bool) == Some(false) {
            flag(
                IPTABLES,
                "4.2.7",
                "does not manage its iptables utility chains",
            );
        }
        const ROTATE: &[&str] = &["rotateCertificates"];
        if get(ROTATE).and_then(Node::as_bool) == Some(false) {
            flag(ROTATE, "4.2.11", "does not rotate its client certificate");
        }
        const GATE: &[&str] = &["featureGates", "RotateKubeletServerCertificate"];
        if get(GATE).and_then(Node::as_bool) == Some(false) {
            flag(
                GATE,
                "4.2.12",
                "disables rotation of its serving certificate",
            );
        }
        const BOOTSTRAP: &[&str] = &["serverTLSBootstrap"];
        if get(BOOTSTRAP).and_then(Node::as_bool) == Some(false) {
            flag(
                BOOTSTRAP,
                "4.2.12",
                "does not request its serving certificate from the cluster CA",
            );
        }
        for (path, message) in found {
            cx.report(cx.at(path), message);
        }
    }
}
