use super::credentials::{
    Credential, is_non_secret_value, is_secret_like_name, known_secret_format,
};
use crate::rules::{Cx, Rule};

declare_rule! {
    /// ## What it does
    /// Finds ConfigMap (`v1`) `data` entries that hold a credential: a
    /// non-empty literal under a secret-like key (`db.password`,
    /// `API_KEY`, `clientSecret`, …; see `credential-in-env-value` for the
    /// names and the values that are skipped), or a value containing a
    /// well-known secret format (AWS access key IDs, GitHub and Slack
    /// tokens, PEM private keys) anywhere, including inside embedded files.
    /// Keys that name a file (`secrets.yaml`, `auth.conf`) and multi-line
    /// values are only checked for known formats. Findings never include
    /// the value.
    ///
    /// ## Why is this bad?
    /// ConfigMaps are not treated as confidential: they are readable by
    /// far more subjects than Secrets (many roles grant `get` on
    /// ConfigMaps), are not encrypted at rest by default configurations
    /// that encrypt Secrets, and are printed freely by tooling and logs. A
    /// credential there is exposed to everyone who can read the namespace's
    /// configuration, and to everyone with access to the Git repository.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: v1
    /// kind: ConfigMap
    /// metadata: {name: app-config}
    /// data:
    ///   db.host: postgres.db.svc
    ///   db.password: hunter2
    /// ```
    ///
    /// ## Fix
    /// Move the credential into a Secret (or an external secret manager),
    /// keep only non-sensitive settings in the ConfigMap, and rotate the
    /// exposed credential:
    /// ```yaml
    /// apiVersion: v1
    /// kind: Secret
    /// metadata: {name: app-db}
    /// type: Opaque
    /// stringData:
    ///   password: <from your secret manager>
    /// ```
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Secrets
    /// - CWE-798: Use of Hard-coded Credentials
    pub struct CredentialInConfigmap {
        code: "K8S042",
        name: "credential-in-configmap",
        title: "Credential stored in a ConfigMap",
        severity: High,
        references: [Nsa("Secrets"), Cwe("CWE-798")],
        fix: "Move the credential into a Secret and rotate it.",
    }
}

/// File extensions that make a ConfigMap key a file name: the value is a
/// whole file, and the key's words say nothing about it being a secret.
const FILE_EXTENSIONS: &[&str] = &[
    "conf",
    "cfg",
    "cnf",
    "ini",
    "yaml",
    "yml",
    "json",
    "xml",
    "toml",
    "properties",
    "env",
    "sh",
    "py",
    "js",
    "lua",
    "txt",
    "tpl",
    "j2",
    "tmpl",
    "html",
    "sql",
    "rb",
    "pem",
    "crt",
];

fn is_file_name(key: &str) -> bool {
    key.rsplit_once('.')
        .is_some_and(|(_, ext)| FILE_EXTENSIONS.iter().any(|e| ext.eq_ignore_ascii_case(e)))
}

impl Rule for CredentialInConfigmap {
    fn check(&self, cx: &mut Cx<'_>) {
        if cx.obj.kind != "ConfigMap" || cx.obj.api_version != "v1" {
            return;
        }
        let Some(data) = cx.obj.root.get("data") else {
            return;
        };
        for e in data.entries() {
            let Some(value) = e.value.as_str() else {
                continue;
            };
            let credential = if let Some(what) = known_secret_format(value) {
                Credential::Format(what)
            } else if !is_file_name(&e.key)
                && !value.contains('\n')
                && is_secret_like_name(&e.key)
                && !is_non_secret_value(value)
            {
                Credential::Name
            } else {
                continue;
            };
            let message = format!(
                "{} key `{}` {}",
                cx.describe(),
                e.key,
                credential.describe()
            );
            cx.report(cx.at(&["data", &e.key]), message);
        }
    }
}
