//! `vgae score CKPT --pairs pairs.csv`: link probabilities sigmoid(z_u · z_v) for pairs given by the user's
//! node ids (the ids of the edge list trained on; node indices for the named datasets).

use super::{restore, DatasetArg, FINALS};
use crate::globals::Globals;
use clap::Args;
use std::collections::HashMap;
use std::path::PathBuf;
use vgae_core::graph::Decoder;

#[derive(Args)]
pub struct ScoreArgs {
    /// A graph checkpoint file (or a run directory).
    pub checkpoint: PathBuf,
    /// Pairs to score: `u,v` per row in the dataset's node ids (comma, tab or whitespace; extra columns
    /// ignored; the first row is a header iff neither of its ids is a node id).
    #[arg(long)]
    pub pairs: PathBuf,
    #[command(flatten)]
    pub dataset: DatasetArg,
    /// Print one JSON list instead of CSV.
    #[arg(long)]
    pub json: bool,
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

pub fn run(a: ScoreArgs, g: &Globals) -> anyhow::Result<()> {
    let ck = vgae_core::rundir::find_checkpoint(&crate::hub_cmd::resolve(&a.checkpoint)?, FINALS)?;
    let rows = vgae_data::edgelist::read_id_pairs(&a.pairs)?;
    let t = restore(&ck, &a.dataset, None, g)?;
    let n = t.input().num_nodes;
    let names: Vec<String> = match &t.node_ids {
        Some(ids) => ids.clone(),
        None => (0..n).map(|i| i.to_string()).collect(),
    };
    let index: HashMap<&str, u32> = names
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i as u32))
        .collect();
    let known = |s: &str| index.contains_key(s);
    let skip_header = rows.first().is_some_and(|(_, u, v)| !known(u) && !known(v));
    let mut pairs = Vec::with_capacity(rows.len());
    for (line, u, v) in rows.iter().skip(skip_header as usize) {
        let id = |s: &str| {
            index.get(s).copied().ok_or_else(|| {
                anyhow::anyhow!(
                    "{}: line {line}: '{s}' is not a node of the dataset {} was trained on ({n} nodes)",
                    a.pairs.display(),
                    ck.display()
                )
            })
        };
        pairs.push([id(u)?, id(v)?]);
    }
    anyhow::ensure!(
        !pairs.is_empty(),
        "{}: no pairs to score",
        a.pairs.display()
    );
    let z = t.embed()?;
    // The run's own decoder: an asymmetric one scores u → v and v → u apart.
    let logits = t.cfg.decoder().score(&z, &pairs)?;
    let prob = |l: f32| 1.0 / (1.0 + (-l as f64).exp());
    if a.json {
        let v: Vec<serde_json::Value> = pairs
            .iter()
            .zip(&logits)
            .map(|(&[u, v], &l)| {
                serde_json::json!({"source": names[u as usize], "target": names[v as usize],
                    "probability": prob(l), "logit": l})
            })
            .collect();
        println!("{}", serde_json::Value::Array(v));
    } else {
        println!("source,target,probability");
        for (&[u, v], &l) in pairs.iter().zip(&logits) {
            println!(
                "{},{},{:.6}",
                csv_field(&names[u as usize]),
                csv_field(&names[v as usize]),
                prob(l)
            );
        }
    }
    Ok(())
}
