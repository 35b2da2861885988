"""`vgae.load("hf://...")`: a model pushed with `vgae hub push` to the mock hub (tests/mock_hub.py) loads
in Python, checked against its model card's sha256."""

import pathlib
import subprocess
import sys
import time

import numpy as np
import pytest

import vgae
from conftest import ROOT


@pytest.fixture
def hub(tmp_path):
    port_file = tmp_path / "port"
    (tmp_path / "empty" / "planetoid").mkdir(parents=True)
    p = subprocess.Popen([sys.executable, str(ROOT / "tests" / "mock_hub.py"), "--root", str(tmp_path / "empty"),
                          "--port-file", str(port_file), "--lifetime", "120"],
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t = time.time()
    while not port_file.exists():
        assert time.time() - t < 20, "mock hub did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port_file.read_text().strip()}"
    p.kill()
    p.wait()


def test_load_from_the_hub(hub, cli, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", hub)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("HF_TOKEN", "hf_test")
    m = vgae.GAE(epochs=10, seed=1)
    m.fit(vgae.datasets.cora())
    m.save(tmp_path / "gae.safetensors")
    cli("hub", "push", tmp_path / "gae.safetensors", "--repo", "lab/py-gae", json_out=False)
    back = vgae.load("hf://lab/py-gae")
    assert np.array_equal(back.encode(), m.encode()) and back.label == "GAE"
    with pytest.raises(vgae.VgaeError, match="expected hf://OWNER/NAME"):
        vgae.load("hf://nobody")
    with pytest.raises(vgae.VgaeError, match="README.md"):
        vgae.load("hf://lab/missing")
