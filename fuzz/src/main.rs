//! One AFL++ binary for every fuzz target; `VGAE_FUZZ_TARGET` picks one (`vgae_core::fuzz_targets::targets`).
//! `vgae-fuzz seeds DIR` writes the synthetic MAT seeds (plain and compressed) that `scripts/fuzz.sh` adds
//! to the real files.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("seeds") {
        let dir = std::path::Path::new(args.get(2).expect("vgae-fuzz seeds DIR"));
        std::fs::create_dir_all(dir).expect("creating the seed folder");
        // Three 28 x 20 "faces", as frey_rawface.mat holds them (560 x n, uint8).
        let px: Vec<f64> = (0..560 * 3).map(|i| (i * 37 % 256) as f64).collect();
        for (name, compress) in [("frey-plain.mat", false), ("frey-zlib.mat", true)] {
            let bytes = vgae_data::mat::write(&[("ff", 9, &[560, 3], &px)], compress);
            std::fs::write(dir.join(name), bytes).expect("writing a seed");
        }
        return;
    }
    let target = std::env::var("VGAE_FUZZ_TARGET").unwrap_or_default();
    if vgae_core::fuzz_targets::run(&target, b"").is_none() {
        eprintln!(
            "VGAE_FUZZ_TARGET={target:?}: expected one of {:?}",
            vgae_core::fuzz_targets::targets()
        );
        std::process::exit(2);
    }
    afl::fuzz!(|data: &[u8]| {
        let _ = vgae_core::fuzz_targets::run(&target, data);
    });
}
