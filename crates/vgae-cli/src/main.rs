//! `vgae`: variational autoencoders on graphs (GAE / VGAE) and images (VAE), built on Candle.

mod bench_cmd;
mod ckpt_cmd;
mod data_cmd;
mod experiment_cmd;
mod globals;
mod hub_cmd;
mod minibatch_cmd;
mod ranks;
mod reproduce_cmd;
mod split_cmd;
mod tasks_cmd;
mod train_cmd;
mod vae_cmd;

use clap::{Parser, Subcommand};
use globals::Globals;

#[derive(Parser)]
#[command(
    name = "vgae",
    version,
    about = "Variational graph autoencoders (Kipf & Welling 2016) and VAEs (Kingma & Welling 2014) on Candle"
)]
struct Cli {
    #[command(flatten)]
    globals: Globals,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Inspect and download datasets.
    #[command(subcommand)]
    Data(data_cmd::DataCommand),
    /// Make and audit link-prediction edge splits.
    #[command(subcommand)]
    Split(split_cmd::SplitCommand),
    /// Train GAE / VGAE on a graph and report validation / test AUC and AP.
    Train(train_cmd::TrainArgs),
    /// Reproduce the paper's tables over several seeds.
    #[command(subcommand)]
    Reproduce(reproduce_cmd::ReproduceCommand),
    /// Node clustering, node classification and link ranking (Hits@K, MRR) for GAE / VGAE over seeds.
    Tasks(tasks_cmd::TasksArgs),
    /// Experiment grids from a TOML file: resumable, one run directory per cell, tables of mean ± std.
    #[command(subcommand)]
    Experiment(experiment_cmd::ExperimentCommand),
    /// GAE* on edge mini-batches over neighbour-sampled receptive fields (graphs past full-batch memory).
    Minibatch(minibatch_cmd::MiniBatchArgs),
    /// Continue a run from its latest checkpoint (bit-identical to an uninterrupted run on CPU).
    Resume(ckpt_cmd::ResumeArgs),
    /// Recompute AUC / AP (graph) or test -ELBO (VAE) from a checkpoint alone.
    Eval(ckpt_cmd::EvalArgs),
    /// Write node embeddings (mu) of a graph checkpoint to .safetensors, .npy or .csv.
    Embed(ckpt_cmd::EmbedArgs),
    /// Link probabilities from a graph checkpoint for pairs of node ids (the ids of the edge list).
    Score(ckpt_cmd::score::ScoreArgs),
    /// Benchmarks: epoch time and peak memory on Planetoid, and scaling on synthetic graphs.
    #[command(subcommand)]
    Bench(bench_cmd::BenchCommand),
    /// Train and evaluate VAEs on images (MNIST, Fashion-MNIST, Frey Face).
    #[command(subcommand)]
    Vae(vae_cmd::VaeCommand),
    /// Draw samples from a trained VAE checkpoint into a PNG grid.
    Sample(vae_cmd::SampleArgs),
    /// Share trained models on the Hugging Face hub (`hf://OWNER/NAME` then loads them anywhere).
    #[command(subcommand)]
    Hub(hub_cmd::HubCommand),
}

/// Restores the default SIGPIPE action, so that `vgae ... | head -1` ends quietly when the reader goes away
/// (Rust ignores SIGPIPE, and `println!` then panics on EPIPE). libc's `signal` is always linked on Unix.
#[cfg(unix)]
fn default_sigpipe() {
    extern "C" {
        fn signal(signum: i32, handler: usize) -> usize;
    }
    const SIGPIPE: i32 = 13; // Linux, macOS and the BSDs
    const SIG_DFL: usize = 0;
    // SAFETY: called first thing in main, before any thread exists; SIG_DFL is a valid disposition.
    unsafe {
        signal(SIGPIPE, SIG_DFL);
    }
}

#[cfg(not(unix))]
fn default_sigpipe() {}

/// glibc serves allocations over 32 MB with fresh `mmap`s and unmaps them on free, so on large graphs every
/// epoch page-faults its [N, 32] buffers in again (~12 % of an epoch at 10⁶ nodes). Keep freed memory in the
/// heap for reuse instead; peak memory is unchanged.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keep_freed_memory() {
    extern "C" {
        fn mallopt(param: i32, value: i32) -> i32;
    }
    const M_TRIM_THRESHOLD: i32 = -1;
    const M_MMAP_MAX: i32 = -4;
    // SAFETY: called first thing in main, before any thread or allocation that depends on these settings.
    unsafe {
        mallopt(M_MMAP_MAX, 0);
        mallopt(M_TRIM_THRESHOLD, i32::MAX);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn keep_freed_memory() {}

/// SIGINT / SIGTERM: the first asks the epoch loops to finish the epoch, checkpoint and stop (exit 130); a
/// second exits at once with 130 (files are written through temporary names, so none is left half-written).
#[cfg(unix)]
fn stop_on_signals() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let flag = vgae_core::run_loop::stop_flag();
    for sig in [SIGINT, SIGTERM] {
        // Registered first, so it sees the flag as the previous signal left it.
        let _ = signal_hook::flag::register_conditional_shutdown(sig, 130, flag.clone());
        let _ = signal_hook::flag::register(sig, flag.clone());
    }
}

#[cfg(not(unix))]
fn stop_on_signals() {}

/// 130 (as after SIGINT) for a run stopped by a signal, 1 for every other error.
fn exit_code(e: &anyhow::Error) -> i32 {
    let interrupted = e.chain().any(|c| {
        matches!(
            c.downcast_ref::<vgae_core::Error>(),
            Some(vgae_core::Error::Interrupted { .. })
        )
    });
    if interrupted {
        130
    } else {
        1
    }
}

fn main() {
    default_sigpipe();
    stop_on_signals();
    keep_freed_memory();
    // Candle's element-wise pool busy-waits; on a small shared CPU one thread is several times faster, and
    // matmuls and our own kernels keep the rayon pool. An explicit setting wins.
    if std::env::var_os("CANDLE_NUM_THREADS").is_none() {
        std::env::set_var("CANDLE_NUM_THREADS", "1");
    }
    let cli = Cli::parse();
    // Without RAYON_NUM_THREADS, Candle re-reads /proc/cpuinfo on every matmul to count cores (1–2% of a Cora
    // epoch): pin it once, to --threads when given.
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        let n = cli
            .globals
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        std::env::set_var("RAYON_NUM_THREADS", n.to_string());
    }
    // The main thread joins the pool as worker 0, so its parallel loops start in place instead of handing
    // off to a sleeping worker and waiting (two context switches per loop: a sixth of a Cora epoch at
    // --threads 1). 0 threads means RAYON_NUM_THREADS.
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(cli.globals.threads.unwrap_or(0))
        .use_current_thread()
        .build_global();
    let result = match cli.command {
        Command::Data(c) => data_cmd::run(c, &cli.globals),
        Command::Split(c) => split_cmd::run(c, &cli.globals),
        Command::Train(a) => train_cmd::run(a, &cli.globals),
        Command::Minibatch(a) => minibatch_cmd::run_cmd(a, &cli.globals),
        Command::Reproduce(c) => reproduce_cmd::run(c, &cli.globals),
        Command::Tasks(a) => tasks_cmd::run(a, &cli.globals),
        Command::Experiment(c) => experiment_cmd::run(c, &cli.globals),
        Command::Resume(a) => ckpt_cmd::resume(a, &cli.globals),
        Command::Eval(a) => ckpt_cmd::eval(a, &cli.globals),
        Command::Embed(a) => ckpt_cmd::embed(a, &cli.globals),
        Command::Score(a) => ckpt_cmd::score::run(a, &cli.globals),
        Command::Bench(c) => bench_cmd::run(c, &cli.globals),
        Command::Vae(c) => vae_cmd::run(c, &cli.globals),
        Command::Sample(a) => vae_cmd::sample(a, &cli.globals),
        Command::Hub(c) => hub_cmd::run(c, &cli.globals),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(exit_code(&e));
    }
}
