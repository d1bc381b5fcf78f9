//! An image layer (gzip, zstd or plain tar, sniffed) applied to a fresh
//! root, as image sources do. Besides not panicking, nothing may be written
//! outside the root: `..`, absolute paths, symlinks and hard links that
//! point out must all stay confined.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_sca::catalog::Limits;
use palisade_sca::source::layer::{Applier, decompress};

fuzz_target!(|data: &[u8]| {
    let Ok(outer) = tempfile::tempdir() else {
        return;
    };
    let root = outer.path().join("root");
    if std::fs::create_dir(&root).is_err() {
        return;
    }
    if let Ok(tar) = decompress(data, None, "fuzz.tar") {
        let _ = Applier::default().apply(tar, 0, &root, "fuzz.tar", &Limits::default());
    }
    let Ok(entries) = std::fs::read_dir(outer.path()) else {
        return;
    };
    let names: Vec<_> = entries.flatten().map(|e| e.file_name()).collect();
    assert_eq!(names, ["root"], "a layer wrote outside its root");
});
