//! Reconstruction and KL losses of GAE / VGAE.

use super::decoder::{Decoder, InnerProduct};
use super::model::LossKind;
use super::negatives::NegativeSampler;
use crate::collective::Collective;
use crate::rng::RunRng;
use candle_core::{Result, Tensor};
use std::sync::Arc;

/// softplus(x) = log(1 + eᕽ), stable for any x: max(x, 0) + log1p(exp(−|x|)).
pub fn softplus(x: &Tensor) -> Result<Tensor> {
    x.relu()? + (x.abs()?.neg()?.exp()? + 1.0)?.log()?
}

/// Stable weighted binary cross-entropy with logits, elementwise:
/// (1 − t)·x + (1 + (w − 1)·t)·softplus(−x), i.e. −w·t·log σ(x) − (1 − t)·log(1 − σ(x)).
pub fn bce_with_logits(x: &Tensor, t: &Tensor, pos_weight: f64) -> Result<Tensor> {
    let one_minus_t = t.affine(-1.0, 1.0)?;
    let weight = t.affine(pos_weight - 1.0, 1.0)?;
    (one_minus_t * x)? + (weight * softplus(&x.neg()?)?)?
}

/// The reference implementation's weighting of the dense loss, from the symmetric training adjacency.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DenseWeights {
    /// Number of nodes N.
    pub n: usize,
    /// (N² − S) / S, S = non-zeros of the symmetric A_train (2 per edge, no diagonal).
    pub pos_weight: f64,
    /// N² / (2 (N² − S)).
    pub norm: f64,
}

impl DenseWeights {
    /// The weights for `n` nodes and `train_edges` undirected training edges.
    pub fn new(n: usize, train_edges: usize) -> Self {
        Self::from_nonzeros(n, 2 * train_edges)
    }

    /// The weights for `n` nodes and `s` off-diagonal non-zeros of A_train (the arc count of a directed
    /// graph, as the gravity paper's code counts them).
    pub fn from_nonzeros(n: usize, s: usize) -> Self {
        let nn = (n as f64) * (n as f64);
        let s = s as f64;
        DenseWeights {
            n,
            pos_weight: (nn - s) / s,
            norm: nn / (2.0 * (nn - s)),
        }
    }
}

/// norm · mean over all N² entries of weighted BCE(z_i·z_j, (A_train + I)_ij), computed as
/// Σ_all softplus(x) (fused, O(N·d) memory) plus a sparse correction at the positives:
/// w·softplus(−x) − softplus(x) = (w − 1)·softplus(x) − w·x.
/// `positives` holds both directions of every training edge and the N diagonal pairs.
pub fn dense_recon_loss(
    z: &Tensor,
    positives: &[[u32; 2]],
    w: &DenseWeights,
    block: usize,
) -> Result<Tensor> {
    dense_recon_loss_with(&InnerProduct, z, positives, w, block).map_err(candle_error)
}

/// [`dense_recon_loss`] for any decoder: its all-pairs softplus sum plus the correction at its positives' logits.
pub fn dense_recon_loss_with<D: Decoder + ?Sized>(
    decoder: &D,
    z: &Tensor,
    positives: &[[u32; 2]],
    w: &DenseWeights,
    block: usize,
) -> crate::Result<Tensor> {
    dense_soft_recon_loss_with(decoder, z, positives, None, w, block)
}

/// [`dense_recon_loss_with`] with a soft target `t ∈ [0, 1]` per positive (`None`: all 1). The entry's
/// weighted BCE is (1 + (w − 1)·t)·softplus(x) − w·t·x, so the correction at a positive is `t` times the
/// binary one; every other pair keeps target 0.
pub fn dense_soft_recon_loss_with<D: Decoder + ?Sized>(
    decoder: &D,
    z: &Tensor,
    positives: &[[u32; 2]],
    targets: Option<&[f32]>,
    w: &DenseWeights,
    block: usize,
) -> crate::Result<Tensor> {
    let all = decoder.softplus_all_pairs(z, block)?;
    dense_loss_from_all_pairs(all, decoder, z, positives, targets, w)
}

/// The dense loss from its all-pairs term `all` (however it was computed) and the positives' correction.
fn dense_loss_from_all_pairs<D: Decoder + ?Sized>(
    all: Tensor,
    decoder: &D,
    z: &Tensor,
    positives: &[[u32; 2]],
    targets: Option<&[f32]>,
    w: &DenseWeights,
) -> crate::Result<Tensor> {
    let x = decoder.logits(z, positives)?;
    let mut correction = ((softplus(&x)? * (w.pos_weight - 1.0))? - (x * w.pos_weight)?)?;
    if let Some(t) = targets {
        correction = (correction * Tensor::new(t, z.device())?.to_dtype(z.dtype())?)?;
    }
    let correction = correction.sum_all()?;
    let nn = (w.n as f64) * (w.n as f64);
    Ok(((all + correction)? * (w.norm / nn))?)
}

fn candle_error(e: crate::Error) -> candle_core::Error {
    match e {
        crate::Error::Candle(c) => c,
        e => candle_core::Error::Msg(e.to_string()),
    }
}

/// PyG's loss: −log σ(x⁺) averaged over positives plus −log(1 − σ(x⁻)) averaged over negatives.
pub fn sampled_recon_loss(z: &Tensor, pos: &[[u32; 2]], neg: &[[u32; 2]]) -> Result<Tensor> {
    sampled_recon_loss_with(&InnerProduct, z, pos, neg).map_err(candle_error)
}

/// [`sampled_recon_loss`] for any decoder.
pub fn sampled_recon_loss_with<D: Decoder + ?Sized>(
    decoder: &D,
    z: &Tensor,
    pos: &[[u32; 2]],
    neg: &[[u32; 2]],
) -> crate::Result<Tensor> {
    sampled_soft_recon_loss_with(decoder, z, pos, None, neg)
}

/// [`sampled_recon_loss_with`] with a soft target `t ∈ [0, 1]` per positive (`None`: all 1): the positives'
/// term is the mean of BCE(x, t) = t·softplus(−x) + (1 − t)·softplus(x).
pub fn sampled_soft_recon_loss_with<D: Decoder + ?Sized>(
    decoder: &D,
    z: &Tensor,
    pos: &[[u32; 2]],
    targets: Option<&[f32]>,
    neg: &[[u32; 2]],
) -> crate::Result<Tensor> {
    let xp = decoder.logits(z, pos)?;
    let xn = decoder.logits(z, neg)?;
    let pos_term = match targets {
        None => softplus(&xp.neg()?)?,
        Some(t) => {
            let t = Tensor::new(t, z.device())?.to_dtype(z.dtype())?;
            let one_minus = t.affine(-1.0, 1.0)?;
            ((softplus(&xp.neg()?)? * t)? + (softplus(&xp)? * one_minus)?)?
        }
    };
    Ok((pos_term.mean_all()? + softplus(&xn)?.mean_all()?)?)
}

/// The reconstruction loss of a training graph, ready to evaluate each step: what it needs (positives,
/// weights, a negative sampler) is built once from the training edges.
pub enum ReconLoss {
    /// The paper's weighted BCE over all N² pairs ([`dense_recon_loss`]).
    Dense {
        /// Both directions of every training edge and the N diagonal pairs.
        positives: Vec<[u32; 2]>,
        /// pos_weight and norm of the reference implementation.
        weights: DenseWeights,
        /// Row-block size on devices that work in blocks.
        block: usize,
        /// Soft targets per positive ([`ReconLoss::with_soft_targets`]); `None`: binary.
        targets: Option<Vec<f32>>,
        /// The ranks the all-pairs term is split over ([`ReconLoss::with_collective`]); `None`: this process.
        shards: Option<Arc<dyn Collective + Send + Sync>>,
    },
    /// PyG's loss on the training edges and as many fresh negatives per step ([`sampled_recon_loss`]).
    Sampled {
        /// The training edges, once each.
        positives: Vec<[u32; 2]>,
        /// Rejects self-loops and training edges.
        sampler: NegativeSampler,
        /// Soft targets per positive ([`ReconLoss::with_soft_targets`]); `None`: binary.
        targets: Option<Vec<f32>>,
        /// Negatives drawn per positive each step: 2 for undirected edges (PyG's positives hold both
        /// directions), 1 for arcs.
        negatives_per_positive: usize,
    },
}

impl ReconLoss {
    /// The loss `kind` for a graph of `num_nodes` nodes trained on `train_edges` (`u < v`, once each).
    pub fn new(
        kind: LossKind,
        num_nodes: usize,
        train_edges: &[[u32; 2]],
        block: usize,
    ) -> crate::Result<Self> {
        Ok(match kind {
            LossKind::Dense => {
                let mut positives: Vec<[u32; 2]> = train_edges
                    .iter()
                    .flat_map(|&[u, v]| [[u, v], [v, u]])
                    .collect();
                positives.extend((0..num_nodes as u32).map(|i| [i, i]));
                ReconLoss::Dense {
                    positives,
                    weights: DenseWeights::new(num_nodes, train_edges.len()),
                    block,
                    targets: None,
                    shards: None,
                }
            }
            LossKind::Sampled => ReconLoss::Sampled {
                positives: train_edges.to_vec(),
                sampler: NegativeSampler::new(num_nodes, train_edges)?,
                targets: None,
                negatives_per_positive: 2,
            },
        })
    }

    /// The loss `kind` for a directed graph trained on `arcs` (each once): the dense loss's positives are
    /// the arcs and the diagonal, the sampled loss draws as many ordered non-arcs as there are arcs.
    pub fn directed(
        kind: LossKind,
        num_nodes: usize,
        arcs: &[[u32; 2]],
        block: usize,
    ) -> crate::Result<Self> {
        Ok(match kind {
            LossKind::Dense => {
                let mut positives = arcs.to_vec();
                positives.extend((0..num_nodes as u32).map(|i| [i, i]));
                ReconLoss::Dense {
                    positives,
                    weights: DenseWeights::from_nonzeros(num_nodes, arcs.len()),
                    block,
                    targets: None,
                    shards: None,
                }
            }
            LossKind::Sampled => ReconLoss::Sampled {
                positives: arcs.to_vec(),
                sampler: NegativeSampler::directed(num_nodes, arcs)?,
                targets: None,
                negatives_per_positive: 1,
            },
        })
    }

    /// [`ReconLoss::new`] or, for a directed graph, [`ReconLoss::directed`].
    pub fn for_graph(
        kind: LossKind,
        graph: &vgae_data::Graph,
        train: &[[u32; 2]],
        block: usize,
    ) -> crate::Result<Self> {
        match graph.directed {
            true => Self::directed(kind, graph.num_nodes, train, block),
            false => Self::new(kind, graph.num_nodes, train, block),
        }
    }

    /// Uses the training edges' weights (one per edge, in the order given to [`ReconLoss::new`]), divided
    /// by the largest, as soft targets: an edge of half the heaviest weight is asked for probability ½. The
    /// diagonal of the dense loss keeps target 1, non-edges 0, and `pos_weight` still counts edges.
    pub fn with_soft_targets(mut self, edge_weights: &[f32]) -> crate::Result<Self> {
        let max = edge_weights.iter().fold(0f32, |m, &w| m.max(w));
        if edge_weights.iter().any(|w| !w.is_finite() || *w <= 0.0) || max <= 0.0 {
            return Err(crate::Error::msg(
                "soft targets need a positive, finite weight on every training edge",
            ));
        }
        let t: Vec<f32> = edge_weights.iter().map(|w| w / max).collect();
        match &mut self {
            ReconLoss::Dense {
                positives, targets, ..
            } => {
                // Both directions of each edge (one per arc), then the diagonal, which ends with
                // node n − 1's pair.
                let n = positives.last().map_or(0, |p| p[0] as usize + 1);
                let per_edge = match positives.len().checked_sub(n) {
                    Some(k) if k == 2 * t.len() => 2,
                    Some(k) if k == t.len() => 1,
                    _ => {
                        return Err(crate::Error::msg(
                            "soft targets: one weight per training edge",
                        ))
                    }
                };
                let mut all: Vec<f32> = t
                    .iter()
                    .flat_map(|&w| std::iter::repeat_n(w, per_edge))
                    .collect();
                all.resize(positives.len(), 1.0);
                *targets = Some(all);
            }
            ReconLoss::Sampled {
                positives, targets, ..
            } => {
                if positives.len() != t.len() {
                    return Err(crate::Error::msg(
                        "soft targets: one weight per training edge",
                    ));
                }
                *targets = Some(t);
            }
        }
        Ok(self)
    }

    /// Splits the dense loss's all-pairs term over the ranks of `comm` (every rank gets the same value and
    /// gradient, [`super::all_pairs_sharded`]). The sampled loss is not split: with several ranks it is an
    /// error, since each rank would repeat the whole step.
    pub fn with_collective(
        mut self,
        comm: Arc<dyn Collective + Send + Sync>,
    ) -> crate::Result<Self> {
        match &mut self {
            ReconLoss::Dense { shards, .. } => *shards = Some(comm),
            ReconLoss::Sampled { .. } if comm.size() > 1 => {
                return Err(crate::Error::msg(format!(
                    "full-batch training on {} ranks splits the exact dense loss only: use --loss dense \
                     (or `vgae minibatch` for the sampled loss)",
                    comm.size()
                )))
            }
            ReconLoss::Sampled { .. } => {}
        }
        Ok(self)
    }

    /// The ranks the loss is split over, if [`ReconLoss::with_collective`] gave any.
    pub fn collective(&self) -> Option<&Arc<dyn Collective + Send + Sync>> {
        match self {
            ReconLoss::Dense { shards, .. } => shards.as_ref(),
            ReconLoss::Sampled { .. } => None,
        }
    }

    /// The loss of embedding `z` under `decoder`; the sampled loss draws its negatives from `rng`.
    pub fn compute<D: Decoder + ?Sized>(
        &self,
        decoder: &D,
        z: &Tensor,
        rng: &mut RunRng,
    ) -> crate::Result<Tensor> {
        match self {
            ReconLoss::Dense {
                positives,
                weights,
                block,
                targets,
                shards,
            } => {
                let all = match shards {
                    Some(comm) => decoder.softplus_all_pairs_sharded(z, *block, comm.as_ref())?,
                    None => decoder.softplus_all_pairs(z, *block)?,
                };
                dense_loss_from_all_pairs(all, decoder, z, positives, targets.as_deref(), weights)
            }
            ReconLoss::Sampled {
                positives,
                sampler,
                targets,
                negatives_per_positive,
            } => {
                let neg = sampler.sample(negatives_per_positive * positives.len(), rng);
                sampled_soft_recon_loss_with(decoder, z, positives, targets.as_deref(), &neg)
            }
        }
    }
}

/// The KL term as both reference implementations add it to the loss:
/// −(0.5 / N) · mean over nodes of Σ_d (1 + 2 log σ − μ² − σ²).
pub fn kl_loss(mu: &Tensor, logstd: &Tensor) -> Result<Tensor> {
    let n = mu.dim(0)? as f64;
    let inner = ((logstd * 2.0)? + 1.0)? - mu.sqr()? - (logstd * 2.0)?.exp()?;
    inner?.sum(1)?.mean_all()? * (-0.5 / n)
}
