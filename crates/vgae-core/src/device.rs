//! Device selection: CUDA, then Metal, then CPU, with a one-line notice saying what was chosen and why.

use crate::{Error, Result};
use candle_core::Device;
use std::str::FromStr;

/// Which device to run on, as given by `--device`; parses from and prints as `auto`, `cpu`, `cuda`, `cuda:N`
/// or `metal`. Passed to [`select`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceChoice {
    /// CUDA device 0 if built with `cuda` and one is present, else Metal likewise, else the CPU.
    #[default]
    Auto,
    /// The CPU; the only choice on which runs are repeatable bit for bit.
    Cpu,
    /// The CUDA device with this ordinal; an error if unavailable or built without the `cuda` feature.
    Cuda(usize),
    /// The first Metal device; an error if unavailable or built without the `metal` feature.
    Metal,
}

impl FromStr for DeviceChoice {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "auto" => Ok(DeviceChoice::Auto),
            "cpu" => Ok(DeviceChoice::Cpu),
            "cuda" => Ok(DeviceChoice::Cuda(0)),
            "metal" => Ok(DeviceChoice::Metal),
            _ => match s.strip_prefix("cuda:").map(str::parse::<usize>) {
                Some(Ok(i)) => Ok(DeviceChoice::Cuda(i)),
                _ => Err(format!(
                    "unknown device '{s}': expected auto, cpu, cuda, cuda:N or metal"
                )),
            },
        }
    }
}

impl std::fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeviceChoice::Auto => write!(f, "auto"),
            DeviceChoice::Cpu => write!(f, "cpu"),
            DeviceChoice::Cuda(i) => write!(f, "cuda:{i}"),
            DeviceChoice::Metal => write!(f, "metal"),
        }
    }
}

/// Returns the device and a one-line notice saying what was chosen and why.
pub fn select(choice: DeviceChoice) -> Result<(Device, String)> {
    match choice {
        DeviceChoice::Cpu => Ok((Device::Cpu, "device: cpu (asked for)".into())),
        DeviceChoice::Cuda(i) => {
            if !cfg!(feature = "cuda") {
                return Err(Error::msg(format!(
                    "--device cuda:{i}: this binary was built without the cuda feature (cargo build --release --features cuda)"
                )));
            }
            let d = Device::new_cuda(i).map_err(|e| {
                Error::msg(format!("--device cuda:{i}: no usable CUDA device {i}: {e}"))
            })?;
            Ok((d, format!("device: cuda:{i} (asked for)")))
        }
        DeviceChoice::Metal => {
            if !cfg!(feature = "metal") {
                return Err(Error::msg(
                    "--device metal: this binary was built without the metal feature",
                ));
            }
            let d = Device::new_metal(0)
                .map_err(|e| Error::msg(format!("--device metal: no usable Metal device: {e}")))?;
            Ok((d, "device: metal (asked for)".into()))
        }
        DeviceChoice::Auto => {
            let cuda_why = if !cfg!(feature = "cuda") {
                "built without the cuda feature".to_string()
            } else {
                match Device::new_cuda(0) {
                    Ok(d) => return Ok((d, "device: cuda:0 (auto: CUDA device found)".into())),
                    Err(e) => format!("no CUDA device found ({})", first_line(&e.to_string())),
                }
            };
            let metal_why = if !cfg!(feature = "metal") {
                "built without the metal feature".to_string()
            } else {
                match Device::new_metal(0) {
                    Ok(d) => return Ok((d, format!("device: metal (auto; CUDA: {cuda_why})"))),
                    Err(e) => format!("no Metal device found ({})", first_line(&e.to_string())),
                }
            };
            Ok((
                Device::Cpu,
                format!("device: cpu (auto; CUDA: {cuda_why}; Metal: {metal_why})"),
            ))
        }
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}
