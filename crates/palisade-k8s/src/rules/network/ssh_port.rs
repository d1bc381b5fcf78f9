use crate::rules::{Cx, Rule};
use crate::yaml::Node;

declare_rule! {
    /// ## What it does
    /// Finds containers that expose port 22 (`containerPort: 22`) and
    /// Services that forward port 22 (`port` or `targetPort`).
    ///
    /// ## Why is this bad?
    /// An SSH server in a container is a second way in that bypasses
    /// Kubernetes authentication, RBAC and audit logging, with its own keys
    /// or passwords to leak and brute-force. It also means the image carries
    /// a full login environment. `kubectl exec` and `kubectl debug` do the
    /// same job with the cluster's own access control.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: app
    ///     image: registry.example.com/app:1.0
    ///     ports:
    ///       - containerPort: 22
    /// ```
    ///
    /// ## Fix
    /// Remove the SSH server and port; use `kubectl exec` or `kubectl debug`
    /// (through RBAC) for interactive access.
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Network separation and hardening — Network policies
    pub struct SshPort {
        code: "K8S066",
        name: "ssh-port",
        title: "SSH port is exposed",
        severity: Low,
        references: [Nsa("Network policies")],
        fix: "Remove the SSH server and port 22; use `kubectl exec` or `kubectl debug` for access.",
    }
}

const SSH: i64 = 22;

impl Rule for SshPort {
    fn check(&self, cx: &mut Cx<'_>) {
        if let Some(pod) = cx.pod() {
            for c in pod.containers() {
                let ports = c.get(&["ports"]).map(Node::items).unwrap_or_default();
                for (i, port) in ports.iter().enumerate() {
                    if port.get("containerPort").and_then(Node::as_i64) == Some(SSH) {
                        cx.report(
                            c.at_item(&["ports"], i, &["containerPort"]),
                            format!("{} exposes SSH port 22", c.describe()),
                        );
                    }
                }
            }
            return;
        }
        if !cx.obj.group().is_empty() || cx.obj.kind != "Service" {
            return;
        }
        let ports = cx
            .obj
            .root
            .path(&["spec", "ports"])
            .map(Node::items)
            .unwrap_or_default();
        for (i, port) in ports.iter().enumerate() {
            let field = ["port", "targetPort"]
                .into_iter()
                .find(|f| port.get(f).and_then(Node::as_i64) == Some(SSH));
            if let Some(field) = field {
                let message = format!("{} forwards SSH port 22 ({field})", cx.describe());
                cx.report(cx.at_item(&["spec", "ports"], i, &[field]), message);
            }
        }
    }
}
