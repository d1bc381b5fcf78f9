//! The YAML parse floor for benchmarks: reads the given files (or the files
//! listed one per line in `@LIST`) and only pulls saphyr's parse events, on
//! one thread. `palisade scan` is measured against this.

use std::time::Instant;

use saphyr_parser::Parser;

fn main() {
    let mut paths: Vec<String> = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.strip_prefix('@') {
            Some(list) => paths.extend(
                std::fs::read_to_string(list)
                    .unwrap_or_default()
                    .lines()
                    .map(str::to_string),
            ),
            None => paths.push(arg),
        }
    }
    let texts: Vec<String> = paths
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect();
    let bytes: usize = texts.iter().map(String::len).sum();
    let start = Instant::now();
    let mut events = 0u64;
    for text in &texts {
        let mut parser = Parser::new_from_str(text);
        while let Some(Ok(_)) = parser.next_event() {
            events += 1;
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "{{\"bytes\": {bytes}, \"events\": {events}, \"parse_s\": {elapsed:.6}, \"mb_per_s\": {:.1}}}",
        bytes as f64 / elapsed / 1e6
    );
}
