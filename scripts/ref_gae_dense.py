#!/usr/bin/env python3
"""PyTorch port of the reference GAE/VGAE protocol (tkipf/gae, Kipf & Welling 2016), for `scripts/bench_reference.sh`.

Faithful to tkipf/gae `train.py` with its defaults:
  * Planetoid pickles; features = vstack(allx, tx) with the test rows put back in test.index order, used
    unnormalised, as a sparse tensor (tkipf/gae does not row-normalise them).
  * Split as `mask_test_edges`: upper-triangle edges shuffled, floor(E/10) test, floor(E/20) validation, the rest
    train; as many negatives for each from pairs i != j that are not edges (and not already drawn).
  * Â = D^-1/2 (A_train + I) D^-1/2 as a torch sparse tensor.
  * Encoder GraphConvolutionSparse(F -> 32, ReLU) then GraphConvolution(32 -> 16) (GAE), or two of them
    (mu, log sigma) from the hidden layer (VGAE, z = mu + eps * sigma); Glorot-uniform weights, no biases,
    dropout 0.
  * Decoder: inner product over ALL N² pairs, loss norm * mean(weighted BCE(logits, A_train + I, pos_weight))
    with pos_weight = (N² - S) / S, norm = N² / (2 (N² - S)), S = 2 * train edges; VGAE subtracts
    KL = (0.5 / N) * mean_i sum_j (1 + 2 log sigma - mu² - sigma²).
  * Adam lr 0.01, 200 epochs; test ROC AUC / AP (sklearn) on sigmoid(mu_i . mu_j) of the test pairs.

The epoch time is the training step only (forward, loss, backward, Adam); the reference's per-epoch validation
scoring is skipped (`--val-every` turns it on, outside the timed region).

Prints one line per epoch and a final JSON line:
  {"median_epoch_seconds", "peak_rss_mb", "test_auc", "test_ap", ...}

    python3 scripts/ref_gae_dense.py --dataset cora --model gae --epochs 200 --threads 2

With --device cuda the graph, labels, model and noise live on the GPU (the epoch time then waits for it).
"""
import argparse
import json
import os
import pickle
import resource
import sys
import time
import warnings

import numpy as np
import scipy.sparse as sp
import torch

warnings.filterwarnings("ignore", category=DeprecationWarning)
warnings.filterwarnings("ignore", message="Sparse invariant checks")

# --------------------------------------------------------------------------------------------------------------
# Planetoid loader (as tkipf/gae `input_data.load_data`)


def _default_data_dir():
    here = os.path.dirname(os.path.abspath(__file__))
    for d in (os.environ.get("VGAE_DATA_DIR"), os.path.join(here, "..", "..", "shared", "data"), "/work/shared/data"):
        if d and os.path.isdir(d):
            return d
    return "data"


def _planetoid_dir(data_dir):
    p = os.path.join(data_dir, "planetoid")
    return p if os.path.isdir(p) else data_dir


def _load_pickle(path):
    with open(path, "rb") as f:
        return pickle.load(f, encoding="latin1")


def load_planetoid(name, data_dir=None):
    """Returns (adjacency as scipy CSR without self-loops, features as scipy CSR float32)."""
    d = _planetoid_dir(data_dir or _default_data_dir())
    objs = {}
    for part in ("x", "tx", "allx", "graph"):
        p = os.path.join(d, f"ind.{name}.{part}")
        if part == "allx" and name == "pubmed" and not os.path.exists(p):
            # The original ind.pubmed.allx is missing here; an approximation (6 significant digits) stands in.
            p = os.path.join(d, "..", "pubmed-allx-approx", "ind.pubmed.allx.approx6sig")
        objs[part] = _load_pickle(p)
    tx, allx, graph = objs["tx"], objs["allx"], objs["graph"]
    with open(os.path.join(d, f"ind.{name}.test.index")) as f:
        test_idx_reorder = [int(l.strip()) for l in f if l.strip()]
    test_idx_range = np.sort(test_idx_reorder)
    if name == "citeseer":
        # Isolated test nodes: zero rows for the missing indices (as Kipf's loader).
        full = range(min(test_idx_reorder), max(test_idx_reorder) + 1)
        tx_ext = sp.lil_matrix((len(full), tx.shape[1]))
        tx_ext[test_idx_range - min(test_idx_range), :] = tx
        tx = tx_ext
    features = sp.vstack((sp.csr_matrix(allx), sp.csr_matrix(tx))).tolil()
    features[test_idx_reorder, :] = features[test_idx_range, :]
    features = features.tocsr().astype(np.float32)
    n = features.shape[0]
    rows, cols = [], []
    for i, nbrs in graph.items():
        for j in nbrs:
            if i != j:
                rows.append(i)
                cols.append(j)
    n = max(n, max(rows) + 1, max(cols) + 1)
    a = sp.coo_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(n, n)).tocsr()
    a = ((a + a.T) > 0).astype(np.float32).tocsr()
    a.setdiag(0)
    a.eliminate_zeros()
    if features.shape[0] < n:
        features = sp.vstack([features, sp.csr_matrix((n - features.shape[0], features.shape[1]), dtype=np.float32)]).tocsr()
    return a, features


# --------------------------------------------------------------------------------------------------------------
# Split (as tkipf/gae `preprocessing.mask_test_edges`, with hash sets instead of its O(E) membership tests)


def mask_test_edges(adj, rng):
    n = adj.shape[0]
    triu = sp.triu(adj, k=1).tocoo()
    edges = np.stack([triu.row, triu.col], 1).astype(np.int64)
    num_test = int(np.floor(edges.shape[0] / 10.0))
    num_val = int(np.floor(edges.shape[0] / 20.0))
    idx = np.arange(edges.shape[0])
    rng.shuffle(idx)
    val_edges = edges[idx[:num_val]]
    test_edges = edges[idx[num_val : num_val + num_test]]
    train_edges = edges[idx[num_val + num_test :]]
    edge_set = set(map(tuple, edges.tolist())) | set((j, i) for i, j in edges.tolist())

    def negatives(count, taken):
        out = []
        while len(out) < count:
            i, j = int(rng.integers(0, n)), int(rng.integers(0, n))
            if i == j or (i, j) in edge_set or (i, j) in taken or (j, i) in taken:
                continue
            taken.add((i, j))
            out.append((i, j))
        return np.array(out, dtype=np.int64)

    taken = set()
    test_false = negatives(num_test, taken)
    val_false = negatives(num_val, taken)
    return train_edges, val_edges, val_false, test_edges, test_false


def normalized_adjacency(n, train_edges):
    r = np.concatenate([train_edges[:, 0], train_edges[:, 1], np.arange(n)])
    c = np.concatenate([train_edges[:, 1], train_edges[:, 0], np.arange(n)])
    a = sp.coo_matrix((np.ones(len(r), np.float32), (r, c)), shape=(n, n)).tocsr()
    deg = np.asarray(a.sum(1)).ravel()
    dinv = sp.diags(np.power(deg, -0.5).astype(np.float32))
    return (dinv @ a @ dinv).tocoo()


def to_torch_sparse(m):
    m = m.tocoo()
    idx = torch.from_numpy(np.stack([m.row, m.col]).astype(np.int64))
    return torch.sparse_coo_tensor(idx, torch.from_numpy(m.data.astype(np.float32)), m.shape).coalesce()


# --------------------------------------------------------------------------------------------------------------
# Model (as tkipf/gae `model.py` / `optimizer.py`)


def glorot(i, o, gen):
    r = np.sqrt(6.0 / (i + o))
    return torch.nn.Parameter((torch.rand(i, o, generator=gen) * 2 * r - r))


class GCNModel(torch.nn.Module):
    def __init__(self, f, hidden1, hidden2, variational, gen):
        super().__init__()
        self.variational = variational
        self.w1 = glorot(f, hidden1, gen)
        self.w_mu = glorot(hidden1, hidden2, gen)
        if variational:
            self.w_logstd = glorot(hidden1, hidden2, gen)

    def encode(self, adj, x):
        h = torch.relu(torch.sparse.mm(adj, torch.sparse.mm(x, self.w1)))
        mu = torch.sparse.mm(adj, h @ self.w_mu)
        logstd = torch.sparse.mm(adj, h @ self.w_logstd) if self.variational else None
        return mu, logstd


def loss_fn(model, adj, x, labels, pos_weight, norm, n, gen):
    mu, logstd = model.encode(adj, x)
    z = mu + torch.randn(mu.shape, generator=gen, device=mu.device) * torch.exp(logstd) if model.variational else mu
    logits = z @ z.t()  # all N² pairs
    cost = norm * torch.nn.functional.binary_cross_entropy_with_logits(logits, labels, pos_weight=pos_weight)
    if model.variational:
        kl = (0.5 / n) * torch.mean(torch.sum(1 + 2 * logstd - mu.pow(2) - torch.exp(logstd).pow(2), 1))
        cost = cost - kl
    return cost


def scores(mu, pos, neg):
    from sklearn.metrics import average_precision_score, roc_auc_score

    def s(e):
        return torch.sigmoid((mu[e[:, 0]] * mu[e[:, 1]]).sum(1)).cpu().numpy()

    preds = np.concatenate([s(pos), s(neg)])
    labels = np.concatenate([np.ones(len(pos)), np.zeros(len(neg))])
    return float(roc_auc_score(labels, preds)), float(average_precision_score(labels, preds))


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="cora")
    ap.add_argument("--model", choices=["gae", "vgae"], default="gae")
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=0, help="epochs left out of the median (they still train)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--featureless", action="store_true", help="identity features (tkipf's --features 0)")
    ap.add_argument("--val-every", type=int, default=0, help="validation AUC every K epochs (untimed); 0 = never")
    ap.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    a = ap.parse_args()
    dev = torch.device(a.device)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)

    torch.set_num_threads(a.threads)
    rng = np.random.default_rng(a.seed)
    gen = torch.Generator().manual_seed(a.seed)

    t0 = time.perf_counter()
    adj, feats = load_planetoid(a.dataset, a.data_dir)
    n = adj.shape[0]
    train_e, val_e, val_f, test_e, test_f = mask_test_edges(adj, rng)
    adj_norm = to_torch_sparse(normalized_adjacency(n, train_e))
    x = to_torch_sparse(sp.identity(n, dtype=np.float32, format="csr") if a.featureless else feats)
    # Labels: dense (A_train + I), as the reference's tf.sparse_tensor_to_dense(adj_label).
    labels = torch.zeros(n, n)
    te = torch.from_numpy(train_e)
    labels[te[:, 0], te[:, 1]] = 1.0
    labels[te[:, 1], te[:, 0]] = 1.0
    labels.fill_diagonal_(1.0)
    s = 2.0 * len(train_e)
    nn_ = float(n) * n
    pos_weight = torch.tensor((nn_ - s) / s)
    norm = nn_ / (2.0 * (nn_ - s))
    model = GCNModel(x.shape[1], 32, 16, a.model == "vgae", gen).to(dev)
    adj_norm, x, labels, pos_weight = adj_norm.to(dev), x.to(dev), labels.to(dev), pos_weight.to(dev)
    if dev.type != "cpu":
        gen = torch.Generator(device=dev).manual_seed(a.seed)  # the noise, drawn where it is used
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    setup = time.perf_counter() - t0

    times = []
    for epoch in range(a.epochs):
        sync()
        st = time.perf_counter()
        opt.zero_grad()
        loss = loss_fn(model, adj_norm, x, labels, pos_weight, norm, n, gen)
        loss.backward()
        loss = loss.detach()
        opt.step()
        sync()
        dt = time.perf_counter() - st
        times.append(dt)
        line = {"epoch": epoch + 1, "loss": loss.item(), "seconds": round(dt, 5)}
        if a.val_every and (epoch + 1) % a.val_every == 0:
            with torch.no_grad():
                mu, _ = model.encode(adj_norm, x)
            line["val_auc"], line["val_ap"] = scores(mu, val_e, val_f)
        if not a.quiet:
            print(json.dumps(line), flush=True)

    with torch.no_grad():
        mu, _ = model.encode(adj_norm, x)
    test_auc, test_ap = scores(mu, test_e, test_f)
    measured = times[a.warmup :] or times
    out = {
        "impl": "pytorch-dense-port",
        "device": str(dev),
        "dataset": a.dataset,
        "model": a.model,
        "nodes": n,
        "train_edges": int(len(train_e)),
        "threads": a.threads,
        "torch": torch.__version__,
        "setup_seconds": round(setup, 3),
        "epochs": a.epochs,
        "median_epoch_seconds": float(np.median(measured)),
        "epochs_measured": len(measured),
        "total_train_seconds": float(np.sum(times)),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "test_auc": test_auc,
        "test_ap": test_ap,
    }
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    sys.exit(main())
