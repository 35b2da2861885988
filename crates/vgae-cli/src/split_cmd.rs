use crate::globals::Globals;
use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;
use vgae_data::split::{EdgeSplit, SplitConfig, SplitMethod};

#[derive(Subcommand)]
pub enum SplitCommand {
    /// Hold out validation and test edges and sample negatives (seeded).
    Make(MakeArgs),
    /// Check a split file against its dataset; exits non-zero naming the first violation.
    Audit(AuditArgs),
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Method {
    /// Kipf & Welling's mask_test_edges protocol.
    Kipf,
    /// PyG RandomLinkSplit ordering.
    Pyg,
}

#[derive(Args)]
pub struct MakeArgs {
    /// Dataset name or edge-list path.
    pub dataset: String,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Fraction of edges held out for validation.
    #[arg(long, default_value_t = 0.05)]
    pub val: f64,
    /// Fraction of edges held out for test.
    #[arg(long, default_value_t = 0.10)]
    pub test: f64,
    #[arg(long, value_enum, default_value = "kipf")]
    pub method: Method,
    /// Directed graphs (--directed): the task the split is for [default: general].
    #[arg(long, value_enum)]
    pub task: Option<crate::train_cmd::TaskArg>,
    #[command(flatten)]
    pub edge_list: crate::train_cmd::edgelist_args::EdgeListArgs,
    /// Output file (safetensors).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args)]
pub struct AuditArgs {
    /// Split file (safetensors).
    pub split: PathBuf,
    /// Dataset the split was made from.
    #[arg(long)]
    pub dataset: String,
    #[command(flatten)]
    pub edge_list: crate::train_cmd::edgelist_args::EdgeListArgs,
}

pub fn run(cmd: SplitCommand, g: &Globals) -> anyhow::Result<()> {
    match cmd {
        SplitCommand::Make(a) => {
            let graph = g
                .source()
                .load_graph_with(&a.dataset, &a.edge_list.options())?;
            let cfg = SplitConfig {
                val_frac: a.val,
                test_frac: a.test,
                method: match a.method {
                    Method::Kipf => SplitMethod::Kipf,
                    Method::Pyg => SplitMethod::Pyg,
                },
                directed: a.task.map(Into::into),
            };
            let mut rng = vgae_core::rng::RunRng::new(a.seed);
            let s = EdgeSplit::new(&graph, &cfg, a.seed, &mut rng)?;
            s.save(&a.out)?;
            println!(
                "{}: train {} / val {}+{} / test {}+{} (pos+neg), seed {} -> {}",
                graph.name,
                s.train_pos.len(),
                s.val_pos.len(),
                s.val_neg.len(),
                s.test_pos.len(),
                s.test_neg.len(),
                a.seed,
                a.out.display()
            );
            Ok(())
        }
        SplitCommand::Audit(a) => {
            let graph = g
                .source()
                .load_graph_with(&a.dataset, &a.edge_list.options())?;
            let s = EdgeSplit::load(&a.split)?;
            match s.audit(&graph) {
                Ok(()) => {
                    println!(
                        "{}: OK ({} on {}, seed {})",
                        a.split.display(),
                        s.dataset,
                        graph.name,
                        s.seed
                    );
                    Ok(())
                }
                Err(v) => anyhow::bail!("{}: audit failed: {v}", a.split.display()),
            }
        }
    }
}
