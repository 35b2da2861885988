//! The rows a table can hold, by the names `--models` and grid files use.

use crate::baselines::BaselineKind;
use crate::graph::{GraphTrainConfig, LossKind, ModelKind};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// A row of the table: an autoencoder (kind, with node features?), one of the family beyond the paper,
/// or a baseline.
///
/// Written and read as its name: `sc`, `dw`, `gae-x` (GAE*), `vgae-x` (VGAE*), `gae`, `vgae`, and
/// `linear-gae`, `linear-vgae`, `arga`, `argva` (each also with `-x`: featureless).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum RowKind {
    /// GAE or VGAE; `true` = with node features, `false` = featureless (GAE* / VGAE*).
    Model(ModelKind, bool),
    /// A linear or adversarial GAE / VGAE, with node features or not.
    Extended(Extension, ModelKind, bool),
    /// Spectral clustering or DeepWalk, on the same split as the autoencoders.
    Baseline(BaselineKind),
}

/// What a [`RowKind::Extended`] row changes in the paper's model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Extension {
    /// No hidden layer: Z = ÂXW (Salha et al. 2020).
    Linear,
    /// A discriminator on the embedding: ARGA / ARGVA (Pan et al. 2018).
    Adversarial,
}

const EXTENDED_NAMES: [(&str, Extension, ModelKind); 4] = [
    ("linear-gae", Extension::Linear, ModelKind::Gae),
    ("linear-vgae", Extension::Linear, ModelKind::Vgae),
    ("arga", Extension::Adversarial, ModelKind::Gae),
    ("argva", Extension::Adversarial, ModelKind::Vgae),
];

impl RowKind {
    /// All six rows of the paper, in its order.
    pub const ALL: [RowKind; 6] = [
        RowKind::Baseline(BaselineKind::Sc),
        RowKind::Baseline(BaselineKind::Dw),
        RowKind::Model(ModelKind::Gae, false),
        RowKind::Model(ModelKind::Vgae, false),
        RowKind::Model(ModelKind::Gae, true),
        RowKind::Model(ModelKind::Vgae, true),
    ];

    /// The four models beyond the paper, with node features.
    pub const FAMILY: [RowKind; 4] = [
        RowKind::Extended(Extension::Linear, ModelKind::Gae, true),
        RowKind::Extended(Extension::Linear, ModelKind::Vgae, true),
        RowKind::Extended(Extension::Adversarial, ModelKind::Gae, true),
        RowKind::Extended(Extension::Adversarial, ModelKind::Vgae, true),
    ];

    /// Whether the row trains an autoencoder (every row but SC and DW).
    pub fn is_autoencoder(self) -> bool {
        !matches!(self, RowKind::Baseline(_))
    }

    /// The row's training config: `base` (dataset, loss, epochs, seed, ...) with the row's model; `None` for
    /// a baseline.
    pub fn configure(self, base: GraphTrainConfig) -> Option<GraphTrainConfig> {
        match self {
            RowKind::Baseline(_) => None,
            RowKind::Model(model, features) => Some(GraphTrainConfig {
                model,
                features,
                ..base
            }),
            RowKind::Extended(ext, model, features) => Some(GraphTrainConfig {
                model,
                features,
                adversarial: ext == Extension::Adversarial,
                hidden_layers: (ext == Extension::Linear).then(Vec::new),
                ..base
            }),
        }
    }

    /// [`RowKind::configure`] on the defaults with this dataset, loss, epochs and seed.
    pub fn run_config(
        self,
        dataset: &str,
        loss: LossKind,
        epochs: usize,
        seed: u64,
    ) -> Option<GraphTrainConfig> {
        self.configure(GraphTrainConfig {
            dataset: dataset.to_string(),
            loss,
            epochs,
            seed,
            ..GraphTrainConfig::default()
        })
    }

    /// The row's name as `--models` takes it (`gae-x` for GAE*).
    pub fn name(self) -> &'static str {
        match self {
            RowKind::Baseline(BaselineKind::Sc) => "sc",
            RowKind::Baseline(BaselineKind::Dw) => "dw",
            RowKind::Model(ModelKind::Gae, false) => "gae-x",
            RowKind::Model(ModelKind::Vgae, false) => "vgae-x",
            RowKind::Model(ModelKind::Gae, true) => "gae",
            RowKind::Model(ModelKind::Vgae, true) => "vgae",
            RowKind::Extended(Extension::Linear, ModelKind::Gae, true) => "linear-gae",
            RowKind::Extended(Extension::Linear, ModelKind::Vgae, true) => "linear-vgae",
            RowKind::Extended(Extension::Adversarial, ModelKind::Gae, true) => "arga",
            RowKind::Extended(Extension::Adversarial, ModelKind::Vgae, true) => "argva",
            RowKind::Extended(Extension::Linear, ModelKind::Gae, false) => "linear-gae-x",
            RowKind::Extended(Extension::Linear, ModelKind::Vgae, false) => "linear-vgae-x",
            RowKind::Extended(Extension::Adversarial, ModelKind::Gae, false) => "arga-x",
            RowKind::Extended(Extension::Adversarial, ModelKind::Vgae, false) => "argva-x",
        }
    }
}

impl std::str::FromStr for RowKind {
    type Err = Error;

    /// Parses a row name (case-insensitive; `gae*` / `vgae*` also accepted).
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "sc" => RowKind::Baseline(BaselineKind::Sc),
            "dw" => RowKind::Baseline(BaselineKind::Dw),
            "gae-x" | "gae*" => RowKind::Model(ModelKind::Gae, false),
            "vgae-x" | "vgae*" => RowKind::Model(ModelKind::Vgae, false),
            "gae" => RowKind::Model(ModelKind::Gae, true),
            "vgae" => RowKind::Model(ModelKind::Vgae, true),
            other => {
                let (base, features) = match other.strip_suffix("-x") {
                    Some(b) => (b, false),
                    None => (other, true),
                };
                match EXTENDED_NAMES.iter().find(|(n, ..)| *n == base) {
                    Some(&(_, ext, model)) => RowKind::Extended(ext, model, features),
                    None => {
                        return Err(Error::msg(format!(
                        "--models: unknown row '{s}': expected sc, dw, gae-x, vgae-x, gae, vgae, \
                             linear-gae, linear-vgae, arga or argva (the last four also with -x)"
                    )))
                    }
                }
            }
        })
    }
}

impl TryFrom<String> for RowKind {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<RowKind> for String {
    fn from(r: RowKind) -> String {
        r.name().into()
    }
}

/// Parses row names (`--models`), failing on the first unknown one.
pub fn parse_rows<S: AsRef<str>>(names: &[S]) -> Result<Vec<RowKind>> {
    names.iter().map(|s| s.as_ref().parse()).collect()
}
