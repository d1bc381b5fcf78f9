//! Splitting a stream at document boundaries must not change what the
//! documents are: the chunked parse equals the whole parse.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_k8s::yaml::{Limits, parse_stream, split_documents};

fn documents(text: &str, chunk: usize) -> Option<Vec<(u32, String)>> {
    let mut out = Vec::new();
    for c in split_documents(text, chunk) {
        let errors = parse_stream(c.text, &Limits::default(), c.line_offset, |d| {
            out.push((c.first_document + d.index, format!("{:?}", d.root)));
        });
        if !errors.is_empty() {
            return None;
        }
    }
    Some(out)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Some(whole) = documents(text, usize::MAX) else { return };
    if let Some(chunked) = documents(text, 16) {
        assert_eq!(whole, chunked, "chunked parse differs");
    }
});
