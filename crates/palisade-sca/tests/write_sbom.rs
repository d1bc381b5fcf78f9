#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! CycloneDX 1.6 and SPDX 2.3 output validated against the official
//! schemas (vendored in tests/schemas, no network), and read back.

use std::path::Path;

use palisade_sca::scan::{Mode, ScanOptions, scan};
use palisade_sca::{Sbom, read, write};
use serde_json::Value;

fn schema(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/schemas")
        .join(name);
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

fn cyclonedx_validator() -> jsonschema::Validator {
    jsonschema::options()
        .with_resource(
            "http://cyclonedx.org/schema/spdx.schema.json",
            jsonschema::Resource::from_contents(schema("spdx.schema.json")),
        )
        .with_resource(
            "http://cyclonedx.org/schema/jsf-0.82.schema.json",
            jsonschema::Resource::from_contents(schema("jsf-0.82.schema.json")),
        )
        .build(&schema("bom-1.6.schema.json"))
        .unwrap()
}

fn assert_valid(v: &jsonschema::Validator, doc: &Value, what: &str) {
    let errors: Vec<String> = v
        .iter_errors(doc)
        .take(10)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}");
}

fn samples() -> Vec<(String, Sbom)> {
    let fx = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out = Vec::new();
    for (dir, mode) in [
        ("langs", Mode::Directory),
        ("project", Mode::Directory),
        ("rootfs", Mode::Rootfs),
        ("apk", Mode::Rootfs),
        ("rpm", Mode::Rootfs),
    ] {
        out.push((
            dir.to_owned(),
            scan(
                &fx.join(dir),
                dir,
                &ScanOptions {
                    mode,
                    ..ScanOptions::default()
                },
            ),
        ));
    }
    for f in ["trivy-0.59.1-image.cdx.json", "syft-shape.spdx.json"] {
        out.push((
            f.to_owned(),
            read::read_file(&fx.join("sbom").join(f)).unwrap(),
        ));
    }
    out
}

#[test]
fn cyclonedx_output_is_schema_valid_and_reads_back() {
    let v = cyclonedx_validator();
    for (name, sbom) in samples() {
        let doc = write::cyclonedx::to_json(&sbom);
        assert_valid(&v, &doc, &name);
        let back = read::read_bytes(&serde_json::to_vec(&doc).unwrap(), "x.json").unwrap();
        let a: Vec<_> = sbom
            .components
            .iter()
            .map(|c| {
                (
                    c.purl.clone(),
                    c.version.clone(),
                    c.source.clone(),
                    c.depends_on.len(),
                )
            })
            .collect();
        let b: Vec<_> = back
            .components
            .iter()
            .map(|c| {
                (
                    c.purl.clone(),
                    c.version.clone(),
                    c.source.clone(),
                    c.depends_on.len(),
                )
            })
            .collect();
        assert_eq!(a, b, "{name}");
        let la: Vec<_> = sbom
            .components
            .iter()
            .map(|c| c.locations.clone())
            .collect();
        let lb: Vec<_> = back
            .components
            .iter()
            .map(|c| c.locations.clone())
            .collect();
        assert_eq!(la, lb, "{name}");
    }
}

#[test]
fn spdx_output_is_schema_valid_and_reads_back() {
    let v = jsonschema::validator_for(&schema("spdx-schema-2.3.json")).unwrap();
    for (name, sbom) in samples() {
        let doc = write::spdx::to_json(&sbom);
        assert_valid(&v, &doc, &name);
        let back = read::read_bytes(&serde_json::to_vec(&doc).unwrap(), "x.spdx.json").unwrap();
        let mut a: Vec<_> = sbom
            .components
            .iter()
            .map(|c| (c.purl.clone(), c.version.clone()))
            .collect();
        let mut b: Vec<_> = back
            .components
            .iter()
            .map(|c| (c.purl.clone(), c.version.clone()))
            .collect();
        a.sort();
        b.sort();
        assert_eq!(a, b, "{name}");
        let edges_a: usize = sbom.components.iter().map(|c| c.depends_on.len()).sum();
        let edges_b: usize = back.components.iter().map(|c| c.depends_on.len()).sum();
        assert_eq!(edges_a, edges_b, "{name}");
    }
}

#[test]
fn serial_numbers_follow_content() {
    let mut s = samples().remove(0).1;
    let a = write::cyclonedx::to_json(&s)["serialNumber"].clone();
    assert!(a.as_str().unwrap().starts_with("urn:uuid:"));
    s.components.pop();
    let b = write::cyclonedx::to_json(&s)["serialNumber"].clone();
    assert_ne!(a, b);
    assert!(
        write::cyclonedx::to_json(&s)["metadata"]
            .get("timestamp")
            .is_none()
    );
    s.timestamp = Some("2026-01-02T03:04:05Z".into());
    let doc = write::spdx::to_json(&s);
    assert_eq!(doc["creationInfo"]["created"], "2026-01-02T03:04:05Z");
}
