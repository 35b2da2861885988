//! `vgae experiment run`: a grid killed (SIGKILL) after some cells resumes without redoing any finished cell,
//! a changed grid is refused without --force, and the tables are written.

use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, Stdio};

fn vgae() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vgae"));
    // Embedded Cora: no data directory needed.
    c.env_remove("VGAE_DATA_DIR")
        .args(["--device", "cpu", "--threads", "1"]);
    c
}

fn grid(seeds: u64) -> String {
    format!(
        "name = \"kill\"\ndatasets = [\"cora\"]\nmodels = [\"gae\"]\ntasks = [\"link\"]\nseeds = {seeds}\nepochs = 40\n"
    )
}

/// The `pid` and `key` of every line of results.jsonl.
fn lines(path: &Path) -> Vec<(u32, String)> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("every line is whole JSON");
            (
                v["pid"].as_u64().unwrap() as u32,
                v["key"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_killed_grid_resumes_without_redoing_finished_cells() {
    let tmp = tempfile::tempdir().unwrap();
    let grid_path = tmp.path().join("grid.toml");
    std::fs::write(&grid_path, grid(8)).unwrap();
    let out = tmp.path().join("out");
    let results = out.join("results.jsonl");
    let run = |extra: &[&str]| {
        let mut c = vgae();
        c.args(["experiment", "run"])
            .arg(&grid_path)
            .arg("--out")
            .arg(&out)
            .arg("--json");
        c.args(extra);
        c
    };

    // Start the grid and kill it once two cells are recorded.
    let mut child = run(&[])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let first_pid = child.id();
    loop {
        if lines(&results).len() >= 2 {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the grid exited ({status}) before two cells were recorded");
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let before = std::fs::read_to_string(&results).unwrap();
    let n_before = lines(&results).len();
    assert!(n_before >= 2);
    assert!(lines(&results).iter().all(|(pid, _)| *pid == first_pid));

    // Resume: the recorded cells are kept as they were, the rest run once each in the new process.
    let o = run(&[]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains(&format!("8 cells, {n_before} already finished")),
        "{stderr}"
    );
    let after = std::fs::read_to_string(&results).unwrap();
    assert!(after.starts_with(&before), "finished lines must not change");
    let all = lines(&results);
    assert_eq!(all.len(), 8, "every cell exactly once");
    let keys: HashSet<&String> = all.iter().map(|(_, k)| k).collect();
    assert_eq!(keys.len(), 8, "no cell twice");
    let resumed: Vec<u32> = all[n_before..].iter().map(|(p, _)| *p).collect();
    assert!(
        resumed.iter().all(|p| *p != first_pid),
        "the new cells ran in the resumed process"
    );
    assert!(resumed.windows(2).all(|w| w[0] == w[1]));

    // Each cell is a normal run directory.
    let cells: Vec<_> = std::fs::read_dir(out.join("cells"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(cells.len(), 8);
    for c in &cells {
        for f in [
            "config.json",
            "metrics.jsonl",
            "split.safetensors",
            "model.safetensors",
            "result.json",
            "cell.json",
        ] {
            assert!(c.join(f).is_file(), "{} has no {f}", c.display());
        }
    }

    // Running again does nothing; a changed grid is refused, then accepted with --force keeping shared cells.
    let o = run(&[]).output().unwrap();
    assert!(o.status.success());
    assert_eq!(std::fs::read_to_string(&results).unwrap(), after);
    std::fs::write(&grid_path, grid(9)).unwrap();
    let o = run(&[]).output().unwrap();
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && e.contains("--force") && e.contains("grid.toml"),
        "{e}"
    );
    let o = run(&["--force"]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("9 cells, 8 already finished"));
    assert_eq!(lines(&results).len(), 9);
    let csv = std::fs::read_to_string(out.join("tables.csv")).unwrap();
    assert!(
        csv.starts_with("dataset,model,task,params,seeds,metric,mean,std\n"),
        "{csv}"
    );
    assert!(csv.contains("\ncora,GAE,link,,9,auc,"), "{csv}");
    let md = std::fs::read_to_string(out.join("tables.md")).unwrap();
    assert!(
        md.contains("## link") && md.contains("| cora | GAE | – | 9 |"),
        "{md}"
    );
}

#[test]
fn bad_grid_files_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("bad.toml");
    for (text, want) in [
        ("name = \"x\"\ndatasets = [\"cora\"]\nmodels = [\"gae\"]\ntasks = [\"link\"]\nseeds = 1\n[params]\nlearning_rate = [0.1]\n", "unknown key 'learning_rate'"),
        ("name = \"x\"\ndatasets = [\"cora\"]\nmodels = [\"sc\"]\ntasks = [\"clustering\"]\nseeds = 1\n", "only runs the link task"),
        ("name = \"x\"\ndatasets = [\"cora\"]\nmodels = [\"gae\"]\ntasks = [\"clusters\"]\nseeds = 1\n", "clusters"),
        ("name = \"x\"\ndatasets = [\"cora\"]\nmodels = [\"gae\"]\ntasks = [\"link\"]\nseeds = 1\n[params]\nlr = [\"fast\"]\n", "lr=\"fast\""),
        // Found by fuzzing: a seed count was expanded (and allocated) before any check.
        ("name = \"x\"\ndatasets = [\"cora\"]\nmodels = [\"gae\"]\ntasks = [\"link\"]\nseeds = 11111111111111110\n", "at most 10000"),
    ] {
        std::fs::write(&p, text).unwrap();
        let o = vgae().args(["experiment", "run"]).arg(&p).output().unwrap();
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && e.contains("bad.toml") && e.contains(want), "{text}: {e}");
    }
    for shipped in ["table1.toml", "clustering.toml"] {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../grids")
            .join(shipped);
        let g = vgae_core::experiments::grid::GridSpec::load(&p).unwrap();
        assert!(!g.cells().is_empty(), "{shipped}");
    }
}

/// key → metrics of every line of results.jsonl.
fn metrics(path: &Path) -> std::collections::BTreeMap<String, serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (v["key"].as_str().unwrap().to_string(), v["metrics"].clone())
        })
        .collect()
}

#[test]
fn jobs_give_the_numbers_of_one_process_and_name_a_failing_cell() {
    let tmp = tempfile::tempdir().unwrap();
    let grid_path = tmp.path().join("grid.toml");
    std::fs::write(
        &grid_path,
        "name = \"jobs\"\ndatasets = [\"cora\"]\nmodels = [\"gae\", \"vgae-x\"]\n\
         tasks = [\"link\", \"clustering\"]\nseeds = 2\nepochs = 10\n",
    )
    .unwrap();
    let run = |out: &Path, jobs: &str| {
        let o = vgae()
            .args(["experiment", "run"])
            .arg(&grid_path)
            .arg("--out")
            .arg(out)
            .args(["--json", "--jobs", jobs])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    let (one, two) = (tmp.path().join("one"), tmp.path().join("two"));
    let rows_one = run(&one, "1");
    let rows_two = run(&two, "2");
    assert_eq!(rows_one, rows_two, "grouped rows");
    let (m1, m2) = (
        metrics(&one.join("results.jsonl")),
        metrics(&two.join("results.jsonl")),
    );
    assert_eq!(m1.len(), 8);
    assert_eq!(m1, m2, "every cell's metrics, bit for bit");
    // Each cell ran in a worker of its own, which left its log and result line beside the run.
    let pids: HashSet<u32> = lines(&two.join("results.jsonl"))
        .iter()
        .map(|l| l.0)
        .collect();
    assert_eq!(pids.len(), 8);
    for d in std::fs::read_dir(two.join("cells")).unwrap() {
        let d = d.unwrap().path();
        assert!(d.join("log.txt").is_file() && d.join("cell_result.json").is_file());
    }
    assert!(one.join("chart.png").is_file() && two.join("chart.png").is_file());

    // A cell that fails stops the grid with its name, its log and the reason.
    let edges: String = (0..12).map(|i| format!("{i},{}\n", i + 1)).collect();
    let tiny = tmp.path().join("tiny.csv");
    std::fs::write(&tiny, edges).unwrap();
    std::fs::write(
        &grid_path,
        format!(
            "name = \"fail\"\ndatasets = [{:?}]\nmodels = [\"gae-x\"]\ntasks = [\"link\"]\nseeds = 2\nepochs = 5\n",
            tiny.display().to_string()
        ),
    )
    .unwrap();
    let o = vgae()
        .args(["experiment", "run"])
        .arg(&grid_path)
        .arg("--out")
        .arg(tmp.path().join("fail"))
        .args(["--jobs", "2"])
        .output()
        .unwrap();
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{e}");
    assert!(
        e.contains("tiny-gae-x-link-s0")
            && e.contains("log.txt")
            && e.contains("validation set is empty"),
        "{e}"
    );
}
