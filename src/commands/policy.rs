//! `palisade policy test`: runs the `test_` rules of Rego policies, as
//! `opa test` does, printing PASS/FAIL per test.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use palisade_policy::rego::testing::{self, Outcome};
use palisade_policy::{LoadOptions, RegoOptions};

use crate::diagnostics;

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Run the `test_` rules of Rego policies (like `opa test`); exit 1
    /// when a test fails.
    #[command(
        after_help = "Examples:\n  palisade policy test examples/policies/rego --data examples/policies/data\n  palisade policy test policy/ --run privileged -v"
    )]
    Test(TestArgs),
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Policy and test files (.rego) or directories.
    #[arg(value_name = "DIR", required = true)]
    pub paths: Vec<PathBuf>,

    /// Data documents (JSON or YAML, merged under `data`). Repeatable.
    #[arg(long = "data", value_name = "FILE")]
    pub data: Vec<PathBuf>,

    /// Only run tests whose name (`data.pkg.test_x`) contains this text.
    #[arg(long, value_name = "TEXT")]
    pub run: Option<String>,

    /// Print passing tests too, with their duration.
    #[arg(short, long)]
    pub verbose: bool,
}

pub fn run(cmd: PolicyCommand) -> Result<ExitCode> {
    match cmd {
        PolicyCommand::Test(args) => test(&args),
    }
}

fn test(args: &TestArgs) -> Result<ExitCode> {
    let options = LoadOptions {
        rego: RegoOptions {
            namespaces: vec!["*".into()],
            ..RegoOptions::default()
        },
        ..LoadOptions::default()
    };
    let color = diagnostics::stderr_color();
    let set = match palisade_policy::load(&args.paths, &args.data, &options) {
        Ok(set) => set,
        Err(errors) => {
            for e in &errors.0 {
                let text = std::fs::read_to_string(&e.path).ok();
                eprint!(
                    "{}",
                    diagnostics::render(&e.message, &e.path, e.span, text.as_deref(), color)
                );
            }
            bail!("{} policy error(s)", errors.0.len());
        }
    };
    let Some(rego) = &set.rego else {
        bail!("no .rego files in the given paths");
    };
    let results = testing::run(rego, args.run.as_deref());
    if results.is_empty() {
        bail!("no test_ rules found");
    }
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    let mut current_file = "";
    for r in &results {
        if r.file != current_file {
            println!("{}:", r.file);
            current_file = &r.file;
        }
        let ms = r.duration.as_secs_f64() * 1000.0;
        match &r.outcome {
            Outcome::Pass => {
                passed += 1;
                if args.verbose {
                    println!("  PASS {} ({ms:.1}ms)", r.name);
                }
            }
            Outcome::Skip => {
                skipped += 1;
                println!("  SKIP {}", r.name);
            }
            Outcome::Fail => {
                failed += 1;
                println!("  FAIL {} (line {}, {ms:.1}ms)", r.name, r.line);
            }
            Outcome::Error(e) => {
                failed += 1;
                println!("  ERROR {}: {e}", r.name);
            }
        }
        if args.verbose || !matches!(r.outcome, Outcome::Pass) {
            for line in &r.prints {
                println!("    {line}");
            }
        }
    }
    if !args.verbose && passed > 0 {
        println!("  ({passed} passing tests not shown; -v lists them)");
    }
    println!("{}", "-".repeat(60));
    println!("{passed} passed, {failed} failed, {skipped} skipped");
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
