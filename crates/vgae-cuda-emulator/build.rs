//! Compiles the kernels of `crates/vgae-core/kernels/*.cu` as C++ on top of `cpp/cuda_emulation.h` (no
//! multiply-add contraction, so the `_rn` intrinsics keep their meaning).
fn main() {
    println!("cargo:rerun-if-changed=cpp");
    println!("cargo:rerun-if-changed=../vgae-core/kernels");
    cc::Build::new()
        .cpp(true)
        .file("cpp/emulator.cpp")
        .flag("-std=c++17")
        .flag("-ffp-contract=off")
        .flag_if_supported("-Wno-unknown-pragmas")
        .opt_level(2)
        .compile("vgae_cuda_emulator");
}
