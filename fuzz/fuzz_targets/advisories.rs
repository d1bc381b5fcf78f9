//! Advisory and triage input: one OSV record, and the same bytes as a VEX
//! document (OpenVEX or CycloneDX). Any panic is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = palisade_vuln::osv::parse(data, "fuzz.json");
    let _ = palisade_vuln::vex::Vex::default().read_bytes(data, "fuzz.vex.json");
});
