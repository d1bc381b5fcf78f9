//! The staging directories of image scans in progress, so that an
//! interrupted run can remove them: they live in /dev/shm when it has room,
//! which is memory, and an exit by signal runs no destructor.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

static DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static CANCELLED: AtomicBool = AtomicBool::new(false);

/// Asks image scans to stop writing (they end with an "interrupted" error,
/// and their staging directories are removed as they unwind).
pub fn cancel() {
    CANCELLED.store(true, Ordering::Relaxed);
}

pub(crate) fn cancelled() -> bool {
    CANCELLED.load(Ordering::Relaxed)
}

/// Whether no staging directory is listed (every scan has cleaned up).
pub fn is_empty() -> bool {
    DIRS.lock().map_or(true, |d| d.is_empty())
}

/// A staging directory, listed while this value lives.
#[derive(Debug)]
pub(crate) struct Registered(PathBuf);

impl Registered {
    pub(crate) fn new(path: &Path) -> Registered {
        if let Ok(mut dirs) = DIRS.lock() {
            dirs.push(path.to_owned());
        }
        Registered(path.to_owned())
    }
}

impl Drop for Registered {
    /// Removes the directory, then unlists it: a signal's thread waiting
    /// for the list to empty must not exit while the removal runs.
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
        if let Ok(mut dirs) = DIRS.lock() {
            dirs.retain(|d| *d != self.0);
        }
    }
}

/// Removes every staging directory still listed: for the thread that
/// handles SIGINT/SIGTERM, just before the process exits.
pub fn remove_all() {
    let dirs = match DIRS.lock() {
        Ok(mut dirs) => std::mem::take(&mut *dirs),
        Err(_) => return,
    };
    for dir in dirs {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_directories_are_removed() {
        let base = tempfile::tempdir().unwrap();
        let (a, b) = (base.path().join("a"), base.path().join("b"));
        std::fs::create_dir_all(a.join("x")).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        let live = Registered::new(&a);
        drop(Registered::new(&b));
        assert!(!b.exists(), "a finished scan removes its directory");
        assert!(!is_empty());
        remove_all();
        assert!(!a.exists(), "a scan in progress is cleaned up");
        drop(live);
    }
}
