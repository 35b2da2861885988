//! The mock Hugging Face hub (`tests/mock_hub.py`) as a child process on 127.0.0.1.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running mock hub; stopped when dropped.
pub struct MockHub {
    child: Child,
    /// `http://127.0.0.1:<port>`, for `HF_ENDPOINT`.
    pub url: String,
    /// The request log (`METHOD path` per line).
    pub log: PathBuf,
    _dir: tempfile::TempDir,
}

impl MockHub {
    /// Serves `root/planetoid` as every dataset repository, plus what is pushed; `extra` are more flags
    /// (`--corrupt FILE`, `--tamper PATH`, `--drop-commits N`).
    pub fn start(root: &Path, extra: &[&str]) -> MockHub {
        let dir = tempfile::tempdir().unwrap();
        let port_file = dir.path().join("port");
        let log = dir.path().join("requests.log");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/mock_hub.py");
        let child = Command::new("python3")
            .arg(&script)
            .arg("--root")
            .arg(root)
            .arg("--port-file")
            .arg(&port_file)
            .arg("--log")
            .arg(&log)
            .args(["--lifetime", "300"])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 is needed to run the mock hub");
        let t = Instant::now();
        while !port_file.exists() {
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "mock hub did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let port = std::fs::read_to_string(&port_file).unwrap();
        MockHub {
            child,
            url: format!("http://127.0.0.1:{}", port.trim()),
            log,
            _dir: dir,
        }
    }

    /// The requests served so far, `METHOD path` each.
    pub fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

impl Drop for MockHub {
    fn drop(&mut self) {
        let _ = self.child.stdin.take().map(|mut s| s.write_all(b""));
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
