//! Data-parallel mini-batch runs on 2 MPI ranks over the loopback interface (`mpirun`, OpenMPI): both ranks
//! end with the same state, which equals a 1-rank run with the same global batch to float tolerance, and a
//! rank that dies makes the launch fail within a timeout instead of hanging.
#![cfg(feature = "mpi")]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHECK: &str = env!("CARGO_BIN_EXE_vgae-mpi-check");
const DENSE_CHECK: &str = env!("CARGO_BIN_EXE_vgae-mpi-dense-check");

/// `mpirun -np RANKS vgae-mpi-check ARGS` on loopback TCP (root allowed, as in CI containers), killed and
/// reported as a failure after `limit`. Returns the exit status and stderr.
fn mpirun(ranks: usize, args: &[String], limit: Duration) -> (std::process::ExitStatus, String) {
    mpirun_bin(CHECK, ranks, args, limit)
}

/// [`mpirun`] of another check binary.
fn mpirun_bin(
    bin: &str,
    ranks: usize,
    args: &[String],
    limit: Duration,
) -> (std::process::ExitStatus, String) {
    let mut child = Command::new("mpirun")
        .args([
            "--allow-run-as-root",
            "--oversubscribe",
            "-np",
            &ranks.to_string(),
        ])
        .args([
            "--mca",
            "btl",
            "self,tcp",
            "--mca",
            "btl_tcp_if_include",
            "lo",
        ])
        .args(["--mca", "oob_tcp_if_include", "lo"])
        .arg(bin)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mpirun from OpenMPI (Debian: openmpi-bin) on PATH");
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
            return (status, err);
        }
        if start.elapsed() > limit {
            child.kill().unwrap();
            panic!("mpirun still running after {limit:?}: a rank hangs");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn floats(path: &Path) -> Vec<f32> {
    std::fs::read(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

fn run(dir: &Path, name: &str, ranks: usize, rest: &[&str]) -> String {
    let out = dir.join(name).display().to_string();
    let mut args = vec![out.clone()];
    args.extend(rest.iter().map(|s| s.to_string()));
    let (status, err) = mpirun(ranks, &args, Duration::from_secs(120));
    assert!(status.success(), "{ranks} ranks: {status}\n{err}");
    out
}

/// W₀, the dense weights and the epoch losses of a 2-rank run: the same bits on both ranks, and within
/// 1e-4 (relative to the largest entry) of the 1-rank run; exact receptive fields, so the only difference
/// is the order in which the two shards' gradients are summed. With a history: the same bits on both ranks
/// and close losses.
#[test]
fn two_ranks_hold_one_state_equal_to_one_rank() {
    let dir = tempfile::tempdir().unwrap();
    // 600 nodes, 2 epochs, batches of 200 edges (an odd last batch), exact fan-outs.
    for (history, args) in [
        ("0", ["600", "2", "200", "0", "0"]),
        ("1", ["600", "2", "200", "0", "1"]),
    ] {
        let one = floats(Path::new(&format!(
            "{}.rank0",
            run(dir.path(), &format!("one{history}"), 1, &args)
        )));
        let two = run(dir.path(), &format!("two{history}"), 2, &args);
        let (r0, r1) = (
            floats(Path::new(&format!("{two}.rank0"))),
            floats(Path::new(&format!("{two}.rank1"))),
        );
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&r0), bits(&r1), "history {history}: ranks disagree");
        assert_eq!(one.len(), r0.len());
        let scale = one.iter().fold(0f32, |m, x| m.max(x.abs()));
        let worst = one
            .iter()
            .zip(&r0)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        eprintln!("history {history}: largest difference {worst} (largest entry {scale})");
        if history == "0" {
            assert!(
                worst <= 1e-4 * scale,
                "largest difference {worst} (scale {scale})"
            );
        } else {
            // With a history a neighbour in the other rank's shard is a stored row (no gradient through
            // it) where the 1-rank run computes it fresh: another run, not a reordered sum. Its epoch
            // losses (the last two floats) stay within 2% of the 1-rank run's.
            let (a, b) = (&one[one.len() - 2..], &r0[r0.len() - 2..]);
            for (x, y) in a.iter().zip(b) {
                assert!(
                    (x - y).abs() <= 0.02 * x.abs(),
                    "epoch losses {a:?} vs {b:?}"
                );
            }
        }
    }
}

/// Full-batch VGAE* with the exact dense loss split over 1, 2 and 3 ranks: the epoch losses, validation
/// AUCs and final embedding have the same bits on every rank and for every rank count, since the slots'
/// partial sums are added in one fixed order wherever they were computed.
#[test]
fn the_sharded_dense_loss_gives_the_one_rank_bits() {
    let dir = tempfile::tempdir().unwrap();
    // 1100 nodes: 9 tiles of 128 rows, 45 tile pairs dealt to 8 slots; 3 ranks hold 3, 3 and 2 slots.
    let mut states = Vec::new();
    for ranks in [1, 2, 3] {
        let out = dir
            .path()
            .join(format!("dense{ranks}"))
            .display()
            .to_string();
        let args = [out.clone(), "1100".into(), "40".into()];
        let (status, err) = mpirun_bin(DENSE_CHECK, ranks, &args, Duration::from_secs(120));
        assert!(status.success(), "{ranks} ranks: {status}\n{err}");
        for r in 0..ranks {
            states.push((ranks, r, floats(Path::new(&format!("{out}.rank{r}")))));
        }
    }
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    let (_, _, one) = &states[0];
    // 40 epochs × (loss, val AUC), then the [1100, 16] embedding; the run learns.
    assert_eq!(one.len(), 80 + 1100 * 16);
    assert!(
        one[78] < one[0] && one[79] > 0.6,
        "losses / AUCs {:?}",
        &one[..80]
    );
    for (ranks, r, s) in &states[1..] {
        assert_eq!(
            bits(s),
            bits(one),
            "{ranks} ranks, rank {r} differs from 1 rank"
        );
    }
}

#[test]
fn a_rank_that_dies_fails_the_launch_within_a_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dies").display().to_string();
    let args: Vec<String> = [out.as_str(), "600", "3", "100", "0", "0", "4"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let start = Instant::now();
    let (status, err) = mpirun(2, &args, Duration::from_secs(60));
    assert!(!status.success(), "a launch with a dead rank succeeded");
    assert!(
        err.contains("rank 1") || err.contains("signal"),
        "mpirun's error names the dead rank: {err}"
    );
    assert!(
        !Path::new(&format!("{out}.rank0")).exists(),
        "rank 0 finished without rank 1"
    );
    eprintln!("failed after {:?}: {err}", start.elapsed());
}
