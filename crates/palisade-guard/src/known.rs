//! Files of an overlay already proven to come from the image, remembered by
//! identity so that the next exec of one is answered from a `statx` alone,
//! without the `readlink` and layer lookups that placed it the first time.
//!
//! The identity is what `statx` says of the overlay file: device, inode and
//! **ctime**. Any change that could make an image file drift goes through a
//! copy-up, which creates a new file in the upper layer, and the overlay
//! then reports that file's status — with a ctime the kernel sets to the
//! time of the copy-up (user space can set atime and mtime, never ctime). A
//! new file's ctime is its creation time. So an identity remembered at time
//! T names no file created or copied up after T, as long as the remembered
//! ctime is before T by more than the clock's granularity: files changed in
//! the last [`SETTLED`] are not remembered. Renames and hard links of an
//! image file copy it up too; a file unlinked while executed (`nlink` 0) is
//! checked before this memory is consulted.
//!
//! Only an identity the overlay shows for the image's own file is
//! remembered: the file was placed by its path, and a path can be raced (a
//! parent directory renamed between the `readlink` and the lookups), so
//! the event's file must also show the ctime, mtime and size of the lower
//! file that provides that path — what overlayfs passes through for a file
//! only in the lower layers, and what a file of the upper layer cannot show
//! without setting the clock.
//!
//! Setting the clock (`CAP_SYS_TIME`, which a container may be granted: the
//! clock is not namespaced) could give a new file a chosen ctime. So a
//! [`ClockWatch`] — a timer that the kernel cancels when the realtime clock
//! is set — is checked with each batch of events, and the first step of the
//! clock turns this memory off for the rest of the run: from then on every
//! event is placed by its path, as without it. Lower layers changed under
//! a mounted overlay (which overlayfs forbids) are not covered.
//!
//! Kernel ignore marks (`FAN_MARK_IGNORE`) would spare even the event, but
//! they are cleared only by a write event, and a copy-up followed by writes
//! through a shared mapping produces none: the next exec would skip the
//! guard. Hence this memory in user space.

use std::collections::HashSet;
use std::io;
use std::os::fd::OwnedFd;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustix::io::Errno;
use rustix::time::{Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags, Timespec};

/// Identities remembered per overlay; beyond it the memory starts over (a
/// bound, not an eviction policy).
pub const MAX_KNOWN: usize = 4096;

/// How long ago a file's status must have changed for its identity to be
/// remembered: longer than any clock granularity.
pub const SETTLED: Duration = Duration::from_secs(1);

/// A file's identity as `statx` reports it through the overlay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Identity {
    pub dev: (u32, u32),
    pub ino: u64,
    /// ctime: seconds and nanoseconds since the epoch.
    pub ctime: (i64, u32),
}

impl Identity {
    /// Whether the status changed at least [`SETTLED`] before `now`.
    fn settled(&self, now: SystemTime) -> bool {
        let Ok(now) = now.duration_since(UNIX_EPOCH) else {
            return false;
        };
        let (secs, nanos) = self.ctime;
        let Ok(secs) = u64::try_from(secs) else {
            // Before the epoch: long settled.
            return true;
        };
        Duration::new(secs, nanos.min(999_999_999)) + SETTLED <= now
    }
}

/// The image files of one overlay known so far.
#[derive(Debug, Default)]
pub struct KnownImageFiles {
    known: HashSet<Identity>,
}

impl KnownImageFiles {
    pub fn contains(&self, id: &Identity) -> bool {
        self.known.contains(id)
    }

    /// Remembers a file just proven to be from the image, unless its status
    /// changed too recently to tell it from a later copy-up.
    pub fn remember(&mut self, id: Identity, now: SystemTime) {
        if !id.settled(now) {
            return;
        }
        if self.known.len() >= MAX_KNOWN {
            self.known.clear();
        }
        self.known.insert(id);
    }

    pub fn len(&self) -> usize {
        self.known.len()
    }

    pub fn is_empty(&self) -> bool {
        self.known.is_empty()
    }
}

/// Tells whether the realtime clock was set (stepped, not slewed) since it
/// was armed: a timer on that clock, far in the future, that the kernel
/// cancels when the clock is set (`TFD_TIMER_CANCEL_ON_SET`).
#[derive(Debug)]
pub struct ClockWatch {
    timer: OwnedFd,
}

impl ClockWatch {
    pub fn new() -> io::Result<ClockWatch> {
        let timer = rustix::time::timerfd_create(
            TimerfdClockId::Realtime,
            TimerfdFlags::CLOEXEC | TimerfdFlags::NONBLOCK,
        )?;
        let far = Itimerspec {
            it_interval: Timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: Timespec {
                // Year 2096: never reached, within the kernel's range.
                tv_sec: 4_000_000_000,
                tv_nsec: 0,
            },
        };
        rustix::time::timerfd_settime(
            &timer,
            TimerfdTimerFlags::ABSTIME | TimerfdTimerFlags::CANCEL_ON_SET,
            &far,
        )?;
        Ok(ClockWatch { timer })
    }

    /// Whether the clock was set since the watch was made. Anything but
    /// "not set" (including an error) counts as set.
    pub fn was_set(&self) -> bool {
        let mut buf = [0u8; 8];
        !matches!(rustix::io::read(&self.timer, &mut buf), Err(Errno::AGAIN))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ino: u64, secs: i64) -> Identity {
        Identity {
            dev: (0, 42),
            ino,
            ctime: (secs, 500),
        }
    }

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn remembers_only_settled_files() {
        let mut known = KnownImageFiles::default();
        known.remember(id(1, 1_000), at(1_000));
        known.remember(id(2, 1_000), at(1_001));
        known.remember(id(3, 999), at(1_001));
        // Changed in the future (a clock stepped back): not remembered.
        known.remember(id(4, 2_000), at(1_001));
        assert!(!known.contains(&id(1, 1_000)));
        // 1_000 s + 500 ns + 1 s is after 1_001 s.
        assert!(!known.contains(&id(2, 1_000)));
        assert!(known.contains(&id(3, 999)));
        assert!(!known.contains(&id(4, 2_000)));
        // Before the epoch is long settled.
        known.remember(id(5, -3), at(1_001));
        assert!(known.contains(&id(5, -3)));
    }

    #[test]
    fn a_new_ctime_is_a_new_file() {
        let mut known = KnownImageFiles::default();
        known.remember(id(7, 100), at(1_000));
        assert!(known.contains(&id(7, 100)));
        // Same inode number, status changed since (a copy-up reports the
        // upper file's ctime): unknown.
        assert!(!known.contains(&id(7, 999)));
        let other_dev = Identity {
            dev: (0, 43),
            ..id(7, 100)
        };
        assert!(!known.contains(&other_dev));
    }

    #[test]
    fn a_new_clock_watch_has_seen_no_step() {
        // Setting the clock here would disturb the machine: only the quiet
        // side is checked (tests/guard.rs cannot step the clock either).
        let watch = ClockWatch::new().unwrap();
        assert!(!watch.was_set());
        assert!(!watch.was_set());
    }

    #[test]
    fn memory_is_bounded() {
        let mut known = KnownImageFiles::default();
        for ino in 0..(MAX_KNOWN as u64 + 10) {
            known.remember(id(ino, 1), at(1_000));
            assert!(known.len() <= MAX_KNOWN);
        }
        assert!(!known.is_empty());
    }
}
