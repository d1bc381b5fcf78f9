//! `palisade policy test`: runs the `test_` rules of every package, as
//! `opa test` does. A test passes when its rule is defined and not false;
//! `todo_test_` rules are skipped.

use std::time::{Duration, Instant};

use super::RegoSet;
use crate::error::PolicyError;

/// How one test ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    /// Undefined or false.
    Fail,
    /// The evaluation failed (time limit, built-in error, conflict).
    Error(PolicyError),
    /// A `todo_test_` rule.
    Skip,
}

/// One test's result.
#[derive(Debug, Clone)]
pub struct TestResult {
    /// `data.main.test_denies_privileged`.
    pub name: String,
    pub file: String,
    pub line: u32,
    pub outcome: Outcome,
    pub duration: Duration,
    /// What the test printed (`print(…)`).
    pub prints: Vec<String>,
}

/// Runs every test rule whose full name contains `filter` (all when
/// `None`), in file and line order.
pub fn run(set: &RegoSet, filter: Option<&str>) -> Vec<TestResult> {
    let mut tests: Vec<(String, String, u32, bool)> = Vec::new();
    for o in set.outlines() {
        for r in o.rules.iter().filter(|r| !r.function) {
            let skip = r.name.starts_with("todo_test_");
            if !(r.name.starts_with("test_") || skip) {
                continue;
            }
            let name = format!("{}.{}", o.package, r.name);
            if filter.is_some_and(|f| !name.contains(f)) {
                continue;
            }
            if tests.iter().any(|(n, ..)| *n == name) {
                continue;
            }
            tests.push((name, o.source.clone(), r.line, skip));
        }
    }
    tests.sort_by(|a, b| (&a.1, a.2).cmp(&(&b.1, b.2)));
    tests
        .into_iter()
        .map(|(name, file, line, skip)| {
            let started = Instant::now();
            let mut prints = Vec::new();
            let outcome = if skip {
                Outcome::Skip
            } else {
                let mut engine = set.engine().clone();
                engine.set_input(regorus::Value::new_object());
                let outcome = match engine.eval_rule(name.clone()) {
                    Ok(regorus::Value::Undefined | regorus::Value::Bool(false)) => Outcome::Fail,
                    Ok(_) => Outcome::Pass,
                    Err(e) => Outcome::Error(super::char_columns(
                        PolicyError::from_regorus(&file, &e),
                        set.texts(),
                    )),
                };
                prints = engine.take_prints().unwrap_or_default();
                outcome
            };
            TestResult {
                name,
                file,
                line,
                outcome,
                duration: started.elapsed(),
                prints,
            }
        })
        .collect()
}
