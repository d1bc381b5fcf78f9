//! A configuration compiled for serving: the built-in rule engine, the
//! user policies, the signature verifier and every rule's action, built
//! once per configuration (at start and on reload) and then shared,
//! read-only, by every request.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use palisade_core::{RuleMeta, SuppressionKind};
use palisade_k8s::object::SourceFile;
use palisade_k8s::yaml::Limits;
use palisade_k8s::{Engine, RuleSelection};
use palisade_policy::{LoadOptions, PolicySet, RegoEngine, RegoOptions, VapOptions};
use serde_json::Value;

use crate::config::{Action, Config};
use crate::image_ref::ImageRef;
use crate::object::{admission_file, to_object};
use crate::review::{Operation, Request};
use crate::rules;
use crate::signature::{Verifier, parse_public_key};

/// Built-in rules the image policy turns on, with action `deny`.
const UNTRUSTED_REGISTRY: &str = "K8S037";
const NOT_PINNED: &str = "K8S035";
const LATEST_TAG: &str = "K8S034";

/// One violated rule on one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub code: String,
    pub name: String,
    pub message: String,
    /// The rule's one-line fix (empty when the policy gives none).
    pub fix: String,
    pub action: Action,
    /// Set when an exception (Conftest `exception`, honoured
    /// `palisade.dev/ignore`) exempts the object: logged, never enforced.
    pub exempted: Option<String>,
}

/// What evaluating one object produced.
#[derive(Debug, Default)]
pub struct Evaluation {
    pub violations: Vec<Violation>,
    /// Policies that could not be evaluated: the failure policy decides.
    pub errors: Vec<String>,
}

/// Why a configuration cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.join("\n"))]
pub struct CompileError(pub Vec<String>);

/// A compiled configuration.
pub struct Compiled {
    pub config: Config,
    /// The file it was read from, if any.
    pub source: Option<PathBuf>,
    engine: Engine,
    policies: Option<PolicySet>,
    metas: HashMap<String, Arc<RuleMeta>>,
    actions: HashMap<String, Action>,
    forced: HashMap<&'static str, Action>,
    verifier: Option<Arc<Verifier>>,
    file: Arc<SourceFile>,
    /// Rules of every kind this configuration may report (for logs and
    /// the startup summary).
    pub rule_count: usize,
    pub policy_rule_count: usize,
}

impl std::fmt::Debug for Compiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compiled")
            .field("config", &self.config)
            .field("source", &self.source)
            .field("rule_count", &self.rule_count)
            .field("policy_rule_count", &self.policy_rule_count)
            .finish_non_exhaustive()
    }
}

impl Compiled {
    /// The engine the Rego policies run on, for the log: `vm` may be
    /// refused for a set (the reason is given).
    pub fn rego_engine(&self) -> String {
        match (
            self.config.rego_engine,
            self.policies.as_ref().and_then(|p| p.rego.as_ref()),
        ) {
            (RegoEngine::Vm, Some(rego)) => match rego.vm_refused() {
                Some(reason) => format!("interpreter (vm refused: {reason})"),
                None => "vm".into(),
            },
            (RegoEngine::Vm, None) => "vm".into(),
            (RegoEngine::Interpreter, _) => "interpreter".into(),
        }
    }

    /// Compiles `config`; relative paths are resolved against `base`.
    pub fn compile(
        config: Config,
        source: Option<PathBuf>,
        base: &Path,
    ) -> Result<Compiled, CompileError> {
        let mut errors = Vec::new();
        let mut selection = RuleSelection {
            enable: config.rules.enable.clone(),
            disable: config.rules.disable.clone(),
        };
        let mut settings = config.settings.clone();
        let mut forced = HashMap::new();
        let images = &config.images;
        if !images.allowed_registries.is_empty() {
            settings
                .allowed_registries
                .extend(images.allowed_registries.iter().cloned());
            selection.enable.push(UNTRUSTED_REGISTRY.into());
            forced.insert(UNTRUSTED_REGISTRY, Action::Deny);
        }
        if images.require_digest {
            selection.enable.push(NOT_PINNED.into());
            forced.insert(NOT_PINNED, Action::Deny);
        }
        if images.deny_latest {
            selection.enable.push(LATEST_TAG.into());
            forced.insert(LATEST_TAG, Action::Deny);
        }
        let engine = match Engine::new(&selection, settings, Limits::default()) {
            Ok(e) => Some(e),
            Err(e) => {
                errors.push(format!("rules: {e}"));
                None
            }
        };
        let policies = if config.policies.is_empty() {
            None
        } else {
            let paths: Vec<PathBuf> = config.policies.iter().map(|p| base.join(p)).collect();
            let data: Vec<PathBuf> = config.data.iter().map(|p| base.join(p)).collect();
            let options = LoadOptions {
                rego: RegoOptions {
                    namespaces: config.rego_packages.clone(),
                    time_limit: config.deadline(),
                    engine: config.rego_engine,
                },
                vap: VapOptions {
                    default_namespace: config.settings.default_namespace.clone(),
                    ..VapOptions::default()
                },
                ..LoadOptions::default()
            };
            match palisade_policy::load(&paths, &data, &options) {
                Ok(mut set) => {
                    set.link();
                    if set.is_empty() {
                        errors.push(format!(
                            "policies: no Rego rule of the packages {:?} and no bound ValidatingAdmissionPolicy in {}",
                            config.rego_packages,
                            paths
                                .iter()
                                .map(|p| p.display().to_string())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ));
                    }
                    Some(set)
                }
                Err(e) => {
                    errors.extend(e.0.iter().map(|e| format!("policy {e}")));
                    None
                }
            }
        };
        let verifier = match &images.signatures {
            None => None,
            Some(s) => {
                let path = base.join(&s.public_key);
                match std::fs::read_to_string(&path) {
                    Err(e) => {
                        errors.push(format!(
                            "images.signatures.public-key: cannot read {}: {e}",
                            path.display()
                        ));
                        None
                    }
                    Ok(pem) => match parse_public_key(&pem) {
                        Err(e) => {
                            errors.push(format!("{}: {e}", path.display()));
                            None
                        }
                        Ok(key) => match Verifier::new(
                            key,
                            &s.insecure_registries,
                            Duration::from_secs(s.cache_ttl_seconds),
                            s.registries.clone(),
                        ) {
                            Ok(v) => Some(Arc::new(v)),
                            Err(e) => {
                                errors.push(format!("registry client: {e}"));
                                None
                            }
                        },
                    },
                }
            }
        };
        let Some(engine) = engine else {
            return Err(CompileError(errors));
        };
        let mut metas: HashMap<String, Arc<RuleMeta>> = HashMap::new();
        for m in engine.rule_metas() {
            metas.insert(m.code.to_string(), Arc::new(m.clone()));
        }
        for m in rules::all() {
            metas.insert(m.code.to_string(), Arc::new(m.clone()));
        }
        let policy_metas = policies.as_ref().map(PolicySet::metas).unwrap_or_default();
        let policy_rule_count = policy_metas.len();
        for m in policy_metas {
            metas.insert(m.code.to_string(), m);
        }
        // Every `actions` key must name a rule: a typo must not silently
        // leave a rule at its default.
        let catalog = palisade_k8s::catalog();
        let mut actions = HashMap::new();
        for (key, action) in &config.rules.actions {
            let known = catalog
                .iter()
                .map(|c| c.meta)
                .chain(rules::all())
                .any(|m| m.code.eq_ignore_ascii_case(key) || m.name == *key)
                || metas
                    .values()
                    .any(|m| m.code.eq_ignore_ascii_case(key) || m.name == *key);
            if !known {
                errors.push(format!(
                    "rules.actions: `{key}` names no built-in rule, admission rule or loaded policy (see `palisade rules`)"
                ));
            }
            actions.insert(key.to_ascii_lowercase(), *action);
        }
        if !errors.is_empty() {
            return Err(CompileError(errors));
        }
        let rule_count = metas.len();
        Ok(Compiled {
            config,
            source,
            engine,
            policies,
            metas,
            actions,
            forced,
            verifier,
            file: admission_file(),
            rule_count,
            policy_rule_count,
        })
    }

    /// The default configuration, compiled.
    pub fn default_config() -> Result<Compiled, CompileError> {
        Compiled::compile(Config::default(), None, Path::new("."))
    }

    /// The action for a rule: `rules.actions` by code or name, then the
    /// image policy's, then `default`.
    pub fn action(&self, code: &str, name: &str, default: Action) -> Action {
        self.actions
            .get(&code.to_ascii_lowercase())
            .or_else(|| self.actions.get(&name.to_ascii_lowercase()))
            .copied()
            .or_else(|| self.forced.get(code).copied())
            .unwrap_or(default)
    }

    pub fn meta(&self, code: &str) -> Option<&Arc<RuleMeta>> {
        self.metas.get(code)
    }

    pub fn verifier(&self) -> Option<&Arc<Verifier>> {
        self.verifier.as_ref()
    }

    /// A violation of an admission rule, with its configured action.
    pub fn admission_violation(&self, meta: &RuleMeta, message: String) -> Violation {
        Violation {
            code: meta.code.to_string(),
            name: meta.name.to_string(),
            message,
            fix: meta.fix.to_string(),
            action: self.action(&meta.code, &meta.name, Action::Deny),
            exempted: None,
        }
    }

    /// Whether the request's object goes through the rules and policies.
    /// Pods are immutable but for images and a few scheduling fields, so a
    /// Pod UPDATE is evaluated only when its spec changes (metadata-only
    /// updates by controllers pass); other subresources than
    /// `ephemeralcontainers` (status, scale, binding…) are not specs.
    pub fn needs_evaluation(req: &Request) -> bool {
        if req.object.is_none() {
            return false;
        }
        match req.operation {
            Some(Operation::Create) => req.sub_resource.is_none(),
            Some(Operation::Update) => match req.sub_resource.as_deref() {
                None if req.kind.name == "Pod" => {
                    let spec = |o: &Option<Value>| o.as_ref().and_then(|o| o.get("spec")).cloned();
                    spec(&req.object) != spec(&req.old_object)
                }
                None => true,
                Some("ephemeralcontainers") => true,
                Some(_) => false,
            },
            _ => false,
        }
    }

    /// Built-in rules and policies on the request's object. CPU-bound:
    /// runs on the worker pool, never on the async threads.
    pub fn evaluate(&self, req: &Request) -> Evaluation {
        let mut out = Evaluation::default();
        let Some(value) = req.object_with_type() else {
            return out;
        };
        if let Some(obj) = to_object(&value, &self.file) {
            let mut findings = Vec::new();
            self.engine.check_object(&obj, &mut findings, None);
            for f in findings {
                let Some(meta) = self.metas.get(f.code.as_ref()) else {
                    continue;
                };
                let default = self.config.rules.severity_actions.of(f.severity);
                let exempted = match &f.suppressed {
                    Some(s)
                        if s.kind == SuppressionKind::Annotation
                            && self.config.honor_ignore_annotation =>
                    {
                        Some(format!(
                            "{} annotation",
                            palisade_k8s::object::IGNORE_ANNOTATION
                        ))
                    }
                    _ => None,
                };
                out.violations.push(Violation {
                    code: meta.code.to_string(),
                    name: meta.name.to_string(),
                    message: f.message,
                    fix: meta.fix.to_string(),
                    action: self.action(&meta.code, &meta.name, default),
                    exempted,
                });
            }
        }
        if let Some(policies) = &self.policies {
            let request = palisade_policy::vap::RequestInfo {
                operation: &req.operation_name,
                username: &req.user.username,
                groups: &req.user.groups,
                old_object: req.old_object.as_ref(),
                dry_run: req.dry_run,
            };
            let evaluation = policies.evaluate_request(&value, Some(&request));
            for v in evaluation.violations {
                out.violations.push(Violation {
                    code: v.rule.code.to_string(),
                    name: v.rule.name.to_string(),
                    message: v.message,
                    fix: v.rule.fix.to_string(),
                    action: self.action(&v.rule.code, &v.rule.name, v.action.into()),
                    exempted: v.exception,
                });
            }
            out.errors
                .extend(evaluation.errors.iter().map(ToString::to_string));
        }
        out
    }
}

/// Every container image of a Pod or workload object (JSON), in order,
/// without duplicates.
pub fn images_of(object: &Value) -> Vec<String> {
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("Pod");
    let spec = match kind {
        "Pod" => object.get("spec"),
        "CronJob" => object.pointer("/spec/jobTemplate/spec/template/spec"),
        "PodTemplate" => object.pointer("/template/spec"),
        _ => object.pointer("/spec/template/spec"),
    };
    let mut out: Vec<String> = Vec::new();
    let Some(spec) = spec else { return out };
    for field in ["initContainers", "containers", "ephemeralContainers"] {
        for c in spec
            .get(field)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(image) = c.get("image").and_then(Value::as_str)
                && !out.iter().any(|i| i == image)
            {
                out.push(image.to_string());
            }
        }
    }
    out
}

/// Images whose signature must be verified: parsed, in scope.
pub fn images_to_verify(verifier: &Verifier, object: &Value) -> (Vec<ImageRef>, Vec<String>) {
    let mut refs = Vec::new();
    let mut invalid = Vec::new();
    for image in images_of(object) {
        match ImageRef::parse(&image) {
            Some(r) if verifier.applies_to(&r) => refs.push(r),
            Some(_) => {}
            None => invalid.push(image),
        }
    }
    (refs, invalid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_images_of_every_kind() {
        let pod = json!({"kind": "Pod", "spec": {"initContainers": [{"image": "a"}],
            "containers": [{"image": "b"}, {"image": "a"}], "ephemeralContainers": [{"image": "c"}]}});
        assert_eq!(images_of(&pod), vec!["a", "b", "c"]);
        let cron = json!({"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}}});
        assert_eq!(images_of(&cron), vec!["x"]);
        let deploy = json!({"kind": "Deployment", "spec": {"template": {"spec": {"containers": [{"image": "y"}]}}}});
        assert_eq!(images_of(&deploy), vec!["y"]);
        assert!(images_of(&json!({"kind": "ConfigMap"})).is_empty());
    }

    /// The log names the Rego engine in use, and why `vm` was refused.
    #[test]
    fn rego_engine_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write(
            "plain.rego",
            "package main\nimport rego.v1\n\ndeny contains 1 if input.x\n",
        );
        write(
            "printing.rego",
            "package main\nimport rego.v1\n\ndeny contains 1 if print(1)\n",
        );
        let engine = |policy: &str, engine: &str| {
            let yaml = format!("policies: [{policy}]\nrego-engine: {engine}\n");
            let config = Config::parse("c.yaml", &yaml).unwrap();
            Compiled::compile(config, None, dir.path())
                .unwrap()
                .rego_engine()
        };
        assert_eq!(engine("plain.rego", "interpreter"), "interpreter");
        assert_eq!(engine("plain.rego", "vm"), "vm");
        let refused = engine("printing.rego", "vm");
        assert!(
            refused.starts_with("interpreter (vm refused: "),
            "{refused}"
        );
    }

    #[test]
    fn actions_resolve_by_code_name_and_severity() {
        let config = Config::parse(
            "c.yaml",
            "rules:\n  actions:\n    K8S001: warn\n    host-network: audit\nimages:\n  require-digest: true\n",
        )
        .unwrap();
        let c = Compiled::compile(config, None, Path::new(".")).unwrap();
        assert_eq!(
            c.action("K8S001", "privileged-container", Action::Deny),
            Action::Warn
        );
        assert_eq!(
            c.action("K8S999", "host-network", Action::Deny),
            Action::Audit
        );
        assert_eq!(
            c.action(NOT_PINNED, "image-not-pinned-by-digest", Action::Audit),
            Action::Deny
        );
        assert_eq!(c.action("K8S002", "x", Action::Warn), Action::Warn);
    }

    #[test]
    fn unknown_action_keys_are_errors() {
        let config =
            Config::parse("c.yaml", "rules:\n  actions:\n    no-such-rule: warn\n").unwrap();
        let err = Compiled::compile(config, None, Path::new(".")).unwrap_err();
        assert!(err.to_string().contains("no-such-rule"), "{err}");
    }
}
