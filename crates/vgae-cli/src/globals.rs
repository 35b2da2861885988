use clap::Args;
use std::path::PathBuf;
use vgae_core::device::DeviceChoice;
use vgae_data::source::DataSource;

/// Options every command takes.
#[derive(Args, Clone, Debug)]
pub struct Globals {
    /// Where to compute: auto (CUDA, then Metal, then CPU), cpu, cuda, cuda:N or metal.
    #[arg(long, global = true, default_value = "auto")]
    pub device: DeviceChoice,
    /// Directory holding the datasets (default: $VGAE_DATA_DIR, then the hub cache, then embedded Cora).
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// Worker threads for CPU kernels (default: all cores).
    #[arg(long, global = true)]
    pub threads: Option<usize>,
    /// No progress, device line or notes on stderr (warnings and errors still print).
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

impl Globals {
    pub fn source(&self) -> DataSource {
        DataSource::new(self.data_dir.clone())
    }

    /// Picks the device and prints a short notice on stderr, once per process (not with `--quiet`).
    pub fn device(&self) -> anyhow::Result<candle_core::Device> {
        static SHOWN: std::sync::Once = std::sync::Once::new();
        let (d, notice) = vgae_core::device::select(self.device)?;
        if !self.quiet {
            SHOWN.call_once(|| eprintln!("{}", short_notice(&notice)));
        }
        Ok(d)
    }

    /// Prints `note: {msg}` on stderr unless `--quiet`.
    pub fn note(&self, msg: &str) {
        if !self.quiet {
            eprintln!("note: {msg}");
        }
    }
}

/// The device notice without the reasons that only say what this binary was built without: `device: cpu`
/// for an auto choice in a CPU-only build, `device: cpu (auto; CUDA: no CUDA device found (...))` where a
/// GPU backend was built but found nothing.
pub fn short_notice(notice: &str) -> String {
    let Some((head, rest)) = notice.split_once(" (auto; ") else {
        return notice.to_string();
    };
    let reasons: Vec<&str> = rest
        .strip_suffix(')')
        .unwrap_or(rest)
        .split("; ")
        .filter(|r| !r.contains("built without"))
        .collect();
    if reasons.is_empty() {
        head.to_string()
    } else {
        let mut s = format!("{head} (auto; {})", reasons.join("; "));
        if s.chars().count() > 100 {
            s = s.chars().take(97).collect::<String>() + "...";
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::short_notice;

    #[test]
    fn device_notice_is_short() {
        let n = "device: cpu (auto; CUDA: built without the cuda feature; Metal: built without the metal feature)";
        assert_eq!(short_notice(n), "device: cpu");
        assert_eq!(
            short_notice("device: cpu (asked for)"),
            "device: cpu (asked for)"
        );
        let n = "device: cpu (auto; CUDA: no CUDA device found (x); Metal: built without the metal feature)";
        assert_eq!(
            short_notice(n),
            "device: cpu (auto; CUDA: no CUDA device found (x))"
        );
    }
}
