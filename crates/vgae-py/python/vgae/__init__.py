"""vgae-rs from Python: graph autoencoders and image VAEs, numpy arrays in and out.

>>> import vgae
>>> g = vgae.datasets.cora()                        # the built-in Cora (2708 nodes, 5278 edges)
>>> model = vgae.VGAE(epochs=200, seed=0)
>>> model.fit(g)["test_auc"]                         # the split `vgae train --seed 0` draws
>>> z = model.encode()                               # np.ndarray [2708, 16]
>>> auc, ap = model.test(model.split.test_pos, model.split.test_neg)

Every error is a ``vgae.VgaeError`` (a ``ValueError``) with the message the ``vgae`` CLI prints.
"""

from . import _native
from ._native import VAE, Graph, LinkModel, Split, VgaeError, __version__, split

__all__ = [
    "ARGA", "ARGVA", "GAE", "VGAE", "LinearGAE", "LinearVGAE", "LinkModel", "VAE", "Graph", "Split",
    "VgaeError", "datasets", "from_pyg", "load", "split", "__version__",
]


def _model(kind, doc):
    class Model(LinkModel):
        __doc__ = doc

        def __new__(cls, **config):
            return super().__new__(cls, kind, **config)

    return Model


GAE = _model("gae", "Graph autoencoder (Kipf & Welling 2016): GCN encoder, inner-product decoder.")
VGAE = _model("vgae", "Variational graph autoencoder (Kipf & Welling 2016).")
ARGA = _model("arga", "GAE regularised by a discriminator on the embedding (Pan et al. 2018).")
ARGVA = _model("argva", "VGAE regularised by a discriminator on the embedding (Pan et al. 2018).")
LinearGAE = _model("linear-gae", "GAE with the one-hop linear encoder Z = ÂXW (Salha et al. 2020).")
LinearVGAE = _model("linear-vgae", "VGAE with linear mean and log-std heads (Salha et al. 2020).")
for _cls, _name in [(GAE, "GAE"), (VGAE, "VGAE"), (ARGA, "ARGA"), (ARGVA, "ARGVA"),
                    (LinearGAE, "LinearGAE"), (LinearVGAE, "LinearVGAE")]:
    _cls.__name__ = _cls.__qualname__ = _name


def load(path, graph=None, data_dir=None):
    """Reads a checkpoint written by ``save``, ``vgae train`` or ``vgae vae train`` (a file, a run directory
    or ``hf://OWNER/NAME[@REVISION]``, downloaded and checked against its model card's sha256): a graph
    model on ``graph`` (default: the dataset it names), or a ``VAE``."""
    if _native.checkpoint_kind(str(path)) == "vae":
        if graph is not None:
            raise VgaeError(f"{path}: a VAE checkpoint takes no graph")
        return VAE.load(str(path), data_dir)
    return LinkModel.load(str(path), graph, data_dir)


def from_pyg(data, name="graph", directed=False):
    """A ``vgae.Graph`` from a PyTorch Geometric ``Data`` (``edge_index``, ``x``, ``y``, ``edge_weight``)."""

    def arr(t):
        return None if t is None else t.detach().cpu().numpy()

    y = arr(getattr(data, "y", None))
    if y is not None and y.ndim != 1:
        y = None
    return Graph(arr(data.edge_index), num_nodes=data.num_nodes, x=arr(getattr(data, "x", None)), y=y,
                 edge_weight=arr(getattr(data, "edge_weight", None)), directed=directed, name=name)


class datasets:
    """Named graphs: Cora is built in; Citeseer and Pubmed are read from ``data_dir``, ``$VGAE_DATA_DIR``
    or the hub cache, as ``vgae train --dataset`` finds them."""

    @staticmethod
    def load(name, data_dir=None):
        return _native.load_dataset(name, data_dir)

    @staticmethod
    def cora(data_dir=None):
        return _native.load_dataset("cora", data_dir)

    @staticmethod
    def citeseer(data_dir=None):
        return _native.load_dataset("citeseer", data_dir)

    @staticmethod
    def pubmed(data_dir=None):
        return _native.load_dataset("pubmed", data_dir)
