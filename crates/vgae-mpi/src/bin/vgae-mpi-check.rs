//! A small data-parallel mini-batch run for the MPI tests, started by `mpirun -np N`: trains GAE* on a
//! seeded SBM graph and writes, per rank, the final state (W₀, the dense weights, the epoch losses) as raw
//! little-endian f32 to `OUT.rank<r>`.
//!
//! `vgae-mpi-check OUT NODES EPOCHS BATCH FANOUT HISTORY(0|1) [DIE_AT]`: with DIE_AT, rank 1 aborts after
//! that many batches.

use vgae_core::graph::minibatch::{MiniBatchConfig, MiniBatchTrainer};
use vgae_core::rng::RunRng;
use vgae_data::synth::{sbm, SbmConfig};
use vgae_data::EdgeSplit;
use vgae_mpi::MpiWorld;

fn main() -> vgae_core::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize| -> usize {
        args.get(i)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("usage: OUT NODES EPOCHS BATCH FANOUT HISTORY [DIE_AT]"))
    };
    let (nodes, epochs, batch, fanout, history) = (num(1), num(2), num(3), num(4), num(5) == 1);
    let die_at = args.get(6).map(|_| num(6));
    let world = MpiWorld::init()?;
    let rank = vgae_core::collective::Collective::rank(&world);
    let g = sbm(
        &SbmConfig {
            nodes,
            degree: 8.0,
            blocks: 4,
            p_in: 0.9,
        },
        &mut RunRng::new(3).0,
    );
    let split = EdgeSplit::new(&g, &Default::default(), 3, &mut RunRng::stream(3, 0).0)?;
    let fanouts = match history {
        true => vec![fanout, 0],
        false => vec![fanout, fanout],
    };
    let cfg = MiniBatchConfig {
        history,
        eval_every: 0,
        ..MiniBatchConfig::paper(batch, fanouts, epochs)
    };
    let mut t = MiniBatchTrainer::new(nodes, split, cfg, RunRng::stream(1, 1))?
        .with_collective(Box::new(world));
    let mut batches = 0;
    let mut stop = |_: &MiniBatchTrainer| {
        batches += 1;
        if rank == 1 && Some(batches) == die_at {
            std::process::abort();
        }
        Ok(false)
    };
    t.train(&mut stop, &mut |_, _| Ok(()))?;
    let mut out: Vec<f32> = t.table.w.clone();
    out.extend(t.dense_weights()?);
    out.extend(t.records.iter().map(|r| r.loss as f32));
    let bytes: Vec<u8> = out.iter().flat_map(|x| x.to_le_bytes()).collect();
    std::fs::write(format!("{}.rank{rank}", args[0]), bytes)
        .map_err(|e| vgae_core::Error::msg(e.to_string()))?;
    Ok(())
}
