#!/usr/bin/env python3
"""PyG's GAE / VGAE with sampled negatives (as PyG's examples/autoencoder.py), for `scripts/bench_reference.sh`.

  * Graph and features from the Planetoid pickles (the loader of ref_gae_dense.py, so Pubmed works without the
    missing ind.pubmed.allx); features row-normalised (T.NormalizeFeatures, as the example).
  * T.RandomLinkSplit(num_val=0.05, num_test=0.1, is_undirected=True, split_labels=True,
    add_negative_train_samples=False), seeded with torch.manual_seed(--seed).
  * Encoder GCNConv(F, 32, cached=True) -> ReLU -> GCNConv(32, 16, cached=True) (GAE), or GCNConv(32, 16) twice
    for mu and log sigma (VGAE); torch_geometric.nn.GAE / VGAE.
  * Loss model.recon_loss(z, train positives) (one uniformly sampled negative per positive, every epoch)
    + (1/N) * model.kl_loss() for VGAE; Adam lr 0.01.
  * Test ROC AUC / AP with model.test (sklearn).

Only torch_geometric itself is needed (no torch_scatter / torch_sparse: PyG falls back to pure-torch scatter).
The epoch time is the training step only. Prints one line per epoch and a final JSON line
  {"median_epoch_seconds", "peak_rss_mb", "test_auc", "test_ap", ...}

    python3 scripts/ref_pyg_gae.py --dataset cora --model gae --epochs 200 --threads 2

With --device cuda the data and model live on the GPU (the epoch time then waits for it).
"""
import argparse
import json
import os
import resource
import sys
import time
import warnings

import numpy as np
import torch

warnings.filterwarnings("ignore", category=DeprecationWarning)
warnings.filterwarnings("ignore", category=FutureWarning)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ref_gae_dense import load_planetoid  # noqa: E402

import torch_geometric  # noqa: E402
import torch_geometric.transforms as T  # noqa: E402
from torch_geometric.data import Data  # noqa: E402
from torch_geometric.nn import GAE, VGAE, GCNConv  # noqa: E402


class GCNEncoder(torch.nn.Module):
    def __init__(self, f, out):
        super().__init__()
        self.conv1 = GCNConv(f, 2 * out, cached=True)
        self.conv2 = GCNConv(2 * out, out, cached=True)

    def forward(self, x, edge_index):
        return self.conv2(self.conv1(x, edge_index).relu(), edge_index)


class VariationalGCNEncoder(torch.nn.Module):
    def __init__(self, f, out):
        super().__init__()
        self.conv1 = GCNConv(f, 2 * out, cached=True)
        self.conv_mu = GCNConv(2 * out, out, cached=True)
        self.conv_logstd = GCNConv(2 * out, out, cached=True)

    def forward(self, x, edge_index):
        h = self.conv1(x, edge_index).relu()
        return self.conv_mu(h, edge_index), self.conv_logstd(h, edge_index)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="cora")
    ap.add_argument("--model", choices=["gae", "vgae"], default="gae")
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=0, help="epochs left out of the median (they still train)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--no-normalize", action="store_true", help="skip T.NormalizeFeatures")
    ap.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    a = ap.parse_args()
    dev = torch.device(a.device)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    np.random.seed(a.seed)

    t0 = time.perf_counter()
    adj, feats = load_planetoid(a.dataset, a.data_dir)
    coo = adj.tocoo()
    edge_index = torch.from_numpy(np.stack([coo.row, coo.col]).astype(np.int64))
    data = Data(x=torch.from_numpy(feats.toarray()), edge_index=edge_index)
    tf = [] if a.no_normalize else [T.NormalizeFeatures()]
    tf.append(
        T.RandomLinkSplit(
            num_val=0.05, num_test=0.1, is_undirected=True, split_labels=True, add_negative_train_samples=False
        )
    )
    train_data, val_data, test_data = T.Compose(tf)(data)
    n, f = data.num_nodes, data.num_features
    if a.model == "gae":
        model = GAE(GCNEncoder(f, 16))
    else:
        model = VGAE(VariationalGCNEncoder(f, 16))
    model = model.to(dev)
    train_data, test_data = train_data.to(dev), test_data.to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    setup = time.perf_counter() - t0

    times = []
    for epoch in range(a.epochs):
        sync()
        st = time.perf_counter()
        model.train()
        opt.zero_grad()
        z = model.encode(train_data.x, train_data.edge_index)
        loss = model.recon_loss(z, train_data.pos_edge_label_index)
        if a.model == "vgae":
            loss = loss + (1 / train_data.num_nodes) * model.kl_loss()
        loss.backward()
        opt.step()
        sync()
        dt = time.perf_counter() - st
        times.append(dt)
        if not a.quiet:
            print(json.dumps({"epoch": epoch + 1, "loss": loss.item(), "seconds": round(dt, 5)}), flush=True)

    model.eval()
    with torch.no_grad():
        z = model.encode(test_data.x, test_data.edge_index)
        test_auc, test_ap = model.test(z, test_data.pos_edge_label_index, test_data.neg_edge_label_index)
    measured = times[a.warmup :] or times
    out = {
        "impl": "pyg-gae",
        "device": str(dev),
        "dataset": a.dataset,
        "model": a.model,
        "nodes": n,
        "train_edges": int(train_data.pos_edge_label_index.shape[1]),
        "threads": a.threads,
        "torch": torch.__version__,
        "torch_geometric": torch_geometric.__version__,
        "setup_seconds": round(setup, 3),
        "epochs": a.epochs,
        "median_epoch_seconds": float(np.median(measured)),
        "epochs_measured": len(measured),
        "total_train_seconds": float(np.sum(times)),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
        "test_auc": float(test_auc),
        "test_ap": float(test_ap),
    }
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    sys.exit(main())
