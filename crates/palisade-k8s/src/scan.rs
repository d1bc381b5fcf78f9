//! The Kubernetes configuration scan of one file's text: parse (in parallel
//! for large streams), extract objects, run the per-object rules, and
//! gather the inventory for cross-object rules.

use std::sync::Arc;

use palisade_core::report::InputErrorKind;
use palisade_core::suppress::INLINE_MARKER;
use palisade_core::{Finding, InputError, Position, RuleMeta, Scanner, Span, Stats};
use rayon::prelude::*;

use crate::object::{Object, SourceFile};
use crate::rbac::Policy;
use crate::rbac::risks::{self, RiskOptions, RiskRule};
use crate::rules::registry::UnknownRule;
use crate::rules::{CrossRule, Cx, Inventory, Rule, RuleSelection, Subject};
use crate::settings::Settings;
use crate::workload::PodSpec;
use crate::yaml::{Chunk, Limits, Node, NodeKind, parse_stream_at, split_documents};

/// Streams above this size are split at document boundaries and their
/// chunks parsed in parallel.
pub const DEFAULT_CHUNK_BYTES: usize = 512 * 1024;

/// What scanning some text produced.
#[derive(Debug, Default)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    pub errors: Vec<InputError>,
    pub stats: Stats,
    pub inventory: Inventory,
}

impl Outcome {
    pub fn merge(mut self, other: Outcome) -> Outcome {
        self.findings.extend(other.findings);
        self.errors.extend(other.errors);
        self.stats.merge(&other.stats);
        self.inventory.extend(other.inventory);
        self
    }
}

/// The configured rule set, ready to scan any number of files.
#[derive(Debug)]
pub struct Engine {
    rules: Vec<&'static dyn Rule>,
    cross: Vec<&'static dyn CrossRule>,
    risks: Vec<&'static dyn RiskRule>,
    analyzers: Vec<Box<dyn ObjectAnalyzer>>,
    settings: Settings,
    limits: Limits,
    chunk_bytes: usize,
}

/// Another analysis of every object, plugged into the same pass as the
/// built-in rules: secret detection in object values, user policies (Rego,
/// ValidatingAdmissionPolicy). Implementations report through
/// [`Subject::finding`] so locations and suppression work as for rules.
pub trait ObjectAnalyzer: Send + Sync {
    /// Metadata of the rules this analyzer may report, for reporters.
    fn rules(&self) -> Vec<RuleMeta>;

    fn analyze(&self, obj: &Object, subject: &Subject, out: &mut Vec<Finding>);
}

impl std::fmt::Debug for dyn ObjectAnalyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ObjectAnalyzer")
    }
}

impl std::fmt::Debug for dyn Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.meta().code)
    }
}

impl std::fmt::Debug for dyn CrossRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.meta().code)
    }
}

impl Engine {
    pub fn new(
        selection: &RuleSelection,
        settings: Settings,
        limits: Limits,
    ) -> Result<Self, UnknownRule> {
        selection.validate()?;
        Ok(Engine {
            rules: selection.rules(),
            cross: selection.cross_rules(),
            risks: selection.risk_rules(),
            analyzers: Vec::new(),
            settings,
            limits,
            chunk_bytes: DEFAULT_CHUNK_BYTES,
        })
    }

    /// Overrides the size above which streams are parsed in parallel chunks.
    pub fn with_chunk_bytes(mut self, bytes: usize) -> Self {
        self.chunk_bytes = bytes.max(1);
        self
    }

    /// Keeps only the rules of these scanners (`--scanners`).
    pub fn with_scanners(mut self, scanners: &[Scanner]) -> Self {
        self.rules.retain(|r| scanners.contains(&r.meta().scanner));
        self.cross.retain(|r| scanners.contains(&r.meta().scanner));
        self.risks.retain(|r| scanners.contains(&r.meta().scanner));
        self
    }

    /// Adds an analysis that runs on every object after the built-in rules.
    pub fn with_analyzer(mut self, analyzer: Box<dyn ObjectAnalyzer>) -> Self {
        self.analyzers.push(analyzer);
        self
    }

    /// Metadata of the rules the plugged-in analyzers may report.
    pub fn analyzer_rules(&self) -> Vec<RuleMeta> {
        self.analyzers.iter().flat_map(|a| a.rules()).collect()
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Metadata of every enabled rule.
    pub fn rule_metas(&self) -> impl Iterator<Item = &'static RuleMeta> + '_ {
        self.rules
            .iter()
            .map(|r| r.meta())
            .chain(self.cross.iter().map(|r| r.meta()))
            .chain(self.risks.iter().map(|r| r.meta()))
    }

    /// Scans one file's text (already decoded). `path` is how findings name
    /// the file.
    pub fn scan_text(&self, path: Arc<str>, text: &str) -> Outcome {
        let mut file = SourceFile::new(path, text);
        // The document limit is per stream, not per chunk: chunks past it
        // are not parsed, and the one it falls in stops there.
        let max = self.limits.max_documents;
        let chunks: Vec<Chunk<'_>> = split_documents(text, self.chunk_bytes)
            .into_iter()
            .filter(|c| (c.first_document as usize) <= max)
            .collect();
        if !file.directives.is_empty() {
            drop_directives_in_strings(&mut file, text, &chunks, &self.limits);
        }
        let file = Arc::new(file);
        let mut outcome = if chunks.len() == 1 {
            chunks
                .first()
                .map(|c| self.scan_chunk(&file, c))
                .unwrap_or_default()
        } else {
            chunks
                .par_iter()
                .map(|c| self.scan_chunk(&file, c))
                .reduce(Outcome::default, Outcome::merge)
        };
        outcome.stats.files = 1;
        outcome
    }

    fn scan_chunk(&self, file: &Arc<SourceFile>, chunk: &Chunk<'_>) -> Outcome {
        let mut out = Outcome::default();
        let errors = parse_stream_at(chunk, &self.limits, |doc| {
            out.stats.documents += 1;
            let Some(root) = doc.root else { return };
            let extracted = Object::extract(root, file, chunk.first_document + doc.index);
            out.stats.skipped_documents += extracted.skipped;
            for obj in &extracted.objects {
                out.stats.objects += 1;
                self.check_object(obj, &mut out.findings, Some(&mut out.inventory));
            }
        });
        out.errors.extend(errors.into_iter().map(|e| InputError {
            path: file.path.to_string(),
            span: Some(e.span),
            kind: e.kind,
            message: e.message,
        }));
        out
    }

    /// Runs every per-object rule on `obj`, and records it in the inventory.
    pub fn check_object(
        &self,
        obj: &Object,
        out: &mut Vec<Finding>,
        inventory: Option<&mut Inventory>,
    ) {
        let pod = PodSpec::of(obj);
        let subject = Subject::of(obj);
        for rule in &self.rules {
            let mut cx = Cx::new(obj, &self.settings, pod, &subject, rule.meta(), out);
            rule.check(&mut cx);
        }
        for analyzer in &self.analyzers {
            analyzer.analyze(obj, &subject, out);
        }
        if let Some(inventory) = inventory {
            inventory.observe(obj, pod.as_ref(), &subject, &self.settings);
        }
    }

    /// Runs the cross-object rules once every file has been scanned.
    pub fn finish(&self, inventory: &Inventory) -> Vec<Finding> {
        let mut out = Vec::new();
        for rule in &self.cross {
            rule.check(inventory, &self.settings, &mut out);
        }
        if !self.risks.is_empty() {
            let policy = Policy::new(inventory.rbac.clone());
            let options = RiskOptions {
                include_system: self.settings.include_system,
            };
            out.extend(risks::analyze(&policy, &self.risks, options));
        }
        out
    }
}

/// An input error for a file that could not be scanned at all.
pub fn file_error(path: &str, kind: InputErrorKind, message: impl Into<String>) -> InputError {
    InputError::new(path, kind, message)
}

/// Drops the `palisade:ignore` directives that are text inside a string (a
/// quoted or block scalar such as a container's script), not comments:
/// content must never switch findings off. Only files holding the marker
/// pay for this second parse.
fn drop_directives_in_strings(
    file: &mut SourceFile,
    text: &str,
    chunks: &[Chunk<'_>],
    limits: &Limits,
) {
    fn collect(node: &Node, out: &mut Vec<Span>) {
        match &node.kind {
            NodeKind::Scalar(s) => {
                if !s.plain && s.text.contains(INLINE_MARKER) {
                    out.push(node.span);
                }
            }
            NodeKind::Seq(items) => items.iter().for_each(|n| collect(n, out)),
            NodeKind::Map(map) => {
                for e in &map.entries {
                    // A plain key cannot hold ` #`: only quoted ones can.
                    if e.key.contains(INLINE_MARKER) {
                        out.push(e.key_span);
                    }
                    collect(&e.value, out);
                }
            }
        }
    }
    // YAML also breaks lines at a lone carriage return, the directive
    // parser does not: their line numbers would disagree, so no comment
    // can be told from a string in such a file.
    let bytes = text.as_bytes();
    let lone_cr = bytes
        .iter()
        .enumerate()
        .any(|(i, &b)| b == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
    if lone_cr {
        file.directives.retain(|_| false);
        return;
    }
    // Chunk by chunk, as the scan parses: a syntax error ends its chunk,
    // not the search for strings in the chunks after it.
    let mut strings = Vec::new();
    for chunk in chunks {
        parse_stream_at(chunk, limits, |doc| {
            if let Some(root) = &doc.root {
                collect(root, &mut strings);
            }
        });
    }
    if strings.is_empty() {
        return;
    }
    file.directives.retain(|d| {
        let at = Position::new(d.line, d.column);
        !strings.iter().any(|s| s.start <= at && at < s.end)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An engine with the one rule `code` enabled.
    fn engine_with(code: &str) -> Engine {
        let selection = RuleSelection {
            enable: vec![code.into()],
            disable: vec!["*".into()],
        };
        Engine::new(&selection, Settings::default(), Limits::default())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// K8S001 findings of `yaml`, each with whether it was suppressed.
    fn privileged(yaml: &str) -> Vec<bool> {
        let outcome = engine_with("K8S001").scan_text(Arc::from("p.yaml"), yaml);
        assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
        outcome
            .findings
            .iter()
            .filter(|f| f.code == "K8S001")
            .map(|f| f.suppressed.is_some())
            .collect()
    }

    const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: app\n      image: nginx:1.25\n";

    /// A directive written inside a string (a script, a quoted value) is
    /// content, and never suppresses anything.
    #[test]
    fn directives_inside_strings_are_not_comments() {
        let block = format!(
            "{POD}      args:\n        - |\n          # palisade:ignore K8S001 inside a string\n      securityContext: {{privileged: true}}\n"
        );
        assert_eq!(privileged(&block), [false]);
        let quoted = format!(
            "{POD}      securityContext: {{privileged: true, seLinuxOptions: {{user: \"x # palisade:ignore K8S001 quoted\"}}}}\n"
        );
        assert_eq!(privileged(&quoted), [false]);
        // A real comment right after a block scalar still counts.
        let comment = format!(
            "{POD}      args:\n        - |\n          echo hi\n      # palisade:ignore K8S001 needs the device\n      securityContext: {{privileged: true}}\n"
        );
        assert_eq!(privileged(&comment), [true]);
        let key = format!(
            "{POD}      securityContext: {{\"x # palisade:ignore K8S001 in a key\": 1, privileged: true}}\n"
        );
        assert_eq!(privileged(&key), [false]);
        let lone_cr = format!(
            "{POD}      args: [\"x # palisade:ignore K8S001 bypass\"]\r      securityContext: {{privileged: true}}\n"
        );
        assert_eq!(privileged(&lone_cr), [false]);
        let trailing = format!(
            "{POD}      securityContext: {{privileged: true}} # palisade:ignore K8S001 ok\n"
        );
        assert_eq!(privileged(&trailing), [true]);
        // A marker in a string before the real comment hides nothing.
        let both = format!(
            "{POD}      securityContext: {{privileged: true, seLinuxOptions: {{user: \"# palisade:ignore K8S002\"}}}} # palisade:ignore K8S001 ok\n"
        );
        assert_eq!(privileged(&both), [true]);
    }

    /// In a file parsed in chunks, a syntax error in one chunk does not
    /// make the directives in strings of the chunks after it count.
    #[test]
    fn strings_after_a_broken_chunk_are_still_strings() {
        let quoted = format!(
            "{POD}      securityContext: {{privileged: true, seLinuxOptions: {{user: \"x # palisade:ignore K8S001 quoted\"}}}}\n"
        );
        let text = format!("bad: [unclosed\n{}---\n{quoted}", "# padding\n".repeat(10));
        let engine = engine_with("K8S001").with_chunk_bytes(64);
        assert!(
            split_documents(&text, 64).len() > 1,
            "the text must be split"
        );
        let outcome = engine.scan_text(Arc::from("p.yaml"), &text);
        assert_eq!(outcome.errors.len(), 1, "{:?}", outcome.errors);
        let suppressed: Vec<bool> = outcome
            .findings
            .iter()
            .map(|f| f.suppressed.is_some())
            .collect();
        assert_eq!(suppressed, [false]);
    }

    /// `max-documents` counts the whole stream, also when a large file is
    /// parsed in chunks: one error, at the first document over the limit.
    #[test]
    fn the_document_limit_is_per_stream_not_per_chunk() {
        let limits = Limits {
            max_documents: 10,
            ..Limits::default()
        };
        let engine = Engine::new(&RuleSelection::default(), Settings::default(), limits)
            .unwrap_or_else(|e| panic!("{e}"))
            .with_chunk_bytes(64);
        let text = "a: 1\n---\n".repeat(40);
        assert!(
            split_documents(&text, 64).len() > 3,
            "the text must be split for this test"
        );
        let outcome = engine.scan_text(Arc::from("many.yaml"), &text);
        assert_eq!(outcome.errors.len(), 1, "{:?}", outcome.errors);
        let error = outcome
            .errors
            .first()
            .map(|e| (e.span.map(|s| s.start.line), e.message.clone()));
        assert_eq!(
            error,
            Some((Some(20), "more than 10 documents in one stream".to_string()))
        );
        assert_eq!(outcome.stats.documents, 10);
    }

    /// Impersonation limited by `resourceNames` is described as such, not
    /// as "any user or group, system:masters included".
    #[test]
    fn named_impersonation_is_not_any_impersonation() {
        let engine = engine_with("K8S053");
        let role = |extra: &str| {
            format!(
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {{name: imp}}\nrules: [{{apiGroups: [\"\"], resources: [groups], verbs: [impersonate]{extra}}}]\n"
            )
        };
        let message = |text: String| {
            engine
                .scan_text(Arc::from("r.yaml"), &text)
                .findings
                .first()
                .map(|f| f.message.clone())
                .unwrap_or_default()
        };
        let named = message(role(", resourceNames: [developers]"));
        assert!(named.contains("the users or groups it names"), "{named}");
        let any = message(role(""));
        assert!(any.contains("system:masters included"), "{any}");
    }
}
