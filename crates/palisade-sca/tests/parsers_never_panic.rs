#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Property tests: every cataloger and the SBOM readers answer arbitrary
//! bytes (and mutated real files) with components or an error naming the
//! file — never a panic.

use palisade_sca::catalog::{self, Ctx, Kind, Limits};
use proptest::prelude::*;

const KINDS: &[Kind] = &[
    Kind::DpkgStatus,
    Kind::ApkInstalled,
    Kind::CargoLock,
    Kind::NpmLock,
    Kind::NodeModulesPackage,
    Kind::YarnLock,
    Kind::PnpmLock,
    Kind::PythonMetadata,
    Kind::Requirements,
    Kind::PoetryLock,
    Kind::PipfileLock,
    Kind::UvLock,
    Kind::GoMod,
    Kind::PomXml,
    Kind::JavaArchive,
    Kind::GemfileLock,
    Kind::Gemspec,
    Kind::ComposerLock,
    Kind::NugetLock,
    Kind::DepsJson,
    Kind::Binary,
];

fn seeds() -> Vec<Vec<u8>> {
    let fx = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    [
        "project/web/package-lock.json",
        "project/rust/Cargo.lock",
        "langs/js-yarn/yarn.lock",
        "langs/js-pnpm/pnpm-lock.yaml",
        "langs/py-uv/uv.lock",
        "langs/java/pom.xml",
        "langs/ruby/Gemfile.lock",
        "rootfs/var/lib/dpkg/status",
        "apk/lib/apk/db/installed",
        "langs/bin/fx-audit",
    ]
    .iter()
    .map(|p| std::fs::read(fx.join(p)).unwrap())
    .collect()
}

fn check(kind: Kind, bytes: &[u8]) {
    let limits = Limits::default();
    let ctx = Ctx::new("input", &limits);
    if let Err(e) = catalog::parse(kind, bytes, &ctx) {
        assert!(e.to_string().starts_with("input"), "{kind:?}: {e}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512), k in 0..KINDS.len()) {
        check(KINDS[k], &bytes);
        let _ = palisade_sca::read::read_bytes(&bytes, "input");
    }

    #[test]
    fn mutated_real_files(seed in 0..10usize, cuts in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8), truncate in any::<prop::sample::Index>()) {
        let seeds = seeds();
        let mut b = seeds[seed].clone();
        for (i, v) in cuts {
            let at = i.index(b.len());
            b[at] = v;
        }
        let keep = truncate.index(b.len() + 1);
        b.truncate(keep);
        for k in KINDS {
            check(*k, &b);
        }
    }
}
