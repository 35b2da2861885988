//! Kipf & Welling (2016), Table 1: link prediction AUC / AP (%) on the Planetoid citation graphs.

/// (row, dataset, AUC %, AP %).
pub const TABLE1: &[(&str, &str, f64, f64)] = &[
    ("SC", "cora", 84.6, 88.5),
    ("SC", "citeseer", 80.5, 85.0),
    ("SC", "pubmed", 84.2, 87.8),
    ("DW", "cora", 83.1, 85.0),
    ("DW", "citeseer", 80.5, 83.6),
    ("DW", "pubmed", 84.4, 84.1),
    ("GAE*", "cora", 84.3, 88.1),
    ("GAE*", "citeseer", 78.7, 84.1),
    ("GAE*", "pubmed", 82.2, 87.4),
    ("VGAE*", "cora", 84.0, 87.7),
    ("VGAE*", "citeseer", 78.9, 84.1),
    ("VGAE*", "pubmed", 82.7, 87.5),
    ("GAE", "cora", 91.0, 92.0),
    ("GAE", "citeseer", 89.5, 89.9),
    ("GAE", "pubmed", 96.4, 96.5),
    ("VGAE", "cora", 91.4, 92.6),
    ("VGAE", "citeseer", 90.8, 92.0),
    ("VGAE", "pubmed", 94.4, 94.7),
];

/// The paper's (AUC %, AP %) for a row and dataset.
pub fn table1(row: &str, dataset: &str) -> Option<(f64, f64)> {
    TABLE1
        .iter()
        .find(|(r, d, _, _)| *r == row && *d == dataset)
        .map(|(_, _, a, p)| (*a, *p))
}

/// Mean and sample standard deviation (n − 1).
pub fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = if v.len() > 1 {
        v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (m, var.sqrt())
}
