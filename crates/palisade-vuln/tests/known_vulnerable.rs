//! Known-vulnerable targets against a committed subset of the real
//! advisory data (`tests/fixtures/advisories`, see its SOURCES.md). Every
//! expectation below was written by hand from the advisory files: the
//! comment next to each says why it is (or is not) expected.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use palisade_sca::source::{SourceOptions, sbom_of};
use palisade_vuln::import::import_path;
use palisade_vuln::scan::{self, Options, Outcome};
use palisade_vuln::store::Store;
use palisade_vuln::vex::Vex;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(dir.path()).unwrap();
    let out = import_path(&store, &fixtures().join("advisories"));
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    // pypa, rustsec, go, rubysec, nodejs, debian-oval, alpine
    assert_eq!(out.sources.len(), 7, "{:#?}", out.sources);
    (dir, store)
}

fn scan_target(store: &Store, target: &Path, vex: &Vex) -> Outcome {
    let sbom = sbom_of(target.to_str().unwrap(), &SourceOptions::default()).unwrap();
    let reader = store.reader().unwrap();
    scan::scan(&sbom, &reader, vex, &Options::default()).unwrap()
}

/// Per package name: the expected ids (each vulnerability is named by the
/// expected id it carries as id or alias, else by its own id, so an
/// unexpected vulnerability shows up by name).
fn found(
    out: &Outcome,
    expected: &BTreeMap<&str, Vec<&str>>,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for m in &out.matched {
        let name = m.component.osv_name();
        let want = expected.get(name.as_str()).cloned().unwrap_or_default();
        for v in &m.vulnerabilities {
            let ids: Vec<&str> = std::iter::once(v.id.as_str())
                .chain(v.aliases.iter().map(String::as_str))
                .collect();
            let label = want
                .iter()
                .find(|w| ids.contains(w))
                .map_or_else(|| v.id.clone(), |w| (*w).to_owned());
            map.entry(name.clone()).or_default().insert(label);
        }
    }
    map
}

fn expect(pairs: &[(&'static str, &[&'static str])]) -> BTreeMap<&'static str, Vec<&'static str>> {
    pairs.iter().map(|(k, v)| (*k, v.to_vec())).collect()
}

fn check(out: &Outcome, expected: BTreeMap<&str, Vec<&str>>) {
    let got = found(out, &expected);
    let want: BTreeMap<String, BTreeSet<String>> = expected
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| ((*k).to_owned(), v.iter().map(|s| (*s).to_owned()).collect()))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn python_venv() {
    let (_d, store) = store();
    let out = scan_target(&store, &fixtures().join("targets/py-venv"), &Vex::default());
    check(
        &out,
        expect(&[
            // requests 2.19.0: PYSEC-2018-28 (fixed 2.20.0) and PYSEC-2023-74
            // (2.3.0 ≤ v < 2.31.0); not PYSEC-2014-13/14 (fixed 2.3.0) nor
            // PYSEC-2015-17 (2.1.0 ≤ v < 2.6.0).
            ("requests", &["PYSEC-2018-28", "PYSEC-2023-74"]),
            // urllib3 1.24.1: every advisory whose range reaches 1.24.1 —
            // not PYSEC-2017-98 (1.17–1.18.1), 2018-32 (< 1.23), 2020-149
            // (1.25.2–1.25.8), 2021-59 (1.26.0–1.26.4).
            (
                "urllib3",
                &[
                    "PYSEC-2019-132",
                    "PYSEC-2019-133",
                    "PYSEC-2020-148",
                    "PYSEC-2021-108",
                    "PYSEC-2023-192",
                    "PYSEC-2023-207",
                    "PYSEC-2023-212",
                ],
            ),
            // PyYAML 5.3: 2020-96 (5.1 ≤ v < 5.3.1), 2021-142 (< 5.4); not
            // 2018-49 (< 5.1) nor 2020-176 (5.1 ≤ v < 5.2b1).
            ("pyyaml", &["PYSEC-2020-96", "PYSEC-2021-142"]),
            // Jinja2 2.10: 2019-217 (< 2.10.1) and 2021-66 (< 2.11.3); the
            // 2014/2019-220 ones are fixed in 2.7.2, 2.7.3, 2.8.1.
            ("jinja2", &["PYSEC-2019-217", "PYSEC-2021-66"]),
        ]),
    );
    // Aliases merged: one finding per vulnerability, named by its CVE.
    let requests = out
        .matched
        .iter()
        .find(|m| m.component.name == "requests")
        .unwrap();
    let v = &requests.vulnerabilities[0];
    assert_eq!(v.id, "CVE-2018-18074");
    assert_eq!(v.aliases, ["GHSA-x84v-xcm2-53pg", "PYSEC-2018-28"]);
    assert_eq!(v.fixed, ["2.20.0"]);
    // The finding says where the package was found.
    let f = out
        .report
        .findings
        .iter()
        .find(|f| f.code == "CVE-2018-18074")
        .unwrap();
    assert!(
        f.location
            .path
            .ends_with("requests-2.19.0.dist-info/METADATA"),
        "{}",
        f.location.path
    );
    assert!(
        f.message.contains("requests 2.19.0") && f.message.contains("fixed in 2.20.0"),
        "{}",
        f.message
    );
}

#[test]
fn rust_lockfile() {
    let (_d, store) = store();
    let out = scan_target(
        &store,
        &fixtures().join("targets/rust-app"),
        &Vex::default(),
    );
    check(
        &out,
        expect(&[
            // time 0.1.43: RUSTSEC-2020-0071 (0.0.0-0 ≤ v < 0.2.0); not
            // RUSTSEC-2026-0009 (0.3.6 ≤ v < 0.3.47).
            ("time", &["RUSTSEC-2020-0071"]),
            // smallvec 0.6.9: 2018-0018 (< 0.6.13), 2019-0009 (0.6.5–0.6.10),
            // 2019-0012 (0.6.3–0.6.10), 2021-0003 (0.6.3–0.6.14); not
            // 2018-0003 (0.6.0-0 ≤ v < 0.6.3).
            (
                "smallvec",
                &[
                    "RUSTSEC-2018-0018",
                    "RUSTSEC-2019-0009",
                    "RUSTSEC-2019-0012",
                    "RUSTSEC-2021-0003",
                ],
            ),
            // chrono 0.4.19: RUSTSEC-2020-0159 (< 0.4.20).
            ("chrono", &["RUSTSEC-2020-0159"]),
            // hyper 0.14.9: 2021-0078, 2021-0079 (< 0.14.10), 2022-0022
            // (< 0.14.12); not 2021-0020 (0.14.0-0 ≤ v < 0.14.3) nor the
            // pre-0.13 ones.
            (
                "hyper",
                &[
                    "RUSTSEC-2021-0078",
                    "RUSTSEC-2021-0079",
                    "RUSTSEC-2022-0022",
                ],
            ),
        ]),
    );
}

#[test]
fn go_modules() {
    let (_d, store) = store();
    let out = scan_target(&store, &fixtures().join("targets/go-app"), &Vex::default());
    check(
        &out,
        expect(&[
            // golang.org/x/text v0.3.2: all four advisories (fixed in 0.3.3,
            // 0.3.7, 0.3.8, 0.39.0).
            (
                "golang.org/x/text",
                &[
                    "GO-2020-0015",
                    "GO-2021-0113",
                    "GO-2022-1059",
                    "GO-2026-5970",
                ],
            ),
            // A pseudo-version before v1.4.1 is before the fix (fixed 1.4.1).
            ("github.com/gorilla/websocket", &["GO-2020-0019"]),
        ]),
    );
}

#[test]
fn ruby_gems() {
    let (_d, store) = store();
    let out = scan_target(
        &store,
        &fixtures().join("targets/ruby-app"),
        &Vex::default(),
    );
    check(
        &out,
        expect(&[
            // rest-client 1.6.13: CVE-2015-1820 (unaffected ≤ 1.6.0, patched
            // ≥ 1.8.0), CVE-2015-3448 (patched ≥ 1.7.3), CVE-2019-15224
            // (unaffected ≤ 1.6.9 or ≥ 1.6.14, patched ≥ 1.7.0).
            (
                "rest-client",
                &["CVE-2015-1820", "CVE-2015-3448", "CVE-2019-15224"],
            ),
            // sinatra 2.0.1: all but CVE-2018-7212 (patched ≥ 2.0.1).
            (
                "sinatra",
                &[
                    "CVE-2018-11627",
                    "CVE-2022-29970",
                    "CVE-2022-45442",
                    "CVE-2024-21510",
                    "CVE-2025-61921",
                ],
            ),
            // json 2.3.0: CVE-2013-0269 patched ≥ 1.7.7, CVE-2020-10663
            // patched ≥ 2.3.0, CVE-2025-27788 unaffected < 2.10.0: none.
            ("json", &[]),
        ]),
    );
}

#[test]
fn npm_lockfile() {
    let (_d, store) = store();
    let out = scan_target(
        &store,
        &fixtures().join("targets/node-app"),
        &Vex::default(),
    );
    check(
        &out,
        expect(&[
            // lodash 4.17.15: only NSWG-ECO-516 (>=4.17.15 <4.17.19); 368
            // (<4.17.5) and 493 (<4.17.11) are older.
            ("lodash", &["NSWG-ECO-516"]),
            // mqtt-packet 4.0.0: 500 (>=4.0.0 <4.1.3); not 75, whose range
            // starts strictly above 4.0.0 (`> 4.0.0 <4.0.5`).
            ("mqtt-packet", &["NSWG-ECO-500"]),
            // deep-extend 0.5.0: 408 (<=0.5.0, inclusive).
            ("deep-extend", &["NSWG-ECO-408"]),
            // request 2.51.0: 309 is `>=2.2.6 <2.47.0 || >2.51.0 <=2.67.0`.
            ("request", &[]),
        ]),
    );
}

#[test]
fn distro_packages_match_their_release_by_source_package() {
    let (_d, store) = store();
    let out = scan_target(
        &store,
        &fixtures().join("targets/sbom/distro.cdx.json"),
        &Vex::default(),
    );
    // zlib1g 1:1.2.11.dfsg-2 on Debian 12, by its source package zlib:
    // CVE-2018-25032 (fixed 1:1.2.11.dfsg-4) and CVE-2022-37434
    // (1:1.2.11.dfsg-4.1); the 2016 ones are fixed in 1:1.2.8.dfsg-3/4.
    // The same package on Debian 11 has no Debian 11 data here: nothing.
    // busybox 1.36.1-r15 on Alpine 3.19: fixes in r16, r17, r19 (four
    // CVEs); not r2 or older, not the `0` (never affected) entries.
    // zlib 1.2.13-r0 on Alpine 3.19: fixed in 1.2.11-r4 and 1.2.12-r2.
    let mut by_ref: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for m in &out.matched {
        by_ref
            .entry(m.component.bom_ref.clone())
            .or_default()
            .extend(m.vulnerabilities.iter().map(|v| v.id.clone()));
    }
    let want: BTreeMap<String, BTreeSet<String>> = [
        ("deb-12-zlib1g", vec!["CVE-2018-25032", "CVE-2022-37434"]),
        (
            "apk-busybox",
            vec![
                "CVE-2023-42363",
                "CVE-2023-42364",
                "CVE-2023-42365",
                "CVE-2023-42366",
            ],
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
    .collect();
    assert_eq!(by_ref, want);
    let zlib = out
        .matched
        .iter()
        .find(|m| m.component.bom_ref == "deb-12-zlib1g")
        .unwrap();
    assert_eq!(zlib.coordinates.name, "zlib");
    assert_eq!(zlib.coordinates.version, "1:1.2.11.dfsg-2");
    assert_eq!(zlib.vulnerabilities[0].aliases, ["DEBIAN-CVE-2018-25032"]);
    // The layer the package came from is on the finding.
    let f = out
        .report
        .findings
        .iter()
        .find(|f| f.code == "CVE-2018-25032")
        .unwrap();
    assert_eq!(
        f.container.as_deref(),
        Some("sha256:1111111111111111111111111111111111111111111111111111111111111111")
    );
    assert_eq!(&*f.location.path, "var/lib/dpkg/status");
    // The component without a purl is counted, not silently dropped.
    assert_eq!(out.stats.without_purl, 1);
    assert_eq!(out.stats.unsupported.get("generic"), Some(&1));
}

#[test]
fn trivy_image_sbom() {
    let (_d, store) = store();
    let out = scan_target(
        &store,
        &fixtures().join("targets/sbom/trivy-0.59.1-image.cdx.json"),
        &Vex::default(),
    );
    let names: BTreeSet<String> = out
        .matched
        .iter()
        .map(|m| m.component.name.clone())
        .collect();
    // The image's Rust crates are found again through Trivy's SBOM; its
    // bookworm zlib (1:1.2.13.dfsg-1, source epoch 1 from SrcEpoch) and
    // shadow (1:4.13+dfsg1-1+deb12u2) are newer than every bookworm fix
    // in the OVAL subset: no Debian finding.
    for n in ["chrono", "smallvec", "time"] {
        assert!(names.contains(n), "{names:?}");
    }
    assert!(
        !names.contains("zlib1g") && !names.contains("login"),
        "{names:?}"
    );
}

#[test]
fn vex_suppresses_with_justification() {
    let (_d, store) = store();
    let mut vex = Vex::default();
    vex.read_bytes(
        br#"{"@context":"https://openvex.dev/ns/v0.2.0","@id":"x","author":"t","timestamp":"2026-01-01T00:00:00Z","version":1,
        "statements":[{"vulnerability":{"name":"RUSTSEC-2020-0071"},"products":[{"@id":"pkg:cargo/time@0.1.43"}],
        "status":"not_affected","justification":"vulnerable_code_not_in_execute_path"}]}"#,
        "triage.openvex.json",
    )
    .unwrap();
    let out = scan_target(&store, &fixtures().join("targets/rust-app"), &vex);
    let f = out
        .report
        .findings
        .iter()
        .find(|f| f.code == "CVE-2020-26235")
        .unwrap();
    let s = f.suppressed.as_ref().expect("suppressed");
    assert_eq!(s.kind, palisade_core::SuppressionKind::Vex);
    assert!(
        s.reason
            .as_deref()
            .unwrap()
            .contains("vulnerable_code_not_in_execute_path")
    );
    // Others stay.
    assert!(
        out.report
            .findings
            .iter()
            .filter(|f| !f.is_suppressed())
            .count()
            >= 8
    );
}

#[test]
fn ignore_unfixed_and_an_sbom_nothing_matches() {
    let (_d, store) = store();
    let sbom = palisade_sca::read::read_bytes(
        br#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"type":"library","name":"x","version":"1"}]}"#,
        "nopurl.cdx.json",
    )
    .unwrap();
    let reader = store.reader().unwrap();
    let out = scan::scan(&sbom, &reader, &Vex::default(), &Options::default()).unwrap();
    assert_eq!(
        out.report.errors.len(),
        1,
        "an unmatchable SBOM is an input error"
    );
    assert!(
        out.report.errors[0]
            .message
            .contains("not \"no vulnerabilities\"")
    );
    drop(reader);
    // --ignore-unfixed: GO-2026-5970 has a fix, all here have one: nothing dropped;
    // the counter exists and is zero.
    let sbom = sbom_of(
        fixtures().join("targets/go-app").to_str().unwrap(),
        &SourceOptions::default(),
    )
    .unwrap();
    let reader = store.reader().unwrap();
    let out = scan::scan(
        &sbom,
        &reader,
        &Vex::default(),
        &Options {
            ignore_unfixed: true,
        },
    )
    .unwrap();
    assert_eq!(out.stats.unfixed_ignored, 0);
    assert_eq!(out.stats.vulnerabilities, 5);
}

#[test]
fn a_dsa_keeps_its_cves_distinct_and_vex_suppresses_one() {
    let (_d, store) = store();
    // The OVAL subset has DSA-5429-1 (13 CVEs, among them CVE-2023-0666,
    // -0668 and -2952) and the CVE definitions CVE-2023-0666, -0667,
    // -0668 and -2952, all fixed in 4.0.6-1~deb12u1. The DSA's CVEs are
    // different vulnerabilities: five findings, not one chain of them.
    let sbom = palisade_sca::read::read_bytes(
        br#"{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[{"type":"library","bom-ref":"c0","name":"wireshark","version":"4.0.5-1","purl":"pkg:deb/debian/wireshark@4.0.5-1?arch=amd64&distro=debian-12"}]}"#,
        "d.json",
    )
    .unwrap();
    let mut vex = Vex::default();
    vex.read_bytes(
        br#"{"@context":"https://openvex.dev/ns/v0.2.0","@id":"x","author":"t","timestamp":"2026-01-01T00:00:00Z","version":1,
        "statements":[{"vulnerability":{"name":"CVE-2023-2952"},"products":[{"@id":"pkg:deb/debian/wireshark@4.0.5-1"}],
        "status":"not_affected","justification":"vulnerable_code_not_present"}]}"#,
        "triage.openvex.json",
    )
    .unwrap();
    let reader = store.reader().unwrap();
    let out = scan::scan(&sbom, &reader, &vex, &Options::default()).unwrap();
    let vulns = &out.matched[0].vulnerabilities;
    let ids: Vec<&str> = vulns.iter().map(|v| v.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "CVE-2023-0666",
            "CVE-2023-0667",
            "CVE-2023-0668",
            "CVE-2023-2952",
            "DSA-5429-1"
        ]
    );
    for v in &vulns[..4] {
        assert_eq!(v.aliases, [format!("DEBIAN-{}", v.id)]);
    }
    let dsa = &vulns[4];
    assert!(dsa.aliases.is_empty(), "{:?}", dsa.aliases);
    assert_eq!(dsa.related.len(), 13, "{:?}", dsa.related);
    assert!(dsa.related.iter().any(|r| r == "CVE-2023-2952"));
    assert!(
        out.report.rules["DSA-5429-1"]
            .doc
            .contains("Related: CVE-2023-0666, CVE-2023-0668, ")
    );
    // The VEX statement about CVE-2023-2952 suppresses that finding only.
    let suppressed: Vec<&str> = out
        .report
        .findings
        .iter()
        .filter(|f| f.is_suppressed())
        .map(|f| &*f.code)
        .collect();
    assert_eq!(suppressed, ["CVE-2023-2952"]);
    assert_eq!(out.report.findings.len(), 5);
}

#[test]
fn cyclonedx_vex_names_the_cvss_version() {
    let (_d, store) = store();
    // RustSec advisories for smallvec carry CVSS:3.0 and 3.1 vectors.
    let out = scan_target(
        &store,
        &fixtures().join("targets/rust-app"),
        &Vex::default(),
    );
    let mut buf = Vec::new();
    palisade_vuln::cdx::write(&out.matched, &mut buf).unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&buf).unwrap();
    let mut seen = BTreeSet::new();
    for v in doc["vulnerabilities"].as_array().unwrap() {
        for r in v["ratings"].as_array().unwrap() {
            let Some(vector) = r["vector"].as_str() else {
                continue;
            };
            let want = match vector.get(..9) {
                Some("CVSS:3.0/") => "CVSSv3",
                Some("CVSS:3.1/") => "CVSSv31",
                Some("CVSS:4.0/") => "CVSSv4",
                _ => panic!("{vector}"),
            };
            assert_eq!(r["method"], want, "{vector}");
            seen.insert(want);
        }
    }
    assert!(
        seen.contains("CVSSv3") && seen.contains("CVSSv31"),
        "{seen:?}"
    );
}
