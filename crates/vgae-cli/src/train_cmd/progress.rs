//! Progress of a graph run on stderr: an indicatif bar on a terminal, otherwise one line every N epochs
//! (logs, CI, pipes); nothing with `--quiet` or `--json`.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::Instant;
use vgae_core::graph::EpochRecord;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Nothing.
    Silent,
    /// An indicatif bar, cleared at the end.
    Bar,
    /// A line every this many epochs, and at the last.
    Lines(usize),
}

/// The mode for a run of `epochs` epochs: silent when asked, a bar on a terminal, else lines every `every`
/// epochs (0: about ten lines per run).
pub fn mode(silent: bool, epochs: usize, every: usize) -> Mode {
    if silent {
        Mode::Silent
    } else if std::io::stderr().is_terminal() {
        Mode::Bar
    } else {
        Mode::Lines(if every > 0 {
            every
        } else {
            epochs.div_ceil(10).max(1)
        })
    }
}

/// Reports the epochs of one run, from `start` (epochs already done) to `end`.
pub struct Progress {
    mode: Mode,
    bar: Option<ProgressBar>,
    prefix: String,
    end: usize,
    t0: Instant,
    done: usize,
}

impl Progress {
    pub fn new(mode: Mode, prefix: String, start: usize, end: usize) -> Self {
        let bar = (mode == Mode::Bar).then(|| {
            let pb = ProgressBar::new(end.saturating_sub(start) as u64);
            if let Ok(style) = ProgressStyle::with_template(
                "{prefix} [{bar:30}] {pos}/{len} {msg} ({elapsed}, eta {eta})",
            ) {
                pb.set_style(style.progress_chars("=> "));
            }
            pb.set_prefix(prefix.clone());
            pb
        });
        Progress {
            mode,
            bar,
            prefix,
            end,
            t0: Instant::now(),
            done: 0,
        }
    }

    /// One finished epoch.
    pub fn epoch(&mut self, r: &EpochRecord) {
        self.done += 1;
        let msg = format!(
            "loss {:.4} val AUC {:.4} AP {:.4}",
            r.loss, r.val_auc, r.val_ap
        );
        match self.mode {
            Mode::Silent => {}
            Mode::Bar => {
                if let Some(pb) = &self.bar {
                    pb.set_message(msg);
                    pb.inc(1);
                }
            }
            Mode::Lines(every) => {
                if r.epoch.is_multiple_of(every) || r.epoch >= self.end {
                    let per = self.t0.elapsed().as_secs_f64() / self.done as f64;
                    eprintln!(
                        "{} epoch {:>w$}/{}: {msg} ({})",
                        self.prefix,
                        r.epoch,
                        self.end,
                        per_epoch(per),
                        w = self.end.to_string().len()
                    );
                }
            }
        }
    }

    /// Clears the bar.
    pub fn finish(self) {
        if let Some(pb) = self.bar {
            pb.finish_and_clear();
        }
    }
}

/// Seconds per epoch with enough digits to be non-zero: `0.0061 s/epoch`, `12.3 s/epoch`, `45 µs/epoch`.
pub fn per_epoch(s: f64) -> String {
    if s >= 10.0 {
        format!("{s:.1} s/epoch")
    } else if s >= 0.001 {
        format!("{s:.4} s/epoch")
    } else {
        format!("{:.0} µs/epoch", s * 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_every_tenth_by_default() {
        assert_eq!(mode(true, 200, 0), Mode::Silent);
        // Tests run without a terminal on stderr.
        if !std::io::stderr().is_terminal() {
            assert_eq!(mode(false, 200, 0), Mode::Lines(20));
            assert_eq!(mode(false, 3, 0), Mode::Lines(1));
            assert_eq!(mode(false, 200, 7), Mode::Lines(7));
        }
        assert_eq!(per_epoch(0.0061), "0.0061 s/epoch");
        assert_eq!(per_epoch(0.00004), "40 µs/epoch");
    }
}
