use super::credentials::literal_credential;
use crate::rules::{Cx, Rule};
use crate::yaml::Node;

declare_rule! {
    /// ## What it does
    /// Finds environment variables whose literal `value` is a credential:
    /// a non-empty value under a secret-like name (containing PASSWORD,
    /// PASSWD, SECRET, TOKEN, API_KEY/APIKEY, ACCESS_KEY, PRIVATE_KEY,
    /// CREDENTIAL or AUTH, in any case), or any value in a well-known secret
    /// format (AWS access key IDs, GitHub and Slack tokens, PEM private
    /// keys). Names that point at a secret rather than hold it (ending in
    /// `_FILE`, `_PATH`, `_DIR`, `_URL`, `_ENDPOINT`, `_NAME`, `_USER`, …)
    /// and values that cannot be secrets (`$(VAR)` and `${VAR}` references,
    /// booleans, short numbers, paths, plain URLs) are skipped. Findings
    /// never include the value.
    ///
    /// ## Why is this bad?
    /// A credential in a manifest is stored in plain text in Git, in CI
    /// logs, in Helm release history and in the API server (readable by
    /// anyone who can read the workload, which is far more people than can
    /// read Secrets). It cannot be rotated without a commit and is usually
    /// still in the repository's history after it is removed.
    ///
    /// ## Example
    /// ```yaml
    /// env:
    ///   - name: DB_PASSWORD
    ///     value: hunter2
    /// ```
    ///
    /// ## Fix
    /// Store the credential in a Secret (or an external secret manager) and
    /// mount it; then rotate the exposed credential:
    /// ```yaml
    /// env:
    ///   - name: DB_PASSWORD_FILE
    ///     value: /run/secrets/db/password
    /// ```
    ///
    /// ## References
    /// - NSA/CISA Kubernetes Hardening Guide: Secrets
    /// - CWE-798: Use of Hard-coded Credentials
    pub struct CredentialInEnvValue {
        code: "K8S041",
        name: "credential-in-env-value",
        title: "Credential written literally in an environment variable",
        severity: High,
        references: [Nsa("Secrets"), Cwe("CWE-798")],
        fix: "Move the credential into a Secret mounted as a file, and rotate it.",
    }
}

impl Rule for CredentialInEnvValue {
    fn check(&self, cx: &mut Cx<'_>) {
        let Some(pod) = cx.pod() else { return };
        for c in pod.containers() {
            let env = c.get(&["env"]).map(Node::items).unwrap_or_default();
            for (i, e) in env.iter().enumerate() {
                let Some(value) = e.get("value").and_then(Node::as_str) else {
                    continue;
                };
                let name = e.get("name").and_then(Node::as_str).unwrap_or("");
                let Some(credential) = literal_credential(name, value) else {
                    continue;
                };
                cx.report(
                    c.at_item(&["env"], i, &["value"]),
                    format!(
                        "{} env var `{name}` {}",
                        c.describe(),
                        credential.describe()
                    ),
                );
            }
        }
    }
}
