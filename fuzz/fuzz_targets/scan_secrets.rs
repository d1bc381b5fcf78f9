//! The secret scan of one file's bytes with the built-in rules: prefilter,
//! per-line and multi-line regexes, entropy, allowlists, overlap
//! resolution, line/column, inline directives. Any panic or hang is a bug.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use palisade_secrets::{RuleSetBuilder, ScanOptions, Scanner};

fn scanner() -> &'static Scanner {
    static SCANNER: OnceLock<Scanner> = OnceLock::new();
    SCANNER.get_or_init(|| match RuleSetBuilder::new().build() {
        Ok(rules) => Scanner::new(Arc::new(rules), ScanOptions::default()),
        Err(e) => panic!("built-in rules: {e}"),
    })
}

fuzz_target!(|data: &[u8]| {
    let path: Arc<str> = Arc::from("fuzz.txt");
    let _ = scanner().scan_bytes(&path, data);
});
