//! The evaluation protocols: the Planetoid public split, whole-graph training, the probe against
//! scikit-learn, and one seed of every task on Cora (plausible, repeatable).

use std::path::PathBuf;
use vgae_core::experiments::node_tasks::{corrupted_tails, whole_graph_split};
use vgae_core::experiments::table1::RowKind;
use vgae_core::experiments::tasks_table::{markdown, run_seed, summarise, TasksConfig};
use vgae_core::graph::ModelKind;
use vgae_core::rng::RunRng;
use vgae_core::tasks::{Probe, ProbeConfig};
use vgae_data::planetoid_split::PublicSplit;
use vgae_data::source::DataSource;

fn data_dir() -> PathBuf {
    std::env::var_os("VGAE_DATA_DIR").map(PathBuf::from).expect(
        "VGAE_DATA_DIR is not set: these tests need the real Planetoid files (../shared/data)",
    )
}

#[test]
fn public_split_is_kipfs() {
    let src = DataSource::new(Some(data_dir()));
    for (name, train, first_test) in [
        ("cora", 140, 1708),
        ("citeseer", 120, 2312),
        ("pubmed", 60, 18717),
    ] {
        let s = PublicSplit::from_source(&src, name).unwrap();
        let g = src.load_graph(name).unwrap();
        assert_eq!(s.train, (0..train).collect::<Vec<u32>>(), "{name}");
        assert_eq!(s.val, (train..train + 500).collect::<Vec<u32>>(), "{name}");
        assert_eq!((s.test.len(), s.test[0]), (1000, first_test), "{name}");
        assert!(s.test.windows(2).all(|w| w[0] < w[1]));
        s.check(name, g.num_nodes).unwrap();
        let labels = g.labels.as_ref().unwrap();
        assert!(s
            .train
            .iter()
            .chain(&s.val)
            .chain(&s.test)
            .all(|&i| labels[i as usize].is_some()));
        // 20 training nodes per class.
        for c in 0..g.num_classes as u32 {
            assert_eq!(
                s.train
                    .iter()
                    .filter(|&&i| labels[i as usize] == Some(c))
                    .count(),
                20
            );
        }
    }
    assert_eq!(
        PublicSplit::embedded_cora().unwrap(),
        PublicSplit::from_source(&src, "cora").unwrap()
    );
    assert!(PublicSplit::from_source(&src, "my_edges.csv").is_err());
    assert!(PublicSplit::embedded_cora()
        .unwrap()
        .check("cora", 100)
        .is_err());
}

#[test]
fn whole_graph_split_trains_on_every_edge() {
    let g = vgae_data::planetoid::load_embedded_cora().unwrap();
    let s = whole_graph_split(&g, 3).unwrap();
    assert_eq!(s.train_pos, g.edges);
    assert!(
        s.val_pos.is_empty()
            && s.test_pos.is_empty()
            && s.val_neg.is_empty()
            && s.test_neg.is_empty()
    );
    s.audit(&g).unwrap();
    // MRR negatives: corruptions (u, w) that are never edges, distinct per list.
    let pos = &g.edges[..50];
    let neg = corrupted_tails(&g, pos, 30, &mut RunRng::stream(0, 2)).unwrap();
    assert_eq!(neg.len(), 50 * 30);
    let edges = vgae_data::pairset::pair_set(&g.edges);
    for (row, &[u, _]) in neg.chunks(30).zip(pos) {
        assert!(row.iter().all(|&[a, w]| a == u
            && w != u
            && !edges.contains(&vgae_data::pairset::pair_key(u, w))));
        let mut ws: Vec<u32> = row.iter().map(|p| p[1]).collect();
        ws.sort_unstable();
        ws.dedup();
        assert_eq!(ws.len(), 30);
    }
    assert!(corrupted_tails(&g, pos, 3000, &mut RunRng::stream(0, 2)).is_err());
}

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// scikit-learn 1.9.1 (`Lcg` as in tests/tasks_metrics.rs):
/// ```python
/// from sklearn.preprocessing import StandardScaler
/// g = Lcg(23); n, d, k = 700, 16, 7
/// means = np.array([[g.next()*2-1 for _ in range(d)] for _ in range(k)])
/// y = np.array([int(g.next()*k) for _ in range(n)])
/// X = np.array([[means[y[i]][j]*0.8 + (g.next()-0.5)*3 for j in range(d)] for i in range(n)])
/// tr, va, te = np.arange(0, 70), np.arange(70, 270), np.arange(300, 700)
/// sc = StandardScaler().fit(X[tr])
/// for C in [0.01, 0.1, 1.0, 10.0, 100.0]:
///     lr = LogisticRegression(C=C, tol=1e-12, max_iter=100000).fit(sc.transform(X[tr]), y[tr])
///     (lr.predict(sc.transform(X[va])) == y[va]).mean(), (lr.predict(sc.transform(X[te])) == y[te]).mean()
/// # best on validation: C = 0.1, val 0.635, test 0.615
/// ```
#[test]
fn probe_matches_scikit_learns_pipeline() {
    let mut g = Lcg(23);
    let (n, d, k) = (700, 16, 7);
    let means: Vec<f64> = (0..k * d).map(|_| g.next() * 2.0 - 1.0).collect();
    let y: Vec<u32> = (0..n).map(|_| (g.next() * k as f64) as u32).collect();
    let x: Vec<f64> = (0..n)
        .flat_map(|i| (0..d).map(move |j| (i, j)))
        .map(|(i, j)| means[y[i] as usize * d + j] * 0.8 + (g.next() - 0.5) * 3.0)
        .collect();
    let labels: Vec<Option<u32>> = y.iter().map(|&c| Some(c)).collect();
    let split = PublicSplit {
        train: (0..70).collect(),
        val: (70..270).collect(),
        test: (300..700).collect(),
    };
    let s = Probe::new(&x, d, &labels)
        .unwrap()
        .run(&split, &ProbeConfig::default())
        .unwrap();
    assert_eq!(s.c, 0.1);
    assert!(
        (s.val_acc - 0.635).abs() < 1e-9 && (s.test_acc - 0.615).abs() < 1e-9,
        "{s:?}"
    );
    let per_c = [
        (0.01, 0.335, 0.29),
        (1.0, 0.605, 0.5675),
        (100.0, 0.565, 0.5325),
    ];
    for (c, val, test) in per_c {
        let one = ProbeConfig {
            cs: vec![c],
            ..ProbeConfig::default()
        };
        let s = Probe::new(&x, d, &labels)
            .unwrap()
            .run(&split, &one)
            .unwrap();
        assert!(
            (s.val_acc - val).abs() < 1e-9 && (s.test_acc - test).abs() < 1e-9,
            "C = {c}: {s:?}"
        );
    }
}

#[test]
fn one_seed_of_every_task_on_cora_is_plausible_and_repeatable() {
    let src = DataSource::new(Some(data_dir()));
    let g = src.load_graph("cora").unwrap();
    let public = PublicSplit::from_source(&src, "cora").unwrap();
    let cfg = TasksConfig {
        datasets: vec!["cora".into()],
        seeds: 1,
        ..TasksConfig::default()
    };
    let dev = candle_core::Device::Cpu;
    let kind = RowKind::Model(ModelKind::Vgae, true);
    let mut epochs = 0;
    let a = run_seed(&g, Some(&public), kind, 0, &cfg, &dev, &mut |e| {
        if let vgae_core::experiments::tasks_table::TasksEvent::Epoch(_) = e {
            epochs += 1
        }
    })
    .unwrap();
    assert_eq!(
        epochs, 400,
        "200 epochs on all edges, 200 on the link split"
    );
    let c = a.clustering.unwrap();
    let p = a.classification.unwrap();
    let l = a.link.as_ref().unwrap();
    assert!(
        c.acc > 0.4 && c.nmi > 0.25 && c.ari > 0.15 && c.ami > 0.25,
        "{c:?}"
    );
    assert!(p.test_acc > 0.6 && p.val_acc > 0.6, "{p:?}");
    assert!(l.auc > 0.88 && l.ap > 0.88, "{l:?}");
    let h: Vec<f64> = l.ranking.hits.iter().map(|h| h.1).collect();
    assert!(
        h.windows(2).all(|w| w[0] <= w[1]) && h[0] > 0.0,
        "Hits@20 <= @50 <= @100: {h:?}"
    );
    assert!(l.ranking.mrr.mrr > 0.05 && l.ranking.mrr.mrr <= 1.0);
    let b = run_seed(&g, Some(&public), kind, 0, &cfg, &dev, &mut |_| {}).unwrap();
    assert_eq!(
        (a.clustering, a.classification, &a.link),
        (b.clustering, b.classification, &b.link)
    );
    let row = summarise(&[a, b]);
    assert_eq!(row.arga_paper, Some((0.609, 0.436, 0.346)));
    assert_eq!(
        row.get("acc").unwrap().1,
        0.0,
        "identical seeds, zero spread"
    );
    let md = markdown(&[row], &cfg);
    assert!(
        md.contains("| VGAE | cora |")
            && md.contains("Hits@50")
            && md.contains("60.9 / 43.6 / 34.6"),
        "{md}"
    );
    let bad = RowKind::Baseline(vgae_core::baselines::BaselineKind::Sc);
    assert!(run_seed(&g, None, bad, 0, &cfg, &dev, &mut |_| {}).is_err());
}
