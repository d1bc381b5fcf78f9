//! The control for bench/guard.sh: a fanotify group with the guard's
//! flags and marks that answers every exec permission event "allow" at
//! once, with no lookup and no output. What it adds to an exec is the
//! kernel's own cost of asking user space (the event, its descriptor, two
//! wake-ups), which no decision logic can go below.
//!
//! usage: allow_all MOUNT   (root; runs until killed; prints "ready")

use std::os::fd::AsFd;
use std::process::ExitCode;

use palisade_guard::fanotify::{self, Fanotify};
use rustix::event::{PollFd, PollFlags};
use rustix::fs::{Mode, OFlags};

fn main() -> ExitCode {
    let Some(mount) = std::env::args().nth(1) else {
        eprintln!("usage: allow_all MOUNT");
        return ExitCode::from(2);
    };
    let fan = match Fanotify::init() {
        Ok(fan) => fan,
        Err(e) => {
            eprintln!("fanotify_init: {e:?}");
            return ExitCode::FAILURE;
        }
    };
    let dir = match rustix::fs::open(
        mount.as_str(),
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(dir) => dir,
        Err(e) => {
            eprintln!("{mount}: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = fan.mark_filesystem(libc::FAN_OPEN_EXEC_PERM, dir.as_fd()) {
        eprintln!("fanotify_mark {mount}: {e}");
        return ExitCode::FAILURE;
    }
    println!("ready");
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let mut fds = [PollFd::new(&fan, PollFlags::IN)];
        if let Err(e) = rustix::event::poll(&mut fds, None)
            && e != rustix::io::Errno::INTR
        {
            eprintln!("poll: {e}");
            return ExitCode::FAILURE;
        }
        loop {
            let n = match fan.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    eprintln!("read: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let (events, error) = fanotify::decode(buf.get(..n).unwrap_or_default());
            for event in events {
                if let Some(fd) = event.fd {
                    let _ = fan.respond(fd.as_fd(), true);
                }
            }
            if let Some(e) = error {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        }
    }
}
