//! `palisade`: the command-line front end. It only parses flags, resolves
//! configuration and wires the libraries together.

mod analyzers;
mod cli;
mod commands;
mod config;
mod diagnostics;
mod interrupt;
mod progress;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

/// Exit code for usage and input errors.
pub const EXIT_ERROR: u8 = 2;

// Parsing and policy evaluation allocate many small, short-lived values from
// every worker thread; mimalloc makes that markedly cheaper than glibc's
// allocator (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => commands::scan::run(*args),
        Command::Rules(args) => commands::rules::run(&args),
        Command::Guard(args) => commands::guard::run(args),
        Command::Rbac(cmd) => commands::rbac::run(cmd),
        Command::Policy(cmd) => commands::policy::run(cmd),
        Command::Admission(cmd) => commands::admission::run(cmd),
        Command::Sbom(args) => {
            interrupt::remove_staging_on_signals();
            commands::sbom::run(*args)
        }
        Command::Db(cmd) => commands::vuln::run_db(cmd),
        Command::Vuln(args) => {
            interrupt::remove_staging_on_signals();
            commands::vuln::run_vuln(*args)
        }
    };
    match result {
        Ok(code) => code,
        // Stopped by SIGINT/SIGTERM: the scan's "interrupted" error is the
        // signal's doing; end as the signal would.
        Err(_) if interrupt::exit_code().is_some() => {
            ExitCode::from(interrupt::exit_code().unwrap_or(EXIT_ERROR))
        }
        Err(err) => {
            diagnostics::print_fatal(&err);
            ExitCode::from(EXIT_ERROR)
        }
    }
}
