//! The whole Kubernetes scan of one file: decoding, YAML with limits, object
//! extraction, every built-in rule and the cross-object rules. Any panic or
//! hang is a bug.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use palisade_k8s::yaml::Limits;
use palisade_k8s::{Engine, RuleSelection, Settings};

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let all = RuleSelection {
            enable: vec!["*".into()],
            disable: Vec::new(),
        };
        let settings = Settings {
            allowed_registries: vec!["registry.example.com".into()],
            ..Settings::default()
        };
        // Small chunks so the parallel split path is exercised too.
        match Engine::new(&all, settings, Limits::default()) {
            Ok(e) => e.with_chunk_bytes(256),
            Err(e) => panic!("rule selection: {e}"),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = palisade_core::source::decode(data.to_vec(), "fuzz.yaml") else {
        return;
    };
    let engine = engine();
    let outcome = engine.scan_text(Arc::from("fuzz.yaml"), &text);
    let _ = engine.finish(&outcome.inventory);
});
