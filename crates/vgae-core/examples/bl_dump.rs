// TEMPORARY (not committed): dump baseline embeddings for analysis.
use vgae_core::baselines::*;
use vgae_core::graph::{train::make_split, GraphTrainConfig};
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let (ds, kind, seed) = (&a[1], &a[2], a[3].parse::<u64>().unwrap());
    let g = vgae_data::source::DataSource::new(None)
        .load_graph(ds)
        .unwrap();
    let cfg = GraphTrainConfig {
        dataset: g.name.clone(),
        seed,
        ..Default::default()
    };
    let split = make_split(&g, &cfg).unwrap();
    let mut bc = BaselineConfig::default();
    for kv in a[4..].iter() {
        let (k, v) = kv.split_once('=').unwrap();
        match k {
            "epochs" => bc.deepwalk.epochs = v.parse().unwrap(),
            "neg" => bc.deepwalk.negative = v.parse().unwrap(),
            "window" => bc.deepwalk.window = v.parse().unwrap(),
            "lr" => bc.deepwalk.lr = v.parse().unwrap(),
            "wpn" => bc.deepwalk.walks_per_node = v.parse().unwrap(),
            "cut" => bc.spectral.filter_cut = v.parse().unwrap(),
            "deg" => bc.spectral.filter_degree = v.parse().unwrap(),
            _ => panic!(),
        }
    }
    let k = if kind == "sc" {
        BaselineKind::Sc
    } else {
        BaselineKind::Dw
    };
    let r = run(k, &g, &split, &bc, seed).unwrap();
    println!(
        "{} {} seed {} test {:.2}/{:.2} val {:.2}/{:.2} {:.1}s {:?}",
        ds,
        kind,
        seed,
        100.0 * r.test.auc,
        100.0 * r.test.ap,
        100.0 * r.val.auc,
        100.0 * r.val.ap,
        r.seconds,
        match &r.info {
            BaselineInfo::Spectral(i) => format!(
                "comps {} iso {} steps {} res {:.1e} lam {:.4}..{:.4} cut {}",
                i.components,
                i.isolated,
                i.lanczos_steps,
                i.max_residual,
                i.eigenvalues[0],
                i.eigenvalues.last().unwrap(),
                i.filter_cut
            ),
            BaselineInfo::DeepWalk(i) => format!("{:?}", i),
        }
    );
    let bytes: Vec<u8> = r
        .embedding
        .data
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    std::fs::write(format!("/tmp/bl/emb-{ds}-{kind}-{seed}.f32"), bytes).unwrap();
}
