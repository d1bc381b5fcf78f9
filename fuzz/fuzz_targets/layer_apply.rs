//! An image layer (gzip, zstd or plain tar, sniffed) applied to a fresh
//! root, as image sources do. Besides not panicking, nothing may be written
//! outside the root: `..`, absolute paths, symlinks and hard links that
//! point out must all stay confined. The same bytes then go through
//! `layer::walk` (the in-memory reader of `scan --image`), whose paths must
//! be normalised: never absolute, never with a `..` component.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_sca::catalog::Limits;
use palisade_sca::source::layer::{Applier, Entry, decompress, walk};

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

    if let Ok(tar) = decompress(data, None, "fuzz.tar") {
        let _ = walk(tar, "fuzz.tar", &mut |entry| {
            let path = match entry {
                Entry::File { path, reader, .. } => {
                    let _ = std::io::copy(reader, &mut std::io::sink());
                    path
                }
                Entry::HardLink { path, target } => {
                    assert!(!target.starts_with('/') && target.split('/').all(|c| c != ".."));
                    path
                }
                Entry::Dir { path }
                | Entry::Other { path }
                | Entry::Deleted { path }
                | Entry::Opaque { path } => path,
            };
            assert!(!path.starts_with('/'), "absolute path {path}");
            assert!(path.split('/').all(|c| c != ".."), "`..` in {path}");
            Ok(())
        });
    }
});
