//! Scans directories with the built-in rules and prints counters as JSON:
//! the library alone, for profiling the scanner without the CLI around it.
//!
//! usage: cargo run --release -p palisade-secrets --example scan_tree -- DIR...

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use palisade_core::source::{self, WalkOptions};
use palisade_secrets::{RuleSetBuilder, ScanOptions, Scanner};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dirs: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    let start = Instant::now();
    let rules = Arc::new(RuleSetBuilder::new().build()?);
    let compiled = start.elapsed();
    let options = WalkOptions {
        extensions: vec![],
        hidden: true,
        ..WalkOptions::default()
    };
    let (inputs, _) = source::collect(&dirs, &options);
    let walked = start.elapsed();
    let scanner = Scanner::new(rules, ScanOptions::default());
    let out = scanner.scan_inputs(&inputs, &|| {});
    let total = start.elapsed();
    let mut by_rule = std::collections::BTreeMap::<String, u64>::new();
    for f in &out.findings {
        *by_rule.entry(f.code.to_string()).or_default() += 1;
    }
    println!(
        "{{\"files\": {}, \"bytes\": {}, \"binary_skipped\": {}, \"findings\": {}, \"compile_s\": {:.3}, \"walk_s\": {:.3}, \"total_s\": {:.3}, \"scan_mb_s\": {:.1}}}",
        out.files,
        out.bytes,
        out.binary_skipped,
        out.findings.len(),
        compiled.as_secs_f64(),
        (walked - compiled).as_secs_f64(),
        total.as_secs_f64(),
        out.bytes as f64 / 1e6 / (total - walked).as_secs_f64()
    );
    if std::env::var_os("BY_RULE").is_some() {
        for (code, n) in by_rule {
            println!("{code} {n}");
        }
    }
    Ok(())
}
