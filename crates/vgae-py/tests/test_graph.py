"""The graph half from Python: same numbers as the CLI for a seed, the split's properties checked in numpy,
checkpoints shared with the CLI, and clear errors for malformed input."""

import numpy as np
import pytest

import vgae

EPOCHS = 40


@pytest.fixture(scope="module")
def cora():
    return vgae.datasets.cora()


@pytest.fixture(scope="module")
def fitted(cora):
    m = vgae.VGAE(epochs=EPOCHS, seed=3)
    return m, m.fit(cora)


def test_fit_matches_cli_for_the_same_seed(fitted, cli, tmp_path):
    _, res = fitted
    ref = cli("train", "--dataset", "cora", "--model", "vgae", "--epochs", EPOCHS, "--seed", 3, "--json",
              "--out", tmp_path / "run")
    for k in ["test_auc", "test_ap", "val_auc", "best_epoch", "best_test_auc", "best_test_ap"]:
        assert res[k] == ref[k], k


def test_graph_from_numpy_is_the_dataset(cora):
    g = vgae.Graph(cora.edge_index, x=cora.x, y=cora.y, name="cora")
    assert g.fingerprint == cora.fingerprint
    # Both directions, as PyG stores an undirected graph, give the same graph.
    both = np.concatenate([cora.edge_index, cora.edge_index[::-1]], axis=1)
    assert vgae.Graph(both, x=cora.x, name="cora").fingerprint == cora.fingerprint
    # [E, 2] and int32 are read too; a CSR tuple is the same features as the dense array.
    x = cora.x
    rows, cols = np.nonzero(x)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=x.shape[0]))])
    csr = (indptr.astype(np.int64), cols.astype(np.int32), x[rows, cols], x.shape)
    g2 = vgae.Graph(cora.edge_index.T.astype(np.int32).copy(), x=csr, name="cora")
    assert g2.fingerprint == cora.fingerprint


    class Sparse:  # the slice of a SciPy sparse matrix's API that Graph reads: tocsr() and its arrays
        def tocsr(self):
            return self

        indptr, indices, data, shape = csr

    assert vgae.Graph(cora.edge_index, x=Sparse(), name="cora").fingerprint == cora.fingerprint


def test_fit_on_a_numpy_graph_gives_the_dataset_numbers(cora, fitted):
    g = vgae.Graph(cora.edge_index, x=cora.x, name="cora")
    res = vgae.VGAE(epochs=EPOCHS, seed=3).fit(g)
    assert res["test_auc"] == fitted[1]["test_auc"]


def auc_numpy(pos, neg):
    """ROC-AUC as the Mann-Whitney statistic, ties counted half (what sklearn's roc_auc_score computes)."""
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return (greater + 0.5 * ties) / (len(pos) * len(neg))


def test_test_and_score_agree_with_numpy(fitted):
    m, res = fitted
    s = m.split
    auc, ap = m.test(s.test_pos, s.test_neg)
    assert (auc, ap) == (res["test_auc"], res["test_ap"])
    p, n = m.score(s.test_pos), m.score(s.test_neg)
    assert abs(auc_numpy(p, n) - auc) < 1e-6
    # score is σ(z_u · z_v) on encode()'s embedding.
    z = m.encode().astype(np.float64)
    u, v = s.test_pos
    assert np.allclose(p, 1 / (1 + np.exp(-(z[u] * z[v]).sum(1))), atol=1e-5)
    assert np.allclose(m.score(s.test_pos, logits=True), (z[u] * z[v]).sum(1), atol=1e-4)


def test_split_properties(cora, cli, tmp_path):
    s = vgae.split(cora, seed=7)
    e = cora.num_edges
    assert s.val_pos.shape == (2, int(e * 0.05)) and s.test_pos.shape == (2, int(e * 0.10))
    assert s.train_pos.shape[1] == e - s.val_pos.shape[1] - s.test_pos.shape[1]
    key = lambda a: set(zip(*np.sort(a, axis=0)))  # noqa: E731
    edges = key(cora.edge_index)
    tr, va, te = key(s.train_pos), key(s.val_pos), key(s.test_pos)
    assert tr | va | te == edges and not (tr & va) and not (tr & te) and not (va & te)
    vn, tn = key(s.val_neg), key(s.test_neg)
    assert len(vn) == s.val_neg.shape[1] and len(tn) == s.test_neg.shape[1]
    assert not (vn & edges) and not (tn & edges) and not (vn & tn)
    assert all(u != v for u, v in vn | tn)
    s.audit(cora)
    # The split `vgae split make` writes for the seed, read back from its file.
    cli("split", "make", "cora", "--seed", 7, "--out", tmp_path / "s.safetensors", json_out=False)
    f = vgae.Split.load(tmp_path / "s.safetensors")
    for k in ["train_pos", "val_pos", "val_neg", "test_pos", "test_neg"]:
        assert np.array_equal(getattr(f, k), getattr(s, k)), k
    assert f.hash == s.hash


def test_checkpoints_are_shared_with_the_cli(fitted, cli, tmp_path):
    m, res = fitted
    path = tmp_path / "m.safetensors"
    m.save(path)
    back = vgae.load(path)
    assert np.array_equal(back.encode(), m.encode())
    assert back.epoch == EPOCHS and back.label == "VGAE"
    ev = cli("eval", path, "--json")
    assert ev["test_auc"] == res["test_auc"]
    # Training on from a checkpoint continues the run: 40 + 10 epochs equal 50 straight.
    back.fit(vgae.datasets.cora(), epochs=EPOCHS + 10)
    straight = vgae.VGAE(epochs=EPOCHS + 10, seed=3).fit(vgae.datasets.cora())
    assert back.result()["test_auc"] == straight["test_auc"]


def test_model_family_and_directed_graphs():
    rng = np.random.default_rng(0)
    n = 60
    arcs = np.stack([rng.integers(0, n, 400), rng.integers(0, n, 400)])
    g = vgae.Graph(arcs, num_nodes=n, directed=True, name="arcs")
    assert g.directed and g.num_edges <= 400
    m = vgae.GAE(decoder="gravity", loss="sampled", epochs=20, seed=1, features=False)
    m.fit(g)
    pairs = np.array([[0, 1], [1, 0]])
    p = m.score(pairs)
    assert p.shape == (2,) and p[0] != p[1]
    for cls, label in [(vgae.ARGA, "ARGA*"), (vgae.LinearVGAE, "LinearVGAE*")]:
        m = cls(epochs=5, seed=0, features=False, loss="sampled")
        m.fit(vgae.Graph(arcs, num_nodes=n))
        assert m.label == label and m.encode().shape == (n, 16)


@pytest.mark.parametrize("edge_index, message", [
    (np.zeros((3, 5), dtype=np.int64), "edge_index has shape [3, 5]: expected [2, E]"),
    (np.zeros((2, 5), dtype=np.float32), "edge_index must be a 2-d int64 or int32 numpy array"),
    (np.array([[0, -1], [1, 2]]), "edge_index: pair 1 is (-1, 2): node ids must be"),
    ([[0, 1], [1, 2]], "edge_index must be a 2-d int64 or int32 numpy array"),
])
def test_malformed_edge_index_raises(edge_index, message):
    with pytest.raises(vgae.VgaeError) as e:
        vgae.Graph(edge_index)
    assert message in str(e.value)


def test_other_bad_input_raises_clear_errors(cora, tmp_path):
    with pytest.raises(vgae.VgaeError, match="edge 0 is \\(0, 9\\) but the graph has 5 nodes"):
        vgae.Graph(np.array([[0], [9]]), num_nodes=5)
    with pytest.raises(vgae.VgaeError, match="x has 3 rows, expected one per node \\(4\\)"):
        vgae.Graph(np.array([[0, 1], [2, 3]]), x=np.ones((3, 2), np.float32))
    with pytest.raises(vgae.VgaeError, match="is not fitted yet"):
        vgae.GAE().encode()
    with pytest.raises(vgae.VgaeError, match="unknown loss 'exact'"):
        vgae.VGAE(loss="exact")
    with pytest.raises(vgae.VgaeError, match="unknown model 'gcn'"):
        vgae.LinkModel("gcn")
    with pytest.raises(vgae.VgaeError, match="pair 0 is \\(0, 5000\\) but the graph has 2708 nodes"):
        m = vgae.GAE(epochs=1)
        m.fit(cora)
        m.score(np.array([[0], [5000]]))
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(vgae.VgaeError, match="bad.safetensors"):
        vgae.load(bad)
    with pytest.raises(vgae.VgaeError, match="unknown"):
        vgae.datasets.load("coraa")


def test_from_pyg_reads_a_data_object(cora):
    class T:  # the slice of torch.Tensor's API that from_pyg uses
        def __init__(self, a):
            self.a = a

        def detach(self):
            return self

        def cpu(self):
            return self

        def numpy(self):
            return self.a

    class Data:
        edge_index, x, y, num_nodes = T(cora.edge_index), T(cora.x), T(cora.y), cora.num_nodes

    assert vgae.from_pyg(Data(), name="cora").fingerprint == cora.fingerprint
