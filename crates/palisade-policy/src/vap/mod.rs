//! ValidatingAdmissionPolicies evaluated offline, as the API server
//! evaluates them for a CREATE request: `matchConstraints` and the
//! binding's `matchResources` (resource rules, namespace and object
//! selectors), params from `paramRef`, `matchConditions`, `variables`,
//! `validations` (`message`, `messageExpression`, `reason`),
//! `failurePolicy`, and the binding's `validationActions`.
//!
//! Expressions are compiled once, when the policies are loaded; a set is
//! then read-only and evaluates objects from any number of threads.

pub mod cel_lib;
pub mod cost;
pub mod model;
pub mod quantity;
mod resources;
pub mod url;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

use cel::common::types::{
    CelBool, CelDouble, CelInt, CelList, CelMap, CelMapKey, CelNull, CelString, CelUInt,
};
use cel::common::value::Val;
use cel::objects::{Key, Map};
use cel::{Context, Env, Program, Value as CelValue};
use palisade_core::{Framework, Reference, RuleMeta, Scanner};
use palisade_k8s::selector::Labels;
use palisade_k8s::yaml::Node;
use serde_json::Value;

use crate::error::PolicyError;
use crate::violation::{Action, Violation};
use cost::{InputSize, Shape};
use model::{BindingSpec, ExprSource, MatchResources, PolicySpec, ResourceRule};

/// A compiled expression.
#[derive(Debug)]
struct Compiled {
    program: Program,
    source: ExprSource,
    shape: Shape,
}

#[derive(Debug)]
struct CompiledPolicy {
    spec: PolicySpec,
    match_conditions: Vec<(String, Compiled)>,
    variables: Vec<(String, Compiled)>,
    validations: Vec<(Compiled, Option<Compiled>)>,
    meta: Arc<RuleMeta>,
}

#[derive(Debug)]
struct Binding {
    spec: BindingSpec,
    policy: usize,
    /// The strongest of the binding's actions.
    action: Action,
    /// Indexes of the params of the policy's `paramKind` that `paramRef`
    /// names or selects, whatever the object's namespace; found on first
    /// use, as params are added after the bindings are linked.
    candidates: OnceLock<Vec<usize>>,
}

/// Options of the offline evaluation.
#[derive(Debug, Clone)]
pub struct VapOptions {
    /// Iterations one expression may do (see [`cost`]).
    pub cost_limit: u64,
    /// Also evaluate policies that match `pods` against the pod templates
    /// of workloads (Deployments, Jobs, …): the API server would reject
    /// the pods they create.
    pub pod_templates: bool,
    /// Namespace of namespaced objects written without one.
    pub default_namespace: String,
}

impl Default for VapOptions {
    fn default() -> Self {
        VapOptions {
            cost_limit: cost::DEFAULT_LIMIT,
            pod_templates: true,
            default_namespace: "default".into(),
        }
    }
}

/// A param object from the inputs, with what selecting it reads (each is
/// tested against every object a binding with a `paramRef` matches).
#[derive(Debug)]
struct Param {
    object: Value,
    api_version: String,
    kind: String,
    namespace: Option<String>,
    name: Option<String>,
    labels: Labels,
}

/// Policies and bindings, compiled, with the objects they refer to
/// (Namespaces for selectors, params).
#[derive(Debug, Default)]
pub struct VapSet {
    policies: Vec<CompiledPolicy>,
    bindings: Vec<Binding>,
    pending_bindings: Vec<BindingSpec>,
    namespaces: HashMap<String, Value>,
    /// Each Namespace's labels, with the name label the API server sets.
    namespace_labels: HashMap<String, Labels>,
    params: Vec<Param>,
    warnings: Vec<String>,
    options: VapOptions,
}

impl VapSet {
    pub fn new(options: VapOptions) -> VapSet {
        VapSet {
            options,
            ..VapSet::default()
        }
    }

    /// Whether any binding applies a policy.
    pub fn is_empty(&self) -> bool {
        self.bindings.is_empty()
    }

    pub fn policy_count(&self) -> usize {
        self.policies.len()
    }

    /// Adds a ValidatingAdmissionPolicy or binding from its tree, compiling
    /// its expressions. Other kinds are ignored (`Ok(false)`).
    pub fn add_object(
        &mut self,
        path: &str,
        api_version: &str,
        kind: &str,
        root: &Node,
        anchor: palisade_core::Span,
    ) -> Result<bool, Vec<PolicyError>> {
        if !api_version.starts_with(&format!("{}/", model::GROUP)) {
            return Ok(false);
        }
        match kind {
            model::POLICY_KIND => {
                let spec = model::policy(path, root, anchor).map_err(|e| vec![e])?;
                if self.policies.iter().any(|p| p.spec.name == spec.name) {
                    return Ok(true);
                }
                let compiled = compile_policy(spec)?;
                self.policies.push(compiled);
                Ok(true)
            }
            model::BINDING_KIND => {
                let spec = model::binding(path, root, anchor).map_err(|e| vec![e])?;
                self.pending_bindings.push(spec);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Resolves bindings to their policies (call once every policy object
    /// is added). A binding to a missing policy and a policy without a
    /// binding do nothing, as in a cluster; both are reported as warnings.
    pub fn link(&mut self) {
        crate::count_compilation();
        for spec in std::mem::take(&mut self.pending_bindings) {
            if self.bindings.iter().any(|b| b.spec.name == spec.name) {
                continue;
            }
            match self
                .policies
                .iter()
                .position(|p| p.spec.name == spec.policy_name)
            {
                Some(policy) => {
                    let action = spec.actions.iter().copied().max().unwrap_or(Action::Deny);
                    self.bindings.push(Binding {
                        spec,
                        policy,
                        action,
                        candidates: OnceLock::new(),
                    });
                }
                None => self.warnings.push(format!(
                    "{}: ValidatingAdmissionPolicyBinding `{}` names policy `{}`, which is not among the scanned inputs or --policy files; it is not evaluated",
                    spec.path, spec.name, spec.policy_name
                )),
            }
        }
        self.bindings
            .sort_by(|a, b| (&a.spec.name, a.policy).cmp(&(&b.spec.name, b.policy)));
        for (i, p) in self.policies.iter().enumerate() {
            if !self.bindings.iter().any(|b| b.policy == i) {
                self.warnings.push(format!(
                    "{}: ValidatingAdmissionPolicy `{}` has no ValidatingAdmissionPolicyBinding; like the API server, Palisade does not evaluate it",
                    p.spec.path, p.spec.name
                ));
            }
        }
    }

    /// Problems that do not stop the run.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Kinds whose objects the evaluation needs from the inputs: Namespaces
    /// (for namespace selectors and `namespaceObject`) and the params'.
    pub fn wanted_kinds(&self) -> Vec<String> {
        let mut kinds = Vec::new();
        for b in &self.bindings {
            let Some(p) = self.policies.get(b.policy) else {
                continue;
            };
            if let Some((_, kind)) = &p.spec.param_kind {
                kinds.push(kind.clone());
            }
            let uses_namespace = !p.spec.match_constraints.namespace_selector.is_empty()
                || b.spec
                    .match_resources
                    .as_ref()
                    .is_some_and(|m| !m.namespace_selector.is_empty())
                || p.program_sources().any(|s| s.contains("namespaceObject"));
            if uses_namespace {
                kinds.push("Namespace".into());
            }
        }
        kinds.sort();
        kinds.dedup();
        kinds
    }

    /// Records a Namespace or a param object (JSON) from the inputs.
    pub fn add_context_object(&mut self, obj: Value) {
        let kind = obj.get("kind").and_then(Value::as_str).unwrap_or_default();
        if kind == "Namespace"
            && obj.pointer("/apiVersion").and_then(Value::as_str) == Some("v1")
            && let Some(name) = obj.pointer("/metadata/name").and_then(Value::as_str)
        {
            let mut labels = model::json_labels(&obj);
            labels.insert("kubernetes.io/metadata.name".into(), name.to_string());
            self.namespace_labels.insert(name.to_string(), labels);
            self.namespaces.insert(name.to_string(), obj.clone());
        }
        let wanted = self
            .policies
            .iter()
            .any(|p| p.spec.param_kind.as_ref().is_some_and(|(_, k)| k == kind));
        if wanted {
            for b in &mut self.bindings {
                b.candidates = OnceLock::new();
            }
            self.params.push(Param {
                api_version: obj
                    .get("apiVersion")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                kind: kind.to_string(),
                namespace: obj
                    .pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                name: obj
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                labels: model::json_labels(&obj),
                object: obj,
            });
        }
    }

    /// Metadata of every policy that a binding applies.
    pub fn metas(&self) -> Vec<Arc<RuleMeta>> {
        let mut out: Vec<Arc<RuleMeta>> = Vec::new();
        for b in &self.bindings {
            if let Some(p) = self.policies.get(b.policy)
                && !out.iter().any(|m| m.code == p.meta.code)
            {
                out.push(Arc::clone(&p.meta));
            }
        }
        out
    }

    /// Evaluates every binding against one object (its JSON, as the API
    /// server receives it) as a CREATE by `palisade` (offline scans).
    /// Evaluation errors follow the policy's `failurePolicy`; exceeding the
    /// cost limit is an error.
    pub fn evaluate(&self, object: &Value) -> (Vec<Violation>, Vec<PolicyError>) {
        self.evaluate_request(object, None)
    }

    /// Like [`VapSet::evaluate`], for a real admission request: its
    /// operation selects the rules (`operations`) and is `request.operation`;
    /// its user, dry-run flag and old object are `request.userInfo`,
    /// `request.dryRun` and `oldObject`. Pods synthesised from workload
    /// templates are still evaluated as CREATEs without an old object.
    pub fn evaluate_request(
        &self,
        object: &Value,
        req: Option<&RequestInfo<'_>>,
    ) -> (Vec<Violation>, Vec<PolicyError>) {
        let mut out = (Vec::new(), Vec::new());
        if self.bindings.is_empty() {
            return out;
        }
        let Some(mut facts) = Facts::of(object, &self.options.default_namespace) else {
            return out;
        };
        if let Some(r) = req {
            facts.operation = r.operation.to_string();
        }
        let mut targets = vec![(facts, Cow::Borrowed(object), None)];
        if self.options.pod_templates
            && let Some((pod, template)) = pod_of_template(
                object,
                targets.first().and_then(|t| t.0.namespace.as_deref()),
            )
            && let Some(pod_facts) = Facts::of(&pod, &self.options.default_namespace)
        {
            targets.push((pod_facts, Cow::Owned(pod), Some(template)));
        }
        for (facts, obj, template) in &targets {
            let matching: Vec<&Binding> = self
                .bindings
                .iter()
                .filter(|b| self.matches(b, facts))
                .collect();
            if matching.is_empty() {
                continue;
            }
            let mut size = InputSize::default();
            let cel_object = to_val(obj, &mut size, 0);
            let namespace_object = facts
                .namespace
                .as_deref()
                .and_then(|ns| self.namespaces.get(ns))
                .map_or_else(null, |v| to_val(v, &mut size, 0));
            let env = match cel_lib::env() {
                Ok(env) => env,
                Err(e) => {
                    out.1.push(PolicyError::new("<cel>", None, e.to_string()));
                    return out;
                }
            };
            let old_object = match (template, req.and_then(|r| r.old_object)) {
                (None, Some(old)) => to_val(old, &mut size, 0),
                _ => null(),
            };
            let mut base = Context::with_env(env);
            base.add_variable_as_val("object", cel_object);
            base.add_variable_as_val("oldObject", old_object);
            base.add_variable_as_val("namespaceObject", namespace_object);
            base.add_variable_from_value(
                "request",
                request(facts, req.filter(|_| template.is_none())),
            );
            for b in matching {
                self.evaluate_binding(b, facts, &base, size, template.as_ref(), &mut out);
            }
        }
        out
    }

    /// Whether some binding's policy could select an object of this group
    /// and kind (or the pod of its template): a cheap, conservative test
    /// that spares the JSON conversion of objects no policy is about.
    pub fn may_match_kind(&self, group: &str, kind: &str) -> bool {
        let (resource, _) = resources::resource_of(kind);
        let templated = self.options.pod_templates && TEMPLATE_KINDS.contains(&kind);
        let names = |r: &ResourceRule, group: &str, resource: &str| {
            any_or(&r.groups, group)
                && r.resources
                    .iter()
                    .any(|x| x == "*" || x == "*/*" || x == resource)
        };
        self.bindings.iter().any(|b| {
            self.policies.get(b.policy).is_some_and(|p| {
                p.spec
                    .match_constraints
                    .rules
                    .iter()
                    .any(|r| names(r, group, &resource) || (templated && names(r, "", "pods")))
            })
        })
    }

    fn matches(&self, b: &Binding, facts: &Facts) -> bool {
        let Some(p) = self.policies.get(b.policy) else {
            return false;
        };
        self.match_resources(&p.spec.match_constraints, facts, false)
            && b.spec
                .match_resources
                .as_ref()
                .is_none_or(|m| self.match_resources(m, facts, true))
    }

    /// A binding's `matchResources` without resource rules restricts only
    /// by its selectors (the policy's constraints choose the resources).
    fn match_resources(&self, m: &MatchResources, facts: &Facts, binding: bool) -> bool {
        let by_rules = binding && m.rules.is_empty();
        if !by_rules && !m.rules.iter().any(|r| rule_matches(r, facts)) {
            return false;
        }
        if m.exclude.iter().any(|r| rule_matches(r, facts)) {
            return false;
        }
        if !m.object_selector.matches(&facts.labels) {
            return false;
        }
        if m.namespace_selector.is_empty() {
            return true;
        }
        if facts.kind == "Namespace" {
            return m.namespace_selector.matches(&facts.labels);
        }
        match &facts.namespace {
            // Cluster-scoped objects are not selected by namespace.
            None => true,
            Some(ns) => match self.namespace_labels.get(ns) {
                Some(labels) => m.namespace_selector.matches(labels),
                // Set on every namespace by the API server.
                None => m.namespace_selector.matches(&Labels::from([(
                    "kubernetes.io/metadata.name".to_string(),
                    ns.clone(),
                )])),
            },
        }
    }

    fn evaluate_binding(
        &self,
        b: &Binding,
        facts: &Facts,
        base: &Context<'_, '_>,
        size: InputSize,
        template: Option<&Template>,
        out: &mut (Vec<Violation>, Vec<PolicyError>),
    ) {
        let Some(p) = self.policies.get(b.policy) else {
            return;
        };
        let params: Vec<Option<&Value>> = match &p.spec.param_kind {
            None => vec![None],
            Some((api_version, kind)) => {
                let Some(param_ref) = &b.spec.param_ref else {
                    self.failure(
                        p,
                        b,
                        template,
                        "the policy has a paramKind but the binding has no paramRef".into(),
                        out,
                    );
                    return;
                };
                let candidates = b.candidates.get_or_init(|| {
                    (0..self.params.len())
                        .filter(|&i| {
                            self.params.get(i).is_some_and(|v| {
                                v.kind == *kind
                                    && v.api_version == *api_version
                                    && param_selected(v, param_ref)
                            })
                        })
                        .collect()
                });
                let found: Vec<Option<&Value>> = candidates
                    .iter()
                    .filter_map(|&i| self.params.get(i))
                    .filter(|v| param_in_namespace(v, param_ref, facts))
                    .map(|v| Some(&v.object))
                    .collect();
                if found.is_empty() {
                    // `Deny` makes the missing params a failure of the
                    // policy, which its `failurePolicy` decides (Kubernetes:
                    // "subject to the failurePolicy of the policy").
                    if param_ref.deny_when_missing {
                        let what = param_ref.name.as_deref().map_or_else(
                            || "matching the selector".to_string(),
                            |n| format!("`{n}`"),
                        );
                        self.failure(
                            p,
                            b,
                            template,
                            format!(
                                "failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction ({kind} {what})"
                            ),
                            out,
                        );
                    }
                    return;
                }
                found
            }
        };
        for param in params {
            let mut param_size = size;
            let params_value = param.map_or_else(null, |v| to_val(v, &mut param_size, 0));
            let mut scope = base.new_inner_scope();
            scope.add_variable_as_val("params", params_value);
            self.run(p, b, template, &mut scope, param_size, out);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn run(
        &self,
        p: &CompiledPolicy,
        b: &Binding,
        template: Option<&Template>,
        scope: &mut Context<'_, '_>,
        mut size: InputSize,
        out: &mut (Vec<Violation>, Vec<PolicyError>),
    ) {
        // Variables, in order, each seeing the ones before it.
        let mut variables: HashMap<Key, CelValue> = HashMap::new();
        let mut variable_errors: BTreeMap<String, String> = BTreeMap::new();
        scope.add_variable_from_value(
            "variables",
            CelValue::Map(Map {
                map: Arc::new(HashMap::new()),
            }),
        );
        for (name, v) in &p.variables {
            match self.execute(p, v, scope, size) {
                Ok(value) => {
                    let mut s = InputSize::default();
                    measure_cel(&value, &mut s, 0);
                    size.merge(s);
                    variables.insert(Key::String(Arc::new(name.clone())), value);
                    scope.add_variable_from_value(
                        "variables",
                        CelValue::Map(Map {
                            map: Arc::new(variables.clone()),
                        }),
                    );
                }
                Err(Failure::Limit(e)) => {
                    out.1.push(e);
                    return;
                }
                Err(Failure::Eval(e)) => {
                    variable_errors.insert(name.clone(), e);
                }
            }
        }
        let explain = |e: String| {
            variable_errors
                .iter()
                .find(|(name, _)| e.contains(&format!("'{name}'")) || e.contains(name.as_str()))
                .map_or(e.clone(), |(name, ve)| {
                    format!("variable `{name}` failed: {ve}")
                })
        };
        for (name, c) in &p.match_conditions {
            match self.execute(p, c, scope, size) {
                Ok(CelValue::Bool(true)) => {}
                Ok(CelValue::Bool(false)) => return,
                Ok(other) => {
                    self.failure(
                        p,
                        b,
                        template,
                        format!("matchCondition `{name}` evaluated to {other:?}, not a bool"),
                        out,
                    );
                    return;
                }
                Err(Failure::Limit(e)) => {
                    out.1.push(e);
                    return;
                }
                Err(Failure::Eval(e)) => {
                    self.failure(
                        p,
                        b,
                        template,
                        format!("matchCondition `{name}` failed: {}", explain(e)),
                        out,
                    );
                    return;
                }
            }
        }
        for ((c, message_expr), v) in p.validations.iter().zip(&p.spec.validations) {
            match self.execute(p, c, scope, size) {
                Ok(CelValue::Bool(true)) => {}
                Ok(CelValue::Bool(false)) => {
                    let from_expr =
                        message_expr
                            .as_ref()
                            .and_then(|m| match self.execute(p, m, scope, size) {
                                Ok(CelValue::String(s)) if !s.trim().is_empty() => {
                                    Some(s.to_string())
                                }
                                _ => None,
                            });
                    let message = from_expr
                        .or_else(|| v.message.clone())
                        .unwrap_or_else(|| format!("failed expression: {}", c.source.text.trim()));
                    self.report(p, b, template, message, out);
                }
                Ok(other) => self.failure(
                    p,
                    b,
                    template,
                    format!(
                        "expression '{}' evaluated to {other:?}, not a bool",
                        c.source.text.trim()
                    ),
                    out,
                ),
                Err(Failure::Limit(e)) => out.1.push(e),
                Err(Failure::Eval(e)) => self.failure(
                    p,
                    b,
                    template,
                    format!(
                        "expression '{}' resulted in error: {}",
                        c.source.text.trim(),
                        explain(e)
                    ),
                    out,
                ),
            }
        }
    }

    fn execute(
        &self,
        p: &CompiledPolicy,
        c: &Compiled,
        scope: &Context<'_, '_>,
        size: InputSize,
    ) -> Result<CelValue, Failure> {
        let bound = c.shape.bound(size);
        if bound > self.options.cost_limit {
            return Err(Failure::Limit(PolicyError::new(
                &p.spec.path,
                Some(c.source.span),
                format!(
                    "CEL expression of ValidatingAdmissionPolicy `{}` exceeds the cost limit: up to {bound} iterations (comprehensions nested {} deep over collections of up to {} elements), limit {}",
                    p.spec.name,
                    c.shape.depth,
                    (bound as f64)
                        .powf(1.0 / f64::from(c.shape.depth.max(1)))
                        .round(),
                    self.options.cost_limit
                ),
            )));
        }
        c.program
            .execute(scope)
            .map_err(|e| Failure::Eval(e.to_string()))
    }

    /// A failed validation (or a missing param), reported per the
    /// binding's actions.
    fn report(
        &self,
        p: &CompiledPolicy,
        b: &Binding,
        template: Option<&Template>,
        message: String,
        out: &mut (Vec<Violation>, Vec<PolicyError>),
    ) {
        let (vap, binding) = (&p.spec.name, &b.spec.name);
        let text = match b.action {
            Action::Deny => format!(
                "ValidatingAdmissionPolicy '{vap}' with binding '{binding}' denied request: {message}"
            ),
            Action::Warn => format!(
                "Validation failed for ValidatingAdmissionPolicy '{vap}' with binding '{binding}': {message}"
            ),
            Action::Audit => format!(
                "ValidatingAdmissionPolicy '{vap}' with binding '{binding}' (audit): {message}"
            ),
        };
        let text = match template {
            Some((_, owner)) => format!("pod template of {owner}: {text}"),
            None => text,
        };
        out.0.push(Violation {
            rule: Arc::clone(&p.meta),
            severity: b.action.default_severity(),
            action: b.action,
            message: text,
            pointer: template.map(|(pointer, _)| pointer.clone()),
            exception: None,
        });
    }

    /// An evaluation error: reported when the policy fails closed.
    fn failure(
        &self,
        p: &CompiledPolicy,
        b: &Binding,
        template: Option<&Template>,
        message: String,
        out: &mut (Vec<Violation>, Vec<PolicyError>),
    ) {
        if p.spec.fail_closed {
            self.report(p, b, template, message, out);
        }
    }
}

enum Failure {
    /// Over the cost limit: an error of the run.
    Limit(PolicyError),
    /// The expression failed: handled by `failurePolicy`.
    Eval(String),
}

impl CompiledPolicy {
    fn program_sources(&self) -> impl Iterator<Item = &str> {
        self.match_conditions
            .iter()
            .chain(self.variables.iter())
            .map(|(_, c)| c.source.text.as_str())
            .chain(self.validations.iter().flat_map(|(c, m)| {
                std::iter::once(c.source.text.as_str())
                    .chain(m.iter().map(|m| m.source.text.as_str()))
            }))
    }
}

fn compile_policy(spec: PolicySpec) -> Result<CompiledPolicy, Vec<PolicyError>> {
    let env =
        cel_lib::env().map_err(|e| vec![PolicyError::new(&spec.path, None, e.to_string())])?;
    let mut errors = Vec::new();
    let mut compile = |source: &ExprSource| match compile_expr(&env, &spec.path, source) {
        Ok(c) => Some(c),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let match_conditions: Vec<(String, Compiled)> = spec
        .match_conditions
        .iter()
        .filter_map(|n| compile(&n.expression).map(|c| (n.name.clone(), c)))
        .collect();
    let variables: Vec<(String, Compiled)> = spec
        .variables
        .iter()
        .filter_map(|n| compile(&n.expression).map(|c| (n.name.clone(), c)))
        .collect();
    let mut validations = Vec::new();
    for v in &spec.validations {
        let expr = compile(&v.expression);
        let message = v.message_expression.as_ref().and_then(&mut compile);
        if let Some(expr) = expr {
            validations.push((expr, message));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let meta = Arc::new(policy_meta(&spec));
    Ok(CompiledPolicy {
        spec,
        match_conditions,
        variables,
        validations,
        meta,
    })
}

fn compile_expr(env: &Env, path: &str, source: &ExprSource) -> Result<Compiled, PolicyError> {
    let locate = |line: u32, column: u32, message: String| {
        let inner = PolicyError::at(path, line.max(1), column.max(1), message.clone());
        if source.single_line {
            let mut origin = source.span.start;
            if source.quoted {
                origin.column += 1;
            }
            inner.offset_from(origin)
        } else {
            PolicyError::new(
                path,
                Some(source.span),
                format!("{message} (line {line}, column {column} of the expression)"),
            )
        }
    };
    let program = env.compile(&source.text).map_err(|errors| {
        let first = errors.errors.first();
        let (line, column) = first.map_or((1, 1), |e| {
            (
                u32::try_from(e.pos.0).unwrap_or(1),
                u32::try_from(e.pos.1).unwrap_or(1),
            )
        });
        let msg = first.map_or_else(|| errors.to_string(), |e| e.msg.clone());
        locate(line, column, format!("invalid CEL expression: {msg}"))
    })?;
    let references = program.references();
    if references.has_variable("authorizer") {
        let (line, column) = position_of(&source.text, "authorizer");
        return Err(locate(
            line,
            column,
            "unsupported CEL variable `authorizer`: authorization checks need a live API server"
                .into(),
        ));
    }
    let mut functions: Vec<&str> = references.functions();
    // Kubernetes functions known to be missing first: their error says why.
    functions.sort_unstable_by_key(|f| (cel_lib::unsupported_reason(f).is_none(), *f));
    for f in functions {
        if !cel_lib::is_supported(f) {
            let why = cel_lib::unsupported_reason(f)
                .map(|w| format!(": {w}"))
                .unwrap_or_default();
            let (line, column) = position_of(&source.text, f);
            return Err(locate(
                line,
                column,
                format!("unsupported CEL function `{f}`{why}"),
            ));
        }
    }
    let shape = Shape::of(program.expression());
    Ok(Compiled {
        program,
        source: source.clone(),
        shape,
    })
}

/// Line and column (1-based) of the first occurrence of `needle`.
fn position_of(text: &str, needle: &str) -> (u32, u32) {
    let short = needle.rsplit('.').next().unwrap_or(needle);
    let Some(at) = text.find(short) else {
        return (1, 1);
    };
    let before = text.get(..at).unwrap_or_default();
    let line = before.matches('\n').count() as u32 + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u32 + 1;
    (line, column)
}

fn policy_meta(spec: &PolicySpec) -> RuleMeta {
    let title = spec
        .validations
        .iter()
        .find_map(|v| v.message.clone())
        .unwrap_or_else(|| format!("ValidatingAdmissionPolicy {}", spec.name));
    let mut doc = format!(
        "## What it does\nEvaluates the ValidatingAdmissionPolicy `{}` (from `{}`) offline, as the API server would for a CREATE.\n\n## Why is this bad?\nThe cluster rejects, warns about or audits objects that fail it: {}.\n\n## Validations\n",
        spec.name, spec.path, title
    );
    for v in &spec.validations {
        doc.push_str(&format!("- `{}`", v.expression.text.trim()));
        if let Some(m) = &v.message {
            doc.push_str(&format!(": {m}"));
        }
        doc.push('\n');
    }
    RuleMeta {
        code: Cow::Owned(spec.name.clone()),
        name: Cow::Owned(spec.name.clone()),
        title: Cow::Owned(title),
        severity: Action::Deny.default_severity(),
        scanner: Scanner::Policy,
        references: Cow::Owned(vec![Reference {
            framework: Framework::Url,
            id: Cow::Borrowed(
                "https://kubernetes.io/docs/reference/access-authn-authz/validating-admission-policy/",
            ),
        }]),
        fix: Cow::Borrowed(""),
        doc: Cow::Owned(doc),
    }
}

/// What matching needs to know about an object.
#[derive(Debug, Clone)]
struct Facts {
    group: String,
    version: String,
    kind: String,
    resource: String,
    cluster_scoped: bool,
    name: String,
    namespace: Option<String>,
    labels: Labels,
    /// The request's operation (`CREATE` offline).
    operation: String,
}

impl Facts {
    fn of(obj: &Value, default_namespace: &str) -> Option<Facts> {
        let api_version = obj.get("apiVersion")?.as_str()?;
        let kind = obj.get("kind")?.as_str()?.to_string();
        let (group, version) = api_version
            .rsplit_once('/')
            .map_or(("", api_version), |(g, v)| (g, v));
        let (resource, scope) = resources::resource_of(&kind);
        let declared = obj.pointer("/metadata/namespace").and_then(Value::as_str);
        let cluster_scoped = scope.unwrap_or(false);
        let namespace = if cluster_scoped {
            None
        } else {
            Some(declared.unwrap_or(default_namespace).to_string())
        };
        let name = obj
            .pointer("/metadata/name")
            .or_else(|| obj.pointer("/metadata/generateName"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        Some(Facts {
            group: group.to_string(),
            version: version.to_string(),
            kind,
            resource,
            cluster_scoped,
            name,
            namespace,
            labels: model::json_labels(obj),
            operation: "CREATE".into(),
        })
    }
}

fn any_or(list: &[String], value: &str) -> bool {
    list.iter().any(|x| x == "*" || x == value)
}

fn rule_matches(r: &ResourceRule, f: &Facts) -> bool {
    any_or(&r.groups, &f.group)
        && any_or(&r.versions, &f.version)
        && any_or(&r.operations, &f.operation)
        && r.resources
            .iter()
            .any(|x| x == "*" || x == "*/*" || *x == f.resource)
        && (r.resource_names.is_empty() || r.resource_names.contains(&f.name))
        && match r.scope.as_str() {
            "Cluster" => f.cluster_scoped,
            "Namespaced" => !f.cluster_scoped,
            _ => true,
        }
}

/// Whether `paramRef` names or selects the param (its namespace aside).
fn param_selected(param: &Param, r: &model::ParamRef) -> bool {
    if let Some(name) = &r.name {
        return param.name.as_deref() == Some(name.as_str());
    }
    r.selector
        .as_ref()
        .is_some_and(|s| s.matches(&param.labels))
}

/// Whether the param is in the namespace `paramRef` asks for: its own, or
/// else the object's (a cluster-scoped param when neither has one).
fn param_in_namespace(param: &Param, r: &model::ParamRef, facts: &Facts) -> bool {
    let param_ns = param.namespace.as_deref();
    let wanted_ns = r.namespace.as_deref().or(if param_ns.is_some() {
        facts.namespace.as_deref()
    } else {
        None
    });
    param_ns == wanted_ns || (param_ns.is_none() && r.namespace.is_none())
}

/// The admission request an object comes with (see
/// [`VapSet::evaluate_request`]).
#[derive(Debug, Clone, Copy)]
pub struct RequestInfo<'a> {
    /// `CREATE`, `UPDATE`, `DELETE` or `CONNECT`.
    pub operation: &'a str,
    pub username: &'a str,
    pub groups: &'a [String],
    pub old_object: Option<&'a Value>,
    pub dry_run: bool,
}

/// The `request` variable: the admission request's, or a CREATE by an
/// anonymous CI user (offline scans).
fn request(f: &Facts, req: Option<&RequestInfo<'_>>) -> CelValue {
    let s = |v: &str| CelValue::String(Arc::new(v.to_string()));
    let map = |pairs: Vec<(&str, CelValue)>| {
        let m: HashMap<Key, CelValue> = pairs
            .into_iter()
            .map(|(k, v)| (Key::String(Arc::new(k.to_string())), v))
            .collect();
        CelValue::Map(Map { map: Arc::new(m) })
    };
    map(vec![
        (
            "kind",
            map(vec![
                ("group", s(&f.group)),
                ("version", s(&f.version)),
                ("kind", s(&f.kind)),
            ]),
        ),
        (
            "resource",
            map(vec![
                ("group", s(&f.group)),
                ("version", s(&f.version)),
                ("resource", s(&f.resource)),
            ]),
        ),
        ("operation", s(&f.operation)),
        ("name", s(&f.name)),
        (
            "namespace",
            f.namespace.as_deref().map_or(CelValue::Null, s),
        ),
        (
            "userInfo",
            map(vec![
                ("username", s(req.map_or("palisade", |r| r.username))),
                (
                    "groups",
                    CelValue::List(Arc::new(match req {
                        Some(r) => r.groups.iter().map(|g| s(g)).collect(),
                        None => vec![s("system:authenticated")],
                    })),
                ),
            ]),
        ),
        ("dryRun", CelValue::Bool(req.is_none_or(|r| r.dry_run))),
    ])
}

/// Where a synthesised pod comes from: the template's pointer and the
/// workload (`Deployment web`).
type Template = (String, String);

/// Kinds whose pod template is also evaluated as a Pod.
const TEMPLATE_KINDS: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
];

/// A Pod built from a workload's pod template, and where it comes from.
fn pod_of_template(obj: &Value, namespace: Option<&str>) -> Option<(Value, Template)> {
    let kind = obj.get("kind")?.as_str()?;
    let pointer = match kind {
        "CronJob" => "/spec/jobTemplate/spec/template",
        k if TEMPLATE_KINDS.contains(&k) => "/spec/template",
        _ => return None,
    };
    let template = obj.pointer(pointer)?;
    let mut metadata = template
        .get("metadata")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    metadata.insert("name".into(), Value::String(name.to_string()));
    if let Some(ns) = namespace {
        metadata.insert("namespace".into(), Value::String(ns.to_string()));
    }
    let pod = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": Value::Object(metadata),
        "spec": template.get("spec").cloned().unwrap_or(Value::Null),
    });
    Some((pod, (pointer.to_string(), format!("{kind} {name}"))))
}

/// JSON to CEL: integers stay `int` (as the API server's JSON decoding
/// gives them), and the sizes the cost bound needs are measured on the way.
/// Strings and keys are borrowed from the JSON, not copied: an object is
/// converted once per evaluation and most of it is never read.
fn to_val<'v>(v: &'v Value, size: &mut InputSize, depth: u32) -> Box<dyn Val + 'v> {
    if depth > 256 {
        return null();
    }
    match v {
        Value::Null => null(),
        Value::Bool(b) => Box::new(CelBool::from(*b)),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => Box::new(CelInt::from(i)),
            (None, Some(u), _) => Box::new(CelUInt::from(u)),
            (_, _, Some(f)) => Box::new(CelDouble::from(f)),
            _ => null(),
        },
        Value::String(s) => {
            size.max_string = size.max_string.max(s.len() as u64);
            Box::new(CelString::from(s.as_str()))
        }
        Value::Array(items) => {
            size.max_collection = size.max_collection.max(items.len() as u64);
            let list: Vec<Box<dyn Val + 'v>> =
                items.iter().map(|i| to_val(i, size, depth + 1)).collect();
            Box::new(CelList::from(list))
        }
        Value::Object(o) => {
            size.max_collection = size.max_collection.max(o.len() as u64);
            let map: HashMap<CelMapKey<'v>, Box<dyn Val + 'v>> = o
                .iter()
                .map(|(k, v)| (CelMapKey::from(k.as_str()), to_val(v, size, depth + 1)))
                .collect();
            Box::new(CelMap::from(map))
        }
    }
}

fn null<'v>() -> Box<dyn Val + 'v> {
    Box::new(CelNull)
}

/// Sizes of a value computed by a variable.
fn measure_cel(v: &CelValue, size: &mut InputSize, depth: u32) {
    if depth > 256 {
        return;
    }
    match v {
        CelValue::String(s) => size.max_string = size.max_string.max(s.len() as u64),
        CelValue::List(items) => {
            size.max_collection = size.max_collection.max(items.len() as u64);
            for i in items.iter() {
                measure_cel(i, size, depth + 1);
            }
        }
        CelValue::Map(m) => {
            size.max_collection = size.max_collection.max(m.map.len() as u64);
            for i in m.map.values() {
                measure_cel(i, size, depth + 1);
            }
        }
        _ => {}
    }
}
