"""Shared fixtures: the `vgae` CLI built beside this package (its numbers are what Python must match) and
the data directory (`$VGAE_DATA_DIR`, as `.ci/run` sets it)."""

import json
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def cli():
    """Runs `vgae ARGS... --json` (the release build) and returns its JSON output."""
    exe = pathlib.Path(os.environ.get("VGAE_BIN", ROOT / "target" / "release" / "vgae"))
    if not exe.is_file():
        pytest.fail(f"the vgae CLI is not built at {exe}: run `cargo build --release` (or set VGAE_BIN)")

    def run(*args, json_out=True):
        out = subprocess.run([str(exe), "--quiet", *map(str, args)], check=True, capture_output=True,
                             text=True)
        return json.loads(out.stdout) if json_out else out.stdout

    return run


@pytest.fixture(scope="session")
def data_dir():
    d = os.environ.get("VGAE_DATA_DIR")
    if not d or not pathlib.Path(d, "mnist").is_dir():
        pytest.fail(f"VGAE_DATA_DIR={d!r} does not hold the datasets (mnist/): set it to ../shared/data")
    return d
