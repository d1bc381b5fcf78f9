#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Every cataloger on fixtures made by the real tools (see
//! fixtures/SOURCES.md): what it finds, the identity it gives, and that a
//! corrupt file is one error while the rest of the tree is catalogued.

use std::path::{Path, PathBuf};

use palisade_sca::scan::{Mode, ScanOptions, scan};
use palisade_sca::{Ecosystem, Relationship, Sbom};

fn fixture(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(p)
}

fn run(p: &str, mode: Mode) -> Sbom {
    scan(
        &fixture(p),
        p,
        &ScanOptions {
            mode,
            ..ScanOptions::default()
        },
    )
}

fn refs(sbom: &Sbom, eco: Ecosystem) -> Vec<String> {
    sbom.components
        .iter()
        .filter(|c| c.ecosystem == eco)
        .map(|c| c.bom_ref.clone())
        .collect()
}

fn get<'a>(sbom: &'a Sbom, bom_ref: &str) -> &'a palisade_sca::Component {
    sbom.get(bom_ref).unwrap_or_else(|| {
        panic!(
            "{bom_ref} not in {:#?}",
            sbom.components
                .iter()
                .map(|c| &c.bom_ref)
                .collect::<Vec<_>>()
        )
    })
}

#[test]
fn project_directory_with_a_corrupt_lockfile() {
    let sbom = run("project", Mode::Directory);
    // The broken lockfile is one positioned error; the others are catalogued.
    assert_eq!(sbom.errors.len(), 1, "{:?}", sbom.errors);
    let e = &sbom.errors[0];
    assert_eq!(e.path, "broken/package-lock.json");
    assert!(e.message.contains("invalid JSON"), "{e:?}");
    let c = sbom.counts();
    assert_eq!(c.get("npm"), Some(&56), "{c:?}"); // 55 packages and the project itself
    assert_eq!(c.get("cargo"), Some(&31), "{c:?}");
    assert_eq!(c.get("pypi"), Some(&8), "{c:?}");
    let express = get(&sbom, "pkg:npm/express@4.17.1");
    assert_eq!(express.relationship, Relationship::Direct);
    assert_eq!(express.licenses, ["MIT"]);
    assert!(
        express.depends_on.contains("pkg:npm/body-parser@1.19.0"),
        "{:?}",
        express.depends_on
    );
    assert_eq!(
        get(&sbom, "pkg:npm/body-parser@1.19.0").relationship,
        Relationship::Transitive
    );
    assert_eq!(express.locations[0].path, "web/package-lock.json");
    let time = get(&sbom, "pkg:cargo/time@0.1.43");
    assert_eq!(time.relationship, Relationship::Direct);
    assert!(
        time.depends_on
            .iter()
            .any(|d| d.starts_with("pkg:cargo/libc@"))
    );
    get(&sbom, "pkg:cargo/smallvec@0.6.9");
    get(&sbom, "pkg:pypi/urllib3@1.24.1");
    get(&sbom, "pkg:pypi/pyyaml@5.3");
    // OS databases are not read in directory mode; nothing of the rootfs fixture here.
    assert!(refs(&sbom, Ecosystem::Deb).is_empty());
}

#[test]
fn rootfs_dpkg_with_sources_licences_and_graph() {
    let sbom = run("rootfs", Mode::Rootfs);
    assert!(sbom.errors.is_empty(), "{:?}", sbom.errors);
    assert_eq!(sbom.target.distro.as_ref().unwrap().codename, "bookworm");
    assert_eq!(refs(&sbom, Ecosystem::Deb).len(), 7);
    let bsd = get(
        &sbom,
        "pkg:deb/debian/bsdutils@2.38.1-5%2Bdeb12u3?arch=amd64&distro=debian-12&epoch=1",
    );
    assert_eq!(bsd.version, "1:2.38.1-5+deb12u3");
    let src = bsd.source.as_ref().unwrap();
    assert_eq!(
        (src.name.as_str(), src.version.as_str()),
        ("util-linux", "2.38.1-5+deb12u3")
    );
    assert_eq!(bsd.locations[0].path, "/var/lib/dpkg/status");
    assert!(
        bsd.licenses.contains(&"GPL-2.0-or-later".to_owned()),
        "{:?}",
        bsd.licenses
    );
    assert!(
        bsd.depends_on
            .iter()
            .any(|d| d.starts_with("pkg:deb/debian/libc6@")),
        "{:?}",
        bsd.depends_on
    );
    assert_eq!(bsd.osv_ecosystem().as_deref(), Some("Debian:12"));
    // The same tree as a plain directory has no OS packages.
    assert!(run("rootfs", Mode::Directory).components.is_empty());
}

#[test]
fn distroless_status_d_apk_and_rpm() {
    let sbom = run("distroless", Mode::Rootfs);
    assert_eq!(refs(&sbom, Ecosystem::Deb).len(), 3, "{:?}", sbom.errors);
    assert!(
        sbom.components
            .iter()
            .all(|c| c.locations[0].path.starts_with("/var/lib/dpkg/status.d/"))
    );

    let sbom = run("apk", Mode::Rootfs);
    assert!(sbom.errors.is_empty(), "{:?}", sbom.errors);
    let ssl = get(
        &sbom,
        "pkg:apk/alpine/ssl_client@1.36.1-r15?arch=x86_64&distro=alpine-3.19.1",
    );
    assert_eq!(ssl.source.as_ref().unwrap().name, "busybox");
    assert_eq!(ssl.osv_ecosystem().as_deref(), Some("Alpine:v3.19"));
    let busybox = get(
        &sbom,
        "pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64&distro=alpine-3.19.1",
    );
    assert_eq!(busybox.depends_on.len(), 1);

    // rpmdb.sqlite written by Debian's rpm 4.18 (see fixtures/rpm/*.spec).
    let sbom = run("rpm", Mode::Rootfs);
    assert!(sbom.errors.is_empty(), "{:?}", sbom.errors);
    let refs = refs(&sbom, Ecosystem::Rpm);
    assert_eq!(
        refs,
        [
            "pkg:rpm/fedora/palisade-alpha@1.2.3-5.fc40?arch=noarch&distro=fedora-40",
            "pkg:rpm/fedora/palisade-beta@1.2.4-5.fc40?arch=noarch&distro=fedora-40&epoch=2"
        ]
    );
    let beta = get(&sbom, &refs[1]);
    assert_eq!(beta.version, "2:1.2.4-5.fc40");
    assert_eq!(beta.licenses, ["MIT"]);
    assert_eq!(beta.source.as_ref().unwrap().name, "palisade-beta");
}

#[test]
fn corrupt_rpm_database_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("var/lib/rpm");
    std::fs::create_dir_all(&db).unwrap();
    let real = std::fs::read(fixture("rpm/var/lib/rpm/rpmdb.sqlite")).unwrap();
    std::fs::write(db.join("rpmdb.sqlite"), &real[..real.len() / 4]).unwrap();
    let sbom = scan(
        dir.path(),
        "t",
        &ScanOptions {
            mode: Mode::Rootfs,
            ..ScanOptions::default()
        },
    );
    assert_eq!(sbom.errors.len(), 1, "{:?}", sbom.components);
    assert_eq!(sbom.errors[0].path, "/var/lib/rpm/rpmdb.sqlite");
    std::fs::write(db.join("rpmdb.sqlite"), b"not a database at all, just text").unwrap();
    let sbom = scan(
        dir.path(),
        "t",
        &ScanOptions {
            mode: Mode::Rootfs,
            ..ScanOptions::default()
        },
    );
    assert!(
        sbom.errors[0]
            .message
            .contains("not a readable RPM SQLite database"),
        "{:?}",
        sbom.errors
    );
}

#[test]
fn language_lockfiles_and_binaries() {
    let sbom = run("langs", Mode::Directory);
    let errors: Vec<String> = sbom
        .errors
        .iter()
        .map(|e| format!("{}: {}", e.path, e.message))
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("java/corrupt.jar: not a readable JAR/ZIP archive"),
        "{errors:?}"
    );
    // yarn v1 (yarn 1.22.22) and berry, pnpm 9 (pnpm 10): debug -> ms.
    let debug = get(&sbom, "pkg:npm/debug@4.3.4");
    assert_eq!(
        debug.depends_on.iter().collect::<Vec<_>>(),
        ["pkg:npm/ms@2.1.2"]
    );
    assert_eq!(debug.locations.len(), 3, "{:?}", debug.locations);
    assert_eq!(debug.relationship, Relationship::Direct);
    get(&sbom, "pkg:npm/ms@2.1.3");
    // uv (uv.lock from uv), Pipfile.lock (pipenv), poetry.lock.
    let req = get(&sbom, "pkg:pypi/requests@2.19.0");
    assert_eq!(req.relationship, Relationship::Direct);
    assert!(
        req.depends_on.contains("pkg:pypi/urllib3@1.23"),
        "{:?}",
        req.depends_on
    );
    assert!(get(&sbom, "pkg:pypi/pytest@7.4.0").dev);
    assert!(get(&sbom, "pkg:pypi/idna@2.7").locations.len() >= 2);
    // Go: go.mod, and a real Go 1.19 binary's build info (dependency + stdlib).
    let dep = get(&sbom, "pkg:golang/example.com/dep@v1.2.3");
    assert_eq!(dep.locations.len(), 2, "{:?}", dep.locations);
    assert_eq!(dep.osv_name(), "example.com/dep");
    get(&sbom, "pkg:golang/stdlib@v1.19.8");
    // A Rust binary built with `cargo auditable` (its own crate is not a dependency).
    let itoa = get(&sbom, "pkg:cargo/itoa@1.0.9");
    assert_eq!(itoa.locations[0].path, "bin/fx-audit");
    assert_eq!(itoa.relationship, Relationship::Direct);
    assert!(sbom.components.iter().all(|c| c.name != "fx-audit"));
    // Java: pom.xml property, archive pom.properties, nested jars in a WAR.
    get(
        &sbom,
        "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
    );
    assert!(get(&sbom, "pkg:maven/junit/junit@4.13.1").dev);
    let cli = get(&sbom, "pkg:maven/commons-cli/commons-cli@1.5.0");
    let paths: Vec<&str> = cli.locations.iter().map(|l| l.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "java/app.war!WEB-INF/lib/commons-cli-1.5.0.jar",
            "java/commons-cli-1.5.0.jar"
        ]
    );
    get(&sbom, "pkg:maven/aopalliance/aopalliance@1.0");
    // Ruby, PHP, .NET.
    let nokogiri = get(&sbom, "pkg:gem/nokogiri@1.13.10");
    assert_eq!(nokogiri.relationship, Relationship::Direct);
    assert_eq!(get(&sbom, "pkg:gem/rake@13.0.6").licenses, ["MIT"]);
    let guzzle = get(&sbom, "pkg:composer/guzzlehttp/guzzle@7.4.0");
    assert!(
        guzzle
            .depends_on
            .contains("pkg:composer/guzzlehttp/psr7@2.1.0")
    );
    assert!(get(&sbom, "pkg:composer/phpunit/phpunit@9.5.10").dev);
    let nj = get(&sbom, "pkg:nuget/Newtonsoft.Json@12.0.3");
    assert_eq!(nj.locations.len(), 2);
    assert!(
        get(&sbom, "pkg:nuget/Serilog.Sinks.File@5.0.0")
            .depends_on
            .contains("pkg:nuget/Serilog@2.10.0")
    );
}

#[test]
fn caches_are_skipped_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("home/u/.cargo/registry/src/x");
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::write(cache.join("Cargo.lock"), "[[package]]\nname = \"cached\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n").unwrap();
    let npm = dir.path().join("home/u/.npm/_cacache");
    std::fs::create_dir_all(&npm).unwrap();
    std::fs::write(
        npm.join("package-lock.json"),
        r#"{"lockfileVersion":3,"packages":{"node_modules/c":{"version":"1.0.0"}}}"#,
    )
    .unwrap();
    let off = scan(dir.path(), "t", &ScanOptions::default());
    assert!(off.components.is_empty(), "{:?}", off.components);
    let on = scan(
        dir.path(),
        "t",
        &ScanOptions {
            include_caches: true,
            ..ScanOptions::default()
        },
    );
    assert_eq!(on.components.len(), 2);
}

#[test]
fn output_is_deterministic() {
    let a = run("langs", Mode::Directory);
    let b = run("langs", Mode::Directory);
    let ja = palisade_sca::write::cyclonedx::to_json(&a);
    let jb = palisade_sca::write::cyclonedx::to_json(&b);
    assert_eq!(ja, jb);
    assert_eq!(
        palisade_sca::write::spdx::to_json(&a),
        palisade_sca::write::spdx::to_json(&b)
    );
}
