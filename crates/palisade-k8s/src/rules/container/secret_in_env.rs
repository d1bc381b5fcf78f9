use crate::rules::{Cx, Rule};
use crate::yaml::Node;

declare_rule! {
    /// ## What it does
    /// Finds containers that read Secrets into environment variables:
    /// `env[].valueFrom.secretKeyRef` and `envFrom[].secretRef`.
    ///
    /// ## Why is this bad?
    /// Environment variables leak far more easily than files: they are
    /// inherited by every child process, printed by crash handlers, debug
    /// endpoints and `env` in support sessions, visible in
    /// `/proc/<pid>/environ` to anything sharing the process namespace, and
    /// frozen at container start, so a rotated secret needs a restart.
    /// Secrets mounted as files avoid all of this and are updated in place.
    ///
    /// ## Example
    /// ```yaml
    /// env:
    ///   - name: DB_PASSWORD
    ///     valueFrom:
    ///       secretKeyRef: {name: db, key: password}
    /// ```
    ///
    /// ## Fix
    /// Mount the Secret and point the application at the file:
    /// ```yaml
    /// env:
    ///   - name: DB_PASSWORD_FILE
    ///     value: /run/secrets/db/password
    /// volumeMounts:
    ///   - {name: db, mountPath: /run/secrets/db, readOnly: true}
    /// volumes:
    ///   - name: db
    ///     secret: {secretName: db}
    /// ```
    ///
    /// ## References
    /// - CIS Kubernetes Benchmark 5.4.1: Prefer using secrets as files over secrets as environment variables
    /// - NSA/CISA Kubernetes Hardening Guide: Secrets
    /// - CWE-526: Cleartext Storage of Sensitive Information in an Environment Variable
    pub struct SecretInEnv {
        code: "K8S040",
        name: "secret-in-env",
        title: "Container reads a Secret into environment variables",
        severity: Low,
        references: [Cis("5.4.1"), Nsa("Secrets"), Cwe("CWE-526")],
        fix: "Mount the Secret as a read-only volume and read it from the file instead of an environment variable.",
    }
}

impl Rule for SecretInEnv {
    fn check(&self, cx: &mut Cx<'_>) {
        let Some(pod) = cx.pod() else { return };
        let text =
            |n: &Node, key: &str| n.get(key).and_then(Node::as_str).unwrap_or("?").to_string();
        for c in pod.containers() {
            let env = c.get(&["env"]).map(Node::items).unwrap_or_default();
            for (i, e) in env.iter().enumerate() {
                let Some(r) = e
                    .path(&["valueFrom", "secretKeyRef"])
                    .filter(|r| !r.is_null())
                else {
                    continue;
                };
                cx.report(
                    c.at_item(&["env"], i, &["valueFrom", "secretKeyRef"]),
                    format!(
                        "{} reads key `{}` of Secret `{}` into env var {}",
                        c.describe(),
                        text(r, "key"),
                        text(r, "name"),
                        text(e, "name")
                    ),
                );
            }
            let env_from = c.get(&["envFrom"]).map(Node::items).unwrap_or_default();
            for (i, e) in env_from.iter().enumerate() {
                let Some(r) = e.get("secretRef").filter(|r| !r.is_null()) else {
                    continue;
                };
                cx.report(
                    c.at_item(&["envFrom"], i, &["secretRef"]),
                    format!(
                        "{} loads every key of Secret `{}` into its environment",
                        c.describe(),
                        text(r, "name")
                    ),
                );
            }
        }
    }
}
