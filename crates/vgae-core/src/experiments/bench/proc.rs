//! What the machine and this process report about themselves: peak resident memory (`/proc/self/status`)
//! and the CPU model (`/proc/cpuinfo`). Both are `None` / "unknown" off Linux.

/// Peak resident set size of this process in MB (Linux: `VmHWM` of `/proc/self/status`).
pub fn peak_rss_mb() -> Option<f64> {
    parse_vmhwm_mb(&std::fs::read_to_string("/proc/self/status").ok()?)
}

/// The `VmHWM:` line of a `/proc/<pid>/status` text (in kB), in MB.
pub fn parse_vmhwm_mb(status: &str) -> Option<f64> {
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

/// The first `model name` of a `/proc/cpuinfo` text, followed by its CPU family and model numbers where
/// given: virtual machines often report only "AMD EPYC", which names neither Zen 3 (family 25, model 1,
/// AVX2) nor Zen 4 (family 25, model 17, AVX-512).
pub fn parse_cpu_model(cpuinfo: &str) -> Option<String> {
    // The first processor's block: every key is repeated per logical CPU.
    let first = cpuinfo.split("\n\n").next().unwrap_or("");
    let field = |key: &str| {
        first
            .lines()
            .find(|l| l.split(':').next().map(str::trim) == Some(key))
            .map(|l| l.split_once(':').map_or("", |(_, v)| v).trim().to_string())
    };
    let name = field("model name")?;
    Some(match (field("cpu family"), field("model")) {
        (Some(f), Some(m)) if !f.is_empty() && !m.is_empty() => {
            format!("{name} (family {f}, model {m})")
        }
        _ => name,
    })
}

/// `"<CPU model>, <N> threads"`, the benchmark tables' machine line.
pub fn machine() -> String {
    let cpu = cpu_model();
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    format!(
        "{cpu}, {threads} threads, SIMD path {}",
        crate::simd::SimdPath::selected().name()
    )
}

/// The CPU's model name from `/proc/cpuinfo`, or "unknown CPU".
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| parse_cpu_model(&s))
        .unwrap_or_else(|| "unknown CPU".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "Name:\tvgae\nUmask:\t0022\nState:\tR (running)\nVmPeak:\t 1234567 kB\n\
                          VmSize:\t 1200000 kB\nVmHWM:\t  131072 kB\nVmRSS:\t  100000 kB\nThreads:\t3\n";

    #[test]
    fn vmhwm_is_read_in_mb() {
        assert_eq!(parse_vmhwm_mb(STATUS), Some(128.0));
        // VmPeak / VmRSS are not the peak RSS.
        assert_eq!(
            parse_vmhwm_mb("VmPeak:\t 2048 kB\nVmRSS:\t 1024 kB\n"),
            None
        );
        assert_eq!(parse_vmhwm_mb("VmHWM:\t garbage kB\n"), None);
        assert_eq!(parse_vmhwm_mb(""), None);
    }

    #[test]
    fn cpu_model_is_the_first_model_name() {
        let info = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 9R14 96-Core Processor\n\
                    processor\t: 1\nmodel name\t: other\n";
        assert_eq!(
            parse_cpu_model(info).as_deref(),
            Some("AMD EPYC 9R14 96-Core Processor")
        );
        assert_eq!(parse_cpu_model("processor\t: 0\n"), None);
    }

    #[test]
    fn cpu_model_names_family_and_model() {
        // The head of this VM's /proc/cpuinfo (2 processors; `model` must not match `model name`).
        let info = "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 1\n\
                    model name\t: AMD EPYC\nstepping\t: 1\n\nprocessor\t: 1\nvendor_id\t: AuthenticAMD\n\
                    cpu family\t: 26\nmodel\t\t: 2\nmodel name\t: AMD EPYC\n";
        assert_eq!(
            parse_cpu_model(info).as_deref(),
            Some("AMD EPYC (family 25, model 1)")
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_has_a_peak_rss() {
        assert!(peak_rss_mb().is_some_and(|mb| mb > 0.0));
    }
}
