//! Every file-content cataloger (lockfiles, manifests, OS package databases,
//! Java archives): the first byte picks the file kind, the rest is the file.
//! Any panic is a bug; errors are expected.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_sca::catalog::{self, Ctx, Limits};

/// One path per kind `catalog::classify` knows, except the SQLite RPM
/// database (opened by path, not from memory).
const PATHS: &[&str] = &[
    "var/lib/dpkg/status",
    "var/lib/dpkg/status.d/base",
    "lib/apk/db/installed",
    "Cargo.lock",
    "package-lock.json",
    "node_modules/left-pad/package.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "site-packages/requests-2.0.dist-info/METADATA",
    "poetry.lock",
    "Pipfile.lock",
    "uv.lock",
    "go.mod",
    "pom.xml",
    "Gemfile.lock",
    "composer.lock",
    "packages.lock.json",
    "app.deps.json",
    "specifications/rack-2.0.gemspec",
    "requirements.txt",
    "lib/app.jar",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let path = PATHS[usize::from(pick) % PATHS.len()];
    let Some(kind) = catalog::classify(path) else {
        panic!("{path} is not a cataloged path");
    };
    let limits = Limits::default();
    let _ = catalog::parse(kind, bytes, &Ctx::new(path, &limits));
});
