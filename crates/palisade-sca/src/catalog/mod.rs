//! Catalogers: one module per package database or manifest format. Each
//! takes the bytes of one file (and where it was found) and returns the
//! components it declares, or an error naming the file. [`classify`] picks
//! the cataloger from the path; [`crate::scan`] walks a tree and runs them.
//!
//! Every parser works on bounded input ([`Limits`]): file size, entry
//! count, nesting depth. None of them panics on bad input; a corrupt file
//! is one [`crate::Error`] and the rest of the tree is still catalogued.

pub mod apk;
pub mod binary;
pub mod cargo;
pub mod composer;
pub mod dotnet;
pub mod dpkg;
pub mod golang;
pub mod java;
pub mod npm;
pub mod pnpm;
pub mod python;
pub mod rpm;
pub mod ruby;
pub mod yarn;

use crate::component::{Component, Distro};
use crate::error::{Error, Result};

/// Bounds on what one input may make a parser do.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest manifest, lockfile or database read (bytes).
    pub max_file_bytes: u64,
    /// Largest archive (JAR) or binary inspected.
    pub max_archive_bytes: u64,
    /// Most packages (or lines, entries) one file may declare.
    pub max_entries: usize,
    /// Deepest nesting of archives inside archives (JARs in WARs).
    pub max_nesting: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 256 * 1024 * 1024,
            max_archive_bytes: 2 * 1024 * 1024 * 1024,
            max_entries: 500_000,
            max_nesting: 4,
        }
    }
}

/// What a cataloger knows about the file it parses.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    /// The file's path as reported in locations.
    pub path: &'a str,
    /// The operating system of the scanned root, if known.
    pub distro: Option<&'a Distro>,
    pub limits: &'a Limits,
    /// The file on disk, when it is one (SQLite databases are opened by
    /// path).
    pub fs_path: Option<&'a std::path::Path>,
    /// The scanned root on disk, for catalogers that read companion files
    /// (Debian copyright files for licences).
    pub fs_root: Option<&'a std::path::Path>,
}

impl<'a> Ctx<'a> {
    /// A context for a file that is only in memory.
    pub fn new(path: &'a str, limits: &'a Limits) -> Ctx<'a> {
        Ctx {
            path,
            distro: None,
            limits,
            fs_path: None,
            fs_root: None,
        }
    }

    pub fn location(&self) -> crate::component::Location {
        crate::component::Location::file(self.path)
    }

    /// An error about this file.
    pub fn err(&self, message: impl Into<String>) -> Error {
        Error::parse(self.path, message)
    }

    /// An error about a line of this file (1-based).
    pub fn err_at(&self, line: usize, message: impl Into<String>) -> Error {
        Error::parse_at(self.path, line, message)
    }

    /// Fails once `count` passes the entry limit.
    pub fn check_count(&self, count: usize) -> Result<()> {
        if count > self.limits.max_entries {
            Err(Error::limit(
                self.path,
                format!("more than {} entries", self.limits.max_entries),
            ))
        } else {
            Ok(())
        }
    }

    /// The file as UTF-8 text (a byte-order mark is dropped).
    pub fn text<'b>(&self, bytes: &'b [u8]) -> Result<&'b str> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        std::str::from_utf8(bytes).map_err(|e| {
            self.err(format!(
                "not UTF-8 text (bad byte at offset {})",
                e.valid_up_to()
            ))
        })
    }

    /// Parses JSON with a clear, positioned error.
    pub fn json<T: serde::de::DeserializeOwned>(&self, bytes: &[u8]) -> Result<T> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        serde_json::from_slice(bytes).map_err(|e| Error::json(self.path, &e))
    }

    /// Parses TOML with a clear, positioned error.
    pub fn toml<T: serde::de::DeserializeOwned>(&self, bytes: &[u8]) -> Result<T> {
        let text = self.text(bytes)?;
        toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text.get(..s.start).unwrap_or("").matches('\n').count() + 1);
            let msg = format!("invalid TOML: {}", e.message());
            match line {
                Some(l) => self.err_at(l, msg),
                None => self.err(msg),
            }
        })
    }

    /// Parses YAML (alias expansion and nesting bounded by serde-saphyr's
    /// budget) with a clear error.
    pub fn yaml<T: serde::de::DeserializeOwned>(&self, bytes: &[u8]) -> Result<T> {
        let text = self.text(bytes)?;
        serde_saphyr::from_str(text).map_err(|e| self.err(format!("invalid YAML: {e}")))
    }
}

/// The catalogers, by the files they read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    DpkgStatus,
    DpkgStatusD,
    ApkInstalled,
    RpmSqlite,
    CargoLock,
    NpmLock,
    NodeModulesPackage,
    YarnLock,
    PnpmLock,
    PythonMetadata,
    Requirements,
    PoetryLock,
    PipfileLock,
    UvLock,
    GoMod,
    PomXml,
    JavaArchive,
    GemfileLock,
    Gemspec,
    ComposerLock,
    NugetLock,
    DepsJson,
    /// An executable: Go build info or a `cargo auditable` dependency list.
    Binary,
}

impl Kind {
    /// Whether this cataloger reads an operating-system package database
    /// (only in root filesystems and images).
    pub fn is_os(self) -> bool {
        matches!(
            self,
            Kind::DpkgStatus | Kind::DpkgStatusD | Kind::ApkInstalled | Kind::RpmSqlite
        )
    }

    /// The cataloger's name, recorded in `found_by`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::DpkgStatus | Kind::DpkgStatusD => "dpkg",
            Kind::ApkInstalled => "apk",
            Kind::RpmSqlite => "rpm",
            Kind::CargoLock => "cargo-lock",
            Kind::NpmLock => "npm-lock",
            Kind::NodeModulesPackage => "node-modules",
            Kind::YarnLock => "yarn-lock",
            Kind::PnpmLock => "pnpm-lock",
            Kind::PythonMetadata => "python-installed",
            Kind::Requirements => "python-requirements",
            Kind::PoetryLock => "poetry-lock",
            Kind::PipfileLock => "pipfile-lock",
            Kind::UvLock => "uv-lock",
            Kind::GoMod => "go-mod",
            Kind::PomXml => "maven-pom",
            Kind::JavaArchive => "java-archive",
            Kind::GemfileLock => "gemfile-lock",
            Kind::Gemspec => "gemspec",
            Kind::ComposerLock => "composer-lock",
            Kind::NugetLock => "nuget-lock",
            Kind::DepsJson => "dotnet-deps",
            Kind::Binary => "binary",
        }
    }
}

/// Picks the cataloger for a file from its `/`-separated path relative to
/// the scanned root (no leading `/`). Binaries are found by content, not
/// name (see [`binary::is_candidate`]).
pub fn classify(rel: &str) -> Option<Kind> {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let parent = rel.rsplit_once('/').map_or("", |(p, _)| p);
    let kind = match name {
        "status" if rel.ends_with("var/lib/dpkg/status") => Kind::DpkgStatus,
        "installed" if rel.ends_with("lib/apk/db/installed") => Kind::ApkInstalled,
        "rpmdb.sqlite" => Kind::RpmSqlite,
        "Cargo.lock" => Kind::CargoLock,
        "package-lock.json" | "npm-shrinkwrap.json" => Kind::NpmLock,
        "package.json" if is_in_node_modules(parent) => Kind::NodeModulesPackage,
        "yarn.lock" => Kind::YarnLock,
        "pnpm-lock.yaml" => Kind::PnpmLock,
        "METADATA" if parent.ends_with(".dist-info") => Kind::PythonMetadata,
        "PKG-INFO" if parent.ends_with(".egg-info") => Kind::PythonMetadata,
        "poetry.lock" => Kind::PoetryLock,
        "Pipfile.lock" => Kind::PipfileLock,
        "uv.lock" => Kind::UvLock,
        "go.mod" => Kind::GoMod,
        "pom.xml" => Kind::PomXml,
        "Gemfile.lock" | "gems.locked" => Kind::GemfileLock,
        "composer.lock" => Kind::ComposerLock,
        "packages.lock.json" => Kind::NugetLock,
        _ if parent.ends_with("var/lib/dpkg/status.d") && !name.ends_with(".md5sums") => {
            Kind::DpkgStatusD
        }
        _ if name.ends_with(".deps.json") => Kind::DepsJson,
        _ if name.ends_with(".gemspec") && parent.ends_with("specifications") => Kind::Gemspec,
        _ if name.starts_with("requirements") && name.ends_with(".txt") => Kind::Requirements,
        _ if [".jar", ".war", ".ear", ".par", ".sar", ".jpi", ".hpi"]
            .iter()
            .any(|e| name.len() > e.len() && name.to_ascii_lowercase().ends_with(e)) =>
        {
            Kind::JavaArchive
        }
        _ => return None,
    };
    Some(kind)
}

fn is_in_node_modules(parent: &str) -> bool {
    // node_modules/x/package.json or node_modules/@scope/x/package.json,
    // not files deeper inside a package (test fixtures, nested configs).
    let mut segs = parent.rsplit('/');
    match (segs.next(), segs.next(), segs.next()) {
        (Some(_), Some("node_modules"), _) => true,
        (Some(_), Some(scope), Some("node_modules")) => scope.starts_with('@'),
        _ => false,
    }
}

/// Runs the cataloger of `kind` on a file's bytes.
pub fn parse(kind: Kind, bytes: &[u8], ctx: &Ctx<'_>) -> Result<Vec<Component>> {
    let mut out = match kind {
        Kind::DpkgStatus | Kind::DpkgStatusD => dpkg::parse(bytes, ctx),
        Kind::ApkInstalled => apk::parse(bytes, ctx),
        Kind::RpmSqlite => rpm::parse_bytes(bytes, ctx),
        Kind::CargoLock => cargo::parse_lock(bytes, ctx),
        Kind::NpmLock => npm::parse_lock(bytes, ctx),
        Kind::NodeModulesPackage => npm::parse_package_json(bytes, ctx),
        Kind::YarnLock => yarn::parse(bytes, ctx),
        Kind::PnpmLock => pnpm::parse(bytes, ctx),
        Kind::PythonMetadata => python::parse_metadata(bytes, ctx),
        Kind::Requirements => python::parse_requirements(bytes, ctx),
        Kind::PoetryLock => python::parse_poetry(bytes, ctx),
        Kind::PipfileLock => python::parse_pipfile(bytes, ctx),
        Kind::UvLock => python::parse_uv(bytes, ctx),
        Kind::GoMod => golang::parse_mod(bytes, ctx),
        Kind::PomXml => java::parse_pom(bytes, ctx),
        Kind::JavaArchive => java::parse_archive_bytes(bytes, ctx),
        Kind::GemfileLock => ruby::parse_lock(bytes, ctx),
        Kind::Gemspec => ruby::parse_gemspec(bytes, ctx),
        Kind::ComposerLock => composer::parse(bytes, ctx),
        Kind::NugetLock => dotnet::parse_packages_lock(bytes, ctx),
        Kind::DepsJson => dotnet::parse_deps_json(bytes, ctx),
        Kind::Binary => binary::parse(bytes, ctx),
    }?;
    ctx.check_count(out.len())?;
    for c in &mut out {
        if c.found_by.is_empty() {
            c.found_by = kind.name().to_owned();
        }
    }
    Ok(out)
}

/// Splits `text` into blank-line separated paragraphs with the 1-based
/// line number each starts on (dpkg, apk, METADATA headers).
pub(crate) fn paragraphs(text: &str) -> Vec<(usize, Vec<&str>)> {
    let mut out = Vec::new();
    let mut cur: Vec<&str> = Vec::new();
    let mut start = 1;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            if !cur.is_empty() {
                out.push((start, std::mem::take(&mut cur)));
            }
            start = i + 2;
        } else {
            if cur.is_empty() {
                start = i + 1;
            }
            cur.push(line);
        }
    }
    if !cur.is_empty() {
        out.push((start, cur));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_paths() {
        assert_eq!(classify("var/lib/dpkg/status"), Some(Kind::DpkgStatus));
        assert_eq!(
            classify("var/lib/dpkg/status.d/base"),
            Some(Kind::DpkgStatusD)
        );
        assert_eq!(classify("var/lib/dpkg/status.d/base.md5sums"), None);
        assert_eq!(
            classify("app/node_modules/@a/b/package.json"),
            Some(Kind::NodeModulesPackage)
        );
        assert_eq!(
            classify("app/node_modules/b/package.json"),
            Some(Kind::NodeModulesPackage)
        );
        assert_eq!(classify("app/node_modules/b/test/package.json"), None);
        assert_eq!(classify("app/package.json"), None);
        assert_eq!(
            classify("lib/x-1.0.dist-info/METADATA"),
            Some(Kind::PythonMetadata)
        );
        assert_eq!(classify("requirements-dev.txt"), Some(Kind::Requirements));
        assert_eq!(classify("lib/app.WAR"), Some(Kind::JavaArchive));
        assert_eq!(classify(".jar"), None);
        assert_eq!(
            classify("usr/share/gems/specifications/rake-13.0.gemspec"),
            Some(Kind::Gemspec)
        );
        assert_eq!(classify("bin/App.deps.json"), Some(Kind::DepsJson));
    }

    #[test]
    fn splits_paragraphs() {
        let p = paragraphs("a\nb\n\n\nc\n");
        assert_eq!(p, vec![(1, vec!["a", "b"]), (5, vec!["c"])]);
    }
}
