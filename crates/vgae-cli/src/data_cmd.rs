use crate::globals::Globals;
use anyhow::Context;
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum DataCommand {
    /// Print a dataset's statistics (nodes, edges, features, classes, label counts...).
    Info(InfoArgs),
    /// Download a dataset from the Hugging Face hub into the local cache and verify it.
    Pull(PullArgs),
    /// Generate a seeded stochastic-block-model graph (or a directed one) as a CSV edge list.
    Synth(SynthArgs),
    /// Upload the verified Planetoid files to a hub dataset repository, a mirror `vgae data pull --repo` reads.
    Publish(crate::hub_cmd::PublishArgs),
}

#[derive(Args)]
pub struct SynthArgs {
    /// Node count [default: 10000, or 2000 with --directed].
    #[arg(long)]
    pub nodes: Option<usize>,
    /// Average degree [default: 10, or 8 with --directed].
    #[arg(long)]
    pub degree: Option<f64>,
    /// Number of blocks [default: 10, or 8 with --directed].
    #[arg(long)]
    pub blocks: Option<usize>,
    /// Probability that an edge stays inside its block [default: 0.8, or 0.5 with --directed].
    #[arg(long)]
    pub p_in: Option<f64>,
    /// A directed graph: ranked blocks, arcs between blocks pointing up the ranking, arcs inside a block
    /// reciprocated with probability --reciprocity (train it with `vgae train --directed`).
    #[arg(long)]
    pub directed: bool,
    /// With --directed: probability that an arc inside a block also gets its reverse.
    #[arg(long, default_value_t = 0.5, requires = "directed")]
    pub reciprocity: f64,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output CSV file.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args)]
pub struct InfoArgs {
    /// cora, citeseer, pubmed, mnist, fashion-mnist, frey, or the path of an edge-list file.
    pub name: String,
    #[command(flatten)]
    pub edge_list: crate::train_cmd::edgelist_args::EdgeListArgs,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct PullArgs {
    /// Dataset to download: cora, citeseer or pubmed.
    pub name: String,
    /// Hub dataset repository (default: the documented one for this dataset).
    #[arg(long)]
    pub repo: Option<String>,
    /// Revision (branch, tag or commit) to download.
    #[arg(long)]
    pub revision: Option<String>,
}

pub fn run(cmd: DataCommand, g: &Globals) -> anyhow::Result<()> {
    match cmd {
        DataCommand::Info(a) => info(a, g),
        DataCommand::Pull(a) => pull(a, g),
        DataCommand::Synth(a) => synth(a),
        DataCommand::Publish(a) => crate::hub_cmd::publish(a, g),
    }
}

fn synth(a: SynthArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        (0.0..=1.0).contains(&a.reciprocity) && a.p_in.is_none_or(|p| (0.0..=1.0).contains(&p)),
        "--p-in and --reciprocity are probabilities: expected numbers in [0, 1]"
    );
    let mut rng = vgae_core::rng::RunRng::new(a.seed);
    let graph = if a.directed {
        let d = vgae_data::synth::DirectedSbmConfig::default();
        let cfg = vgae_data::synth::DirectedSbmConfig {
            nodes: a.nodes.unwrap_or(d.nodes),
            degree: a.degree.unwrap_or(d.degree),
            blocks: a.blocks.unwrap_or(d.blocks),
            p_in: a.p_in.unwrap_or(d.p_in),
            reciprocity: a.reciprocity,
        };
        vgae_data::synth::directed_sbm(&cfg, &mut rng)
    } else {
        let d = vgae_data::synth::SbmConfig::default();
        let cfg = vgae_data::synth::SbmConfig {
            nodes: a.nodes.unwrap_or(d.nodes),
            degree: a.degree.unwrap_or(d.degree),
            blocks: a.blocks.unwrap_or(d.blocks),
            p_in: a.p_in.unwrap_or(d.p_in),
        };
        vgae_data::synth::sbm(&cfg, &mut rng)
    };
    vgae_data::synth::write_edgelist(&graph, &a.out)?;
    let what = match graph.directed {
        true => format!("arcs ({} reciprocated)", graph.reciprocal_arcs()),
        false => "edges".to_string(),
    };
    println!(
        "{}: {} nodes, {} {what} -> {}",
        graph.name,
        graph.num_nodes,
        graph.edges.len(),
        a.out.display()
    );
    Ok(())
}

fn info(a: InfoArgs, g: &Globals) -> anyhow::Result<()> {
    let src = g.source();
    let lower = a.name.to_ascii_lowercase();
    if vgae_data::images::NAMES.contains(&lower.as_str()) {
        let (text, json) = vgae_data::images::describe(&src, &lower)?;
        if a.json {
            println!("{json}");
        } else {
            println!("{text}");
        }
        return Ok(());
    }
    let opts = a.edge_list.options();
    let is_file = !vgae_data::source::GRAPH_DATASETS.contains(&lower.as_str())
        && std::path::Path::new(&a.name).is_file();
    let (graph, format) = if is_file {
        let (g, f) = vgae_data::edgelist::load_with_format(std::path::Path::new(&a.name), &opts)?;
        (g, Some(f))
    } else {
        (src.load_graph_with(&a.name, &opts)?, None)
    };
    let i = graph.info();
    if a.json {
        let mut v = serde_json::to_value(&i)?;
        if let Some(f) = &format {
            v["format"] = serde_json::to_value(f)?;
        }
        println!("{v}");
    } else {
        println!("dataset            {}", i.name);
        println!("nodes              {}", i.nodes);
        match i.reciprocal_arcs {
            Some(r) => println!("arcs (directed)    {} ({r} reciprocated)", i.edges),
            None => println!("undirected edges   {}", i.edges),
        }
        println!("features           {}", i.features);
        println!("feature nnz        {}", i.feature_nnz);
        println!("classes            {}", i.classes);
        println!("label counts       {:?}", i.label_counts);
        println!("isolated nodes     {}", i.isolated_nodes);
        println!("self-loops dropped {}", i.self_loops_dropped);
        println!("fingerprint        {}", i.fingerprint);
        if let Some(f) = &format {
            crate::train_cmd::edgelist_args::print_format(f);
        }
        if let Some(n) = &i.note {
            println!("note               {n}");
        }
    }
    Ok(())
}

#[cfg(feature = "hub")]
fn pull(a: PullArgs, _g: &Globals) -> anyhow::Result<()> {
    let spec =
        vgae_data::hub::HubSpec::for_dataset(&a.name, a.repo.as_deref(), a.revision.as_deref())?;
    let dir = vgae_data::hub::pull(&spec)
        .with_context(|| format!("pulling '{}' from {}", a.name, spec.repo))?;
    let graph = vgae_data::planetoid::load_dir(&a.name.to_ascii_lowercase(), &dir)?;
    let i = graph.info();
    println!(
        "{}: {} nodes, {} edges, verified, cached in {}",
        i.name,
        i.nodes,
        i.edges,
        dir.display()
    );
    Ok(())
}

#[cfg(not(feature = "hub"))]
fn pull(_a: PullArgs, _g: &Globals) -> anyhow::Result<()> {
    anyhow::bail!("this binary was built without the hub feature (cargo build --features hub)")
}
