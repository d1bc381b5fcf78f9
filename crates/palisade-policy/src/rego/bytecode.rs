//! The Rego set compiled to regorus' bytecode virtual machine (RVM).
//!
//! regorus' tree-walking interpreter spends much of an evaluation on its
//! own bookkeeping (rule paths rebuilt as strings, every module walked on
//! each reference to `data`); its VM runs the same rules from a register
//! bytecode, two to five times faster on the example policies. The VM is
//! the fast path only: it is used when the whole set compiles for it, and
//! an object whose evaluation fails on it (an error, the time limit) is
//! evaluated again by the interpreter, which attributes the error to its
//! rule and file as before. Results are the same either way; a test
//! compares the two over every fixture object.
//!
//! The VM calls rules by native recursion and regorus' compiler does not
//! refuse recursive rules (0.14.1), so a cycle such as `a if b` / `b if a`
//! would overflow the thread's stack where the interpreter reports an
//! error: a set whose bytecode has a call cycle stays on the interpreter.

use std::sync::{Arc, Mutex};

use regorus::languages::rego::compiler::Compiler;
use regorus::rvm::instructions::LiteralOrRegister;
use regorus::rvm::{Instruction, Program, RegoVM};
use regorus::utils::limits::ExecutionTimerConfig;

/// Built-ins that keep a set on the interpreter. The VM calls regorus'
/// own built-ins only, so it would bypass Palisade's capped
/// `numbers.range` (an extension), and its `print` does not go to the
/// engine's gathered prints.
const INTERPRETER_ONLY: &[&str] = &["numbers.range", "numbers.range_step", "print"];

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
    /// Compiles the prepared `engine` with `entry_points` (rule paths);
    /// `None` when the set uses something the VM does not run.
    pub(super) fn compile(
        engine: &regorus::Engine,
        entry_points: &[&str],
        timer: ExecutionTimerConfig,
    ) -> Option<Bytecode> {
        let first = entry_points.first()?;
        // Compiling prepares the engine for evaluation: on a copy.
        let mut engine = engine.clone();
        let policy = engine.compile_with_entrypoint(&(*first).into()).ok()?;
        let program = Compiler::compile_from_policy(&policy, entry_points).ok()?;
        if program
            .builtin_info_table
            .iter()
            .any(|b| INTERPRETER_ONLY.contains(&b.name.as_str()))
            || !calls_form_no_cycle(&program)
        {
            return None;
        }
        let bytecode = Bytecode {
            policy,
            program,
            data: engine.get_data(),
            timer,
            spares: Mutex::new(Vec::new()),
        };
        // The first VM proves that the data loads next to the rules.
        let vm = bytecode.new_vm().ok()?;
        bytecode.spares.lock().ok()?.push(vm);
        Some(bytecode)
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

    /// The value of `entry_point` for `input`, or `None` when the
    /// evaluation failed (the caller then asks the interpreter).
    pub(super) fn evaluate(
        &self,
        entry_point: &str,
        input: regorus::Value,
    ) -> Option<regorus::Value> {
        let spare = self.spares.lock().ok().and_then(|mut s| s.pop());
        let mut vm = match spare {
            Some(vm) => vm,
            None => self.new_vm().ok()?,
        };
        vm.set_input(input);
        // A VM whose execution failed may hold partial state: dropped.
        let value = vm.execute_entry_point_by_name(entry_point).ok()?;
        vm.set_input(regorus::Value::Undefined);
        if let Ok(mut spares) = self.spares.lock()
            && spares.len() < MAX_SPARES
        {
            spares.push(vm);
        }
        Some(value)
    }

    #[cfg(test)]
    pub(super) fn spares(&self) -> usize {
        self.spares.lock().map_or(0, |s| s.len())
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
    let mut calls: Vec<Vec<u16>> = vec![Vec::new(); program.rule_infos.len()];
    let mut current: Option<usize> = None;
    let mut in_rules = false;
    // Calls between one body's end and the next body's start.
    let mut pending: Vec<u16> = Vec::new();
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
    pending.is_empty() && !has_cycle(&calls)
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
        let timer = ExecutionTimerConfig {
            limit: std::time::Duration::from_secs(1),
            check_interval: std::num::NonZeroU32::MIN,
        };
        Bytecode::compile(&engine, &["data.main.deny"], timer)
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
