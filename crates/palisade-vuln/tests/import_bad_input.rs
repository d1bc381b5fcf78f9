//! Bad advisory input is counted and reported, never fatal to the other
//! sources and never a silent "no vulnerabilities".
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::Path;

use palisade_vuln::import::import_path;
use palisade_vuln::matcher::{AdvisorySource, Coordinates, match_coordinates};
use palisade_vuln::store::Store;

fn zip_of(entries: &[(&str, &[u8])], method: zip::CompressionMethod) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(method)
            .large_file(false);
        for (name, data) in entries {
            z.start_file(*name, opts).unwrap();
            z.write_all(data).unwrap();
        }
        z.finish().unwrap();
    }
    buf.into_inner()
}

const GOOD: &str = r#"{"id":"GHSA-good","modified":"2024-01-01T00:00:00Z",
  "affected":[{"package":{"ecosystem":"npm","name":"left-pad"},
  "ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.3.0"}]}]}]}"#;

#[test]
fn bad_records_are_counted_per_source_and_good_ones_imported() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("osv");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("a-good.json"), GOOD).unwrap();
    std::fs::write(
        src.join("b-noid.json"),
        r#"{"modified":"2024-01-01T00:00:00Z","affected":[]}"#,
    )
    .unwrap();
    std::fs::write(src.join("c-broken.json"), r#"{"id":"X","affected":[{"#).unwrap();
    std::fs::write(
        src.join("d-weird-range.json"),
        r#"{"id":"GHSA-weird","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"weird"},
          "ranges":[{"type":"FANCY","events":[{"introduced":"0"}]}]}]}"#,
    )
    .unwrap();
    std::fs::write(
        src.join("e-badversion.json"),
        r#"{"id":"GHSA-badver","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"badver"},
          "ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"not.a.version"}]}]}]}"#,
    )
    .unwrap();
    let store = Store::create(&dir.path().join("db")).unwrap();
    let out = import_path(&store, &src);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let info = &out.sources[0];
    assert_eq!(info.advisories, 3);
    assert_eq!(info.rejected, 2);
    assert_eq!(info.skipped, 1);
    assert!(
        info.problems
            .iter()
            .any(|p| p.contains("b-noid.json") && p.contains("`id`")),
        "{:?}",
        info.problems
    );
    assert!(
        info.problems
            .iter()
            .any(|p| p.contains("c-broken.json") && p.contains("invalid JSON"))
    );
    assert!(
        info.problems
            .iter()
            .any(|p| p.contains("unknown range type `FANCY`"))
    );
    // The unusable advisories are reported as undecided, not as "safe".
    let r = store.reader().unwrap();
    for (name, version) in [("weird", "1.0.0"), ("badver", "1.0.0")] {
        let m = match_coordinates(
            &r,
            &Coordinates {
                ecosystem: "npm".into(),
                name: name.into(),
                version: version.into(),
            },
        )
        .unwrap();
        assert!(m.vulnerabilities.is_empty());
        assert_eq!(m.undecided.len(), 1, "{name}: {m:?}");
    }
    // An installed version that does not parse is undecided too.
    let m = match_coordinates(
        &r,
        &Coordinates {
            ecosystem: "npm".into(),
            name: "left-pad".into(),
            version: "latest".into(),
        },
    )
    .unwrap();
    assert_eq!(m.undecided.len(), 1);
    assert_eq!(r.lookup("npm", "left-pad").unwrap().len(), 1);
}

#[test]
fn corrupt_zips_and_bombs() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("dumps");
    std::fs::create_dir(&src).unwrap();
    // Not a zip at all: an error for that source only.
    std::fs::write(
        src.join("a-corrupt.zip"),
        b"PK\x03\x04 this is not really a zip",
    )
    .unwrap();
    // A dump with one good record, one oversized highly-compressible entry
    // (ratio far above the limit) and one entry whose data is damaged.
    let bomb = vec![b' '; 9 * 1024 * 1024];
    let mut ok = zip_of(
        &[
            ("GHSA-good.json", GOOD.as_bytes()),
            ("BOMB.json", &bomb),
            (
                "GHSA-two.json",
                GOOD.replace("GHSA-good", "GHSA-two").as_bytes(),
            ),
        ],
        zip::CompressionMethod::Deflated,
    );
    // Damage the stored data of the last entry (its local data precedes
    // the central directory): flip bytes in the middle of its content.
    let pos = find(&ok, b"GHSA-two.json").unwrap() + 40;
    for b in ok.iter_mut().skip(pos).take(8) {
        *b ^= 0xff;
    }
    std::fs::write(src.join("b-dump.zip"), &ok).unwrap();
    let store = Store::create(&dir.path().join("db")).unwrap();
    let out = import_path(&store, &src);
    // The damaged entry fails its whole archive: a partial import would
    // drop advisories silently.
    assert_eq!(out.errors.len(), 2, "{:?}", out.errors);
    assert!(
        out.errors[0].to_string().contains("a-corrupt.zip"),
        "{}",
        out.errors[0]
    );
    assert!(
        out.errors[1].to_string().contains("GHSA-two.json")
            && out.errors[1].to_string().contains("damaged archive"),
        "{}",
        out.errors[1]
    );
    // Without the damage: the good records import, the bomb is rejected.
    let clean = zip_of(
        &[("GHSA-good.json", GOOD.as_bytes()), ("BOMB.json", &bomb)],
        zip::CompressionMethod::Deflated,
    );
    std::fs::remove_file(src.join("a-corrupt.zip")).unwrap();
    std::fs::write(src.join("b-dump.zip"), &clean).unwrap();
    let out = import_path(&store, &src);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let info = &out.sources[0];
    assert_eq!(info.advisories, 1, "{info:?}");
    assert_eq!(info.rejected, 1, "{:?}", info.problems);
    assert!(
        info.problems.iter().any(|p| p.contains("BOMB.json")),
        "{:?}",
        info.problems
    );
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[test]
fn nothing_recognised_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "hello").unwrap();
    let store = Store::create(&dir.path().join("db")).unwrap();
    let out = import_path(&store, dir.path());
    assert_eq!(out.errors.len(), 1);
    let out = import_path(&store, Path::new("/nonexistent/advisories"));
    assert_eq!(out.errors.len(), 1);
}
