//! A progress bar on stderr for long scans, only when stderr is a terminal.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Inputs below these sizes finish before a bar would be useful.
const MIN_FILES: usize = 200;
const MIN_BYTES: u64 = 32 * 1024 * 1024;

/// A bar over `total` files, or a hidden one. `bytes` (the inputs' size)
/// is asked only when a bar could be shown and there are few files: it may
/// stat every file.
pub fn files(total: usize, bytes: impl FnOnce() -> u64, enabled: bool) -> ProgressBar {
    let show =
        enabled && std::io::stderr().is_terminal() && (total >= MIN_FILES || bytes() >= MIN_BYTES);
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

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[test]
    fn sizes_are_not_asked_when_no_bar_can_show() {
        let asked = Cell::new(false);
        let bytes = || {
            asked.set(true);
            MIN_BYTES
        };
        assert!(files(3, bytes, false).is_hidden());
        assert!(!asked.get(), "a disabled bar must not stat the inputs");
    }
}
