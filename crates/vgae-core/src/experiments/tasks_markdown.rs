//! `tasks.md`: one markdown table per task of a [`TasksResult`](super::tasks_table::TasksResult), values in %
//! as mean ± std over seeds.

use super::table1::{count, loss_name, pct_of};
use super::tasks_table::{Task, TasksConfig, TasksRow};

fn cell(r: &TasksRow, name: &str) -> String {
    r.get(name)
        .map_or("–".into(), |(m, s)| pct_of(m, s, r.seeds))
}

fn clustering(rows: &[TasksRow]) -> String {
    let mut s = String::from(
        "| model | dataset | ACC | NMI | ARI | AMI | ARGA paper ACC / NMI / ARI | seeds |\n|---|---|---|---|---|---|---|---|\n",
    );
    for r in rows.iter().filter(|r| r.get("acc").is_some()) {
        let paper = r.arga_paper.map_or("–".into(), |(a, n, i)| {
            format!("{:.1} / {:.1} / {:.1}", 100.0 * a, 100.0 * n, 100.0 * i)
        });
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {paper} | {} |\n",
            r.model,
            r.dataset,
            cell(r, "acc"),
            cell(r, "nmi"),
            cell(r, "ari"),
            cell(r, "ami"),
            r.seeds
        ));
    }
    s
}

fn classification(rows: &[TasksRow]) -> String {
    let mut s = String::from(
        "| model | dataset | test accuracy | validation accuracy | seeds |\n|---|---|---|---|---|\n",
    );
    for r in rows.iter().filter(|r| r.get("probe_acc").is_some()) {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            r.model,
            r.dataset,
            cell(r, "probe_acc"),
            cell(r, "probe_val_acc"),
            r.seeds
        ));
    }
    s
}

fn ranking(rows: &[TasksRow], hits: &[usize]) -> String {
    let hk: String = hits.iter().map(|k| format!(" Hits@{k} |")).collect();
    let mut s = format!(
        "| model | dataset | AUC | AP |{hk} MRR | seeds |\n|---|---|---|---|{}---|---|\n",
        "---|".repeat(hits.len())
    );
    for r in rows.iter().filter(|r| r.get("auc").is_some()) {
        let hv: String = hits
            .iter()
            .map(|k| format!(" {} |", cell(r, &format!("hits@{k}"))))
            .collect();
        s.push_str(&format!(
            "| {} | {} | {} | {} |{hv} {} | {} |\n",
            r.model,
            r.dataset,
            cell(r, "auc"),
            cell(r, "ap"),
            cell(r, "mrr"),
            r.seeds
        ));
    }
    s
}

/// `tasks.md`: a legend, then a table per task that `cfg` ran.
pub fn markdown(rows: &[TasksRow], cfg: &TasksConfig) -> String {
    let mut s = format!(
        "Mean ± std in % over {} ({} loss, {}).\n\n",
        count(cfg.seeds, "seed"),
        loss_name(cfg.loss),
        count(cfg.epochs as u64, "epoch")
    );
    if cfg.tasks.contains(&Task::Clustering) {
        s.push_str(&format!(
            "Node clustering: the model trained on every edge, k-means++ (k = classes, {} restarts) on μ of the \
             labelled nodes.\n\n{}\n",
            cfg.kmeans.restarts,
            clustering(rows)
        ));
    }
    if cfg.tasks.contains(&Task::Classification) {
        s.push_str(&format!(
            "Node classification: logistic regression on μ of the same model, Planetoid public split, C from {:?} \
             by validation accuracy.\n\n{}\n",
            cfg.probe.cs,
            classification(rows)
        ));
    }
    if cfg.tasks.contains(&Task::Ranking) {
        s.push_str(&format!(
            "Link prediction: the model of each seed's link split (Table 1's protocol); Hits@K against the shared \
             test negatives, MRR against {} corrupted tails per test edge (OGB's conventions).\n\n{}",
            cfg.ranking.mrr_negatives,
            ranking(rows, &cfg.ranking.hits)
        ));
    }
    s
}
