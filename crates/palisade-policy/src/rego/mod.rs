//! Conftest-style Rego policies, evaluated with regorus.
//!
//! Loading parses every module (Rego v1 first, v0 when that fails, as
//! Conftest policies come in both), reads `# METADATA` annotations, adds the
//! `--data` documents, prepares the engine once and checks every function
//! call against the modules and the built-ins compiled in. The prepared
//! engine is then shared: each evaluation clones it (the modules, data and
//! schedule are reference counted) and sets `input`, so any number of
//! threads evaluate objects at once.

mod ast;
mod bytecode;
mod kinds;
pub mod metadata;
pub mod testing;

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use palisade_core::{Framework, Reference, RuleMeta, Scanner, Severity};
use regorus::utils::limits::ExecutionTimerConfig;
use serde::Deserialize as _;
use serde_json::Value;

use crate::error::{LoadErrors, PolicyError};
use crate::violation::{Action, Violation};
use ast::ModuleOutline;
use metadata::{Annotation, FileAnnotations};

/// How Rego policies are loaded and run.
#[derive(Debug, Clone)]
pub struct RegoOptions {
    /// Packages whose rules are applied (`main` by default, as Conftest);
    /// `*` applies every package.
    pub namespaces: Vec<String>,
    /// Wall-clock budget of one object's evaluation of all rules.
    pub time_limit: Duration,
    pub engine: RegoEngine,
}

impl Default for RegoOptions {
    fn default() -> Self {
        RegoOptions {
            namespaces: vec!["main".into()],
            time_limit: Duration::from_secs(2),
            engine: RegoEngine::default(),
        }
    }
}

/// How rules are evaluated. Both give the same violations for a policy
/// that evaluates without error; they differ in what an error does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegoEngine {
    /// regorus' interpreter: arithmetic on a non-number, complete rules
    /// with conflicting values and the time limit are reported with the
    /// rule and location (a failing built-in is undefined, as on the VM).
    #[default]
    Interpreter,
    /// regorus' bytecode VM, about twice as fast. An error inside a rule
    /// makes that rule undefined instead of being reported, as OPA does
    /// with built-in errors (without `--strict-builtin-errors`) — here
    /// also for operand types and conflicting complete rules. The time
    /// limit is still reported. A set the VM cannot run (recursive rules,
    /// `print`, `numbers.range`) is evaluated by the interpreter.
    Vm,
}

/// A policy file's text and how findings name it.
#[derive(Debug, Clone)]
pub struct PolicyFile {
    pub path: String,
    pub text: String,
}

/// The kind of a Conftest rule, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RuleKind {
    Deny,
    Violation,
    Warn,
}

impl RuleKind {
    /// `deny`, `deny_x`, `violation…`, `warn…` (as Conftest matches them).
    fn of(name: &str) -> Option<(RuleKind, &str)> {
        for (prefix, kind) in [
            ("deny", RuleKind::Deny),
            ("violation", RuleKind::Violation),
            ("warn", RuleKind::Warn),
        ] {
            if let Some(rest) = name.strip_prefix(prefix) {
                if rest.is_empty() {
                    return Some((kind, ""));
                }
                if let Some(suffix) = rest.strip_prefix('_')
                    && !suffix.is_empty()
                {
                    return Some((kind, suffix));
                }
            }
        }
        None
    }

    fn action(self) -> Action {
        match self {
            RuleKind::Deny | RuleKind::Violation => Action::Deny,
            RuleKind::Warn => Action::Warn,
        }
    }
}

/// One Conftest rule (all definitions of one name in one package).
#[derive(Debug, Clone)]
pub struct ConftestRule {
    /// `data.main.deny_privileged`.
    pub path: String,
    pub package: String,
    pub name: String,
    pub kind: RuleKind,
    /// The name after `deny_`/`warn_`/`violation_` (empty for `deny`), as
    /// `exception` rules name it.
    pub suffix: String,
    pub meta: Arc<RuleMeta>,
}

/// A compiled set of Rego modules, shareable between threads.
#[derive(Debug)]
pub struct RegoSet {
    engine: regorus::Engine,
    /// Copies of `engine` that evaluated an object without error, for the
    /// next: each evaluation starts by resetting its state, and a copy per
    /// object (then dropped) cost more than a small plan's rules.
    spares: Mutex<Vec<regorus::Engine>>,
    rules: Vec<ConftestRule>,
    /// `data.<pkg>.exception` for packages that define one.
    exceptions: Vec<String>,
    outlines: Vec<ModuleOutline>,
    /// Policy texts by path, to turn regorus' columns into characters.
    texts: Arc<HashMap<String, String>>,
    /// The rules each object is evaluated with, by its `apiVersion` and
    /// `kind` (see [`Plans::of`]).
    plans: Plans,
    /// The plans' gather rules compiled to regorus' VM, with
    /// [`RegoEngine::Vm`] when they compile.
    bytecode: Option<bytecode::Bytecode>,
    /// Why [`RegoEngine::Vm`] was asked for and the interpreter is used.
    vm_refused: Option<String>,
    /// The engines' time limit per evaluation.
    timer: ExecutionTimerConfig,
}

/// Which rules run for which objects.
#[derive(Debug, Clone, Default)]
struct Plans {
    plans: Vec<Plan>,
    /// The values some rule names, numbered; a value no rule names has
    /// the number after the last.
    api_versions: BTreeMap<String, usize>,
    kinds: BTreeMap<String, usize>,
    /// The plan of each `(apiVersion, kind)` pair of numbers, row by row.
    by_object: Vec<usize>,
}

impl Plans {
    fn of(&self, api_version: Option<&str>, kind: Option<&str>) -> Option<&Plan> {
        let number = |v: Option<&str>, values: &BTreeMap<String, usize>| {
            v.and_then(|v| values.get(v))
                .copied()
                .unwrap_or(values.len())
        };
        let row = number(api_version, &self.api_versions);
        let cell = row * (self.kinds.len() + 1) + number(kind, &self.kinds);
        self.by_object.get(cell).and_then(|&i| self.plans.get(i))
    }
}

/// The rules that can report for some objects (see [`kinds`]).
#[derive(Debug, Clone, Default)]
struct Plan {
    /// Indexes into [`RegoSet::rules`], in order.
    rules: Vec<usize>,
    /// The generated rule holding every one of these rules' values, when
    /// it loaded: an object is then evaluated in one query, and helpers
    /// such as `data.lib.kubernetes.containers` are computed once, not
    /// once per rule.
    gather: Option<String>,
}

/// The generated module's package (one rule per plan).
const GATHER_PACKAGE: &str = "palisade_internal_gather";

/// Functions that regorus has but Palisade leaves out on purpose.
const EXCLUDED: &[(&str, &str)] = &[
    ("http.send", "policies run offline: no network access"),
    (
        "net.lookup_ip_addr",
        "policies run offline: no network access",
    ),
    ("opa.runtime", "policies cannot read the environment"),
    ("uuid.rfc4122", "results must be deterministic"),
    (
        "json.match_schema",
        "JSON Schema built-ins are not compiled in",
    ),
    (
        "json.verify_schema",
        "JSON Schema built-ins are not compiled in",
    ),
];

impl RegoSet {
    /// Parses, compiles and checks `files` with `data`. Every problem is
    /// reported, with its file, line and column.
    pub fn load(
        files: &[PolicyFile],
        data: &[Value],
        options: &RegoOptions,
    ) -> Result<RegoSet, LoadErrors> {
        crate::count_compilation();
        let mut errors = Vec::new();
        let mut engine = regorus::Engine::new();
        if let Err(e) = add_capped_ranges(&mut engine) {
            return Err(LoadErrors(vec![PolicyError::new(
                "<engine>",
                None,
                e.to_string(),
            )]));
        }
        let mut annotations: Vec<(String, FileAnnotations)> = Vec::new();
        for file in files {
            match metadata::parse(&file.path, &file.text) {
                Ok(a) => annotations.push((file.path.clone(), a)),
                Err(e) => errors.push(e),
            }
            if let Err(e) = add_module(&mut engine, file) {
                errors.push(e);
            }
        }
        for d in data {
            match regorus::Value::deserialize(d) {
                Ok(v) => {
                    if let Err(e) = engine.add_data(v) {
                        errors.push(PolicyError::new("--data", None, e.to_string()));
                    }
                }
                Err(e) => errors.push(PolicyError::new("--data", None, e.to_string())),
            }
        }
        if !errors.is_empty() {
            let texts: HashMap<String, String> = files
                .iter()
                .map(|f| (f.path.clone(), f.text.clone()))
                .collect();
            return Err(LoadErrors(
                errors
                    .into_iter()
                    .map(|e| char_columns(e, &texts))
                    .collect(),
            ));
        }
        // OPA's default: a built-in that fails makes its expression
        // undefined instead of failing the whole query.
        engine.set_strict_builtin_errors(false);
        engine.set_gather_prints(true);
        let timer = ExecutionTimerConfig {
            limit: options.time_limit,
            check_interval: NonZeroU32::MIN.saturating_add(31),
        };
        engine.set_execution_timer_config(timer);
        if let Err(e) = engine.eval_query("true".into(), false) {
            let texts: HashMap<String, String> = files
                .iter()
                .map(|f| (f.path.clone(), f.text.clone()))
                .collect();
            return Err(LoadErrors(vec![char_columns(
                PolicyError::from_regorus(
                    files.first().map_or("<policy>", |f| f.path.as_str()),
                    &e,
                ),
                &texts,
            )]));
        }
        let ast = match engine
            .get_ast_as_json()
            .and_then(|json| Ok(serde_json::from_str::<Value>(&json)?))
        {
            Ok(ast) => ast,
            Err(e) => {
                return Err(LoadErrors(vec![PolicyError::new(
                    "<policy>",
                    None,
                    e.to_string(),
                )]));
            }
        };
        let outlines = ast::outlines(&ast);
        let texts: Arc<HashMap<String, String>> = Arc::new(
            files
                .iter()
                .map(|f| (f.path.clone(), f.text.clone()))
                .collect(),
        );
        check_calls(&outlines, &mut errors);
        let (rules, exceptions) = match conftest_rules(&outlines, &annotations, options) {
            Ok(r) => r,
            Err(mut e) => {
                errors.append(&mut e);
                (Vec::new(), Vec::new())
            }
        };
        if !errors.is_empty() {
            let mut errors: Vec<PolicyError> = errors
                .into_iter()
                .map(|e| char_columns(e, &texts))
                .collect();
            errors.sort_by(|a, b| (&a.path, a.span).cmp(&(&b.path, b.span)));
            errors.dedup();
            return Err(LoadErrors(errors));
        }
        // A lookup like `data.main[name]` inside package `main` reaches the
        // rule itself: OPA refuses it, regorus' interpreter would silently
        // leave the cycle's rules (and others evaluated with them)
        // undefined. regorus' compiler finds such cycles; it runs only when
        // a source holds a dynamic lookup into `data`.
        if texts.values().any(|t| dynamic_data_lookup(t)) {
            let paths: Vec<&str> = rules.iter().map(|r| r.path.as_str()).collect();
            if let Some(cycle) = bytecode::recursion(&engine, &paths) {
                let rule = paths.iter().find(|p| cycle.contains(**p));
                let source = package_source(&outlines, rule.copied().unwrap_or_default());
                return Err(LoadErrors(vec![PolicyError::new(
                    source,
                    None,
                    format!("recursive rules (OPA refuses them): {cycle}"),
                )]));
            }
        }
        let mut plans = plans(&ast, &rules);
        add_gather_modules(&mut engine, &rules, &exceptions, &mut plans.plans);
        let gathers: Option<Vec<&str>> = plans
            .plans
            .iter()
            .filter(|p| !p.rules.is_empty())
            .map(|p| p.gather.as_deref())
            .collect();
        let (bytecode, vm_refused) = match (options.engine, gathers) {
            (RegoEngine::Interpreter, _) => (None, None),
            (RegoEngine::Vm, None) => (None, Some("a package path needs quoting".to_string())),
            (RegoEngine::Vm, Some(g)) => {
                match bytecode::Bytecode::compile(&engine, &ast, &g, timer) {
                    Ok(b) => (Some(b), None),
                    Err(reason) => (None, Some(reason)),
                }
            }
        };
        Ok(RegoSet {
            engine,
            spares: Mutex::new(Vec::new()),
            rules,
            exceptions,
            outlines,
            texts,
            plans,
            bytecode,
            vm_refused,
            timer,
        })
    }

    /// Why the interpreter evaluates this set although the VM was asked
    /// for (see [`RegoEngine::Vm`]).
    pub fn vm_refused(&self) -> Option<&str> {
        self.vm_refused.as_deref()
    }

    /// The Conftest rules that are applied, sorted by package and name.
    pub fn rules(&self) -> &[ConftestRule] {
        &self.rules
    }

    /// Metadata of every applied rule.
    pub fn metas(&self) -> impl Iterator<Item = &Arc<RuleMeta>> {
        self.rules.iter().map(|r| &r.meta)
    }

    /// Whether any rule can report for an object of this `apiVersion` and
    /// kind.
    pub fn may_apply(&self, api_version: &str, kind: &str) -> bool {
        self.plans
            .of(Some(api_version), Some(kind))
            .is_some_and(|p| !p.rules.is_empty())
    }

    /// Evaluates every applied rule with `input`, except those that
    /// cannot report for its `apiVersion` and kind. Violations come in rule
    /// order; a rule that fails to evaluate adds an error and the others
    /// still run.
    pub fn evaluate(&self, input: &Value) -> (Vec<Violation>, Vec<PolicyError>) {
        let field = |name: &str| input.get(name).and_then(Value::as_str);
        match self.plans.of(field("apiVersion"), field("kind")) {
            Some(plan) => self.evaluate_plan(input, plan),
            None => (Vec::new(), Vec::new()),
        }
    }

    fn evaluate_plan(&self, input: &Value, plan: &Plan) -> (Vec<Violation>, Vec<PolicyError>) {
        if plan.rules.is_empty() {
            return (Vec::new(), Vec::new());
        }
        let input = match regorus::Value::deserialize(input) {
            Ok(v) => v,
            Err(e) => {
                return (
                    Vec::new(),
                    vec![PolicyError::new("<input>", None, e.to_string())],
                );
            }
        };
        // The VM first; on its failure the interpreter, which says which
        // rule failed and where — except for the time limit, which is not
        // given a second time.
        if let (Some(bytecode), Some(gather)) = (&self.bytecode, &plan.gather) {
            match bytecode.evaluate(gather, input.clone()) {
                Ok(all) => return self.violations(plan, |path| Ok(gathered(&all, path))),
                Err(bytecode::Failure::TimeLimit) => {
                    return (Vec::new(), vec![self.vm_time_limit(plan, bytecode)]);
                }
                Err(bytecode::Failure::Other) => {}
            }
        }
        let fresh = |input: regorus::Value| {
            let mut engine = self.engine.clone();
            engine.set_input(input);
            engine
        };
        let spare = self.spares.lock().ok().and_then(|mut s| s.pop());
        let mut engine = match spare {
            Some(mut engine) => {
                engine.set_input(input.clone());
                engine
            }
            None => fresh(input.clone()),
        };
        // One evaluation of every rule; on an error, rule by rule on a fresh
        // engine (a failed evaluation leaves partial rule values behind), so
        // the error is attributed to its rule and the others still report.
        let all = if let Some(gather) = &plan.gather {
            let all = engine.eval_rule(gather.clone()).ok();
            if all.is_none() {
                engine = fresh(input);
            }
            all
        } else {
            None
        };
        // Rule by rule, all rules share one more time limit: a set of
        // looping rules costs at most twice the limit per object, not once
        // per rule. The rule that spends it is named; the rest are skipped.
        let started = Instant::now();
        let (mut spent, mut skipped) = (false, 0usize);
        let (violations, mut errors) = self.violations(plan, |path| match &all {
            Some(all) => Ok(gathered(all, path)),
            None => {
                let remaining = self.timer.limit.saturating_sub(started.elapsed());
                if spent || remaining.is_zero() {
                    skipped += 1;
                    return Ok(regorus::Value::Undefined);
                }
                engine.set_execution_timer_config(ExecutionTimerConfig {
                    limit: remaining,
                    ..self.timer
                });
                let value = engine.eval_rule(path.to_string());
                spent = value
                    .as_ref()
                    .is_err_and(|e| e.to_string().contains("time limit"));
                value
            }
        });
        if skipped > 0 {
            let first = plan.rules.first().and_then(|&i| self.rules.get(i));
            errors.push(PolicyError::new(
                self.source_of(first.map_or("", |r| r.path.as_str())),
                None,
                format!(
                    "{skipped} more rule(s) not evaluated for this object: its time limit ({:?}) was spent",
                    self.timer.limit
                ),
            ));
        }
        engine.set_execution_timer_config(self.timer);
        // An engine whose evaluation failed may hold partial state; it is
        // dropped rather than reused.
        if errors.is_empty()
            && engine.take_prints().is_ok()
            && let Ok(mut spares) = self.spares.lock()
            && spares.len() < MAX_SPARES
        {
            spares.push(engine);
        }
        (violations, errors)
    }

    /// The violations of a plan's rules (less those a Conftest `exception`
    /// rule excepts), from each rule's value by path.
    fn violations(
        &self,
        plan: &Plan,
        mut value_of: impl FnMut(&str) -> anyhow::Result<regorus::Value>,
    ) -> (Vec<Violation>, Vec<PolicyError>) {
        let mut violations = Vec::new();
        let mut errors = Vec::new();
        let mut excepted: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for path in &self.exceptions {
            match value_of(path) {
                Ok(v) => {
                    let package = path.rsplit_once('.').map_or("", |(p, _)| p);
                    excepted
                        .entry(package)
                        .or_default()
                        .extend(exception_names(&v));
                }
                Err(e) => errors.push(self.runtime_error(path, &e)),
            }
        }
        for rule in plan.rules.iter().filter_map(|&i| self.rules.get(i)) {
            let value = match value_of(&rule.path) {
                Ok(v) => v,
                Err(e) => {
                    errors.push(self.runtime_error(&rule.path, &e));
                    continue;
                }
            };
            let exception = excepted
                .get(rule.package.as_str())
                .filter(|names| names.contains(&rule.suffix))
                .map(|_| format!("Conftest `exception` rule in package {}", rule.package));
            for item in results(&value) {
                let mut v = violation(rule, item);
                v.exception = exception.clone();
                violations.push(v);
            }
        }
        (violations, errors)
    }

    /// The time limit hit on the VM, which does not say in which rule: the
    /// error names the plan's rules and points at the first one's file.
    fn vm_time_limit(&self, plan: &Plan, bytecode: &bytecode::Bytecode) -> PolicyError {
        let rules: Vec<&str> = plan
            .rules
            .iter()
            .filter_map(|&i| self.rules.get(i).map(|r| r.path.as_str()))
            .collect();
        PolicyError::new(
            self.source_of(rules.first().copied().unwrap_or_default()),
            None,
            format!(
                "evaluating {} took longer than the time limit ({:?}) on the VM; the policy loops over too much data (`--rego-engine interpreter` names the rule)",
                rules.join(", "),
                bytecode.time_limit()
            ),
        )
    }

    /// The file of a rule's package, for errors regorus does not locate.
    fn source_of(&self, rule_path: &str) -> &str {
        package_source(&self.outlines, rule_path)
    }

    /// An evaluation error, located in the policy when regorus knows where.
    fn runtime_error(&self, rule_path: &str, e: &dyn std::fmt::Display) -> PolicyError {
        let fallback = self.source_of(rule_path);
        let mut err = char_columns(PolicyError::from_regorus(fallback, e), &self.texts);
        if err.message.contains("time limit") {
            err.message = format!(
                "evaluating {rule_path} took longer than the time limit; the policy loops over too much data ({})",
                err.message
            );
        } else {
            err.message = format!("evaluating {rule_path}: {}", err.message);
        }
        err
    }

    pub(crate) fn engine(&self) -> &regorus::Engine {
        &self.engine
    }

    pub(crate) fn texts(&self) -> &HashMap<String, String> {
        &self.texts
    }

    pub(crate) fn outlines(&self) -> &[ModuleOutline] {
        &self.outlines
    }
}

/// A rule's value in a gather rule's value, where it is `[]` (undefined)
/// or `[value]`.
fn gathered(all: &regorus::Value, path: &str) -> regorus::Value {
    all[&regorus::Value::from(path)][0].clone()
}

/// Evaluation engines kept for reuse: one per thread that evaluates.
const MAX_SPARES: usize = 64;

/// Elements `numbers.range` may produce. The built-in materialises its
/// array in one step, between two checks of the time limit, so a policy
/// asking for a billion numbers would exhaust memory before the limit
/// fires; extensions are looked up before built-ins, so these capped
/// versions replace it.
pub const MAX_RANGE: i64 = 1_000_000;

fn add_capped_ranges(engine: &mut regorus::Engine) -> anyhow::Result<()> {
    fn int(v: &regorus::Value, what: &str) -> Result<i64, String> {
        v.as_i64()
            .map_err(|_| format!("numbers.range: {what} must be an integer"))
    }
    fn range(from: i64, to: i64, step: i64) -> Result<regorus::Value, String> {
        if step <= 0 {
            return Err("numbers.range_step: step must be a positive integer".into());
        }
        let span = from.abs_diff(to) / step.unsigned_abs() + 1;
        if span > MAX_RANGE as u64 {
            return Err(format!(
                "numbers.range: {span} elements exceed Palisade's limit of {MAX_RANGE}"
            ));
        }
        let dir = if to >= from { step } else { -step };
        let mut out = Vec::new();
        let mut v = from;
        while (dir > 0 && v <= to) || (dir < 0 && v >= to) {
            out.push(regorus::Value::from(v));
            v += dir;
        }
        Ok(regorus::Value::from(out))
    }
    engine.add_extension(
        "numbers.range".into(),
        2,
        Box::new(|args: Vec<regorus::Value>| {
            let (a, b) = (args.first(), args.get(1));
            let (Some(a), Some(b)) = (a, b) else {
                return Ok(regorus::Value::Undefined);
            };
            range(
                int(a, "from").map_err(anyhow::Error::msg)?,
                int(b, "to").map_err(anyhow::Error::msg)?,
                1,
            )
            .map_err(anyhow::Error::msg)
        }),
    )?;
    engine.add_extension(
        "numbers.range_step".into(),
        3,
        Box::new(|args: Vec<regorus::Value>| {
            let (Some(a), Some(b), Some(s)) = (args.first(), args.get(1), args.get(2)) else {
                return Ok(regorus::Value::Undefined);
            };
            range(
                int(a, "from").map_err(anyhow::Error::msg)?,
                int(b, "to").map_err(anyhow::Error::msg)?,
                int(s, "step").map_err(anyhow::Error::msg)?,
            )
            .map_err(anyhow::Error::msg)
        }),
    )?;
    Ok(())
}

/// Groups the rules by the objects they can report for: one plan per
/// `(apiVersion, kind)` pair of values that rules name (or any other
/// value), identical plans shared.
fn plans(ast: &Value, rules: &[ConftestRule]) -> Plans {
    let paths: Vec<&str> = rules.iter().map(|r| r.path.as_str()).collect();
    let scopes = kinds::of_rules(ast, &paths);
    let named = |pick: fn(&kinds::Scope) -> &kinds::Values| -> BTreeMap<String, usize> {
        let values: BTreeSet<&String> = scopes
            .iter()
            .flat_map(|s| match pick(s) {
                kinds::Values::Only(set) => set.iter().collect(),
                kinds::Values::Any => Vec::new(),
            })
            .collect();
        values.into_iter().cloned().zip(0..).collect()
    };
    let mut out = Plans {
        api_versions: named(|s| &s.api_version),
        kinds: named(|s| &s.kind),
        ..Plans::default()
    };
    // In number order (values are numbered in key order), then `None` for
    // the values no rule names.
    let or_other = |values: &BTreeMap<String, usize>| -> Vec<Option<String>> {
        values.keys().cloned().map(Some).chain([None]).collect()
    };
    // `None` stands for every value no rule names: only rules that admit
    // any value run there.
    let admits = |k: &kinds::Values, v: &Option<String>| match v {
        Some(v) => k.admits(v),
        None => *k == kinds::Values::Any,
    };
    for api_version in or_other(&out.api_versions) {
        for kind in or_other(&out.kinds) {
            let selected: Vec<usize> = (0..scopes.len())
                .filter(|&i| {
                    scopes.get(i).is_some_and(|s| {
                        admits(&s.kind, &kind) && admits(&s.api_version, &api_version)
                    })
                })
                .collect();
            let plan = match out.plans.iter().position(|p| p.rules == selected) {
                Some(i) => i,
                None => {
                    out.plans.push(Plan {
                        rules: selected,
                        gather: None,
                    });
                    out.plans.len() - 1
                }
            };
            out.by_object.push(plan);
        }
    }
    out
}

/// The file of the package holding `rule_path`, `<policy>` if none.
fn package_source<'a>(outlines: &'a [ModuleOutline], rule_path: &str) -> &'a str {
    outlines
        .iter()
        .find(|o| rule_path.starts_with(&format!("{}.", o.package)))
        .map_or("<policy>", |o| o.source.as_str())
}

/// Whether a policy's text indexes `data` with a variable (`data.main[x]`,
/// `data[pkg]`), the only way a rule can reach its own package's rules
/// without naming them. Comments are not code.
fn dynamic_data_lookup(text: &str) -> bool {
    static LOOKUP: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"\bdata(?:\.[A-Za-z_][A-Za-z0-9_]*)*\[\s*[A-Za-z_]").ok()
    });
    let Some(lookup) = LOOKUP.as_ref() else {
        return true;
    };
    text.lines()
        .map(|l| l.split_once('#').map_or(l, |(code, _)| code))
        .any(|l| lookup.is_match(l))
}

/// Adds one module per plan gathering its rules' values (and every
/// `exception` rule's); when they do not load (a package path they cannot
/// spell), the rules are evaluated one by one.
fn add_gather_modules(
    engine: &mut regorus::Engine,
    rules: &[ConftestRule],
    exceptions: &[String],
    plans: &mut [Plan],
) {
    let simple = |p: &str| {
        p.split('.').all(|part| {
            !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
    };
    let all_simple = rules.iter().all(|r| simple(&r.path)) && exceptions.iter().all(|p| simple(p));
    if !all_simple {
        return;
    }
    let mut probe = engine.clone();
    probe.set_rego_v0(false);
    // One module (regorus walks every module on each reference to `data`)
    // with a rule per plan. Each rule is one complete object (regorus
    // evaluates a complete rule by path, not a partial object), each value
    // wrapped in an array so that an undefined rule leaves `[]` instead of
    // making the object undefined.
    let mut text = format!("package {GATHER_PACKAGE}\n\nimport rego.v1\n");
    let mut gathers = Vec::new();
    for (i, plan) in plans.iter().enumerate() {
        if plan.rules.is_empty() {
            gathers.push(None);
            continue;
        }
        text.push_str(&format!("\nplan_{i} := {{\n"));
        let paths = plan
            .rules
            .iter()
            .filter_map(|&r| rules.get(r).map(|r| r.path.as_str()))
            .chain(exceptions.iter().map(String::as_str));
        for p in paths {
            text.push_str(&format!("\t\"{p}\": [x | x := {p}],\n"));
        }
        text.push_str("}\n");
        gathers.push(Some(format!("data.{GATHER_PACKAGE}.plan_{i}")));
    }
    if probe
        .add_policy(format!("<{GATHER_PACKAGE}>"), text)
        .is_err()
    {
        return;
    }
    if probe.eval_query("true".into(), false).is_err() {
        return;
    }
    *engine = probe;
    for (plan, gather) in plans.iter_mut().zip(gathers) {
        plan.gather = gather;
    }
}

/// regorus counts a tab as four columns; Palisade counts characters, as
/// its code frames do.
pub(crate) fn char_columns(mut e: PolicyError, texts: &HashMap<String, String>) -> PolicyError {
    let Some(text) = texts.get(&e.path) else {
        return e;
    };
    if let Some(span) = e.span.as_mut() {
        for p in [&mut span.start, &mut span.end] {
            let Some(line) = text.lines().nth(p.line.saturating_sub(1) as usize) else {
                continue;
            };
            let mut col = 1u32;
            let mut chars = 1u32;
            for c in line.chars() {
                if col >= p.column {
                    break;
                }
                col += if c == '\t' { 4 } else { 1 };
                chars += 1;
            }
            p.column = chars;
        }
    }
    e
}

/// Adds one module: as Rego v1, else as v0. When both fail, the error of
/// the parse that went further is the one reported.
fn add_module(engine: &mut regorus::Engine, file: &PolicyFile) -> Result<(), PolicyError> {
    engine.set_rego_v0(false);
    let v1 = match engine.add_policy(file.path.clone(), file.text.clone()) {
        Ok(_) => return Ok(()),
        Err(e) => PolicyError::from_regorus(&file.path, &e),
    };
    engine.set_rego_v0(true);
    let result = engine.add_policy(file.path.clone(), file.text.clone());
    engine.set_rego_v0(false);
    match result {
        Ok(_) => Ok(()),
        Err(e) => {
            // The parse that went further is the likelier intent; on a tie,
            // a module that does not opt into v1 is read as v0.
            let v0 = PolicyError::from_regorus(&file.path, &e);
            let wants_v1 = file.text.contains("import rego.v1");
            Err(if v0.span > v1.span || (v0.span == v1.span && !wants_v1) {
                v0
            } else {
                v1
            })
        }
    }
}

/// Whether `name` is a built-in compiled into regorus: calling it with no
/// argument fails on its arity, not on its name.
fn is_builtin(name: &str, cache: &mut HashMap<String, bool>) -> bool {
    if let Some(known) = cache.get(name) {
        return *known;
    }
    let mut probe = regorus::Engine::new();
    let known = match probe.eval_query(format!("{name}()"), false) {
        Ok(_) => true,
        Err(e) => !e.to_string().contains("could not find function"),
    };
    cache.insert(name.to_string(), known);
    known
}

/// Reports every call to a function that neither the modules nor the
/// built-ins define.
fn check_calls(outlines: &[ModuleOutline], errors: &mut Vec<PolicyError>) {
    let functions: BTreeSet<String> = outlines
        .iter()
        .flat_map(|o| {
            o.rules
                .iter()
                .filter(|r| r.function)
                .map(move |r| format!("{}.{}", o.package, r.name))
        })
        .collect();
    let mut cache = HashMap::new();
    for o in outlines {
        for call in &o.calls {
            let first = call.path.split('.').next().unwrap_or_default();
            let rest = call.path.get(first.len()..).unwrap_or_default();
            let resolved = if first == "data" {
                Some(call.path.clone())
            } else if let Some((_, full)) = o.imports.iter().find(|(alias, _)| alias == first) {
                Some(format!("{full}{rest}"))
            } else {
                None
            };
            let known = match &resolved {
                Some(p) if p.starts_with("data.") => functions.contains(p),
                Some(p) => is_builtin(p, &mut cache),
                None => {
                    call.path == "print"
                        || functions.contains(&format!("{}.{}", o.package, call.path))
                        || is_builtin(&call.path, &mut cache)
                }
            };
            if known {
                continue;
            }
            let why = EXCLUDED
                .iter()
                .find(|(n, _)| *n == call.path)
                .map(|(_, why)| format!(" ({why})"))
                .unwrap_or_default();
            let what = if resolved.as_deref().is_some_and(|p| p.starts_with("data.")) {
                "unknown function"
            } else {
                "unknown or unsupported built-in function"
            };
            errors.push(PolicyError::at(
                &o.source,
                call.line,
                call.column,
                format!("{what} `{}`{why}", call.path),
            ));
        }
    }
}

/// The Conftest rules of the selected packages, with their metadata, and
/// the packages' `exception` rules.
fn conftest_rules(
    outlines: &[ModuleOutline],
    annotations: &[(String, FileAnnotations)],
    options: &RegoOptions,
) -> Result<(Vec<ConftestRule>, Vec<String>), Vec<PolicyError>> {
    let selected = |package: &str| {
        let short = package.strip_prefix("data.").unwrap_or(package);
        options
            .namespaces
            .iter()
            .any(|n| n == "*" || n == short || n.strip_prefix("data.") == Some(short))
    };
    let annotations_of = |source: &str| {
        annotations
            .iter()
            .find(|(p, _)| p == source)
            .map(|(_, a)| a)
    };
    let mut errors = Vec::new();
    let mut found: BTreeMap<String, ConftestRule> = BTreeMap::new();
    let mut exceptions = BTreeSet::new();
    for o in outlines.iter().filter(|o| selected(&o.package)) {
        let package_ann = outlines
            .iter()
            .filter(|x| x.package == o.package)
            .find_map(|x| annotations_of(&x.source).and_then(|a| a.package.as_ref()));
        for r in o.rules.iter().filter(|r| !r.function) {
            if r.name == "exception" {
                exceptions.insert(format!("{}.exception", o.package));
                continue;
            }
            let Some((kind, suffix)) = RuleKind::of(&r.name) else {
                continue;
            };
            let path = format!("{}.{}", o.package, r.name);
            if found.contains_key(&path) {
                continue;
            }
            let rule_ann = outlines
                .iter()
                .filter(|x| x.package == o.package)
                .find_map(|x| annotations_of(&x.source).and_then(|a| a.rules.get(&r.name)));
            match rule_meta(&o.package, &r.name, kind, rule_ann, package_ann, &o.source) {
                Ok(meta) => {
                    found.insert(
                        path.clone(),
                        ConftestRule {
                            path,
                            package: o.package.clone(),
                            name: r.name.clone(),
                            kind,
                            suffix: suffix.to_string(),
                            meta: Arc::new(meta),
                        },
                    );
                }
                Err(e) => errors.push(e),
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok((
        found.into_values().collect(),
        exceptions.into_iter().collect(),
    ))
}

/// Metadata from the rule's annotation, else its package's, else defaults.
fn rule_meta(
    package: &str,
    name: &str,
    kind: RuleKind,
    rule: Option<&Annotation>,
    pkg: Option<&Annotation>,
    source: &str,
) -> Result<RuleMeta, PolicyError> {
    let short_pkg = package.strip_prefix("data.").unwrap_or(package);
    let custom = |key: &str| {
        rule.and_then(|a| a.custom_str(key))
            .or_else(|| pkg.and_then(|a| a.custom_str(key)))
    };
    let code = custom("id")
        .map(str::to_string)
        .unwrap_or_else(|| format!("{short_pkg}.{name}"));
    let severity = match custom("severity") {
        Some(s) => s.parse::<Severity>().map_err(|e| {
            let line = rule.or(pkg).map_or(1, |a| a.line);
            PolicyError::at(
                source,
                line,
                1,
                format!("invalid METADATA custom.severity: {e}"),
            )
        })?,
        None => kind.action().default_severity(),
    };
    let title = rule
        .and_then(|a| a.title.clone())
        .or_else(|| pkg.and_then(|a| a.title.clone()))
        .unwrap_or_else(|| format!("Rego rule {short_pkg}.{name}"));
    let description = rule
        .and_then(|a| a.description.clone())
        .or_else(|| pkg.and_then(|a| a.description.clone()))
        .unwrap_or_default();
    let related: Vec<String> = rule
        .map(|a| a.related.clone())
        .filter(|r| !r.is_empty())
        .or_else(|| pkg.map(|a| a.related.clone()))
        .unwrap_or_default();
    let fix = custom("recommended_action")
        .or_else(|| custom("fix"))
        .unwrap_or_default()
        .to_string();
    let rule_name = custom("short_code")
        .or_else(|| custom("name"))
        .map(str::to_string)
        .unwrap_or_else(|| code.to_ascii_lowercase());
    let mut doc = format!(
        "## What it does\nRego rule `{short_pkg}.{name}` from `{source}`: {title}.\n\n## Why is this bad?\n{}\n",
        if description.is_empty() {
            "See the policy's documentation."
        } else {
            description.as_str()
        }
    );
    if !fix.is_empty() {
        doc.push_str(&format!("\n## Fix\n{fix}\n"));
    }
    if !related.is_empty() {
        doc.push_str("\n## References\n");
        for r in &related {
            doc.push_str(&format!("- {r}\n"));
        }
    }
    Ok(RuleMeta {
        code: Cow::Owned(code),
        name: Cow::Owned(rule_name),
        title: Cow::Owned(title),
        severity,
        scanner: Scanner::Policy,
        references: Cow::Owned(
            related
                .into_iter()
                .map(|id| Reference {
                    framework: Framework::Url,
                    id: Cow::Owned(id),
                })
                .collect(),
        ),
        fix: Cow::Owned(fix),
        doc: Cow::Owned(doc),
    })
}

/// The messages of a rule's value: each item of a set or array, a string,
/// an object, or `true` for a boolean rule.
fn results(value: &regorus::Value) -> Vec<Value> {
    match value {
        regorus::Value::Undefined | regorus::Value::Null | regorus::Value::Bool(false) => {
            Vec::new()
        }
        regorus::Value::Set(items) => items.iter().filter_map(to_json).collect(),
        regorus::Value::Array(items) => items.iter().filter_map(to_json).collect(),
        regorus::Value::Object(o) if o.is_empty() => Vec::new(),
        other => to_json(other).into_iter().collect(),
    }
}

fn to_json(v: &regorus::Value) -> Option<Value> {
    serde_json::to_value(v).ok()
}

/// The rule names an `exception` rule's value lists.
fn exception_names(v: &regorus::Value) -> Vec<String> {
    let mut out = Vec::new();
    for item in results(v) {
        match item {
            Value::String(s) => out.push(s),
            Value::Array(names) => out.extend(
                names
                    .into_iter()
                    .filter_map(|n| n.as_str().map(str::to_string)),
            ),
            _ => {}
        }
    }
    out
}

fn violation(rule: &ConftestRule, item: Value) -> Violation {
    let mut severity = rule.meta.severity;
    let mut pointer = None;
    let message = match item {
        Value::String(s) => s,
        Value::Bool(true) => rule.meta.title.to_string(),
        Value::Object(o) => {
            if let Some(s) = o
                .get("severity")
                .and_then(Value::as_str)
                .and_then(|s| s.parse::<Severity>().ok())
            {
                severity = s;
            }
            pointer = ["field", "path", "pointer"]
                .iter()
                .find_map(|k| o.get(*k))
                .and_then(to_pointer);
            o.get("msg")
                .or_else(|| o.get("message"))
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| Value::Object(o).to_string())
        }
        other => other.to_string(),
    };
    Violation {
        rule: Arc::clone(&rule.meta),
        severity,
        action: rule.kind.action(),
        message,
        pointer,
        exception: None,
    }
}

/// A JSON pointer from what a policy wrote: a pointer (`/spec/replicas`),
/// a dotted path (`spec.containers[0].image`) or an array of keys.
pub fn to_pointer(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if s.starts_with('/') => Some(s.clone()),
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(dotted_to_pointer(s)),
        Value::Array(parts) => {
            let mut out = String::new();
            for p in parts {
                out.push('/');
                match p {
                    Value::String(s) => out.push_str(&palisade_k8s::yaml::escape_pointer_token(s)),
                    Value::Number(n) => out.push_str(&n.to_string()),
                    _ => return None,
                }
            }
            Some(out)
        }
        _ => None,
    }
}

/// `spec.containers[0].image`, `metadata.labels["app.kubernetes.io/name"]`
/// → a JSON pointer. Quoted keys may hold `.`, `/` and `[`.
fn dotted_to_pointer(s: &str) -> String {
    fn push(out: &mut String, token: &str) {
        out.push('/');
        out.push_str(&palisade_k8s::yaml::escape_pointer_token(token));
    }
    let mut out = String::new();
    let mut key = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '.' | '[' => {
                if !key.is_empty() {
                    push(&mut out, &key);
                    key.clear();
                }
                if c == '.' {
                    continue;
                }
                let mut token = String::new();
                if let Some(&quote) = chars.peek().filter(|q| matches!(q, '"' | '\'')) {
                    chars.next();
                    token.extend(chars.by_ref().take_while(|&c| c != quote));
                    chars.by_ref().take_while(|&c| c != ']').for_each(drop);
                } else {
                    token.extend(chars.by_ref().take_while(|&c| c != ']'));
                }
                push(&mut out, token.trim());
            }
            c => key.push(c),
        }
    }
    if !key.is_empty() {
        push(&mut out, &key);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two definitions of a complete rule that disagree when
    /// `input.conflict` is set.
    const CONFLICTING_RULES: &str = r#"
deny_conflict := x if {
	input.conflict
	x := 1
}

deny_conflict := x if {
	input.conflict
	x := 2
}
"#;

    fn pod(name: &str) -> Value {
        serde_json::json!({"kind": "Pod", "metadata": {"name": name}})
    }

    /// The messages of an evaluation that must have no error.
    fn messages((v, e): (Vec<Violation>, Vec<PolicyError>)) -> Vec<String> {
        assert!(e.is_empty(), "{e:?}");
        v.into_iter().map(|v| v.message).collect()
    }

    /// Engines are reused across objects only after a clean evaluation:
    /// results do not depend on what was evaluated before, a failed
    /// evaluation's engine is dropped, and prints do not pile up.
    #[test]
    fn reused_engines_carry_nothing_over() {
        let text = r#"package main
import rego.v1

deny contains msg if {
	print("checking", input.metadata.name)
	input.kind == "Pod"
	msg := sprintf("pod %s", [input.metadata.name])
}
"#;
        let file = PolicyFile {
            path: "p.rego".into(),
            text: format!("{text}{CONFLICTING_RULES}"),
        };
        let set = RegoSet::load(&[file], &[], &RegoOptions::default()).unwrap();
        let spares = || set.spares.lock().unwrap().len();
        let first = messages(set.evaluate(&pod("a")));
        assert_eq!(first, ["pod a"]);
        assert_eq!(spares(), 1);
        let (_, errors) = set.evaluate(&serde_json::json!({
            "kind": "Pod", "metadata": {"name": "c"}, "conflict": true
        }));
        assert!(!errors.is_empty(), "conflicting values are an error");
        assert_eq!(spares(), 0, "the failed evaluation's engine is dropped");
        assert_eq!(messages(set.evaluate(&pod("b"))), ["pod b"]);
        assert_eq!(messages(set.evaluate(&pod("a"))), first);
        let mut engine = set.spares.lock().unwrap().pop().unwrap();
        assert!(engine.take_prints().unwrap().is_empty());
    }

    /// A rule reaching itself through a dynamic lookup into its own
    /// package is refused at load (as OPA does), on either engine: the
    /// interpreter left the cycle, and rules of other files evaluated with
    /// it, silently undefined.
    #[test]
    fn recursive_rules_are_refused() {
        let q1 = PolicyFile {
            path: "q1.rego".into(),
            text: "package main\nimport rego.v1\n\ndeny_plain contains \"plain\" if input.metadata.name == \"cm\"\n\ndeny_dyn contains \"dyn\" if {\n\tsome name\n\tname == \"is_pod2\"\n\tdata.main[name]\n}\n\nis_pod2 if input.metadata.name == \"cm\"\n".into(),
        };
        let q3 = PolicyFile {
            path: "q3.rego".into(),
            text: "package main\nimport rego.v1\n\nhelper := 1\n".into(),
        };
        for engine in [RegoEngine::Interpreter, RegoEngine::Vm] {
            let options = RegoOptions {
                engine,
                ..RegoOptions::default()
            };
            let err = RegoSet::load(&[q1.clone(), q3.clone()], &[], &options)
                .err()
                .unwrap_or_else(|| panic!("{engine:?}: loaded"));
            let first = &err.0[0];
            assert_eq!(first.path, "q1.rego");
            assert!(first.message.contains("recursive"), "{}", first.message);
        }
        // A lookup with a constant key, or in a comment, is no cycle.
        let fine = PolicyFile {
            path: "f.rego".into(),
            text: "package main\nimport rego.v1\n\n# data.main[name] in a comment\ndeny contains \"x\" if data.main[\"helper\"] == 1\n\nhelper := 1\n".into(),
        };
        assert!(RegoSet::load(&[fine], &[], &RegoOptions::default()).is_ok());
        assert!(dynamic_data_lookup("x if data.main[name]"));
        assert!(!dynamic_data_lookup(
            "x if data.lib.k8s.containers[\"app\"]"
        ));
    }

    /// The same for the VM: results do not depend on the order of objects,
    /// and a VM whose evaluation failed is dropped (the interpreter then
    /// reports the error). Conflicting complete rules are undefined on the
    /// VM, an error on the interpreter.
    #[test]
    fn reused_vms_carry_nothing_over() {
        let text = r#"package main
import rego.v1

deny contains msg if {
	input.kind == "Pod"
	msg := sprintf("pod %s", [input.metadata.name])
}
"#;
        let file = PolicyFile {
            path: "p.rego".into(),
            text: format!("{text}{CONFLICTING_RULES}"),
        };
        let vm = RegoOptions {
            engine: RegoEngine::Vm,
            ..RegoOptions::default()
        };
        let interpreted =
            RegoSet::load(std::slice::from_ref(&file), &[], &RegoOptions::default()).unwrap();
        assert!(
            interpreted.bytecode.is_none(),
            "the interpreter is the default"
        );
        let set = RegoSet::load(&[file], &[], &vm).unwrap();
        let bytecode = set.bytecode.as_ref().expect("compiles for the VM");
        assert_eq!(set.vm_refused(), None);
        let printing = PolicyFile {
            path: "print.rego".into(),
            text: "package main\nimport rego.v1\n\ndeny contains 1 if print(input)\n".into(),
        };
        let refused = RegoSet::load(&[printing], &[], &vm).unwrap();
        assert!(refused.bytecode.is_none());
        assert!(refused.vm_refused().is_some_and(|r| r.contains("print")));
        let ranges = PolicyFile {
            path: "range.rego".into(),
            text:
                "package main\nimport rego.v1\n\ndeny contains n if some n in numbers.range(1, 3)\n"
                    .into(),
        };
        let refused = RegoSet::load(&[ranges], &[], &vm).unwrap();
        assert_eq!(refused.vm_refused(), Some("it calls `numbers.range`"));
        let first = messages(set.evaluate(&pod("a")));
        assert_eq!(first, ["pod a"]);
        assert_eq!(bytecode.spares(), 1);
        assert_eq!(
            set.spares.lock().unwrap().len(),
            0,
            "the interpreter was not asked"
        );
        let conflict = serde_json::json!({
            "kind": "Pod", "metadata": {"name": "c"}, "conflict": true
        });
        assert_eq!(messages(set.evaluate(&conflict)), ["pod c"]);
        let (_, errors) = interpreted.evaluate(&conflict);
        assert!(
            errors.iter().any(|e| e.message.contains("deny_conflict")),
            "{errors:?}"
        );
        assert_eq!(messages(set.evaluate(&pod("b"))), ["pod b"]);
        assert_eq!(messages(set.evaluate(&pod("a"))), first);
        assert_eq!(bytecode.spares(), 1);
        // A VM stopped by the time limit is dropped; the interpreter
        // reports the limit.
        let slow = PolicyFile {
            path: "slow.rego".into(),
            text: "package main\nimport rego.v1\n\ndeny contains n if {\n  n := count([[x, y] | some x in input.items; some y in input.items])\n}\n".into(),
        };
        let limited = RegoOptions {
            time_limit: Duration::from_millis(50),
            ..vm
        };
        let set = RegoSet::load(&[slow], &[], &limited).unwrap();
        let bytecode = set.bytecode.as_ref().expect("compiles for the VM");
        let items: Vec<u32> = (0..20_000).collect();
        let (violations, errors) =
            set.evaluate(&serde_json::json!({"kind": "Pod", "items": items}));
        assert!(violations.is_empty());
        assert!(errors[0].message.contains("time limit"), "{errors:?}");
        assert_eq!(bytecode.spares(), 0, "the stopped VM is dropped");
    }

    /// Where the engines differ on a rule that fails at run time (what
    /// docs/policies.md and docs/admission.md promise): failing built-ins
    /// are undefined on both; arithmetic on a non-number is an error on
    /// the interpreter only (conflicting rules: `reused_vms_carry_nothing_over`).
    #[test]
    fn engines_differ_only_on_operand_types_and_conflicts() {
        let vm = RegoOptions {
            engine: RegoEngine::Vm,
            ..RegoOptions::default()
        };
        let errors = |body: &str, options: &RegoOptions| {
            let file = PolicyFile {
                path: "p.rego".into(),
                text: format!(
                    "package main\nimport rego.v1\n\ndeny contains 1 if {{\n\t{body}\n}}\n"
                ),
            };
            let set = RegoSet::load(&[file], &[], options).unwrap();
            let (violations, errors) = set.evaluate(&pod("w"));
            assert!(violations.is_empty(), "{body}: {violations:?}");
            errors.len()
        };
        for body in [
            r#"to_number("x") > 0"#,
            "count(5) > 0",
            "1 / 0 > 0",
            r#"regex.match("[", input.metadata.name)"#,
            r#"time.parse_rfc3339_ns("bad") > 0"#,
            "upper(input.metadata) == \"\"",
        ] {
            assert_eq!(
                errors(body, &RegoOptions::default()),
                0,
                "interpreter: {body}"
            );
            assert_eq!(errors(body, &vm), 0, "vm: {body}");
        }
        let arithmetic = "input.metadata.name + 1 > 0";
        assert_eq!(errors(arithmetic, &RegoOptions::default()), 1);
        assert_eq!(errors(arithmetic, &vm), 0);
    }

    /// Skipping the rules that cannot report for an object's kind changes
    /// nothing, nor does the VM: every fixture object, relabelled with each
    /// kind the example policies name and one they do not, gives on the VM
    /// the same violations and errors as the interpreter evaluating every
    /// rule, one by one.
    #[test]
    fn kind_plans_change_no_result() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/policies");
        let options = crate::LoadOptions {
            rego: RegoOptions {
                engine: RegoEngine::Vm,
                ..RegoOptions::default()
            },
            ..crate::LoadOptions::default()
        };
        let set = crate::load(&[root.join("rego")], &[root.join("data")], &options).unwrap();
        let rego = set.rego.as_ref().unwrap();
        assert!(rego.plans.plans.len() > 3, "the examples guard on kinds");
        // `evaluate` runs on the VM, `every` below on the interpreter.
        assert!(rego.bytecode.is_some(), "the examples compile for the VM");
        assert!(
            rego.plans
                .plans
                .iter()
                .all(|p| p.rules.is_empty() || p.gather.is_some())
        );
        let every = Plan {
            rules: (0..rego.rules.len()).collect(),
            gather: None,
        };
        let text = include_str!("../../tests/fixtures/rego_objects.yaml");
        let file = Arc::new(palisade_k8s::object::SourceFile::new("objects.yaml", text));
        let mut objects = Vec::new();
        let limits = palisade_k8s::yaml::Limits::default();
        let errors = palisade_k8s::yaml::parse_stream(text, &limits, 0, |doc| {
            if let Some(root) = doc.root {
                let extracted = palisade_k8s::object::Object::extract(root, &file, doc.index);
                objects.extend(extracted.objects.iter().map(|o| o.root.to_json()));
            }
        });
        assert!(errors.is_empty(), "{errors:?}");
        let named = |values: &BTreeSet<String>| {
            let mut values: Vec<String> = values.iter().cloned().collect();
            values.push("unrelated".into());
            values
        };
        let kinds = named(&rego.plans.kinds.keys().cloned().collect());
        let api_versions = named(&rego.plans.api_versions.keys().cloned().collect());
        assert!(
            kinds.len() > 5 && api_versions.len() > 3,
            "{kinds:?} {api_versions:?}"
        );
        let (mut compared, mut violations) = (0, 0);
        for object in &objects {
            for kind in &kinds {
                for api_version in &api_versions {
                    let mut input = object.clone();
                    input["kind"] = Value::from(kind.as_str());
                    input["apiVersion"] = Value::from(api_version.as_str());
                    let planned = rego.evaluate(&input);
                    assert_eq!(planned, rego.evaluate_plan(&input, &every), "{input}");
                    compared += 1;
                    violations += planned.0.len();
                }
            }
        }
        assert!(
            objects.len() >= 13 && compared > 100 && violations > 100,
            "{compared} {violations}"
        );
    }

    #[test]
    fn names_conftest_rules() {
        assert_eq!(RuleKind::of("deny"), Some((RuleKind::Deny, "")));
        assert_eq!(
            RuleKind::of("warn_latest"),
            Some((RuleKind::Warn, "latest"))
        );
        assert_eq!(
            RuleKind::of("violation_x_y"),
            Some((RuleKind::Violation, "x_y"))
        );
        assert_eq!(RuleKind::of("denyall"), None);
        assert_eq!(RuleKind::of("deny_"), None);
        assert_eq!(RuleKind::of("allow"), None);
    }

    #[test]
    fn converts_paths_to_pointers() {
        let p = |v: Value| to_pointer(&v);
        assert_eq!(
            p(serde_json::json!("/spec/replicas")).as_deref(),
            Some("/spec/replicas")
        );
        assert_eq!(
            p(serde_json::json!("spec.template.spec.containers[0].image")).as_deref(),
            Some("/spec/template/spec/containers/0/image")
        );
        assert_eq!(
            p(serde_json::json!([
                "metadata",
                "labels",
                "app.kubernetes.io/name"
            ]))
            .as_deref(),
            Some("/metadata/labels/app.kubernetes.io~1name")
        );
        assert_eq!(p(serde_json::json!(3)), None);
        // Quoted keys keep their dots and slashes.
        assert_eq!(
            p(serde_json::json!("metadata.annotations[\"a/b\"]")).as_deref(),
            Some("/metadata/annotations/a~1b")
        );
        assert_eq!(
            p(serde_json::json!(
                "metadata.labels['app.kubernetes.io/name'].x[2]"
            ))
            .as_deref(),
            Some("/metadata/labels/app.kubernetes.io~1name/x/2")
        );
    }
}
