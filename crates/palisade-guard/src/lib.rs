//! Palisade's runtime drift guard.
//!
//! A container's root filesystem is an overlay: the image's read-only
//! lower layers under a writable upper layer. Anything executed from the
//! upper layer was written (or changed) after the container started —
//! drift. The guard holds a fanotify group of class `FAN_CLASS_CONTENT`
//! with a filesystem mark for `FAN_OPEN_EXEC_PERM` on each overlay, so the
//! kernel waits for its answer before every exec of a file on it, and
//! answers: allow for a file from the image, deny (enforce) or allow and
//! report (audit) for drift. See docs/guard.md for what is and is not
//! covered.
//!
//! This is the one crate of the workspace allowed `unsafe` code, and only
//! in [`fanotify`] (two system calls without a safe wrapper, and taking
//! ownership of the descriptors the kernel puts in events). Every `unsafe`
//! block carries a `// SAFETY:` comment (`clippy::undocumented_unsafe_blocks`
//! is denied).

pub mod cgroup;
pub mod config;
mod engine;
pub mod event;
pub mod fanotify;
pub mod known;
pub mod layers;
pub mod manifests;
pub mod mountinfo;
pub mod overlay;
pub mod procinfo;
pub mod resolve;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod time;

pub use config::{Decision, GuardConfig, Mode, Settings};
pub use engine::{Guard, StopHandle, Summary};
pub use event::Counters;

/// Why the guard cannot start or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    #[error(
        "palisade guard needs CAP_SYS_ADMIN in the initial user namespace (fanotify permission events): {detail}; run it as root on the host, or in the DaemonSet from `palisade guard manifests`"
    )]
    NotPermitted { detail: String },
    #[error("palisade guard cannot run on this kernel: {detail}")]
    Unsupported { detail: String },
    #[error("invalid guard configuration: {0}")]
    Config(#[from] config::ConfigError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Decode(#[from] fanotify::DecodeError),
}

impl GuardError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> GuardError {
        GuardError::Io {
            context: context.into(),
            source,
        }
    }
}

/// `CAP_SYS_ADMIN`'s bit in the capability sets.
const CAP_SYS_ADMIN: u32 = 21;

/// Fails with a clear message unless this process has CAP_SYS_ADMIN in the
/// initial user namespace. (fanotify_init would refuse too; this names the
/// reason.)
pub fn check_privileges() -> Result<(), GuardError> {
    let status = procinfo::read_bounded(std::path::Path::new("/proc/self/status"), 64 * 1024)
        .map_err(|e| GuardError::io("cannot read /proc/self/status", e))?;
    let status = String::from_utf8_lossy(&status);
    let effective = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .unwrap_or(0);
    if effective & (1 << CAP_SYS_ADMIN) == 0 {
        return Err(GuardError::NotPermitted {
            detail: "this process does not have CAP_SYS_ADMIN".into(),
        });
    }
    let uid_map = std::fs::read_to_string("/proc/self/uid_map").unwrap_or_default();
    if !is_initial_user_namespace(&uid_map) {
        return Err(GuardError::NotPermitted {
            detail: format!(
                "this process runs in a user namespace (uid_map `{}`), where its capabilities do not allow permission events",
                uid_map.split_whitespace().collect::<Vec<_>>().join(" ")
            ),
        });
    }
    Ok(())
}

/// The initial user namespace maps every id to itself.
fn is_initial_user_namespace(uid_map: &str) -> bool {
    let fields: Vec<&str> = uid_map.split_whitespace().collect();
    fields == ["0", "0", "4294967295"]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_the_initial_user_namespace() {
        assert!(is_initial_user_namespace(
            "         0          0 4294967295\n"
        ));
        assert!(!is_initial_user_namespace(
            "         0       1000          1\n"
        ));
        assert!(!is_initial_user_namespace(""));
    }
}
