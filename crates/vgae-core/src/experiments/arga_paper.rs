//! Node clustering numbers of Pan et al., "Adversarially Regularized Graph Autoencoder for Graph Embedding"
//! (IJCAI 2018), for GAE and VGAE (with features), k-means on the embedding, as reported in its clustering
//! tables for Cora and Citeseer (it reports no Pubmed clustering).
//!
//! Source: the paper itself could not be opened from this workspace; the values are those quoted from it in
//! the README of `MysteryVaibhav/RWR-GAE` (Cora: GAE 0.596 / 0.429 / 0.347, VGAE 0.609 / 0.436 / 0.346;
//! Citeseer: GAE 0.408 / 0.176 / 0.124, VGAE 0.344 / 0.156 / 0.093 for ACC / NMI / ARI; ARGA / ARVGA
//! beside them). ARGA / ARVGA are listed for when those models exist here.

/// (model, dataset, ACC, NMI, ARI), fractions.
pub const CLUSTERING: &[(&str, &str, f64, f64, f64)] = &[
    ("GAE", "cora", 0.596, 0.429, 0.347),
    ("VGAE", "cora", 0.609, 0.436, 0.346),
    ("ARGA", "cora", 0.640, 0.449, 0.352),
    ("ARVGA", "cora", 0.638, 0.450, 0.374),
    ("GAE", "citeseer", 0.408, 0.176, 0.124),
    ("VGAE", "citeseer", 0.344, 0.156, 0.093),
    ("ARGA", "citeseer", 0.573, 0.350, 0.341),
    ("ARVGA", "citeseer", 0.544, 0.261, 0.245),
];

/// The paper's (ACC, NMI, ARI) for a model label (GAE, VGAE, ARGA, ARVGA — or ARGVA, this crate's label for
/// it) and dataset, if it reports them.
pub fn clustering(model: &str, dataset: &str) -> Option<(f64, f64, f64)> {
    let model = if model == "ARGVA" { "ARVGA" } else { model };
    CLUSTERING
        .iter()
        .find(|(m, d, ..)| *m == model && *d == dataset)
        .map(|&(_, _, a, n, r)| (a, n, r))
}
