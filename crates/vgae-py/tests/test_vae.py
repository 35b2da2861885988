"""The image VAE from Python: the CLI's numbers for a seed, samples, the ELBO and checkpoints."""

import numpy as np
import pytest

import vgae

LIMIT = 2000


@pytest.fixture(scope="module")
def fitted(data_dir):
    m = vgae.VAE("mnist", z=5, epochs=1, train_limit=LIMIT, seed=2, data_dir=data_dir)
    return m, m.fit()


def test_fit_matches_cli_for_the_same_seed(fitted, cli, tmp_path, data_dir, monkeypatch):
    _, s = fitted
    monkeypatch.setenv("VGAE_DATA_DIR", data_dir)
    ref = cli("vae", "train", "--dataset", "mnist", "--z", 5, "--epochs", 1, "--train-limit", LIMIT,
              "--seed", 2, "--iwae-k", 0, "--json", "--out", tmp_path / "run")
    assert s["test_neg_elbo"] == ref["test_neg_elbo"]
    assert s["train_neg_elbo"] == ref["train_neg_elbo"]


def test_elbo_sample_and_encode(fitted):
    m, s = fitted
    elbo, recon, kl = m.elbo()
    assert elbo == -s["test_neg_elbo"]  # the run's evaluation: same seed, same test images
    assert abs(elbo - (recon - kl)) < 1e-6 * abs(elbo) and kl > 0
    x = m.sample(16, seed=1)
    assert x.shape == (16, 784) and x.dtype == np.float32 and (0 <= x).all() and (x <= 1).all()
    assert np.array_equal(x, m.sample(16, seed=1)) and not np.array_equal(x, m.sample(16, seed=2))
    assert m.encode(x).shape == (16, 5)
    with pytest.raises(vgae.VgaeError, match="x has 10 columns, expected 784 pixels"):
        m.encode(np.zeros((2, 10), np.float32))
    with pytest.raises(vgae.VgaeError, match="expected pixel intensities in \\[0, 1\\]"):
        m.elbo(np.full((2, 784), 255, np.float32))


def test_save_load_resume(fitted, tmp_path, data_dir):
    m, _ = fitted
    p = tmp_path / "vae.safetensors"
    m.save(p)
    back = vgae.VAE.load(p, data_dir=data_dir)
    assert back.epoch == 1 and back.elbo() == m.elbo()
    back.fit(epochs=2)
    straight = vgae.VAE("mnist", z=5, epochs=2, train_limit=LIMIT, seed=2, data_dir=data_dir)
    assert back.history[-1]["test_neg_elbo"] == straight.fit()["test_neg_elbo"]
    assert vgae.load(p, data_dir=data_dir).elbo() == m.elbo()
    with pytest.raises(vgae.VgaeError, match="this is a 'vae' checkpoint, expected a 'graph' checkpoint"):
        vgae.LinkModel.load(p)
