//! An image layer (gzip, zstd or plain tar, sniffed) applied to a fresh
//! root, as image sources do. Besides not panicking, nothing may be written
//! outside the root: `..`, absolute paths, symlinks and hard links that
//! point out must all stay confined. The same bytes then go through
//! `layer::walk` (the in-memory reader of `scan --image`), whose paths must
//! be normalised: never absolute, never with a `..` component. Last, the
//! bytes are a blob in a file, as image sources read them: plain tars are
//! walked with seeks, compressed ones decompressed on a helper thread.
#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use palisade_sca::catalog::Limits;
use palisade_sca::source::layer::{Applier, Entry, decompress, open_blob, walk};
use palisade_sca::source::section::Section;

fuzz_target!(|data: &[u8]| {
    let Ok(outer) = tempfile::tempdir() else {
        return;
    };
    let (root, blob_root) = (outer.path().join("root"), outer.path().join("blob-root"));
    if std::fs::create_dir(&root).is_err() || std::fs::create_dir(&blob_root).is_err() {
        return;
    }
    if let Ok(tar) = decompress(data, None, "fuzz.tar") {
        let _ = Applier::default().apply(tar, 0, &root, "fuzz.tar", &Limits::default());
    }
    if let Ok(mut file) = tempfile::tempfile()
        && file.write_all(data).is_ok()
        && let Ok(blob) = Section::whole(file)
        && let Ok(tar) = open_blob(blob, None, "fuzz.tar")
    {
        let _ = Applier::default().apply(tar, 0, &blob_root, "fuzz.tar", &Limits::default());
    }
    let Ok(entries) = std::fs::read_dir(outer.path()) else {
        return;
    };
    let mut names: Vec<_> = entries.flatten().map(|e| e.file_name()).collect();
    names.sort();
    assert_eq!(names, ["blob-root", "root"], "a layer wrote outside its root");

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
