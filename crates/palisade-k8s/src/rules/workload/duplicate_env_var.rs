use crate::rules::{Cx, Rule};
use crate::yaml::Node;

declare_rule! {
    /// ## What it does
    /// Finds containers whose `env` list sets the same variable twice.
    ///
    /// ## Why is this bad?
    /// The kubelet keeps the last entry and silently drops the earlier one.
    /// Whoever edits the first entry — to change a log level, an endpoint,
    /// or to turn a TLS check back on — sees no effect, and server-side
    /// apply and strategic merge patches can pick either entry, so the value
    /// in the cluster may differ from the one you review.
    ///
    /// ## Example
    /// ```yaml
    /// env:
    ///   - name: TLS_VERIFY
    ///     value: "true"
    ///   - name: TLS_VERIFY
    ///     value: "false"
    /// ```
    ///
    /// ## Fix
    /// Keep one entry per variable.
    ///
    /// ## References
    /// - https://kubernetes.io/docs/tasks/inject-data-application/define-environment-variable-container/
    pub struct DuplicateEnvVar {
        code: "K8S076",
        name: "duplicate-env-var",
        title: "Container sets an environment variable twice",
        severity: Low,
        references: [
            Url("https://kubernetes.io/docs/tasks/inject-data-application/define-environment-variable-container/"),
        ],
        fix: "Remove the duplicate `env` entry so each variable is set once.",
    }
}

impl Rule for DuplicateEnvVar {
    fn check(&self, cx: &mut Cx<'_>) {
        let Some(pod) = cx.pod() else { return };
        for c in pod.containers() {
            let env = c.get(&["env"]).map(Node::items).unwrap_or_default();
            let names: Vec<Option<&str>> = env
                .iter()
                .map(|e| e.get("name").and_then(Node::as_str))
                .collect();
            for (i, name) in names.iter().enumerate() {
                let Some(name) = name else { continue };
                let first = names.iter().position(|n| n == &Some(*name));
                let Some(first) = first.filter(|f| *f < i) else {
                    continue;
                };
                cx.report(
                    c.at_item(&["env"], i, &["name"]),
                    format!(
                        "{} sets env var {name} again (entry {} repeats entry {}); only the last value is used",
                        c.describe(),
                        i + 1,
                        first + 1
                    ),
                );
            }
        }
    }
}
