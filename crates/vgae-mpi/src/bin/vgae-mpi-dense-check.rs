//! A small full-batch run with the exact dense loss split over the ranks, for the MPI tests: trains VGAE*
//! (X = I) on a seeded SBM graph and writes, per rank, the final embedding, the epoch losses and the
//! validation AUCs as raw little-endian f32 to `OUT.rank<r>`, and the mean seconds per step to stdout.
//!
//! `vgae-mpi-dense-check OUT NODES EPOCHS`

use candle_core::Device;
use std::sync::Arc;
use vgae_core::collective::Collective;
use vgae_core::graph::{
    FitConfig, GcnConfig, GcnEncoder, InnerProduct, LinkTrainer, LossKind,
    VariationalGraphAutoencoder,
};
use vgae_core::{optim::Adam, params::ParamStore, rng::RunRng};
use vgae_data::synth::{sbm, SbmConfig};
use vgae_data::EdgeSplit;
use vgae_mpi::MpiWorld;

fn main() -> vgae_core::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize| -> usize {
        args.get(i)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("usage: OUT NODES EPOCHS"))
    };
    let (nodes, epochs) = (num(1), num(2));
    let world: Arc<dyn Collective + Send + Sync> = Arc::new(MpiWorld::init()?);
    let rank = world.rank();
    let cfg = SbmConfig {
        nodes,
        degree: 8.0,
        blocks: 4,
        p_in: 0.9,
    };
    let graph = sbm(&cfg, &mut RunRng::new(3).0);
    let split = EdgeSplit::new(&graph, &Default::default(), 3, &mut RunRng::stream(3, 0).0)?;
    let store = ParamStore::new(RunRng::stream(1, 1));
    let encoder = GcnEncoder::new(
        store.var_builder(&Device::Cpu).pp("encoder"),
        GcnConfig::paper(&graph, false, true),
    )?;
    let model = VariationalGraphAutoencoder::new(encoder, InnerProduct);
    let fit = FitConfig {
        epochs,
        loss: LossKind::Dense,
        ..FitConfig::default()
    };
    let optimizer = Adam::new(store.params(), 0.01)?;
    let mut t = LinkTrainer::new(model, optimizer, store.rng(), &graph, split, fit)?
        .with_collective(world.clone())?;
    let mut out = Vec::new();
    for _ in 0..epochs {
        let r = t.step()?;
        out.extend([r.loss as f32, r.val_auc as f32]);
    }
    let seconds: f64 = t.records.iter().map(|r| r.seconds).sum::<f64>() / epochs.max(1) as f64;
    println!("rank {rank}: {seconds:.6} s per step");
    out.extend(t.embed()?.flatten_all()?.to_vec1::<f32>()?);
    let bytes: Vec<u8> = out.iter().flat_map(|x| x.to_le_bytes()).collect();
    std::fs::write(format!("{}.rank{rank}", args[0]), bytes)
        .map_err(|e| vgae_core::Error::msg(e.to_string()))?;
    world.barrier()
}
