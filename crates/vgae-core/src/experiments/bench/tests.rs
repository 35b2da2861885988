use super::*;

/// Records the specs it is asked for and answers made-up measurements.
#[derive(Default)]
struct Fake {
    specs: Vec<MeasureSpec>,
    vae: Vec<PathBuf>,
}

impl Runner for Fake {
    type Error = Error;
    fn measure(&mut self, spec: &MeasureSpec) -> Result<Measurement> {
        self.specs.push(spec.clone());
        let nodes = match &spec.graph {
            BenchGraph::Synth { nodes, .. } => *nodes,
            BenchGraph::Named(_) => 2708,
        };
        Ok(Measurement {
            dataset: spec.graph.to_string(),
            loss: spec.minibatch.as_ref().map_or_else(
                || crate::experiments::table1::loss_name(spec.loss),
                |mb| mb.name(),
            ),
            nodes,
            edges: nodes * 5,
            setup_seconds: 0.5,
            median_epoch_seconds: 0.00612,
            epochs_measured: spec.epochs,
            run_200_seconds: 1.724,
            peak_rss_mb: Some(91.6),
        })
    }
    fn vae_epoch(&mut self, out: &Path) -> Result<Option<f64>> {
        self.vae.push(out.to_path_buf());
        Ok(Some(2.764))
    }
}

#[test]
fn planetoid_measures_datasets_times_losses_then_the_vae() {
    let cfg = PlanetoidConfig {
        datasets: vec!["cora".into(), "pubmed".into()],
        losses: vec![LossKind::Dense, LossKind::Sampled],
        epochs: 7,
        full: false,
        vae_dir: Some("out/vae-epoch".into()),
    };
    let mut fake = Fake::default();
    let mut seen = Vec::new();
    let r = planetoid(&cfg, &mut fake, &mut |s, m| {
        seen.push((s.graph.to_string(), m.loss.clone()))
    })
    .unwrap();
    let want = [
        ("cora", "dense"),
        ("cora", "sampled"),
        ("pubmed", "dense"),
        ("pubmed", "sampled"),
    ];
    assert_eq!(
        seen,
        want.map(|(a, b)| (a.to_string(), b.to_string())).to_vec()
    );
    assert!(fake
        .specs
        .iter()
        .all(|s| s.warmup == 2 && s.epochs == 7 && !s.featureless));
    assert_eq!(fake.vae, vec![PathBuf::from("out/vae-epoch")]);
    let md = r.markdown();
    assert!(
        md.contains("GAE, median of 7 epochs after 2 warm-up epochs.\n\n| dataset | loss |"),
        "{md}"
    );
    assert!(
        md.contains("| cora | dense | 2708 | 13540 | 0.0061 | 1.7 | 92 |\n"),
        "{md}"
    );
    assert!(md.ends_with("one epoch 2.76 s.\n"), "{md}");
    assert_eq!(r.json()["vae_epoch_seconds"], 2.764);
    assert_eq!(r.summary_json()["rows"].as_array().unwrap().len(), 4);
    assert!(r.summary_json().get("machine").is_none());
}

#[test]
fn planetoid_full_times_200_epochs_and_skips_the_vae() {
    let cfg = PlanetoidConfig {
        datasets: vec!["cora".into()],
        losses: vec![LossKind::Sampled],
        epochs: 10,
        full: true,
        vae_dir: None,
    };
    let mut fake = Fake::default();
    let r = planetoid(&cfg, &mut fake, &mut |_, _| {}).unwrap();
    assert_eq!(fake.specs[0].epochs, 200);
    assert!(fake.vae.is_empty());
    assert_eq!(r.vae_epoch_seconds, None);
    // The header still names the configured epochs.
    assert!(r.markdown().contains("median of 10 epochs"));
    assert!(!r.markdown().contains("MNIST"));
}

#[test]
fn scaling_skips_the_dense_loss_above_dense_max() {
    let cfg = ScalingConfig {
        nodes: vec![1000, 50_000],
        degree: 10.0,
        dense_max: 40_000,
        epochs: 5,
        minibatch: Some(MiniBatchBench {
            batch_edges: 4096,
            fanouts: vec![5, 0],
            history: true,
        }),
        minibatch_max: 1000,
    };
    let mut fake = Fake::default();
    let r = scaling(&cfg, &mut fake, &mut |_, _| {}).unwrap();
    let got: Vec<String> = fake
        .specs
        .iter()
        .map(|s| match &s.minibatch {
            Some(mb) => format!("{} {}", s.graph, mb.name()),
            None => format!("{} {:?}", s.graph, s.loss),
        })
        .collect();
    assert_eq!(
        got,
        [
            "synth:1000:10 Sampled",
            "synth:1000:10 Dense",
            "synth:1000:10 minibatch 4096 [5, 0] history",
            "synth:50000:10 Sampled"
        ]
    );
    assert!(fake.specs.iter().all(|s| s.featureless && s.warmup == 1));
    assert!(r
        .markdown()
        .contains("Featureless GAE on SBM graphs (average degree 10).\n\n| dataset"));
    assert_eq!(r.rows.len(), 4);
    assert_eq!(
        r.series("minibatch 4096 [5, 0] history", |m| m.nodes as f64)
            .len(),
        1
    );
    assert_eq!(r.series("sampled", |m| m.nodes as f64).len(), 2);
    assert_eq!(
        r.series("dense", |m| m.nodes as f64),
        vec![(5000f64.log10(), 3.0)]
    );
}

#[test]
fn table_prints_a_dash_without_peak_memory() {
    let m = Measurement {
        dataset: "cora".into(),
        loss: "dense".into(),
        nodes: 1,
        edges: 2,
        setup_seconds: 0.0,
        median_epoch_seconds: 0.5,
        epochs_measured: 1,
        run_200_seconds: 100.0,
        peak_rss_mb: None,
    };
    let t = measurements_table(&[m]);
    assert!(
        t.ends_with("| cora | dense | 1 | 2 | 0.5000 | 100.0 | – |\n"),
        "{t}"
    );
}

#[test]
fn loss_names_parse() {
    assert_eq!(parse_loss("dense").unwrap(), LossKind::Dense);
    assert_eq!(parse_loss(" Sampled").unwrap(), LossKind::Sampled);
    let e = parse_loss("full").unwrap_err().to_string();
    assert!(e.contains("--losses") && e.contains("'full'"), "{e}");
}
