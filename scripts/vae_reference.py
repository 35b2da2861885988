#!/usr/bin/env python3
"""PyTorch reference of `vgae vae train` on MNIST (the setup of the README's VAE section).

Lecture architecture: encoder 784-500-250 (ReLU) -> mu, logvar (z dims); decoder z-250-500-784 (ReLU) with
Bernoulli logits. Loss per batch = BCE summed over pixels + closed-form KL, summed over the batch;
Adagrad lr 0.01, batch 100, shuffled, pixels / 255 (no binarisation), torch.nn.Linear default init.
Test -ELBO per image after every epoch with fixed evaluation noise; optional IWAE bound at the end.

Reads the gzipped IDX files from $VGAE_DATA_DIR/mnist (or --data-dir). Prints one JSON line per epoch and a
final JSON summary. Example (the README's numbers):

    python3 scripts/vae_reference.py --epochs 20 --threads 2 --iwae-k 100 --iwae-n 1000

With --device cuda the data, model and noise live on the GPU, and the epoch's loss is summed there and read
once (PyTorch eager at its best; scripts/gpu_check.sh runs it beside `vgae --device cuda vae train`).
"""
import argparse
import gzip
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(path):
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rb") as f:
        b = f.read()
    nd = b[3]
    dims = [int.from_bytes(b[4 + 4 * i : 8 + 4 * i], "big") for i in range(nd)]
    return np.frombuffer(b, dtype=np.uint8, offset=4 + 4 * nd).reshape(dims)


def load_mnist(d):
    f = lambda n: os.path.join(d, n + ".gz") if os.path.exists(os.path.join(d, n + ".gz")) else os.path.join(d, n)
    tr = read_idx(f("train-images-idx3-ubyte")).reshape(-1, 784).astype(np.float32) / 255.0
    te = read_idx(f("t10k-images-idx3-ubyte")).reshape(-1, 784).astype(np.float32) / 255.0
    return torch.from_numpy(tr), torch.from_numpy(te)


class Encoder(nn.Module):
    def __init__(self, d, z):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(d, 500), nn.Linear(500, 250)
        self.fc_mu, self.fc_logvar = nn.Linear(250, z), nn.Linear(250, z)

    def forward(self, x):
        h = F.relu(self.fc2(F.relu(self.fc1(x))))
        return self.fc_mu(h), self.fc_logvar(h)


class Decoder(nn.Module):
    def __init__(self, d, z):
        super().__init__()
        self.fc1, self.fc2, self.fc_out = nn.Linear(z, 250), nn.Linear(250, 500), nn.Linear(500, d)

    def forward(self, z):
        return self.fc_out(F.relu(self.fc2(F.relu(self.fc1(z)))))


class VAE(nn.Module):
    def __init__(self, d=784, z=20):
        super().__init__()
        self.encoder, self.decoder = Encoder(d, z), Decoder(d, z)

    def neg_elbo(self, x, eps):
        """Per-image -ELBO = BCE summed over pixels + KL(q || N(0, I))."""
        mu, logvar = self.encoder(x)
        z = mu + torch.exp(0.5 * logvar) * eps
        logits = self.decoder(z)
        bce = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)
        kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)
        return bce + kl


@torch.no_grad()
def test_neg_elbo(model, x, seed, batch=1000):
    g = torch.Generator().manual_seed(seed)
    tot = 0.0
    for i in range(0, len(x), batch):
        xb = x[i : i + batch]
        eps = torch.randn(len(xb), model.encoder.fc_mu.out_features, generator=g).to(x.device)
        tot += model.neg_elbo(xb, eps).sum().item()
    return tot / len(x)


@torch.no_grad()
def iwae_nll(model, x, k, seed, rows=20000):
    g = torch.Generator().manual_seed(seed)
    zd = model.encoder.fc_mu.out_features
    tot = 0.0
    b = max(1, rows // k)
    for i in range(0, len(x), b):
        xb = x[i : i + b]
        mu, logvar = model.encoder(xb)
        eps = torch.randn(k, len(xb), zd, generator=g).to(x.device)
        z = mu + torch.exp(0.5 * logvar) * eps
        logits = model.decoder(z.reshape(-1, zd)).reshape(k, len(xb), -1)
        log_px = -F.binary_cross_entropy_with_logits(logits, xb.expand(k, -1, -1), reduction="none").sum(-1)
        log_pz = -0.5 * (z.pow(2).sum(-1) + zd * math.log(2 * math.pi))
        log_qz = -0.5 * (eps.pow(2).sum(-1) + logvar.sum(-1) + zd * math.log(2 * math.pi))
        lw = log_px + log_pz - log_qz
        tot += (torch.logsumexp(lw, 0) - math.log(k)).sum().item()
    return -tot / len(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", default=os.environ.get("VGAE_DATA_DIR", "../shared/data"))
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--z", type=int, default=20)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iwae-k", type=int, default=0)
    ap.add_argument("--iwae-n", type=int, default=1000)
    ap.add_argument("--train-limit", type=int, default=0)
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    dev = torch.device(a.device)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    xtr, xte = load_mnist(os.path.join(a.data_dir, "mnist"))
    if a.train_limit:
        xtr = xtr[: a.train_limit]
    xtr, xte = xtr.to(dev), xte.to(dev)
    model = VAE(784, a.z).to(dev)
    opt = torch.optim.Adagrad(model.parameters(), lr=a.lr)
    n = len(xtr)
    hist = []
    for ep in range(1, a.epochs + 1):
        sync()
        t0 = time.perf_counter()
        perm = torch.randperm(n, device=dev)
        acc = torch.zeros((), device=dev, dtype=torch.float64)
        for i in range(0, n, a.batch):
            xb = xtr[perm[i : i + a.batch]]
            eps = torch.randn(len(xb), a.z, device=dev)
            loss = model.neg_elbo(xb, eps).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            acc += loss.detach().double()
        acc = acc.item()
        secs = time.perf_counter() - t0
        te = test_neg_elbo(model, xte, 12345)
        m = {"epoch": ep, "train_neg_elbo": acc / n, "test_neg_elbo": te, "seconds": secs}
        hist.append(m)
        print(json.dumps(m), flush=True)
    out = {"impl": "pytorch " + torch.__version__, "device": str(dev), "threads": a.threads, "epochs": a.epochs,
           "test_neg_elbo": hist[-1]["test_neg_elbo"] if hist else None,
           "train_seconds": sum(h["seconds"] for h in hist)}
    if a.iwae_k:
        out["iwae_nll"] = iwae_nll(model, xte[: a.iwae_n], a.iwae_k, 12345)
        out["iwae_k"], out["iwae_n"] = a.iwae_k, a.iwae_n
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
