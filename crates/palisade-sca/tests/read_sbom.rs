#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Reading SBOMs made by Trivy (real output) and in Syft's documented shape.

use std::path::Path;

use palisade_sca::scan::{ScanOptions, scan};
use palisade_sca::source::{SourceOptions, sbom_of};
use palisade_sca::{Ecosystem, Relationship, read, write};

fn fixture(name: &str) -> palisade_sca::Sbom {
    read::read_file(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/sbom")
            .join(name),
    )
    .unwrap()
}

#[test]
fn trivy_cyclonedx_image() {
    let sbom = fixture("trivy-0.59.1-image.cdx.json");
    let origin = sbom.origin.as_ref().unwrap();
    assert_eq!(
        (origin.format.as_str(), origin.spec_version.as_str()),
        ("CycloneDX", "1.6")
    );
    assert_eq!(origin.tools, ["trivy 0.59.1"]);
    let distro = sbom.target.distro.as_ref().unwrap();
    assert_eq!(
        (distro.id.as_str(), distro.version_id.as_str()),
        ("debian", "12.15")
    );
    // Applications (lockfile entries) and the OS are not components.
    assert!(
        sbom.components.iter().all(|c| c.purl.is_some()),
        "{:#?}",
        sbom.components
    );
    let bsd = sbom
        .components
        .iter()
        .find(|c| c.name == "bsdutils")
        .unwrap();
    assert_eq!(bsd.ecosystem, Ecosystem::Deb);
    assert_eq!(bsd.version, "1:2.38.1-5+deb12u3");
    let src = bsd.source.as_ref().unwrap();
    assert_eq!(
        (src.name.as_str(), src.version.as_str()),
        ("util-linux", "2.38.1-5+deb12u3")
    );
    assert_eq!(bsd.osv_ecosystem().as_deref(), Some("Debian:12"));
    assert_eq!(
        bsd.locations[0].layer_diff_id.as_deref(),
        Some("sha256:cf769a4947d03578f4d10dfbe8295bd518dea90059e3c1313da689be3c31ff82")
    );
    assert!(bsd.licenses.contains(&"GPL-2.0-or-later".to_owned()));
    let lodash = sbom.components.iter().find(|c| c.name == "lodash").unwrap();
    assert_eq!(lodash.ecosystem, Ecosystem::Npm);
    assert_eq!(lodash.version, "4.17.15");
    assert_eq!(lodash.relationship, Relationship::Direct);
    let counts = sbom.counts();
    assert_eq!(counts.get("deb"), Some(&6));
    assert!(counts.contains_key("cargo") && counts.contains_key("pypi"));
}

#[test]
fn trivy_spdx_image() {
    let sbom = fixture("trivy-0.59.1-image.spdx.json");
    let origin = sbom.origin.as_ref().unwrap();
    assert_eq!(
        (origin.format.as_str(), origin.spec_version.as_str()),
        ("SPDX", "2.3")
    );
    assert_eq!(sbom.target.distro.as_ref().unwrap().id, "debian");
    let bsd = sbom
        .components
        .iter()
        .find(|c| c.name == "bsdutils")
        .unwrap();
    assert_eq!(bsd.version, "1:2.38.1-5+deb12u3");
    assert_eq!(bsd.source.as_ref().unwrap().name, "util-linux");
    assert!(sbom.components.iter().all(|c| c.purl.is_some()));
    assert_eq!(sbom.counts().get("deb"), Some(&6));
    // Trivy's SPDX has DEPENDS_ON edges among the kept packages.
    assert!(sbom.components.iter().any(|c| !c.depends_on.is_empty()));
}

#[test]
fn syft_shaped_cyclonedx() {
    let sbom = fixture("syft-shape.cdx.json");
    assert_eq!(sbom.components.len(), 4, "{:#?}", sbom.components);
    let bsd = sbom
        .components
        .iter()
        .find(|c| c.name == "bsdutils")
        .unwrap();
    assert_eq!(bsd.version, "1:2.38.1-5+deb12u1");
    let src = bsd.source.as_ref().unwrap();
    assert_eq!(
        (src.name.as_str(), src.version.as_str()),
        ("util-linux", "2.38.1-5+deb12u1")
    );
    assert_eq!(bsd.distro.as_ref().unwrap().version_id, "12");
    assert_eq!(bsd.locations[0].path, "/var/lib/dpkg/status");
    assert_eq!(bsd.depends_on.len(), 1);
    let libc = sbom.components.iter().find(|c| c.name == "libc6").unwrap();
    assert_eq!(libc.source.as_ref().unwrap().name, "glibc");
    let babel = sbom.components.iter().find(|c| c.name == "core").unwrap();
    assert_eq!(babel.namespace.as_deref(), Some("@babel"));
    assert_eq!(babel.osv_name(), "@babel/core");
    let req = sbom
        .components
        .iter()
        .find(|c| c.name == "requests")
        .unwrap();
    assert_eq!(req.licenses, ["Apache-2.0"]);
    assert_eq!(req.osv_ecosystem().as_deref(), Some("PyPI"));
}

#[test]
fn syft_shaped_spdx() {
    let sbom = fixture("syft-shape.spdx.json");
    // The image itself (CONTAINER, described by the document) is not a component.
    assert_eq!(sbom.components.len(), 3, "{:#?}", sbom.components);
    let bsd = sbom
        .components
        .iter()
        .find(|c| c.name == "bsdutils")
        .unwrap();
    assert_eq!(bsd.source.as_ref().unwrap().name, "util-linux");
    assert_eq!(bsd.licenses, ["BSD-4-Clause AND GPL-2.0-only"]);
    assert_eq!(bsd.locations[0].path, "/var/lib/dpkg/status");
    assert_eq!(bsd.depends_on.len(), 1);
    let babel = sbom.components.iter().find(|c| c.name == "core").unwrap();
    assert_eq!(
        babel.locations[0].path,
        "/app/node_modules/@babel/core/package.json"
    );
}

#[test]
fn malformed_sboms_give_clear_errors() {
    let cases: &[(&str, &str)] = &[
        (
            r#"{"bomFormat":"CycloneDX","specVersion":"2.0"}"#,
            "CycloneDX 2.0 is not supported",
        ),
        (r#"{"bomFormat":"CycloneDX"}"#, "without `specVersion`"),
        (
            r#"{"bomFormat":"SPDX","specVersion":"1.6"}"#,
            "expected `CycloneDX`",
        ),
        (
            r#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":{}}"#,
            "`components` is not an array",
        ),
        (
            r#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":[1]}"#,
            "not a JSON object",
        ),
        (
            r#"{"spdxVersion":"SPDX-3.0"}"#,
            "SPDX-3.0` is not supported",
        ),
        (
            r#"{"spdxVersion":"SPDX-2.3","packages":"x"}"#,
            "`packages` is not an array",
        ),
        (
            "{\"spdxVersion\":\"SPDX-2.3\",\n\"packages\":[",
            "bad.json:2:",
        ),
    ];
    for (input, expected) in cases {
        let err = read::read_bytes(input.as_bytes(), "bad.json").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("bad.json"), "{msg}");
        assert!(msg.contains(expected), "{input}: {msg}");
    }
    // A bad purl is reported; the component is kept without one.
    let sbom = read::read_bytes(
        br#"{"bomFormat":"CycloneDX","specVersion":"1.4","components":[{"type":"library","name":"x","version":"1","purl":"npm/x@1"}]}"#,
        "p.json",
    )
    .unwrap();
    assert_eq!(sbom.components.len(), 1);
    assert!(sbom.components[0].purl.is_none());
    assert!(
        sbom.errors[0].message.contains("bad purl"),
        "{:?}",
        sbom.errors
    );
    // Deep nesting is a limit error, not a stack overflow.
    let mut deep = String::from(r#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":"#);
    for _ in 0..100 {
        deep.push_str(r#"[{"type":"library","name":"a","components":"#);
    }
    deep.push_str("[]");
    for _ in 0..100 {
        deep.push_str("}]");
    }
    deep.push('}');
    let err = read::read_bytes(deep.as_bytes(), "deep.json").unwrap_err();
    assert!(err.to_string().contains("deep.json"), "{err}");
}

fn purls(sbom: &palisade_sca::Sbom) -> Vec<String> {
    let mut v: Vec<String> = sbom
        .components
        .iter()
        .map(|c| {
            let purl = c.purl.as_ref().map_or("-".to_owned(), ToString::to_string);
            format!("{purl} {}", c.version)
        })
        .collect();
    v.sort();
    v
}

/// Reads a file given as a target, as `palisade sbom FILE` does.
fn read_target(dir: &Path, name: &str, text: &str) -> palisade_sca::Result<palisade_sca::Sbom> {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    sbom_of(path.to_str().unwrap(), &SourceOptions::default())
}

#[test]
fn own_output_reads_back_as_a_target() {
    let project = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/project");
    let sbom = scan(&project, "project", &ScanOptions::default());
    assert!(sbom.components.len() > 50);
    let dir = tempfile::tempdir().unwrap();
    for (name, doc) in [
        ("own.spdx.json", write::spdx::to_json(&sbom)),
        ("own.cdx.json", write::cyclonedx::to_json(&sbom)),
    ] {
        // Pretty-printed with sorted keys, as the binary writes it.
        let text = serde_json::to_string_pretty(&doc).unwrap();
        let back = read_target(dir.path(), name, &text).unwrap();
        assert_eq!(back.target.kind, palisade_sca::TargetKind::Sbom, "{name}");
        assert_eq!(purls(&back), purls(&sbom), "{name}");
    }
}

#[test]
fn sbom_keys_are_found_in_any_order() {
    let dir = tempfile::tempdir().unwrap();
    let padding = "x".repeat(4096);
    let cdx = format!(
        r#"{{"metadata":{{"comment":"{padding}"}},"specVersion":"1.6","components":[{{"type":"library","name":"lodash","version":"4.17.4","purl":"pkg:npm/lodash@4.17.4"}}],"bomFormat":"CycloneDX"}}"#
    );
    let sbom = read_target(dir.path(), "late.json", &cdx).unwrap();
    assert_eq!(purls(&sbom), ["pkg:npm/lodash@4.17.4 4.17.4"]);
    // A byte order mark does not hide an SBOM either.
    let sbom = read_target(dir.path(), "bom.cdx.json", &format!("\u{feff}{cdx}")).unwrap();
    assert_eq!(sbom.components.len(), 1);
    // A JSON object that is neither is an error, not an empty inventory.
    let e = read_target(dir.path(), "other.json", &format!(r#"{{"a":"{padding}"}}"#)).unwrap_err();
    assert!(e.to_string().contains("not an SBOM"), "{e}");
    // A lockfile is still catalogued by its name.
    let lock = read_target(
        dir.path(),
        "package-lock.json",
        r#"{"lockfileVersion":3,"packages":{"node_modules/ms":{"version":"2.1.3"}}}"#,
    )
    .unwrap();
    assert_eq!(lock.target.kind, palisade_sca::TargetKind::Directory);
    assert_eq!(lock.components.len(), 1);
    // A project's package.json named directly is a file, not a broken SBOM.
    assert!(
        read_target(
            dir.path(),
            "package.json",
            r#"{"name":"app","dependencies":{"ms":"^2"}}"#
        )
        .is_ok()
    );
}
