//! Small graphs the own-graph tests write: the karate club, with integer or string ids.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// Zachary's karate club as shipped with the examples: (u, v) pairs, 34 nodes, 78 edges.
pub fn karate() -> Vec<(u32, u32)> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../vgae-core/examples/data/karate.csv"
    ))
    .unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("source"))
        .map(|l| {
            let (a, b) = l.split_once(',').unwrap();
            (a.trim().parse().unwrap(), b.trim().parse().unwrap())
        })
        .collect()
}

/// Member names, some with a comma (quoted in the file).
pub fn name(i: u32) -> String {
    match i % 3 {
        0 => format!("Smith, M{i}"),
        _ => format!("member{i}"),
    }
}

pub fn quote(s: &str) -> String {
    if s.contains(',') {
        format!("\"{s}\"")
    } else {
        s.to_string()
    }
}

/// The karate club with string ids, a header and a weight column.
pub fn write_named(dir: &Path) -> PathBuf {
    let mut s = String::from("# karate club, named\nperson_a,person_b,strength\n");
    for (k, (u, v)) in karate().into_iter().enumerate() {
        s.push_str(&format!(
            "{},{},{}\n",
            quote(&name(u)),
            quote(&name(v)),
            1 + k % 3
        ));
    }
    let p = dir.join("named.csv");
    std::fs::write(&p, s).unwrap();
    p
}

pub fn write_plain(dir: &Path, header: &str) -> PathBuf {
    let mut s = String::from(header);
    for (u, v) in karate() {
        s.push_str(&format!("{u},{v}\n"));
    }
    let p = dir.join("karate.csv");
    std::fs::write(&p, s).unwrap();
    p
}

pub fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
