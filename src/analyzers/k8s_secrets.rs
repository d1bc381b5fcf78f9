//! Secrets inside Kubernetes objects: Secret `data` (base64-decoded) and
//! `stringData`, ConfigMap `data` and `binaryData`, container `env` values,
//! and annotations. Each finding points at the value's line and names the
//! key, and goes through [`Subject::finding`] so annotations and inline
//! comments suppress it like any rule.

use std::sync::Arc;

use base64::Engine as _;
use palisade_core::{Finding, RuleMeta, SuppressionKind};
use palisade_k8s::rules::Subject;
use palisade_k8s::rules::cx::describe;
use palisade_k8s::workload::{Loc, PodSpec};
use palisade_k8s::yaml::{Node, escape_pointer_token};
use palisade_k8s::{Object, ObjectAnalyzer};
use palisade_secrets::{RuleSet, present, secret_hash};

/// Decoded values larger than this are not scanned (a Secret or ConfigMap
/// value is at most 1 MiB in a real cluster).
const MAX_VALUE_BYTES: usize = 1024 * 1024;

/// A value to scan and where it is written.
struct Field<'a> {
    /// Its key (env name, data key): generic rules need the name.
    key: &'a str,
    /// The key's line: a comment above it covers a block scalar's content.
    key_line: u32,
    loc: Loc,
    /// Where the value is, for the message.
    what: String,
}

/// The analyzer: the run's secret rules and whether to print secrets.
#[derive(Debug)]
pub struct K8sSecrets {
    rules: Arc<RuleSet>,
    show_secrets: bool,
}

impl K8sSecrets {
    pub fn new(rules: Arc<RuleSet>, show_secrets: bool) -> Self {
        K8sSecrets {
            rules,
            show_secrets,
        }
    }

    /// Scans one value and reports each secret in it at the field.
    fn value(&self, subject: &Subject, field: &Field<'_>, value: &[u8], out: &mut Vec<Finding>) {
        let Field { key, loc, what, .. } = field;
        if value.is_empty() || value.len() > MAX_VALUE_BYTES {
            return;
        }
        // Single-line values are scanned as `key=value`, so a high-entropy
        // `DB_PASSWORD` is judged with its name as in a .env file.
        let single_line = !value.contains(&b'\n');
        let text: Vec<u8> = if single_line && !key.is_empty() {
            let mut t = Vec::with_capacity(key.len() + 1 + value.len());
            t.extend_from_slice(key.as_bytes());
            t.push(b'=');
            t.extend_from_slice(value);
            t
        } else {
            value.to_vec()
        };
        let path = subject.file.path.as_ref();
        let mut seen = Vec::new();
        for d in self.rules.detect(path, &text) {
            let Some(rule) = self.rules.rule(d.rule) else {
                continue;
            };
            let Some(secret) = text.get(d.start..d.end) else {
                continue;
            };
            let hash = secret_hash(secret);
            if seen.contains(&(d.rule, hash.clone())) {
                continue;
            }
            seen.push((d.rule, hash.clone()));
            let message = format!(
                "{} in {} {what}: {}",
                rule.meta.title,
                describe(&subject.resource),
                present(secret, self.show_secrets)
            );
            let mut finding = subject.finding(rule.meta, loc.clone(), message);
            // The finding starts at the secret's line; a `palisade:ignore`
            // comment above the key (of a block scalar) targets the key's.
            if finding.suppressed.is_none()
                && let Some(d) = subject.file.directives.find(
                    &rule.meta.code,
                    &rule.meta.name,
                    field.key_line,
                    subject.start_line,
                )
            {
                finding.suppress(SuppressionKind::Inline, d.reason.clone());
            }
            // The same field holding a new secret is a new finding.
            finding.fingerprint = Finding::fingerprint_of(&[&finding.fingerprint, &hash]);
            out.push(finding);
        }
    }

    /// Every string entry of the mapping at `field` (e.g. `data`).
    fn map_values(
        &self,
        obj: &Object,
        subject: &Subject,
        field: &str,
        decode: bool,
        out: &mut Vec<Finding>,
    ) {
        let Some(map) = obj.root.get(field).and_then(Node::as_map) else {
            return;
        };
        for entry in &map.entries {
            let Some(raw) = entry.value.as_str() else {
                continue;
            };
            let decoded;
            let bytes: &[u8] = if decode {
                let compact: Vec<u8> = raw.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
                match base64::engine::general_purpose::STANDARD.decode(&compact) {
                    Ok(d) => {
                        decoded = d;
                        &decoded
                    }
                    Err(_) => raw.as_bytes(),
                }
            } else {
                raw.as_bytes()
            };
            let loc = Loc {
                span: entry.value.span,
                pointer: format!("/{field}/{}", escape_pointer_token(&entry.key)),
                container: None,
            };
            let field = Field {
                key: &entry.key,
                key_line: entry.key_span.start.line,
                loc,
                what: format!("{field} key `{}`", entry.key),
            };
            self.value(subject, &field, bytes, out);
        }
    }

    fn annotations(
        &self,
        metadata: Option<&Node>,
        base: &str,
        subject: &Subject,
        out: &mut Vec<Finding>,
    ) {
        let Some(map) = metadata
            .and_then(|m| m.get("annotations"))
            .and_then(Node::as_map)
        else {
            return;
        };
        for entry in &map.entries {
            let Some(value) = entry.value.as_str() else {
                continue;
            };
            let loc = Loc {
                span: entry.value.span,
                pointer: format!("{base}/annotations/{}", escape_pointer_token(&entry.key)),
                container: None,
            };
            let field = Field {
                key: &entry.key,
                key_line: entry.key_span.start.line,
                loc,
                what: format!("annotation `{}`", entry.key),
            };
            self.value(subject, &field, value.as_bytes(), out);
        }
    }
}

impl ObjectAnalyzer for K8sSecrets {
    fn rules(&self) -> Vec<RuleMeta> {
        self.rules.rules().map(|r| r.meta.clone()).collect()
    }

    fn analyze(&self, obj: &Object, subject: &Subject, out: &mut Vec<Finding>) {
        match (obj.group(), obj.kind.as_str()) {
            ("", "Secret") => {
                self.map_values(obj, subject, "data", true, out);
                self.map_values(obj, subject, "stringData", false, out);
            }
            ("", "ConfigMap") => {
                self.map_values(obj, subject, "data", false, out);
                self.map_values(obj, subject, "binaryData", true, out);
            }
            _ => {}
        }
        self.annotations(obj.metadata(), "/metadata", subject, out);
        let Some(pod) = PodSpec::of(obj) else {
            return;
        };
        if obj.kind != "Pod" {
            self.annotations(pod.metadata, pod.metadata_pointer, subject, out);
        }
        for container in pod.containers() {
            let Some(env) = container.get(&["env"]) else {
                continue;
            };
            for (i, item) in env.items().iter().enumerate() {
                let (Some(name), Some(value)) = (
                    item.get("name").and_then(Node::as_str),
                    item.get("value").and_then(Node::as_str),
                ) else {
                    continue;
                };
                let loc = container.at_item(&["env"], i, &["value"]);
                let value_entry = item.entry("value");
                let field = Field {
                    key: name,
                    key_line: value_entry.map_or(loc.span.start.line, |e| e.key_span.start.line),
                    loc: Loc {
                        span: value_entry.map_or(loc.span, |e| e.value.span),
                        ..loc
                    },
                    what: format!("{} env `{name}`", container.describe()),
                };
                self.value(subject, &field, value.as_bytes(), out);
            }
        }
    }
}
