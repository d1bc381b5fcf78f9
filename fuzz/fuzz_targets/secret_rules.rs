//! Parsing and compiling a user rule file (`--secret-rules`), then using it.
//! Errors are fine; panics and hangs are bugs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_secrets::RuleSetBuilder;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(Ok(rules)) = RuleSetBuilder::new()
        .builtin(false)
        .add_toml("fuzz.toml", text)
        .map(RuleSetBuilder::build)
    {
        let _ = rules.detect("fuzz.txt", data);
    }
});
