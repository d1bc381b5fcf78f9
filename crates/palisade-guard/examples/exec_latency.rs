//! Latency of `execve` (fork, exec, wait) or of `open`+`close`, one sample
//! per call, for bench/guard.sh. Prints one JSON object: count, median,
//! p99 and mean in microseconds.
//!
//! With a second path, calls on the two alternate (A B, then B A, …) and
//! the object gains `base`, the second path's figures: both see the same
//! moments of a noisy machine, so their difference is the cost of what
//! differs between them (a guard on one of two twin mounts), not drift.
//!
//! usage: exec_latency exec PROGRAM COUNT [BASE_PROGRAM]
//!        exec_latency open FILE COUNT [BASE_FILE]

use std::process::{Command, ExitCode};
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(kind), Some(path), Some(count)) = (args.get(1), args.get(2), args.get(3)) else {
        eprintln!("usage: exec_latency exec|open PATH COUNT [BASE_PATH]");
        return ExitCode::from(2);
    };
    let Ok(count) = count.parse::<usize>() else {
        eprintln!("COUNT must be a number");
        return ExitCode::from(2);
    };
    if kind != "exec" && kind != "open" {
        eprintln!("unknown kind {kind}");
        return ExitCode::from(2);
    }
    let base = args.get(4);
    let mut samples = Vec::with_capacity(count);
    let mut base_samples = Vec::with_capacity(if base.is_some() { count } else { 0 });
    for i in 0..count {
        // (path, is it the base): A B on even calls, B A on odd ones.
        let pair = base.map(|b| ((path, false), (b, true)));
        let calls = match pair {
            Some((a, b)) if i % 2 == 1 => vec![b, a],
            Some((a, b)) => vec![a, b],
            None => vec![(path, false)],
        };
        for (p, is_base) in calls {
            let Some(micros) = call(kind, p) else {
                eprintln!("{kind} of {p} failed");
                return ExitCode::FAILURE;
            };
            if is_base {
                base_samples.push(micros);
            } else {
                samples.push(micros);
            }
        }
    }
    let base = match base {
        Some(_) => format!(",\"base\":{}", stats(&mut base_samples)),
        None => String::new(),
    };
    println!("{}{base}}}", stats(&mut samples).trim_end_matches('}'));
    ExitCode::SUCCESS
}

/// One call, timed in microseconds; `None` when it failed.
fn call(kind: &str, path: &str) -> Option<f64> {
    let start = Instant::now();
    let ok = match kind {
        "exec" => Command::new(path).status().is_ok_and(|s| s.success()),
        _ => std::fs::File::open(path).is_ok(),
    };
    ok.then(|| start.elapsed().as_nanos() as f64 / 1000.0)
}

fn stats(samples: &mut [f64]) -> String {
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| {
        samples
            .get(((samples.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    let mean = samples.iter().sum::<f64>() / samples.len().max(1) as f64;
    format!(
        "{{\"count\":{},\"median_us\":{:.3},\"p99_us\":{:.3},\"mean_us\":{:.3}}}",
        samples.len(),
        at(0.5),
        at(0.99),
        mean
    )
}
