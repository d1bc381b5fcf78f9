//! Splitting a stream at document boundaries must not change what the
//! documents are: the chunked parse equals the whole parse. One known,
//! accepted difference: an empty document (only comments) is a null scalar
//! whose span ends at the next `---` in the whole stream but at its own
//! start in a chunk; such documents hold no object and are never reported,
//! so their spans are left out of the comparison.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_k8s::yaml::{Limits, NodeKind, parse_stream, split_documents};

fn documents(text: &str, chunk: usize) -> Option<Vec<(u32, String)>> {
    let mut out = Vec::new();
    for c in split_documents(text, chunk) {
        let errors = parse_stream(c.text, &Limits::default(), c.line_offset, |d| {
            let empty = d.root.as_ref().is_some_and(|n| {
                matches!(&n.kind, NodeKind::Scalar(s) if s.plain && s.text.is_empty())
            });
            let shown = if empty {
                "empty document".to_string()
            } else {
                format!("{:?}", d.root)
            };
            out.push((c.first_document + d.index, shown));
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
