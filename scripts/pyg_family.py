#!/usr/bin/env python3
"""PyG's ARGA / ARGVA / linear GAE / linear VGAE on one of our split files, for `scripts/compare_pyg_family.sh`.

What is run, exactly (PyTorch Geometric's own model classes and training loops, on our split):

  * Split: the `vgae split make` file given by --split (safetensors, tensors `train_pos`, `val_pos`, `val_neg`,
    `test_pos`, `test_neg`, int64 [k, 2] with u < v; metadata `dataset`, `num_nodes`, `seed`, `config`). The
    file's pairs are checked against the Planetoid graph: positives are edges, negatives are not, and
    train + val + test positives are all the edges.
  * Graph and features from the Planetoid pickles (scripts/ref_gae_dense.py's load_planetoid: Kipf's loader,
    Citeseer's isolated test ids as zero rows, Pubmed's allx from the documented 6-significant-digit
    reconstruction). Features are RAW (the binary / TF-IDF values as stored), not row-normalised: our
    GraphInput takes the Planetoid features unchanged (crates/vgae-data/src/planetoid.rs builds them,
    crates/vgae-core/src/graph/encoder.rs uses them as they are), so this does too. --normalize applies
    T.NormalizeFeatures (what PyG's examples/autoencoder.py does) for a side check.
  * Message passing on the training edges only, both directions (edge_index = train_pos and its reverse);
    GCNConv adds the self-loops and normalises D^-1/2 (A + I) D^-1/2, as our Â. The test embedding is also
    computed on the training edges (as ours; PyG's examples encode test_data, whose edge_index adds the
    validation edges). GCNConv(cached=True) so the normalisation is not recomputed every epoch (the faster
    choice for PyG; the examples leave cached off).
  * Encoders (PyG's examples' classes, our widths 32-16):
      arga         GCNConv(F, 32) -> ReLU -> GCNConv(32, 16)                  torch_geometric.nn.ARGA
      argva        GCNConv(F, 32) -> ReLU -> GCNConv(32, 16) for mu and for log sigma   torch_geometric.nn.ARGVA
      linear-gae   GCNConv(F, 16)                 (examples/autoencoder.py --linear)      torch_geometric.nn.GAE
      linear-vgae  GCNConv(F, 16) twice, mu and log sigma  (--linear --variational)       torch_geometric.nn.VGAE
    GCNConv keeps its default bias=True (PyG's model; ours has no biases); --no-bias drops them.
    The discriminator keeps torch.nn.Linear's default init; --disc-init kaiming-normal draws its weights
    N(0, 2 / fan_in) instead (candle_nn::linear's default, which ours uses), for a side check.
  * ARGA / ARGVA training step as examples/argva_node_clustering.py: encode once; 5 discriminator updates on
    model.discriminator_loss(z) (z detached inside, fresh torch.randn_like prior draws), discriminator
    Linear(16, 64) -> ReLU -> Linear(64, 64) -> ReLU -> Linear(64, 1) with its own Adam lr 0.001; then the
    encoder's loss model.recon_loss(z, pos) + model.reg_loss(z) (+ (1 / N) * model.kl_loss() for ARGVA),
    Adam(encoder.parameters(), lr=--lr).
  * Linear GAE / VGAE step as examples/autoencoder.py: model.recon_loss(z, pos) (+ (1 / N) * kl_loss for the
    VGAE), Adam(model.parameters(), lr=--lr).
  * recon_loss positives: the training edges in both directions (as the older PyG examples' train_pos_edge_index),
    so PyG's negative_sampling draws 2 E fresh negatives per epoch (self-loops excluded, neither direction of a
    training edge drawn), as our sampled loss does (E positives, 2 E negatives); the means are the same loss.
  * Evaluation once after the last epoch: model.eval(), z = model.encode(...) (mu for the variational ones),
    model.test(z, test_pos, test_neg) (sklearn ROC AUC / AP); val AUC / AP likewise.
  * Seeded with torch.manual_seed(--seed) and np.random.seed(--seed). torch.set_num_threads(--threads).

The epoch time is the training step only (encode, discriminator steps, loss, backward, updates), as our
metrics.jsonl `seconds`. Prints one line per epoch (unless --quiet) and a final JSON line
  {"test_auc", "test_ap", "val_auc", "val_ap", "median_epoch_seconds", "peak_rss_mb", ...}

    python3 scripts/pyg_family.py --split runs/pyg-family/splits/cora-s0.safetensors --dataset cora \\
        --model arga --epochs 200 --seed 0 --threads 2 --quiet
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
from safetensors import safe_open  # noqa: E402
from safetensors.numpy import load_file  # noqa: E402
from torch.nn import Linear  # noqa: E402
from torch_geometric.nn import ARGA, ARGVA, GAE, VGAE, GCNConv  # noqa: E402

MODELS = ["arga", "argva", "linear-gae", "linear-vgae"]


class Encoder(torch.nn.Module):
    """GCN encoder; variational: a mu and a log-std head (examples/argva_node_clustering.py's Encoder)."""

    def __init__(self, f, hidden, out, variational, bias):
        super().__init__()
        self.variational = variational
        self.conv1 = GCNConv(f, hidden, cached=True, bias=bias)
        if variational:
            self.conv_mu = GCNConv(hidden, out, cached=True, bias=bias)
            self.conv_logstd = GCNConv(hidden, out, cached=True, bias=bias)
        else:
            self.conv2 = GCNConv(hidden, out, cached=True, bias=bias)

    def forward(self, x, edge_index):
        h = self.conv1(x, edge_index).relu()
        if self.variational:
            return self.conv_mu(h, edge_index), self.conv_logstd(h, edge_index)
        return self.conv2(h, edge_index)


class LinearEncoder(torch.nn.Module):
    """examples/autoencoder.py's LinearEncoder / VariationalLinearEncoder."""

    def __init__(self, f, out, variational, bias):
        super().__init__()
        self.variational = variational
        if variational:
            self.conv_mu = GCNConv(f, out, cached=True, bias=bias)
            self.conv_logstd = GCNConv(f, out, cached=True, bias=bias)
        else:
            self.conv = GCNConv(f, out, cached=True, bias=bias)

    def forward(self, x, edge_index):
        if self.variational:
            return self.conv_mu(x, edge_index), self.conv_logstd(x, edge_index)
        return self.conv(x, edge_index)


class Discriminator(torch.nn.Module):
    """examples/argva_node_clustering.py's Discriminator, with one output logit (as ours)."""

    def __init__(self, in_channels, hidden_channels, out_channels):
        super().__init__()
        self.lin1 = Linear(in_channels, hidden_channels)
        self.lin2 = Linear(hidden_channels, hidden_channels)
        self.lin3 = Linear(hidden_channels, out_channels)

    def forward(self, x):
        x = self.lin1(x).relu()
        x = self.lin2(x).relu()
        return self.lin3(x)


def load_split(path):
    t = load_file(path)
    with safe_open(path, framework="numpy") as f:
        meta = f.metadata() or {}
    if meta.get("format") != "vgae-split/1":
        raise SystemExit(f"{path}: not a vgae split file (format {meta.get('format')!r})")
    return {k: t[k].astype(np.int64) for k in ("train_pos", "val_pos", "val_neg", "test_pos", "test_neg")}, meta


def check_split(s, adj, num_nodes):
    """Positives are edges of the graph, negatives are not, and the positives are all the edges."""
    a = adj.tocsr()
    for name, pairs in s.items():
        if pairs.size and (pairs.min() < 0 or pairs.max() >= num_nodes):
            raise SystemExit(f"split {name}: pair outside 0..{num_nodes}")
        vals = np.asarray(a[pairs[:, 0], pairs[:, 1]]).ravel() if len(pairs) else np.zeros(0)
        if name.endswith("_pos") and not (vals > 0).all():
            raise SystemExit(f"split {name}: {(vals == 0).sum()} pairs are not edges of the graph")
        if name.endswith("_neg") and (vals > 0).any():
            raise SystemExit(f"split {name}: {(vals > 0).sum()} pairs are edges of the graph")
    n_pos = sum(len(s[k]) for k in ("train_pos", "val_pos", "test_pos"))
    n_edges = int(a.nnz // 2)
    if n_pos != n_edges:
        raise SystemExit(f"split positives hold {n_pos} edges, the graph has {n_edges}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", required=True, help="split file from `vgae split make`")
    ap.add_argument("--dataset", required=True, choices=["cora", "citeseer", "pubmed"])
    ap.add_argument("--model", choices=MODELS, default="arga")
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--lr", type=float, default=0.01, help="encoder Adam lr (ours: --lr, default 0.01)")
    ap.add_argument("--disc-lr", type=float, default=0.001)
    ap.add_argument("--disc-steps", type=int, default=5)
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--latent", type=int, default=16)
    ap.add_argument("--warmup", type=int, default=0, help="epochs left out of the median (they still train)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--normalize", action="store_true", help="row-normalise features (T.NormalizeFeatures)")
    ap.add_argument("--no-bias", action="store_true", help="GCNConv(bias=False), as our encoder")
    ap.add_argument("--disc-init", choices=["torch", "kaiming-normal"], default="torch",
                    help="discriminator weight init: torch.nn.Linear's default, or N(0, 2 / fan_in) as ours")
    ap.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    np.random.seed(a.seed)

    t0 = time.perf_counter()
    adj, feats = load_planetoid(a.dataset, a.data_dir)
    n = adj.shape[0]
    split, meta = load_split(a.split)
    if meta.get("dataset") != a.dataset or int(meta.get("num_nodes", -1)) != n:
        raise SystemExit(f"{a.split} was made for {meta.get('dataset')} ({meta.get('num_nodes')} nodes), "
                         f"not {a.dataset} ({n} nodes)")
    check_split(split, adj, n)
    x = torch.from_numpy(feats.toarray())
    if a.normalize:
        x = x / x.sum(dim=-1, keepdim=True).clamp(min=1.0)  # T.NormalizeFeatures
    tp = torch.from_numpy(split["train_pos"]).t().contiguous()
    edge_index = torch.cat([tp, tp.flip(0)], dim=1)  # both directions
    pos = edge_index  # recon_loss positives (both directions: 2 E negatives drawn per epoch)
    test_pos = torch.from_numpy(split["test_pos"]).t().contiguous()
    test_neg = torch.from_numpy(split["test_neg"]).t().contiguous()
    val_pos = torch.from_numpy(split["val_pos"]).t().contiguous()
    val_neg = torch.from_numpy(split["val_neg"]).t().contiguous()
    f = x.shape[1]
    bias = not a.no_bias
    variational = a.model in ("argva", "linear-vgae")
    adversarial = a.model in ("arga", "argva")
    if a.model.startswith("linear"):
        encoder = LinearEncoder(f, a.latent, variational, bias)
    else:
        encoder = Encoder(f, a.hidden, a.latent, variational, bias)
    if adversarial:
        discriminator = Discriminator(a.latent, 64, 1)
        model = (ARGVA if variational else ARGA)(encoder, discriminator)
        if a.disc_init == "kaiming-normal":
            with torch.no_grad():
                for lin in (discriminator.lin1, discriminator.lin2, discriminator.lin3):
                    torch.nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")  # fan_in, gain sqrt(2)
        opt = torch.optim.Adam(encoder.parameters(), lr=a.lr)
        disc_opt = torch.optim.Adam(discriminator.parameters(), lr=a.disc_lr)
    else:
        model = (VGAE if variational else GAE)(encoder)
        opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    setup = time.perf_counter() - t0

    def train():
        model.train()
        opt.zero_grad()
        z = model.encode(x, edge_index)
        if adversarial:
            for _ in range(a.disc_steps):
                disc_opt.zero_grad()
                d_loss = model.discriminator_loss(z)
                d_loss.backward()
                disc_opt.step()
        loss = model.recon_loss(z, pos)
        if adversarial:
            loss = loss + model.reg_loss(z)
        if variational:
            loss = loss + (1 / n) * model.kl_loss()
        loss.backward()
        opt.step()
        return float(loss.detach())

    times = []
    for epoch in range(a.epochs):
        st = time.perf_counter()
        loss = train()
        dt = time.perf_counter() - st
        times.append(dt)
        if not a.quiet:
            print(json.dumps({"epoch": epoch + 1, "loss": loss, "seconds": round(dt, 5)}), flush=True)

    model.eval()
    with torch.no_grad():
        z = model.encode(x, edge_index)
        test_auc, test_ap = model.test(z, test_pos, test_neg)
        val_auc, val_ap = model.test(z, val_pos, val_neg)
    measured = times[a.warmup :] or times
    out = {
        "impl": "pyg",
        "dataset": a.dataset,
        "model": a.model,
        "split": a.split,
        "split_seed": int(meta.get("seed", -1)),
        "seed": a.seed,
        "nodes": n,
        "train_edges": int(tp.shape[1]),
        "features_normalized": a.normalize,
        "bias": bias,
        "disc_init": a.disc_init if adversarial else None,
        "lr": a.lr,
        "threads": a.threads,
        "torch": torch.__version__,
        "torch_geometric": torch_geometric.__version__,
        "setup_seconds": round(setup, 3),
        "epochs": a.epochs,
        "median_epoch_seconds": float(np.median(measured)),
        "mean_epoch_seconds": float(np.mean(measured)),
        "epochs_measured": len(measured),
        "total_train_seconds": float(np.sum(times)),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
        "test_auc": float(test_auc),
        "test_ap": float(test_ap),
        "val_auc": float(val_auc),
        "val_ap": float(val_ap),
    }
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    sys.exit(main())
