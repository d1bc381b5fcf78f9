use crate::rules::{Cx, Rule};
use crate::yaml::Node;

declare_rule! {
    /// ## What it does
    /// Finds Ingresses with ingress-nginx snippet annotations
    /// (`nginx.ingress.kubernetes.io/configuration-snippet`,
    /// `server-snippet`, `auth-snippet`, `stream-snippet`), and ingress-nginx
    /// ConfigMaps that allow them (`allow-snippet-annotations: "true"`).
    ///
    /// ## Why is this bad?
    /// A snippet is pasted verbatim into the NGINX configuration of the
    /// shared controller. Anyone who can create an Ingress in any namespace
    /// can use it to read files in the controller pod — including its
    /// service account token, which can read every Secret in the cluster —
    /// or to hijack other tenants' traffic (CVE-2021-25742). The
    /// IngressNightmare vulnerabilities (CVE-2025-1974 and its companions)
    /// showed the same configuration-injection path through other
    /// annotations, reachable even without creating an Ingress.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: networking.k8s.io/v1
    /// kind: Ingress
    /// metadata:
    ///   name: web
    ///   annotations:
    ///     nginx.ingress.kubernetes.io/configuration-snippet: |
    ///       more_set_headers "X-Frame-Options: DENY";
    /// ```
    ///
    /// ## Fix
    /// Use the dedicated annotations (or a ConfigMap managed by the platform
    /// team) instead of snippets, keep `allow-snippet-annotations: "false"`
    /// (the default since ingress-nginx 1.9), and run a patched controller
    /// (1.11.5 / 1.12.1 or later).
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Upgrading and application security practices
    /// - CWE-94: Improper Control of Generation of Code ('Code Injection')
    /// - https://nvd.nist.gov/vuln/detail/CVE-2021-25742
    /// - https://nvd.nist.gov/vuln/detail/CVE-2025-1974
    pub struct IngressNginxSnippetAnnotations {
        code: "K8S061",
        name: "ingress-nginx-snippet-annotations",
        title: "ingress-nginx snippet annotations are used or allowed",
        severity: High,
        references: [
            Nsa("Upgrading and application security practices"),
            Cwe("CWE-94"),
            Url("https://nvd.nist.gov/vuln/detail/CVE-2021-25742"),
            Url("https://nvd.nist.gov/vuln/detail/CVE-2025-1974"),
        ],
        fix: "Replace snippet annotations with dedicated annotations and set `allow-snippet-annotations: \"false\"` in the controller's ConfigMap.",
    }
}

const SNIPPETS: &[&str] = &[
    "nginx.ingress.kubernetes.io/configuration-snippet",
    "nginx.ingress.kubernetes.io/server-snippet",
    "nginx.ingress.kubernetes.io/auth-snippet",
    "nginx.ingress.kubernetes.io/stream-snippet",
];

/// Go's `strconv.ParseBool` true values, which ingress-nginx uses.
fn go_true(s: &str) -> bool {
    matches!(s.trim(), "1" | "t" | "T" | "true" | "TRUE" | "True")
}

impl Rule for IngressNginxSnippetAnnotations {
    fn check(&self, cx: &mut Cx<'_>) {
        match (cx.obj.group(), cx.obj.kind.as_str()) {
            ("networking.k8s.io" | "extensions", "Ingress") => {
                let annotations = cx.obj.metadata().and_then(|m| m.get("annotations"));
                for key in SNIPPETS {
                    let set = annotations
                        .and_then(|a| a.get(key))
                        .and_then(Node::as_str)
                        .is_some_and(|v| !v.trim().is_empty());
                    if !set {
                        continue;
                    }
                    let short = key.rsplit('/').next().unwrap_or(key);
                    let message = format!(
                        "{} injects raw NGINX configuration into the shared controller ({short})",
                        cx.describe()
                    );
                    cx.report(cx.at(&["metadata", "annotations", key]), message);
                }
            }
            ("", "ConfigMap") => {
                let allowed = cx
                    .obj
                    .root
                    .path(&["data", "allow-snippet-annotations"])
                    .and_then(Node::as_str)
                    .is_some_and(go_true);
                if allowed {
                    let message = format!(
                        "{} allows snippet annotations: anyone who can create an Ingress can inject NGINX configuration into the controller",
                        cx.describe()
                    );
                    cx.report(cx.at(&["data", "allow-snippet-annotations"]), message);
                }
            }
            _ => {}
        }
    }
}
