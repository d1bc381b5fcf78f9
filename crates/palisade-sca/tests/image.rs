#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Image sources: layer order, whiteouts, compressions, confinement
//! (crafted malicious layers), and clear errors for broken images.

mod common;

use common::*;
use palisade_sca::source::{SourceOptions, sbom_of};

fn opts() -> SourceOptions {
    SourceOptions {
        platform: "linux/amd64".into(),
        ..SourceOptions::default()
    }
}

fn names(sbom: &palisade_sca::Sbom) -> Vec<String> {
    sbom.components
        .iter()
        .map(|c| format!("{}@{}", c.name, c.version))
        .collect()
}

#[test]
fn layers_apply_in_order_with_whiteouts_and_attribution() {
    let dir = tempfile::tempdir().unwrap();
    let status1 = dpkg_status(&[("a", "1.0"), ("b", "1.0")]);
    let status2 = dpkg_status(&[("a", "2.0")]);
    let l1 = gz_layer(&[
        Entry::Dir("etc/"),
        Entry::File("etc/os-release", OS_RELEASE, 0o644),
        Entry::File("var/lib/dpkg/status", &status1, 0o644),
        Entry::File(
            "app/old/package-lock.json",
            br#"{"lockfileVersion":3,"packages":{"node_modules/gone":{"version":"1.0.0"}}}"#,
            0o644,
        ),
        Entry::File("opq/requirements.txt", b"lower==1.0\n", 0o644),
    ]);
    // Layer 2: replaces the status, deletes a file and makes `opq` opaque.
    let l2_raw = tar(&[
        Entry::File("var/lib/dpkg/status", &status2, 0o644),
        Entry::File("app/old/.wh.package-lock.json", b"", 0o644),
        Entry::File("opq/.wh..wh..opq", b"", 0o644),
        Entry::File("opq/requirements-upper.txt", b"upper==2.0\n", 0o644),
    ]);
    // Layer 3: uncompressed, zstd would be sniffed too.
    let l3_raw = tar(&[Entry::File("srv/requirements.txt", b"plain==3.0\n", 0o644)]);
    let layers = vec![
        l1,
        (
            ruzstd::encoding::compress_to_vec(
                &l2_raw[..],
                ruzstd::encoding::CompressionLevel::Fastest,
            ),
            "application/vnd.oci.image.layer.v1.tar+zstd",
            l2_raw.clone(),
        ),
        (
            l3_raw.clone(),
            "application/vnd.oci.image.layer.v1.tar",
            l3_raw,
        ),
    ];
    layout(dir.path(), &layers);
    let sbom = sbom_of(dir.path().to_str().unwrap(), &opts()).unwrap();
    assert_eq!(
        names(&sbom),
        ["a@2.0", "plain@3.0", "upper@2.0"],
        "{:?}",
        sbom.errors
    );
    assert!(sbom.errors.is_empty(), "{:?}", sbom.errors);
    let a = sbom.components.iter().find(|c| c.name == "a").unwrap();
    assert_eq!(a.locations[0].path, "/var/lib/dpkg/status");
    assert_eq!(
        a.locations[0].layer_digest.as_deref(),
        Some(digest(&layers[1].0).as_str())
    );
    assert_eq!(
        a.locations[0].layer_diff_id.as_deref(),
        Some(digest(&layers[1].2).as_str())
    );
    assert_eq!(a.distro.as_ref().unwrap().purl_qualifier(), "debian-12");
    assert_eq!(sbom.target.layers.len(), 3);
    assert!(
        sbom.target
            .image_digest
            .as_deref()
            .unwrap()
            .starts_with("sha256:")
    );
}

#[test]
fn a_file_replacing_a_lower_directory_hides_what_was_in_it() {
    // Layer 2 puts a plain file, a symlink and a script where layer 1 had
    // directories of lockfiles: none of the lower files is in the image.
    let script = [b"#!/bin/sh\n".as_slice(), &[b'#'; 5000]].concat();
    let dir = tempfile::tempdir().unwrap();
    layout(
        dir.path(),
        &[
            gz_layer(&[
                Entry::File("a/requirements.txt", b"one==1.0\n", 0o644),
                Entry::File("b/requirements.txt", b"two==1.0\n", 0o644),
                Entry::File("c/requirements.txt", b"three==1.0\n", 0o644),
                Entry::File("d/requirements.txt", b"kept==1.0\n", 0o644),
            ]),
            gz_layer(&[
                Entry::File("a", b"now a file\n", 0o644),
                Entry::Symlink("b", "/elsewhere"),
                Entry::File("c", &script, 0o755),
            ]),
        ],
    );
    let sbom = sbom_of(dir.path().to_str().unwrap(), &opts()).unwrap();
    assert_eq!(names(&sbom), ["kept@1.0"], "{:?}", sbom.errors);
}

#[test]
fn executables_in_layers_are_read_for_build_data() {
    let bin = |name: &str| {
        std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/langs/bin")
                .join(name),
        )
        .unwrap()
    };
    let (go, audit) = (bin("fx-go"), bin("fx-audit"));
    let script = [b"#!/bin/sh\n".as_slice(), &[b'#'; 5000]].concat();
    let mut broken = b"\x7fELF\x09".to_vec();
    broken.resize(5000, 0);
    let dir = tempfile::tempdir().unwrap();
    layout(
        dir.path(),
        &[gz_layer(&[
            Entry::File("usr/local/bin/fx-go", &go, 0o755),
            Entry::File("usr/local/bin/fx-audit", &audit, 0o755),
            Entry::File("usr/local/bin/script", &script, 0o755),
            Entry::File("usr/local/bin/broken", &broken, 0o755),
            // Not executable: never looked at.
            Entry::File("usr/local/lib/fx-go.copy", &go, 0o644),
        ])],
    );
    let sbom = sbom_of(dir.path().to_str().unwrap(), &opts()).unwrap();
    let at = |purl: &str| {
        sbom.get(purl)
            .unwrap_or_else(|| panic!("no {purl} in {:?} {:?}", names(&sbom), sbom.errors))
            .locations[0]
            .path
            .clone()
    };
    assert_eq!(
        at("pkg:golang/example.com/dep@v1.2.3"),
        "/usr/local/bin/fx-go"
    );
    assert_eq!(at("pkg:cargo/itoa@1.0.9"), "/usr/local/bin/fx-audit");
    assert!(
        sbom.components
            .iter()
            .all(|c| c.locations.iter().all(|l| !l.path.contains("fx-go.copy")))
    );
    // The malformed one is reported, as it would be on disk.
    assert!(
        sbom.errors.iter().any(
            |e| e.path.ends_with("usr/local/bin/broken") && e.message.contains("malformed ELF")
        ),
        "{:?}",
        sbom.errors
    );
}

#[test]
fn escapes_are_refused_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("pwned.txt");
    let evil_path = format!("../../../../../../../..{}", target.display());
    let layer = gz_layer(&[
        Entry::File("etc/os-release", OS_RELEASE, 0o644),
        // zip-slip via `..`
        Entry::File(&evil_path, b"x==1.0\n", 0o644),
        // symlink to outside, then a write through it
        Entry::Symlink("link", outside.path().to_str().unwrap()),
        Entry::File("link/requirements.txt", b"through==1.0\n", 0o644),
        // hard link to a file outside the root
        Entry::HardLink("stolen/requirements.txt", "/etc/passwd"),
        Entry::HardLink("escape/requirements.txt", "../../../etc/passwd"),
        Entry::File("ok/requirements.txt", b"fine==1.0\n", 0o644),
    ]);
    layout(dir.path(), &[layer]);
    let sbom = sbom_of(dir.path().to_str().unwrap(), &opts()).unwrap();
    assert!(
        !target.exists(),
        "a layer wrote outside the extraction root"
    );
    assert_eq!(
        std::fs::read_dir(outside.path()).unwrap().count(),
        0,
        "wrote through a symlink"
    );
    // The write "through" the symlink lands inside the root, as a plain directory.
    let got = names(&sbom);
    assert!(
        got.contains(&"fine@1.0".to_owned()) && got.contains(&"through@1.0".to_owned()),
        "{got:?}"
    );
    assert!(
        !got.iter()
            .any(|n| n.starts_with("x@") || n.starts_with("root")),
        "{got:?}"
    );
    let msgs: Vec<&str> = sbom.errors.iter().map(|e| e.message.as_str()).collect();
    assert!(
        msgs.iter().any(|m| m.contains("leaves the image root")),
        "{msgs:?}"
    );
}

#[test]
fn broken_images_give_clear_errors() {
    // Corrupt gzip.
    let dir = tempfile::tempdir().unwrap();
    let mut bad = gzip(&tar(&[Entry::File("a/requirements.txt", b"a==1\n", 0o644)]));
    let n = bad.len();
    bad[n / 2] ^= 0xff;
    bad[n / 2 + 1] ^= 0xff;
    layout(
        dir.path(),
        &[(
            bad,
            "application/vnd.oci.image.layer.v1.tar+gzip",
            Vec::new(),
        )],
    );
    let e = sbom_of(dir.path().to_str().unwrap(), &opts())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("layer sha256:") && (e.contains("corrupt") || e.contains("truncated")),
        "{e}"
    );

    // Truncated tar, in a file the catalogers read and in one skipped by
    // seeking over it.
    for name in ["a/requirements.txt", "a/notes.md"] {
        let dir = tempfile::tempdir().unwrap();
        let raw = tar(&[Entry::File(name, &[b'a'; 5000], 0o644)]);
        let cut = raw[..1500].to_vec();
        layout(
            dir.path(),
            &[(cut, "application/vnd.oci.image.layer.v1.tar", Vec::new())],
        );
        let e = sbom_of(dir.path().to_str().unwrap(), &opts())
            .unwrap_err()
            .to_string();
        assert!(e.contains("truncated"), "{name}: {e}");
    }

    // Unsupported media type.
    let dir = tempfile::tempdir().unwrap();
    layout(
        dir.path(),
        &[(
            b"wasm".to_vec(),
            "application/vnd.wasm.content.layer.v1+wasm",
            Vec::new(),
        )],
    );
    let e = sbom_of(dir.path().to_str().unwrap(), &opts())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("unsupported layer media type `application/vnd.wasm.content.layer.v1+wasm`"),
        "{e}"
    );

    // A manifest list without the platform.
    let dir = tempfile::tempdir().unwrap();
    let (md, size) = image_manifest(
        dir.path(),
        &[gz_layer(&[Entry::File(
            "etc/os-release",
            OS_RELEASE,
            0o644,
        )])],
    );
    let list = serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            { "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": size, "platform": { "os": "linux", "architecture": "arm64", "variant": "v8" } },
            { "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": size, "platform": { "os": "linux", "architecture": "amd64" } }
        ]
    });
    let ld = put_blob(dir.path(), &serde_json::to_vec(&list).unwrap());
    let index = serde_json::json!({ "schemaVersion": 2, "manifests": [{ "mediaType": "application/vnd.oci.image.index.v1+json", "digest": ld, "size": 1 }] });
    std::fs::write(
        dir.path().join("index.json"),
        serde_json::to_vec(&index).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("oci-layout"),
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    assert!(sbom_of(dir.path().to_str().unwrap(), &opts()).is_ok());
    let mut o = opts();
    o.platform = "linux/s390x".into();
    let e = sbom_of(dir.path().to_str().unwrap(), &o)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no image for platform linux/s390x")
            && e.contains("linux/arm64/v8, linux/amd64"),
        "{e}"
    );

    // Blob digests cannot name paths.
    let dir = tempfile::tempdir().unwrap();
    let index = serde_json::json!({ "schemaVersion": 2, "manifests": [{ "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:../../etc/passwd", "size": 1 }] });
    std::fs::write(
        dir.path().join("index.json"),
        serde_json::to_vec(&index).unwrap(),
    )
    .unwrap();
    std::fs::write(dir.path().join("oci-layout"), b"{}").unwrap();
    let e = sbom_of(dir.path().to_str().unwrap(), &opts())
        .unwrap_err()
        .to_string();
    assert!(e.contains("invalid digest"), "{e}");
}

#[test]
fn docker_archive_and_truncated_archive() {
    let dir = tempfile::tempdir().unwrap();
    let status = dpkg_status(&[("z", "1:1.0-1")]);
    let layer = tar(&[
        Entry::File("etc/os-release", OS_RELEASE, 0o644),
        Entry::File("var/lib/dpkg/status", &status, 0o644),
    ]);
    let lhex = digest(&layer).trim_start_matches("sha256:").to_owned();
    let config = serde_json::to_vec(&serde_json::json!({ "os": "linux", "architecture": "amd64", "rootfs": { "diff_ids": [digest(&layer)] } })).unwrap();
    let chex = digest(&config).trim_start_matches("sha256:").to_owned();
    let manifest = serde_json::to_vec(&serde_json::json!([{ "Config": format!("{chex}.json"), "RepoTags": ["x/y:1"], "Layers": ["abc/layer.tar"] }])).unwrap();
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, data).unwrap();
    };
    add(&format!("{lhex}.tar"), &layer);
    add(&format!("{chex}.json"), &config);
    add("manifest.json", &manifest);
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    b.append_link(&mut h, "abc/layer.tar", format!("../{lhex}.tar"))
        .unwrap();
    let archive = b.into_inner().unwrap();
    let path = dir.path().join("img.tar");
    std::fs::write(&path, &archive).unwrap();
    let sbom = sbom_of(path.to_str().unwrap(), &opts()).unwrap();
    assert_eq!(names(&sbom), ["z@1:1.0-1"]);
    assert_eq!(sbom.target.repo_tags, ["x/y:1"]);
    assert_eq!(
        sbom.components[0].locations[0].layer_digest.as_deref(),
        Some(format!("sha256:{lhex}").as_str())
    );
    // Cut in the middle of the layer.
    std::fs::write(&path, &archive[..archive.len() / 3]).unwrap();
    let e = sbom_of(path.to_str().unwrap(), &opts())
        .unwrap_err()
        .to_string();
    assert!(e.contains("truncated"), "{e}");
    // Not an image at all.
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(1);
    h.set_cksum();
    b.append_data(&mut h, "x", &b"x"[..]).unwrap();
    std::fs::write(&path, b.into_inner().unwrap()).unwrap();
    let e = sbom_of(path.to_str().unwrap(), &opts())
        .unwrap_err()
        .to_string();
    assert!(e.contains("neither a docker-archive"), "{e}");
}
