//! The evaluation protocols of one trained model, each on μ:
//!
//! - **clustering** (the ARGA paper's protocol): the model is trained on *every* edge of the graph (no held-out
//!   edges) and k-means with k = number of classes clusters the labelled nodes' μ;
//! - **classification**: a logistic-regression probe on the same μ, on the Planetoid public split;
//! - **ranking**: the model of the link-prediction split (Table 1's) scores its test edges; Hits@K ranks them
//!   against the shared test negatives, MRR ranks each against its own freshly drawn negatives.
//!
//! Training on the whole graph uses an [`EdgeSplit`] with validation and test fractions 0 (every edge is a
//! training edge; the audit accepts it) and calls [`crate::graph::LinkTrainer::train_epoch`] directly:
//! `fit` would evaluate an empty validation set every epoch. The draws are the same as `fit`'s, since
//! evaluation draws nothing.

use crate::graph::{GraphTrainConfig, GraphTrainer, InnerProduct};
use crate::rng::RunRng;
use crate::tasks::{
    hits_at_k, mrr, ClusteringScores, KMeans, KMeansConfig, MrrScores, Probe, ProbeConfig,
    ProbeScores,
};
use crate::{Error, Result};
use candle_core::{Device, Tensor};
use rand::Rng;
use serde::{Deserialize, Serialize};
use vgae_data::pairset::{pair_key, pair_set};
use vgae_data::planetoid_split::PublicSplit;
use vgae_data::{EdgeSplit, Graph, SplitConfig};

/// RNG stream of the MRR negatives (streams 0 and 1 are the split and training; an ARGA / ARGVA discriminator
/// also draws from a stream 2 generator of its own, an unrelated use).
pub const STREAM_RANKING: u64 = 2;
/// RNG stream of the k-means seedings.
pub const STREAM_KMEANS: u64 = 3;

/// A split that keeps every edge for training: no validation or test edges, no negatives.
pub fn whole_graph_split(graph: &Graph, seed: u64) -> Result<EdgeSplit> {
    let cfg = SplitConfig {
        val_frac: 0.0,
        test_frac: 0.0,
        ..SplitConfig::default()
    };
    Ok(EdgeSplit::new(
        graph,
        &cfg,
        seed,
        &mut RunRng::stream(seed, 0),
    )?)
}

/// Trains the model of `cfg` on every edge of `graph` for `cfg.epochs` epochs; `on_epoch(epoch, loss)` sees
/// each epoch. Returns the trainer (its `embed()` is μ of the whole graph) and the seconds spent training.
pub fn train_on_whole_graph(
    graph: &Graph,
    cfg: GraphTrainConfig,
    device: &Device,
    on_epoch: &mut dyn FnMut(usize, f64),
) -> Result<(GraphTrainer, f64)> {
    let split = whole_graph_split(graph, cfg.seed)?;
    let epochs = cfg.epochs;
    let mut trainer = GraphTrainer::new(cfg, graph, split, device)?;
    let t = std::time::Instant::now();
    for e in 1..=epochs {
        let loss = trainer.train_epoch()?;
        on_epoch(e, loss);
    }
    Ok((trainer, t.elapsed().as_secs_f64()))
}

/// An embedding `[n, d]` as row-major f64 and its width.
pub fn host_rows(z: &Tensor) -> Result<(Vec<f64>, usize)> {
    let d = z.dim(1)?;
    let v = z
        .to_dtype(candle_core::DType::F64)?
        .flatten_all()?
        .to_vec1::<f64>()?;
    Ok((v, d))
}

/// k-means (k = `graph.num_classes`) on the labelled nodes' rows of `z`, scored against their labels; the
/// seedings come from stream [`STREAM_KMEANS`] of `seed`.
pub fn cluster_nodes(
    z: &[f64],
    d: usize,
    graph: &Graph,
    cfg: &KMeansConfig,
    seed: u64,
) -> Result<ClusteringScores> {
    let labels = graph.labels.as_ref().ok_or_else(|| {
        Error::msg(format!(
            "clustering: dataset '{}' has no node labels",
            graph.name
        ))
    })?;
    let (mut x, mut truth) = (Vec::new(), Vec::new());
    for (i, l) in labels.iter().enumerate() {
        if let Some(l) = l {
            x.extend_from_slice(&z[i * d..(i + 1) * d]);
            truth.push(*l);
        }
    }
    let km = KMeans::new(&x, d, graph.num_classes)?;
    let res = km.fit(cfg, &mut RunRng::stream(seed, STREAM_KMEANS))?;
    ClusteringScores::new(&truth, &res.labels)
}

/// The logistic-regression probe on `z` over the public split.
pub fn classify_nodes(
    z: &[f64],
    d: usize,
    graph: &Graph,
    split: &PublicSplit,
    cfg: &ProbeConfig,
) -> Result<ProbeScores> {
    split.check(&graph.name, graph.num_nodes)?;
    let labels = graph.labels.as_ref().ok_or_else(|| {
        Error::msg(format!(
            "classification: dataset '{}' has no node labels",
            graph.name
        ))
    })?;
    Probe::new(z, d, labels)?.run(split, cfg)
}

/// How the ranking metrics are computed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankingConfig {
    /// The K of each Hits@K (test positives against the shared test negatives).
    pub hits: Vec<usize>,
    /// Negatives drawn for each test positive (u, v), as (u, w) with w uniform over the nodes that are not u
    /// and not a neighbour of u in the full graph, distinct within one list.
    pub mrr_negatives: usize,
}

impl Default for RankingConfig {
    fn default() -> Self {
        RankingConfig {
            hits: vec![20, 50, 100],
            mrr_negatives: 100,
        }
    }
}

/// Hits@K and MRR of one model's test edges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankingScores {
    /// (K, Hits@K) for each K asked for.
    pub hits: Vec<(usize, f64)>,
    /// MRR with OGB's Hits@1/3/10 lists.
    pub mrr: MrrScores,
}

/// For each of `pos` (u, v), `m` distinct corruptions (u, w), w not u nor a neighbour of u in `graph`.
pub fn corrupted_tails(
    graph: &Graph,
    pos: &[[u32; 2]],
    m: usize,
    rng: &mut RunRng,
) -> Result<Vec<[u32; 2]>> {
    let edges = pair_set(&graph.edges);
    let mut degree = vec![0usize; graph.num_nodes];
    for &[a, b] in &graph.edges {
        degree[a as usize] += 1;
        degree[b as usize] += 1;
    }
    let mut out = Vec::with_capacity(pos.len() * m);
    for &[u, _] in pos {
        if graph.num_nodes < degree[u as usize] + 1 + m {
            return Err(Error::msg(format!(
                "MRR: node {u} has only {} non-neighbours, fewer than the {m} negatives asked for",
                graph.num_nodes - degree[u as usize] - 1
            )));
        }
        let mut list: Vec<u32> = Vec::with_capacity(m);
        while list.len() < m {
            let w = rng.0.random_range(0..graph.num_nodes as u32);
            if w != u && !edges.contains(&pair_key(u, w)) && !list.contains(&w) {
                list.push(w);
            }
        }
        out.extend(list.into_iter().map(|w| [u, w]));
    }
    Ok(out)
}

/// Hits@K and MRR of `split`'s test edges under embedding `z` (`[n, d]` tensor), scored as the AUC / AP are:
/// the decoder's logits z_u · z_v. MRR negatives come from stream [`STREAM_RANKING`] of `seed`.
pub fn rank_links(
    z: &Tensor,
    graph: &Graph,
    split: &EdgeSplit,
    cfg: &RankingConfig,
    seed: u64,
) -> Result<RankingScores> {
    use crate::graph::Decoder;
    let score = |pairs: &[[u32; 2]]| -> Result<Vec<f64>> {
        Ok(InnerProduct
            .score(z, pairs)?
            .into_iter()
            .map(f64::from)
            .collect())
    };
    let pos = score(&split.test_pos)?;
    let neg = score(&split.test_neg)?;
    let hits = cfg
        .hits
        .iter()
        .map(|&k| (k, hits_at_k(&pos, &neg, k)))
        .collect();
    let mut rng = RunRng::stream(seed, STREAM_RANKING);
    let corrupt = corrupted_tails(graph, &split.test_pos, cfg.mrr_negatives, &mut rng)?;
    let mrr = mrr(&pos, &score(&corrupt)?, cfg.mrr_negatives)?;
    Ok(RankingScores { hits, mrr })
}
