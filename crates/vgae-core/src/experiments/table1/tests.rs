use super::*;
use crate::baselines::BaselineKind;
use crate::graph::ModelKind;

fn result(label: &str, test_auc: f64, test_ap: f64) -> GraphRunResult {
    GraphRunResult {
        label: label.into(),
        epochs: 200,
        val_auc: 0.5,
        val_ap: 0.5,
        test_auc,
        test_ap,
        best_epoch: 150,
        best_val_auc: 0.6,
        best_val_ap: 0.6,
        best_test_auc: test_auc - 0.01,
        best_test_ap: test_ap - 0.01,
        train_seconds: 2.0,
        seconds_per_epoch: 0.01,
    }
}

#[test]
fn row_names_parse_and_round_trip() {
    let rows = parse_rows(&["sc", " DW ", "gae-x", "vgae*", "gae", "vgae"]).unwrap();
    assert_eq!(rows, RowKind::ALL.to_vec());
    for r in RowKind::ALL {
        assert_eq!(r.name().parse::<RowKind>().unwrap(), r);
        let j = serde_json::to_string(&r).unwrap();
        assert_eq!(j, format!("\"{}\"", r.name()));
        assert_eq!(serde_json::from_str::<RowKind>(&j).unwrap(), r);
    }
}

#[test]
fn family_rows_parse_round_trip_and_configure_their_models() {
    let rows = parse_rows(&["linear-gae", "linear-vgae", "arga", "argva"]).unwrap();
    assert_eq!(rows, RowKind::FAMILY.to_vec());
    for r in RowKind::FAMILY {
        for name in [r.name().to_string(), format!("{}-x", r.name())] {
            let parsed: RowKind = name.parse().unwrap();
            assert_eq!(parsed.name(), name);
            let j = serde_json::to_string(&parsed).unwrap();
            assert_eq!(serde_json::from_str::<RowKind>(&j).unwrap(), parsed);
        }
    }
    let label = |n: &str| {
        let r: RowKind = n.parse().unwrap();
        r.configure(GraphTrainConfig::default()).unwrap().label()
    };
    assert_eq!(label("linear-gae"), "LinearGAE");
    assert_eq!(label("linear-vgae-x"), "LinearVGAE*");
    assert_eq!(label("arga"), "ARGA");
    assert_eq!(label("argva-x"), "ARGVA*");
    assert!(RowKind::Baseline(BaselineKind::Sc)
        .configure(GraphTrainConfig::default())
        .is_none());
}

#[test]
fn unknown_row_names_the_flag_and_the_value() {
    let e = parse_rows(&["gae", "gcn"]).unwrap_err().to_string();
    assert!(e.contains("--models"), "{e}");
    assert!(e.contains("'gcn'"), "{e}");
    assert!(serde_json::from_str::<RowKind>("\"gcn\"").is_err());
}

#[test]
fn config_round_trips_through_json() {
    let cfg = Table1Config {
        rows: parse_rows(&["vgae-x", "sc"]).unwrap(),
        loss: LossKind::Sampled,
        ..Table1Config::default()
    };
    let j = serde_json::to_value(&cfg).unwrap();
    assert_eq!(j["rows"], serde_json::json!(["vgae-x", "sc"]));
    assert_eq!(j["loss"], "sampled");
    let back: Table1Config = serde_json::from_value(j).unwrap();
    assert_eq!(back, cfg);
}

#[test]
fn zero_seeds_is_an_error_before_any_work() {
    let cfg = Table1Config {
        datasets: vec!["no-such-graph".into()],
        seeds: 0,
        ..Table1Config::default()
    };
    let e = table1(&cfg, &DataSource::new(None), &Device::Cpu, &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("--seeds"), "{e}");
}

#[test]
fn summary_has_mean_std_and_the_papers_numbers() {
    let kind = RowKind::Model(ModelKind::Gae, true);
    let row = summarise(
        "cora",
        kind,
        &[result("GAE", 0.90, 0.92), result("GAE", 0.92, 0.94)],
    );
    assert_eq!(row.model, "GAE");
    assert_eq!(row.seeds, 2);
    assert!((row.auc_mean - 0.91).abs() < 1e-12);
    // Sample std of {0.90, 0.92}: 0.01·√2.
    assert!((row.auc_std - 0.01 * 2f64.sqrt()).abs() < 1e-12);
    assert!((row.best_val_ap_mean - 0.92).abs() < 1e-12);
    assert_eq!((row.paper_auc, row.paper_ap), (Some(91.0), Some(92.0)));
    assert_eq!(row.seconds_per_epoch, Some(0.01));
    let sc = summarise(
        "cora",
        RowKind::Baseline(BaselineKind::Sc),
        &[result("SC", 0.8, 0.8)],
    );
    assert_eq!(sc.seconds_per_epoch, None);
    assert_eq!(sc.auc_std, 0.0);
}

#[test]
fn pct_formats_one_decimal_in_percent() {
    assert_eq!(pct(0.9114, 0.0079), "91.1 ± 0.8");
    assert_eq!(pct(1.0, 0.0), "100.0 ± 0.0");
}

#[test]
fn markdown_of_a_made_up_row() {
    let row = Row {
        dataset: "cora".into(),
        model: "VGAE*".into(),
        seeds: 3,
        auc_mean: 0.843,
        auc_std: 0.007,
        ap_mean: 0.878,
        ap_std: 0.0072,
        best_val_auc_mean: 0.844,
        best_val_ap_mean: 0.8781,
        paper_auc: Some(84.0),
        paper_ap: Some(87.7),
        seconds_per_epoch: Some(0.00812),
        seconds_per_run: 1.62,
        failed: 0,
    };
    let line =
        "| VGAE* | cora | 84.3 ± 0.7 | 87.8 ± 0.7 | 84.4 / 87.8 | 84.0 / 87.7 | 3 | 0.0081 | 1.6 |";
    assert_eq!(row_line(&row), line);
    let no_paper = Row {
        paper_auc: None,
        paper_ap: None,
        seconds_per_epoch: None,
        ..row.clone()
    };
    assert!(row_line(&no_paper).contains("| – | 3 | – |"));
    let cfg = Table1Config {
        seeds: 3,
        loss: LossKind::Sampled,
        epochs: 50,
        ..Table1Config::default()
    };
    let res = Table1Result {
        rows: vec![row.clone()],
        runs: vec![],
        failures: vec![],
    };
    let md = markdown(&res, &cfg);
    assert!(md.starts_with("Link prediction, test AUC / AP in % (mean ± std over 3 seeds, each its own split; sampled loss, 50 epochs).\n"), "{md}");
    assert!(
        md.ends_with(&format!("|---|---|---|---|---|---|---|---|---|\n{line}\n")),
        "{md}"
    );
}

#[test]
fn one_seed_has_no_std_and_failed_seeds_are_counted() {
    let kind = RowKind::Model(ModelKind::Gae, true);
    let mut row = summarise("cora", kind, &[result("GAE", 0.9114, 0.92)]);
    assert!(
        row_line(&row).contains("| GAE | cora | 91.1 | 92.0 |"),
        "{}",
        row_line(&row)
    );
    row.failed = 2;
    assert!(
        row_line(&row).contains("| 1 (2 failed) |"),
        "{}",
        row_line(&row)
    );
}

#[test]
fn failed_runs_are_listed_and_a_row_without_any_run_says_failed() {
    let fail = |model: &str, seed| FailedRun {
        dataset: "lesmis".into(),
        model: model.into(),
        seed,
        error: "Lanczos did not converge".into(),
    };
    let mut gae = summarise(
        "lesmis",
        RowKind::Model(ModelKind::Gae, true),
        &[result("GAE", 0.8, 0.8)],
    );
    gae.failed = 1;
    let res = Table1Result {
        rows: vec![gae],
        runs: vec![],
        failures: vec![fail("SC", 0), fail("SC", 1), fail("GAE", 1)],
    };
    let md = markdown(&res, &Table1Config::default());
    assert!(
        md.contains("| SC | lesmis | failed | failed | – | – | 0 (2 failed) | – | – |\n"),
        "{md}"
    );
    // GAE has a row: no "failed" line of its own, but its failure is listed.
    assert!(!md.contains("| GAE | lesmis | failed"), "{md}");
    assert!(
        md.contains("- SC on lesmis, seed 1: Lanczos did not converge\n"),
        "{md}"
    );
    assert!(
        md.contains("- GAE on lesmis, seed 1: Lanczos did not converge\n"),
        "{md}"
    );
    assert_eq!(res.json()["failures"][2]["seed"], 1);
}

#[test]
fn a_graph_too_small_to_split_fails_every_run_and_the_table_still_returns() {
    // 12 edges: the default 5 % validation share rounds to no pair at all, so every run's split fails.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tiny.csv");
    let edges: String = (0..12).map(|i| format!("{i},{}\n", i + 1)).collect();
    std::fs::write(&path, edges).unwrap();
    let cfg = Table1Config {
        datasets: vec![path.display().to_string()],
        rows: parse_rows(&["sc", "gae"]).unwrap(),
        seeds: 2,
        epochs: 2,
        ..Table1Config::default()
    };
    let mut failed_events = 0;
    let res = table1(&cfg, &DataSource::new(None), &Device::Cpu, &mut |e| {
        if let Table1Event::RunFailed(_) = e {
            failed_events += 1;
        }
    })
    .unwrap();
    assert!(res.rows.is_empty());
    assert_eq!(res.failures.len(), 4);
    assert_eq!(failed_events, 4);
    let models: Vec<&str> = res.failures.iter().map(|f| f.model.as_str()).collect();
    assert_eq!(models, ["SC", "SC", "GAE", "GAE"]);
    assert!(
        res.failures[0].error.contains("val"),
        "{}",
        res.failures[0].error
    );
}
