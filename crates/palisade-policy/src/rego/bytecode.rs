//! The Rego set compiled to regorus' bytecode virtual machine (RVM).
//!
//! regorus' tree-walking interpreter spends much of an evaluation on its
//! own bookkeeping (rule paths rebuilt as strings, every module walked on
//! each reference to `data`); its VM runs the same rules from a register
//! bytecode, about twice as fast on the example policies. It is opt-in
//! (`--rego-engine vm`) because an error inside a rule body makes the rule
//! undefined instead of failing the evaluation. An object whose evaluation
//! fails on the VM for another reason is evaluated again by the
//! interpreter, which attributes the error to its rule and file; the time
//! limit is reported at once, so that a slow object does not get a second
//! budget. A test compares the two engines over every fixture object.
//!
//! Some sets stay on the interpreter (see [`Bytecode::compile`]):
//!
//! - the VM calls rules by native recursion, and regorus' compiler does
//!   not refuse every recursive rule (0.14.1), so `a if b` / `b if a` would
//!   overflow the thread's stack where the interpreter reports an error: a
//!   set whose bytecode has a call cycle is refused;
//! - the compiler evaluates `default` values once, without `input` and
//!   without a time limit, so a default that is not a constant is refused
//!   before compiling.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use regorus::languages::rego::compiler::Compiler;
use regorus::rvm::instructions::LiteralOrRegister;
use regorus::rvm::vm::VmError;
use regorus::rvm::{Instruction, Program, RegoVM};
use regorus::utils::limits::ExecutionTimerConfig;

/// Built-ins that keep a set on the interpreter. The VM calls regorus'
/// own built-ins only, so it would bypass Palisade's capped
/// `numbers.range` (an extension), and its `print` does not go to the
/// engine's gathered prints.
const INTERPRETER_ONLY: &[&str] = &["numbers.range", "numbers.range_step", "print"];

/// Why an evaluation on the VM failed.
pub(super) enum Failure {
    /// The evaluation ran out of time: reported as such.
    TimeLimit,
    /// Anything else: the interpreter evaluates the object again.
    Other,
}

/// VMs kept for reuse: one per thread that evaluates.
const MAX_SPARES: usize = 64;

pub(super) struct Bytecode {
    policy: regorus::CompiledPolicy,
    program: Arc<Program>,
    data: regorus::Value,
    timer: ExecutionTimerConfig,
    /// VMs that finished an evaluation without error (each execution
    /// starts from a reset state; only `input` is replaced).
    spares: Mutex<Vec<RegoVM>>,
}

impl std::fmt::Debug for Bytecode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bytecode")
            .field("entry_points", &self.program.entry_points.len())
            .field("instructions", &self.program.instructions.len())
            .finish_non_exhaustive()
    }
}

impl Bytecode {
    /// Compiles the prepared `engine` (whose modules' syntax tree is
    /// `ast`) with `entry_points` (rule paths), or says why the set stays
    /// on the interpreter.
    pub(super) fn compile(
        engine: &regorus::Engine,
        ast: &serde_json::Value,
        entry_points: &[&str],
        timer: ExecutionTimerConfig,
    ) -> Result<Bytecode, String> {
        if !defaults_are_constants(ast) {
            return Err("a `default` value is not a constant".into());
        }
        let first = entry_points.first().ok_or("no rule to compile")?;
        // Compiling prepares the engine for evaluation: on a copy.
        let mut engine = engine.clone();
        fn not_compiled(e: impl std::fmt::Display) -> String {
            format!("regorus cannot compile it for the VM: {e}")
        }
        let policy = engine
            .compile_with_entrypoint(&(*first).into())
            .map_err(not_compiled)?;
        let program = Compiler::compile_from_policy(&policy, entry_points).map_err(not_compiled)?;
        if let Some(b) = program
            .builtin_info_table
            .iter()
            .find(|b| INTERPRETER_ONLY.contains(&b.name.as_str()))
        {
            return Err(format!("it calls `{}`", b.name));
        }
        if !calls_form_no_cycle(&program) {
            return Err("its rules can call themselves".into());
        }
        let bytecode = Bytecode {
            policy,
            program,
            data: engine.get_data(),
            timer,
            spares: Mutex::new(Vec::new()),
        };
        // The first VM proves that the data loads next to the rules.
        let vm = bytecode
            .new_vm()
            .map_err(|e| format!("its data does not load on the VM: {e}"))?;
        if let Ok(mut spares) = bytecode.spares.lock() {
            spares.push(vm);
        }
        Ok(bytecode)
    }

    pub(super) fn time_limit(&self) -> std::time::Duration {
        self.timer.limit
    }

    fn new_vm(&self) -> anyhow::Result<RegoVM> {
        let mut vm = RegoVM::new_with_policy(self.policy.clone());
        vm.load_program(self.program.clone());
        vm.set_data(self.data.clone())?;
        // As the interpreter is configured: OPA's undefined on a failed
        // built-in, and the wall-clock budget as the only limit.
        vm.set_strict_builtin_errors(false);
        vm.set_max_instructions(usize::MAX);
        vm.set_execution_timer_config(Some(self.timer));
        Ok(vm)
    }

    /// The value of `entry_point` for `input`.
    pub(super) fn evaluate(
        &self,
        entry_point: &str,
        input: regorus::Value,
    ) -> Result<regorus::Value, Failure> {
        let spare = self.spares.lock().ok().and_then(|mut s| s.pop());
        let mut vm = match spare {
            Some(vm) => vm,
            None => self.new_vm().map_err(|_| Failure::Other)?,
        };
        vm.set_input(input);
        // A VM whose execution failed may hold partial state: dropped.
        let value = vm
            .execute_entry_point_by_name(entry_point)
            .map_err(|e| match e {
                VmError::TimeLimitExceeded { .. } => Failure::TimeLimit,
                _ => Failure::Other,
            })?;
        vm.set_input(regorus::Value::Undefined);
        if let Ok(mut spares) = self.spares.lock()
            && spares.len() < MAX_SPARES
        {
            spares.push(vm);
        }
        Ok(value)
    }

    #[cfg(test)]
    pub(super) fn spares(&self) -> usize {
        self.spares.lock().map_or(0, |s| s.len())
    }
}

/// The recursion regorus' compiler finds among the rules `entry_points`
/// reach, if any (OPA refuses such sets at compile time; regorus'
/// interpreter leaves the rules of the cycle undefined, silently).
pub(super) fn recursion(engine: &regorus::Engine, entry_points: &[&str]) -> Option<String> {
    let first = entry_points.first()?;
    let mut engine = engine.clone();
    let policy = engine.compile_with_entrypoint(&(*first).into()).ok()?;
    match Compiler::compile_from_policy(&policy, entry_points) {
        Err(e) if e.to_string().to_ascii_lowercase().contains("recursion") => Some(e.to_string()),
        _ => None,
    }
}

/// Whether no rule of `program` can reach itself through rule or function
/// calls. The compiler lays rules out one body after another, each opened
/// by `RuleInit` and closed by `RuleReturn`; a function's parameter
/// matching sits just before its body's `RuleInit`, and the entry points'
/// calls come first. A lookup into `data` calls every rule under the part
/// of its path known when compiling. Anything that does not fit this
/// layout counts as a possible cycle.
fn calls_form_no_cycle(program: &Program) -> bool {
    let mut calls: Vec<BTreeSet<u16>> = vec![BTreeSet::new(); program.rule_infos.len()];
    let mut current: Option<usize> = None;
    let mut in_rules = false;
    // Calls between one body's end and the next body's start.
    let mut pending: BTreeSet<u16> = BTreeSet::new();
    for instruction in &program.instructions {
        let callees = match instruction {
            Instruction::RuleInit { rule_index, .. } => {
                let index = usize::from(*rule_index);
                let Some(out) = calls.get_mut(index) else {
                    return false;
                };
                out.append(&mut pending);
                current = Some(index);
                in_rules = true;
                continue;
            }
            Instruction::RuleReturn {} => {
                current = None;
                continue;
            }
            Instruction::VirtualDataDocumentLookup { params_index } => {
                match program
                    .instruction_data
                    .get_virtual_data_document_lookup_params(*params_index)
                {
                    Some(params) => rules_under(program, &params.path_components),
                    None => return false,
                }
            }
            Instruction::CallRule { rule_index, .. } => vec![*rule_index],
            Instruction::FunctionCall { params_index } => {
                match program
                    .instruction_data
                    .get_function_call_params(*params_index)
                {
                    Some(params) => vec![params.func_rule_index],
                    None => return false,
                }
            }
            _ => continue,
        };
        match current {
            Some(caller) => match calls.get_mut(caller) {
                Some(out) => out.extend(callees),
                None => return false,
            },
            None if in_rules => pending.extend(callees),
            // The entry points' own code: calls into the rules.
            None => {}
        }
    }
    let calls: Vec<Vec<u16>> = calls.into_iter().map(|c| c.into_iter().collect()).collect();
    pending.is_empty() && !has_cycle(&calls)
}

/// Whether every `default` value in the modules' syntax tree is a constant
/// (scalars, and arrays, sets and objects of constants).
fn defaults_are_constants(ast: &serde_json::Value) -> bool {
    fn constant(e: &serde_json::Value) -> bool {
        let Some((variant, body)) = e.as_object().and_then(|o| o.iter().next()) else {
            return false;
        };
        let items = |key: &str| {
            body.get(key)
                .and_then(serde_json::Value::as_array)
                .is_some_and(|items| items.iter().all(constant))
        };
        match variant.as_str() {
            "String" | "RawString" | "Number" | "Bool" | "Null" => true,
            "Array" | "Set" => items("items"),
            // Each field is [span, key, value].
            "Object" => body
                .get("fields")
                .and_then(serde_json::Value::as_array)
                .is_some_and(|fields| {
                    fields
                        .iter()
                        .all(|f| f.get(1).is_some_and(constant) && f.get(2).is_some_and(constant))
                }),
            _ => false,
        }
    }
    let Some(modules) = ast.as_array() else {
        return false;
    };
    modules.iter().all(|m| {
        m.pointer("/ast/rules")
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|rule| rule.get("Default"))
            .all(|d| d.get("value").is_some_and(constant))
    })
}

/// The rules a lookup of `data` along `path` may evaluate: those under the
/// rule tree's node that the path's literal prefix reaches (the tree's
/// leaves are rule numbers).
fn rules_under(program: &Program, path: &[LiteralOrRegister]) -> Vec<u16> {
    let mut node = &program.rule_tree["data"];
    for component in path {
        let LiteralOrRegister::Literal(i) = component else {
            break;
        };
        let Some(key) = program.literals.get(usize::from(*i)) else {
            break;
        };
        match &node[key] {
            regorus::Value::Undefined => return Vec::new(),
            child => node = child,
        }
        if !matches!(node, regorus::Value::Object(_)) {
            break;
        }
    }
    let mut out = Vec::new();
    let mut stack = vec![node];
    while let Some(v) = stack.pop() {
        match v {
            regorus::Value::Object(children) => stack.extend(children.values()),
            regorus::Value::Number(n) => match n.as_u64().and_then(|n| u16::try_from(n).ok()) {
                Some(rule) => out.push(rule),
                // Not a rule number: call it a cycle to be safe.
                None => out.push(u16::MAX),
            },
            _ => {}
        }
    }
    out
}

/// Depth-first search for a cycle in a call graph (callees by caller).
fn has_cycle(calls: &[Vec<u16>]) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut marks = vec![Mark::New; calls.len()];
    for root in 0..calls.len() {
        if marks[root] != Mark::New {
            continue;
        }
        // (rule, index of its next callee to visit)
        let mut stack = vec![(root, 0)];
        marks[root] = Mark::Open;
        while let Some(top) = stack.last_mut() {
            let (rule, next) = *top;
            match calls[rule].get(next) {
                Some(&callee) => {
                    top.1 += 1;
                    let callee = usize::from(callee);
                    match marks.get(callee) {
                        Some(Mark::Open) | None => return true,
                        Some(Mark::New) => {
                            marks[callee] = Mark::Open;
                            stack.push((callee, 0));
                        }
                        Some(Mark::Done) => {}
                    }
                }
                None => {
                    marks[rule] = Mark::Done;
                    stack.pop();
                }
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compiled(text: &str) -> Option<Bytecode> {
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(false);
        engine.add_policy("p.rego".into(), text.into()).unwrap();
        let ast: serde_json::Value =
            serde_json::from_str(&engine.get_ast_as_json().unwrap()).unwrap();
        let timer = ExecutionTimerConfig {
            limit: std::time::Duration::from_secs(1),
            check_interval: std::num::NonZeroU32::MIN,
        };
        Bytecode::compile(&engine, &ast, &["data.main.deny"], timer).ok()
    }

    /// regorus' compiler evaluates `default` values once, with no input
    /// and no time limit: only constants are let through.
    #[test]
    fn defaults_must_be_constants() {
        let head = "package main\nimport rego.v1\ndeny contains 1 if x\n";
        for constant in ["1", "\"a\"", "[1, {\"b\": [true, null]}]", "{\"a\", 2}"] {
            let text = format!("{head}default x := {constant}\n");
            assert!(compiled(&text).is_some(), "{constant}");
        }
        for computed in [
            "[c | some c in input.items]",
            "{1 | some a in numbers.range(1, 1000000); some b in numbers.range(1, 1000000)}",
            "count(input.items)",
            "data.limits.max",
        ] {
            let text = format!("{head}default x := {computed}\n");
            assert!(compiled(&text).is_none(), "{computed}");
        }
    }

    #[test]
    fn call_cycles_keep_a_set_on_the_interpreter() {
        let head = "package main\nimport rego.v1\n";
        let plain = format!("{head}a if input.x\nb if a\ndeny contains 1 if b\n");
        assert!(compiled(&plain).is_some(), "a chain of calls compiles");
        let lookups = format!(
            "{head}a if data.main.b[input.x]\nb := {{1: 2}}\nc if data.other[input.x]\ndeny contains 1 if {{ a; c }}\n"
        );
        assert!(
            compiled(&lookups).is_some(),
            "lookups of rules and base data compile"
        );
        for cycle in [
            "a if b\nb if a\ndeny contains 1 if a\n",
            "a if a\ndeny contains 1 if a\n",
            "f(x) := y if y := f(x)\ndeny contains 1 if f(1)\n",
            "f(x) := y if y := g(x)\ng(x) := y if y := f(x)\ndeny contains 1 if f(1)\n",
            "a if data.main[input.name]\ndeny contains 1 if a\n",
        ] {
            assert!(compiled(&format!("{head}{cycle}")).is_none(), "{cycle}");
        }
    }

    #[test]
    fn finds_cycles() {
        assert!(!has_cycle(&[vec![1, 2], vec![2], vec![]]));
        assert!(has_cycle(&[vec![1], vec![2], vec![0]]));
        assert!(has_cycle(&[vec![], vec![1]]));
        assert!(has_cycle(&[vec![5]]), "a callee outside the table");
    }
}
