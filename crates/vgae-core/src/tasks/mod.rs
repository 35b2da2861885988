//! Evaluation tasks on node embeddings beyond link AUC / AP, as the papers after Kipf & Welling report them:
//!
//! - [`kmeans`] + [`clustering`]: seeded k-means++ with restarts, and ACC (Hungarian matching, [`assignment`]),
//!   NMI, ARI and AMI exactly as scikit-learn computes them;
//! - [`logistic`] + [`classification`]: a logistic-regression probe on the Planetoid public split;
//! - [`ranking`]: Hits@K and MRR with OGB's evaluator conventions.
//!
//! Every function takes plain `f64` slices (`[n, d]` row-major embeddings, scores); the protocols that train a
//! model and feed these live in [`crate::experiments`].

pub mod assignment;
pub mod classification;
pub mod clustering;
pub mod kmeans;
pub mod logistic;
pub mod ranking;

pub use classification::{Probe, ProbeConfig, ProbeScores};
pub use clustering::{ClusteringScores, Contingency};
pub use kmeans::{KMeans, KMeansConfig, KMeansResult};
pub use logistic::{LogisticConfig, LogisticRegression};
pub use ranking::{hits_at_k, mrr, MrrScores};
