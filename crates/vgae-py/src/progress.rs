//! The progress bar a fit shows when asked (`progress=True`): one bar over the epochs, on stderr.

use indicatif::{ProgressBar, ProgressStyle};

/// A bar of `len` steps labelled `prefix`, or a hidden one.
pub fn bar(len: u64, prefix: String, shown: bool) -> ProgressBar {
    if !shown {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len).with_prefix(prefix);
    if let Ok(style) = ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}") {
        pb.set_style(style.progress_chars("=> "));
    }
    pb
}
