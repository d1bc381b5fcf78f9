//! A progress bar on stderr for long scans, only when stderr is a terminal.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Inputs below these sizes finish before a bar would be useful.
const MIN_FILES: usize = 200;
const MIN_BYTES: u64 = 32 * 1024 * 1024;

/// A bar over `total` files, or a hidden one.
pub fn files(total: usize, bytes: u64, enabled: bool) -> ProgressBar {
    let show =
        enabled && std::io::stderr().is_terminal() && (total >= MIN_FILES || bytes >= MIN_BYTES);
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} scanning {pos}/{len} files [{bar:30}] {elapsed}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}
