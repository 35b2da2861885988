//! Define your own encoder and train it with everything else unchanged: an SGC-style encoder
//! (Wu et al. 2019, Z = Â² X W + b) in a plain autoencoder with the inner-product decoder, on Cora.
//!
//! ```sh
//! cargo run --release -p vgae-core --example custom_encoder -- [EPOCHS]
//! ```

use candle_core::{Device, Tensor};
use candle_nn::{init, Init, VarBuilder};
use vgae_core::graph::{
    Encoded, Encoder, FitConfig, GraphAutoencoder, GraphInput, InnerProduct, LinkTrainer, LossKind,
};
use vgae_core::{optim::Adam, params::ParamStore, rng::RunRng};
use vgae_data::{planetoid, EdgeSplit, SplitConfig};

/// Two propagations, then one linear map: no hidden layer, no non-linearity.
struct Sgc {
    weight: Tensor, // [n_features, latent]
    bias: Tensor,   // [latent]
}

impl Sgc {
    fn new(vb: VarBuilder, in_dim: usize, latent: usize) -> candle_core::Result<Self> {
        let r = (6.0 / (in_dim + latent) as f64).sqrt(); // Glorot-uniform
        let weight =
            vb.get_with_hints((in_dim, latent), "weight", Init::Uniform { lo: -r, up: r })?;
        let bias = vb.get_with_hints(latent, "bias", init::ZERO)?;
        Ok(Sgc { weight, bias })
    }
}

impl Encoder for Sgc {
    fn encode(&self, input: &GraphInput, _rng: Option<&mut RunRng>) -> vgae_core::Result<Encoded> {
        let xw = input.require_features()?.matmul(&self.weight)?; // [n_nodes, latent]
        let z = input
            .adj
            .matmul(&input.adj.matmul(&xw)?)?
            .broadcast_add(&self.bias)?;
        Ok(Encoded {
            mu: z,
            logstd: None,
        })
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let epochs: usize = std::env::args().nth(1).map_or(Ok(200), |e| e.parse())?;
    let graph = planetoid::load_embedded_cora()?;
    let split = EdgeSplit::new(
        &graph,
        &SplitConfig::default(),
        0,
        &mut RunRng::stream(0, 0),
    )?;
    let store = ParamStore::new(RunRng::stream(0, 1));
    let encoder = Sgc::new(
        store.var_builder(&Device::Cpu).pp("encoder"),
        graph.num_features(),
        16,
    )?;
    let model = GraphAutoencoder::new(encoder, InnerProduct);
    let fit = FitConfig {
        epochs,
        loss: LossKind::Sampled,
        label: "SGC-GAE".into(),
        ..FitConfig::default()
    };
    let mut trainer = LinkTrainer::new(
        model,
        Adam::new(store.params(), 0.01)?,
        store.rng(),
        &graph,
        split,
        fit,
    )?;
    let r = trainer.fit_with(None, |e| {
        if e.epoch % 50 == 0 {
            println!(
                "epoch {:>3}: loss {:.4} val AUC {:.4}",
                e.epoch, e.loss, e.val_auc
            );
        }
    })?;
    println!(
        "{} on cora: test AUC {:.4} AP {:.4} after {} epochs",
        r.label, r.test_auc, r.test_ap, r.epochs
    );
    Ok(())
}
