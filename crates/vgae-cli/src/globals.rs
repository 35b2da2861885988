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
}

impl Globals {
    pub fn source(&self) -> DataSource {
        DataSource::new(self.data_dir.clone())
    }

    /// Picks the device and prints the one-line notice on stderr.
    pub fn device(&self) -> anyhow::Result<candle_core::Device> {
        let (d, notice) = vgae_core::device::select(self.device)?;
        eprintln!("{notice}");
        Ok(d)
    }
}
