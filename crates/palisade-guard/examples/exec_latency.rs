//! Latency of `execve` (fork, exec, wait) or of `open`+`close`, one sample
//! per call, for bench/guard.sh. Prints one JSON object: count, median,
//! p99 and mean in microseconds.
//!
//! usage: exec_latency exec PROGRAM COUNT
//!        exec_latency open FILE COUNT

use std::process::{Command, ExitCode};
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(kind), Some(path), Some(count)) = (args.get(1), args.get(2), args.get(3)) else {
        eprintln!("usage: exec_latency exec|open PATH COUNT");
        return ExitCode::from(2);
    };
    let Ok(count) = count.parse::<usize>() else {
        eprintln!("COUNT must be a number");
        return ExitCode::from(2);
    };
    let mut samples = Vec::with_capacity(count);
    for _ in 0..count {
        let start = Instant::now();
        let ok = match kind.as_str() {
            "exec" => Command::new(path).status().is_ok_and(|s| s.success()),
            "open" => std::fs::File::open(path).is_ok(),
            _ => {
                eprintln!("unknown kind {kind}");
                return ExitCode::from(2);
            }
        };
        samples.push(start.elapsed().as_nanos() as f64 / 1000.0);
        if !ok {
            eprintln!("{kind} of {path} failed");
            return ExitCode::FAILURE;
        }
    }
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| {
        samples
            .get(((samples.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    let mean = samples.iter().sum::<f64>() / samples.len().max(1) as f64;
    println!(
        "{{\"count\":{},\"median_us\":{:.3},\"p99_us\":{:.3},\"mean_us\":{:.3}}}",
        samples.len(),
        at(0.5),
        at(0.99),
        mean
    );
    ExitCode::SUCCESS
}
