//! Ctrl-C (or SIGTERM) during an image scan: the staging directory, in
//! /dev/shm when it has room, would stay behind (an exit by signal runs no
//! destructor). A thread watches for the signals, removes the directories
//! of scans in progress and exits as the signal would have (130, 143).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::Duration;

use palisade_sca::source::staging;
use signal_hook::consts::{SIGINT, SIGTERM};

/// The exit code of the signal received (0: none).
static CODE: AtomicI32 = AtomicI32::new(0);

/// The exit code to end with when a signal stopped the command.
pub fn exit_code() -> Option<u8> {
    u8::try_from(CODE.load(Ordering::Relaxed))
        .ok()
        .filter(|c| *c != 0)
}

pub fn remove_staging_on_signals() {
    let interrupted = Arc::new(AtomicBool::new(false));
    let terminated = Arc::new(AtomicBool::new(false));
    let (int, term) = (Arc::clone(&interrupted), Arc::clone(&terminated));
    let watcher = std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            loop {
                std::thread::sleep(Duration::from_millis(50));
                let code = if int.load(Ordering::Relaxed) {
                    130
                } else if term.load(Ordering::Relaxed) {
                    143
                } else {
                    continue;
                };
                // Image scans stop writing and clean up as they unwind;
                // what is left after a while (a scan past its layers, in
                // the catalogue pass, writes nothing) is removed here.
                CODE.store(code, Ordering::Relaxed);
                staging::cancel();
                for _ in 0..40 {
                    if staging::is_empty() {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                staging::remove_all();
                std::process::exit(code);
            }
        });
    // Only with the watcher running: a handler with nobody acting on it
    // would make the signals do nothing.
    if watcher.is_ok() {
        let _ = signal_hook::flag::register(SIGINT, interrupted);
        let _ = signal_hook::flag::register(SIGTERM, terminated);
    }
}
