//! The guard's configuration (the `--config` file, YAML in the binary) and
//! the validated settings the engine runs with.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};

/// Whether drift is blocked or only reported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Deny the exec of drifted files (`execve` fails with EPERM).
    Enforce,
    /// Allow it and report it.
    #[default]
    Audit,
}

/// An answer to a permission event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decision {
    Allow,
    Deny,
}

impl Decision {
    pub fn is_allow(self) -> bool {
        self == Decision::Allow
    }
}

/// The configuration file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "kebab-case", deny_unknown_fields)]
pub struct GuardConfig {
    /// `enforce` or `audit` (default).
    pub mode: Mode,
    /// The answer when the guard cannot decide (an internal error, a file
    /// on an overlay it cannot resolve). Default: deny in enforce mode,
    /// allow in audit mode.
    pub on_error: Option<Decision>,
    /// Guard only these overlay mount points (they may appear later).
    /// Empty: every overlay mount that `include`/`exclude` select.
    pub mounts: Vec<PathBuf>,
    /// Globs on mount points of overlays to guard when `mounts` is empty
    /// (default: all).
    pub include: Vec<String>,
    /// Globs on mount points of overlays never to guard.
    pub exclude: Vec<String>,
    /// Files that may run although they are not from the image.
    pub allow: Vec<AllowEntry>,
    /// Also deny reads of drifted files by interpreters and the dynamic
    /// loader (`sh script.sh`, `ld.so ./binary`): marks every open on the
    /// guarded overlays, which costs (docs/benchmarks.md).
    pub interpreters: bool,
    /// Executable base names counted as interpreters or loaders; globs.
    /// Default: shells, python*, perl*, ruby*, node*, php*, lua*, ld-*.so*.
    pub interpreter_names: Vec<String>,
    /// Report allowed execs from the image too (noisy; for debugging).
    pub report_allowed: bool,
    /// Write events here instead of stdout (appended).
    pub output: Option<PathBuf>,
    /// Seconds between summary events; 0: only at exit.
    pub summary_interval: u64,
    /// Read mounts in this process's mount namespace and reach their
    /// layers through `/proc/<pid>/root` (1 in the DaemonSet, where the
    /// guard runs in a container with the host's PID namespace).
    pub mount_namespace_pid: Option<u32>,
}

/// An allow-list entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AllowEntry {
    /// Glob on the mount point the entry applies to (default: all).
    #[serde(default)]
    pub mount: Option<String>,
    /// Globs on paths inside the container (`/opt/app/jit-cache/**`).
    pub paths: Vec<String>,
    /// Why (kept for people reading the file).
    #[serde(default)]
    pub reason: Option<String>,
}

/// The default interpreter and loader names (globs on the base name of the
/// process's executable).
pub const DEFAULT_INTERPRETERS: &[&str] = &[
    "sh", "ash", "bash", "dash", "ksh", "mksh", "zsh", "busybox", "python*", "pypy*", "perl*",
    "ruby*", "node", "nodejs", "php*", "lua*", "ld-*.so*", "ld.so*",
];

/// The longest summary interval (a year, in seconds).
const MAX_SUMMARY_INTERVAL: u64 = 365 * 24 * 3600;

/// `path` with the symlinks of its longest existing prefix resolved; the
/// rest (a mount point not created yet) is kept as written.
fn resolve_symlinks(path: &Path) -> PathBuf {
    let mut rest = Vec::new();
    let mut prefix = path;
    loop {
        if let Ok(real) = std::fs::canonicalize(prefix) {
            return rest.iter().rev().fold(real, |p, c| p.join(c));
        }
        match (prefix.parent(), prefix.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_owned());
                prefix = parent;
            }
            _ => return path.to_path_buf(),
        }
    }
}

/// A configuration that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ConfigError {
    pub field: String,
    pub message: String,
}

/// Validated settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub mode: Mode,
    pub on_error: Decision,
    pub mounts: Vec<PathBuf>,
    pub include: Option<GlobSet>,
    pub exclude: GlobSet,
    pub allow: Vec<AllowRule>,
    pub interpreters: bool,
    pub interpreter_names: GlobSet,
    pub report_allowed: bool,
    pub output: Option<PathBuf>,
    pub summary_interval: u64,
    pub mount_namespace_pid: Option<u32>,
    /// Test hook: the decision code panics on a path ending with this, to
    /// show that the event is still answered (by `on_error`).
    #[cfg(feature = "test-support")]
    #[doc(hidden)]
    pub panic_on: Option<String>,
}

/// A compiled allow-list entry.
#[derive(Debug, Clone)]
pub struct AllowRule {
    pub mount: Option<GlobSet>,
    pub paths: GlobSet,
}

impl GuardConfig {
    /// Checks and compiles the configuration.
    pub fn validate(&self) -> Result<Settings, ConfigError> {
        let on_error = self.on_error.unwrap_or(match self.mode {
            Mode::Enforce => Decision::Deny,
            Mode::Audit => Decision::Allow,
        });
        let mut mounts = Vec::with_capacity(self.mounts.len());
        for (i, mount) in self.mounts.iter().enumerate() {
            if !mount.is_absolute() {
                return Err(ConfigError {
                    field: format!("mounts[{i}]"),
                    message: format!("`{}` is not an absolute path", mount.display()),
                });
            }
            // mountinfo names mount points without symlinks (`/var/run` is
            // one to `/run` on most hosts): compare like with like. Paths
            // of another mount namespace are taken as written.
            mounts.push(match self.mount_namespace_pid {
                None => resolve_symlinks(mount),
                Some(_) => mount.clone(),
            });
        }
        if self.summary_interval > MAX_SUMMARY_INTERVAL {
            return Err(ConfigError {
                field: "summary-interval".into(),
                message: format!(
                    "{} seconds is more than a year ({MAX_SUMMARY_INTERVAL}); 0 reports only at exit",
                    self.summary_interval
                ),
            });
        }
        let include = if self.include.is_empty() {
            None
        } else {
            Some(globs("include", &self.include)?)
        };
        let exclude = globs("exclude", &self.exclude)?;
        let mut allow = Vec::new();
        for (i, entry) in self.allow.iter().enumerate() {
            let mount = match &entry.mount {
                Some(m) => Some(globs(
                    &format!("allow[{i}].mount"),
                    std::slice::from_ref(m),
                )?),
                None => None,
            };
            if entry.paths.is_empty() {
                return Err(ConfigError {
                    field: format!("allow[{i}].paths"),
                    message: "needs at least one path glob".into(),
                });
            }
            if let Some(bad) = entry.paths.iter().find(|p| !p.starts_with('/')) {
                return Err(ConfigError {
                    field: format!("allow[{i}].paths"),
                    message: format!("`{bad}` must be absolute (a path inside the container)"),
                });
            }
            let paths = globs(&format!("allow[{i}].paths"), &entry.paths)?;
            allow.push(AllowRule { mount, paths });
        }
        let names: Vec<String> = if self.interpreter_names.is_empty() {
            DEFAULT_INTERPRETERS.iter().map(|s| s.to_string()).collect()
        } else {
            self.interpreter_names.clone()
        };
        let interpreter_names = globs("interpreter-names", &names)?;
        if self.mount_namespace_pid == Some(0) {
            return Err(ConfigError {
                field: "mount-namespace-pid".into(),
                message: "must be a process id (1 for the host's init)".into(),
            });
        }
        Ok(Settings {
            mode: self.mode,
            on_error,
            mounts,
            include,
            exclude,
            allow,
            interpreters: self.interpreters,
            interpreter_names,
            report_allowed: self.report_allowed,
            output: self.output.clone(),
            summary_interval: self.summary_interval,
            mount_namespace_pid: self.mount_namespace_pid,
            #[cfg(feature = "test-support")]
            panic_on: None,
        })
    }
}

/// Compiles globs where `*` stays within a path component and `**` crosses.
fn globs(field: &str, patterns: &[String]) -> Result<GlobSet, ConfigError> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        builder.add(glob(field, pattern)?);
    }
    builder.build().map_err(|e| ConfigError {
        field: field.to_string(),
        message: e.to_string(),
    })
}

fn glob(field: &str, pattern: &str) -> Result<Glob, ConfigError> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| ConfigError {
            field: field.to_string(),
            message: e.to_string(),
        })
}

impl Settings {
    /// Whether the overlay at `mount_point` is one to guard.
    pub fn selects(&self, mount_point: &Path) -> bool {
        if !self.mounts.is_empty() {
            return self.mounts.iter().any(|m| m == mount_point);
        }
        if self.exclude.is_match(mount_point) {
            return false;
        }
        self.include
            .as_ref()
            .is_none_or(|set| set.is_match(mount_point))
    }

    /// Whether `path` (inside the container) on the overlay at
    /// `mount_point` is allow-listed.
    pub fn allows(&self, mount_point: &Path, path: &Path) -> bool {
        self.allow.iter().any(|rule| {
            rule.mount
                .as_ref()
                .is_none_or(|set| set.is_match(mount_point))
                && rule.paths.is_match(path)
        })
    }

    /// Whether an executable's base name is an interpreter or a loader.
    pub fn is_interpreter(&self, exe: &Path) -> bool {
        exe.file_name()
            .is_some_and(|name| self.interpreter_names.is_match(Path::new(name)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(f: impl FnOnce(&mut GuardConfig)) -> GuardConfig {
        let mut c = GuardConfig::default();
        f(&mut c);
        c
    }

    #[test]
    fn on_error_follows_the_mode() {
        let s = GuardConfig::default().validate().unwrap();
        assert_eq!((s.mode, s.on_error), (Mode::Audit, Decision::Allow));
        let s = config(|c| c.mode = Mode::Enforce).validate().unwrap();
        assert_eq!(s.on_error, Decision::Deny);
        let s = config(|c| {
            c.mode = Mode::Enforce;
            c.on_error = Some(Decision::Allow);
        })
        .validate()
        .unwrap();
        assert_eq!(s.on_error, Decision::Allow);
    }

    #[test]
    fn selects_mounts() {
        let s = GuardConfig::default().validate().unwrap();
        assert!(s.selects(Path::new("/anything")));
        let s = config(|c| {
            c.include = vec!["/run/containerd/**".into()];
            c.exclude = vec!["/run/containerd/**/skip/*".into()];
        })
        .validate()
        .unwrap();
        assert!(s.selects(Path::new("/run/containerd/k8s.io/abc/rootfs")));
        assert!(!s.selects(Path::new("/run/containerd/k8s.io/skip/rootfs")));
        assert!(!s.selects(Path::new("/var/lib/docker/overlay2/x/merged")));
        let s = config(|c| c.mounts = vec!["/m".into()]).validate().unwrap();
        assert!(s.selects(Path::new("/m")));
        assert!(!s.selects(Path::new("/m/sub")));
    }

    /// mountinfo has no symlinks in mount points: `--mount` through a
    /// symlinked directory (`/var/run` → `/run`) must still select it.
    #[test]
    fn mounts_are_named_without_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().canonicalize().unwrap().join("real");
        std::fs::create_dir_all(real.join("rootfs")).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let s = config(|c| {
            c.mounts = vec![link.join("rootfs"), link.join("later/rootfs")];
        })
        .validate()
        .unwrap();
        assert!(s.selects(&real.join("rootfs")), "{:?}", s.mounts);
        assert!(s.selects(&real.join("later/rootfs")), "{:?}", s.mounts);
        let err = config(|c| c.summary_interval = u64::MAX)
            .validate()
            .unwrap_err();
        assert_eq!(err.field, "summary-interval");
    }

    #[test]
    fn allow_list_is_per_mount() {
        let s = config(|c| {
            c.allow = vec![
                AllowEntry {
                    mount: Some("/a/**".into()),
                    paths: vec!["/cache/*.bin".into()],
                    reason: None,
                },
                AllowEntry {
                    mount: None,
                    paths: vec!["/opt/jit/**".into()],
                    reason: Some("JIT".into()),
                },
            ]
        })
        .validate()
        .unwrap();
        assert!(s.allows(Path::new("/a/m"), Path::new("/cache/x.bin")));
        assert!(!s.allows(Path::new("/b/m"), Path::new("/cache/x.bin")));
        // `*` does not cross directories.
        assert!(!s.allows(Path::new("/a/m"), Path::new("/cache/d/x.bin")));
        assert!(s.allows(Path::new("/b/m"), Path::new("/opt/jit/a/b/c")));
        assert!(!s.allows(Path::new("/b/m"), Path::new("/opt/other")));
    }

    #[test]
    fn interpreters_by_base_name() {
        let s = GuardConfig::default().validate().unwrap();
        for exe in [
            "/usr/bin/dash",
            "/bin/bash",
            "/usr/bin/python3.12",
            "/usr/bin/perl5.36.0",
            "/usr/lib64/ld-linux-x86-64.so.2",
            "/lib/ld-musl-x86_64.so.1",
            "/usr/local/bin/node",
        ] {
            assert!(s.is_interpreter(Path::new(exe)), "{exe}");
        }
        for exe in ["/usr/bin/true", "/usr/bin/shred", "/app/server", "/"] {
            assert!(!s.is_interpreter(Path::new(exe)), "{exe}");
        }
    }

    #[test]
    fn rejects_bad_values() {
        let e = config(|c| c.include = vec!["[".into()])
            .validate()
            .unwrap_err();
        assert_eq!(e.field, "include");
        let e = config(|c| c.mounts = vec!["rel".into()])
            .validate()
            .unwrap_err();
        assert_eq!(e.field, "mounts[0]");
        let e = config(|c| {
            c.allow = vec![AllowEntry {
                mount: None,
                paths: vec!["tmp/*".into()],
                reason: None,
            }]
        })
        .validate()
        .unwrap_err();
        assert_eq!(e.field, "allow[0].paths");
        let e = config(|c| c.mount_namespace_pid = Some(0))
            .validate()
            .unwrap_err();
        assert_eq!(e.field, "mount-namespace-pid");
    }
}
