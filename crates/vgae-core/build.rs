//! With the `cuda` feature, compiles the `kernels/*.cu` files (graph ops, the fused dense loss, the VAE
//! step's passes, the optimiser updates) to PTX with nvcc (which Candle's own CUDA build needs too). PTX for
//! compute capability 7.5 is JIT-compiled by the driver for any newer GPU.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_CUDA").is_none() {
        return;
    }
    println!("cargo:rerun-if-env-changed=NVCC");
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let nvcc = std::env::var("NVCC").unwrap_or_else(|_| "nvcc".into());
    for name in ["graph", "all_pairs_softplus", "vae_step", "optim_update"] {
        let src = format!("kernels/{name}.cu");
        println!("cargo:rerun-if-changed={src}");
        let status = std::process::Command::new(&nvcc)
            .args(["--ptx", "-O3", "-arch=compute_75", &src, "-o"])
            .arg(out.join(format!("{name}.ptx")))
            .status()
            .unwrap_or_else(|e| panic!("the cuda feature needs nvcc ({nvcc}): {e}"));
        assert!(status.success(), "nvcc failed on {src}");
    }
}
