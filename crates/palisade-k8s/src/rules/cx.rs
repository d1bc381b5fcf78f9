//! What a rule sees while checking one object, and how it reports.

use std::sync::Arc;

use palisade_core::{Finding, Location, ResourceRef, RuleMeta, Severity, Span, SuppressionKind};

use crate::object::{Object, SourceFile};
use crate::settings::Settings;
use crate::workload::{Loc, PodSpec, locate};

/// The identity of the object a finding is about, enough to build and
/// suppress findings without the object's tree (cross-object rules keep
/// only this).
#[derive(Debug, Clone)]
pub struct Subject {
    pub file: Arc<SourceFile>,
    pub resource: ResourceRef,
    /// JSON pointer of the object in its document (`/items/N` in Lists).
    pub prefix: String,
    pub start_line: u32,
    /// Where the object's identity is written (its `kind` field).
    pub anchor: Span,
    /// Rules named in the object's `palisade.dev/ignore` annotation.
    pub ignored: Vec<String>,
}

impl Subject {
    pub fn of(obj: &Object) -> Subject {
        Subject {
            file: Arc::clone(&obj.file),
            resource: obj.resource(),
            prefix: obj.prefix.clone(),
            start_line: obj.start_line(),
            anchor: obj.anchor(),
            ignored: obj.ignored_rules(),
        }
    }

    /// A finding of `rule` at `loc`, with inline and annotation suppression
    /// applied. Rules built at run time (policies) pass their own metadata.
    pub fn finding(&self, rule: &RuleMeta, loc: Loc, message: String) -> Finding {
        self.finding_with(rule, rule.severity, loc, message)
    }

    /// Like [`Subject::finding`], with a severity other than the rule's
    /// default (for rules whose findings differ in impact).
    pub fn finding_with(
        &self,
        rule: &RuleMeta,
        severity: Severity,
        loc: Loc,
        message: String,
    ) -> Finding {
        let field = if self.prefix.is_empty() {
            loc.pointer
        } else {
            format!("{}{}", self.prefix, loc.pointer)
        };
        let mut finding = Finding::new(
            rule.code.clone(),
            severity,
            message,
            Location::new(Arc::clone(&self.file.path), Some(loc.span)),
        )
        .with_identity(Some(self.resource.clone()), loc.container, Some(field));
        if self
            .ignored
            .iter()
            .any(|r| r == "*" || r.eq_ignore_ascii_case(&rule.code) || r == &rule.name)
        {
            finding.suppress(
                SuppressionKind::Annotation,
                Some(format!("{} annotation", crate::object::IGNORE_ANNOTATION)),
            );
        } else if let Some(d) =
            self.file
                .directives
                .find(&rule.code, &rule.name, loc.span.start.line, self.start_line)
        {
            finding.suppress(SuppressionKind::Inline, d.reason.clone());
        }
        finding
    }

    /// A location at the object's `kind` field.
    pub fn at_anchor(&self) -> Loc {
        Loc {
            span: self.anchor,
            pointer: String::new(),
            container: None,
        }
    }
}

/// The context of one rule checking one object.
#[derive(Debug)]
pub struct Cx<'a> {
    pub obj: &'a Object,
    pub settings: &'a Settings,
    pod: Option<PodSpec<'a>>,
    subject: &'a Subject,
    rule: &'static RuleMeta,
    out: &'a mut Vec<Finding>,
}

impl<'a> Cx<'a> {
    pub(crate) fn new(
        obj: &'a Object,
        settings: &'a Settings,
        pod: Option<PodSpec<'a>>,
        subject: &'a Subject,
        rule: &'static RuleMeta,
        out: &'a mut Vec<Finding>,
    ) -> Self {
        Cx {
            obj,
            settings,
            pod,
            subject,
            rule,
            out,
        }
    }

    /// The object's pod spec, if it is a workload.
    pub fn pod(&self) -> Option<PodSpec<'a>> {
        self.pod
    }

    /// Reports a finding at `loc`.
    pub fn report(&mut self, loc: Loc, message: impl Into<String>) {
        let finding = self.subject.finding(self.rule, loc, message.into());
        self.out.push(finding);
    }

    /// Reports a finding with a severity other than the rule's default.
    pub fn report_with(&mut self, severity: Severity, loc: Loc, message: impl Into<String>) {
        let finding = self
            .subject
            .finding_with(self.rule, severity, loc, message.into());
        self.out.push(finding);
    }

    /// A location for `path` from the object's root; missing fields point
    /// at the object's `kind`.
    pub fn at(&self, path: &[&str]) -> Loc {
        let (span, pointer) = locate(&self.obj.root, "", path, self.subject.anchor);
        Loc {
            span,
            pointer,
            container: None,
        }
    }

    /// A location for a sequence item (or a field of it) under `path`.
    pub fn at_item(&self, path: &[&str], index: usize, rest: &[&str]) -> Loc {
        let mut full: Vec<String> = path.iter().map(|s| s.to_string()).collect();
        full.push(index.to_string());
        full.extend(rest.iter().map(|s| s.to_string()));
        let node = self.obj.root.path(path).and_then(|n| n.items().get(index));
        let base = {
            let (_, p) = locate(&self.obj.root, "", path, self.subject.anchor);
            format!("{p}/{index}")
        };
        match node {
            Some(item) => {
                let (span, pointer) = locate(item, &base, rest, item.span);
                Loc {
                    span,
                    pointer,
                    container: None,
                }
            }
            None => {
                let refs: Vec<&str> = full.iter().map(String::as_str).collect();
                self.at(&refs)
            }
        }
    }

    /// A location at the object's `kind` field.
    pub fn at_object(&self) -> Loc {
        self.subject.at_anchor()
    }

    /// `Deployment shop/web`, for messages.
    pub fn describe(&self) -> String {
        describe(&self.subject.resource)
    }
}

/// `Deployment shop/web` (or `Deployment web` without a namespace).
pub fn describe(r: &ResourceRef) -> String {
    let name = r.name.as_deref().unwrap_or("<unnamed>");
    match &r.namespace {
        Some(ns) => format!("{} {ns}/{name}", r.kind),
        None => format!("{} {name}", r.kind),
    }
}
