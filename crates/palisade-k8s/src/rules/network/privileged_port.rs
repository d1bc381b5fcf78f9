use crate::rules::{Cx, Rule};
use crate::yaml::Node;

declare_rule! {
    /// ## What it does
    /// Finds containers that declare a `containerPort` below
    /// `settings.privileged-port-limit` (default 1024).
    ///
    /// ## Why is this bad?
    /// Binding a port below 1024 traditionally needs root or the
    /// `NET_BIND_SERVICE` capability, so such images tend to run as root or
    /// keep a capability they would not otherwise need. Inside a pod there is
    /// no reason for it: the Service can map port 80 to 8080.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: web
    ///     image: nginx:1.27
    ///     ports:
    ///       - containerPort: 80
    /// ```
    ///
    /// ## Fix
    /// Listen on an unprivileged port and map it in the Service:
    /// ```yaml
    ///     image: nginxinc/nginx-unprivileged:1.27
    ///     ports:
    ///       - containerPort: 8080
    /// ```
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Non-root containers
    /// - CWE-250: Execution with Unnecessary Privileges
    pub struct PrivilegedPort {
        code: "K8S065",
        name: "privileged-port",
        title: "Container uses a privileged port",
        severity: Low,
        references: [Nsa("Non-root containers"), Cwe("CWE-250")],
        fix: "Listen on a port of 1024 or above and map it to the public port in the Service.",
    }
}

impl Rule for PrivilegedPort {
    fn check(&self, cx: &mut Cx<'_>) {
        let Some(pod) = cx.pod() else { return };
        let limit = cx.settings.privileged_port_limit;
        for c in pod.containers() {
            let ports = c.get(&["ports"]).map(Node::items).unwrap_or_default();
            for (i, port) in ports.iter().enumerate() {
                let Some(n) = port.get("containerPort").and_then(Node::as_i64) else {
                    continue;
                };
                if n <= 0 || n >= limit {
                    continue;
                }
                cx.report(
                    c.at_item(&["ports"], i, &["containerPort"]),
                    format!(
                        "{} listens on privileged port {n}, which needs root or NET_BIND_SERVICE",
                        c.describe()
                    ),
                );
            }
        }
    }
}
