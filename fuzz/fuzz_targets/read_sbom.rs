//! SBOM input (CycloneDX and SPDX JSON, as `palisade vuln` reads them) and
//! the conversion of every package into a component. Any panic is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = palisade_sca::read::read_bytes(data, "fuzz.json");
});
