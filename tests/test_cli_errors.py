"""Bad input to the reducer commands and the explorer: one line on stderr and exit 2, never a
traceback; `sweep explore` moves to a free port when its default one is taken."""
from __future__ import annotations

import socket

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

import reducer_cubes as rc
from sweep import dashboard
from sweep.cli import app

run = CliRunner().invoke


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    d = tmp_path_factory.mktemp("stores")
    cube = d / "c.zarr"
    rc.write_cube(cube, chunks={"z_diss": 2})
    r = run(app, ["reduce", str(cube)])
    assert r.exit_code == 0, r.output
    xr.Dataset({"temperature": ("x", np.arange(3.0))}).to_zarr(d / "foreign.zarr")
    (d / "plain").mkdir()
    (d / "plain" / "notes.txt").write_text("not a store")
    return {"cube": cube, "obs": d / "c.observables.zarr", "foreign": d / "foreign.zarr",
            "plain": d / "plain", "missing": d / "missing.zarr"}


def _one_line_exit_2(r, *needles):
    assert r.exit_code == 2, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    assert "Traceback" not in r.output
    for n in needles:
        assert n in lines[0], lines[0]


@pytest.mark.parametrize("kind,cmd,needles", [
    ("obs", ["reduce"], ["is an observables store", "give the cube"]),
    ("foreign", ["reduce"], ["is not a sweep cube", "temperature"]),
    ("plain", ["reduce"], ["is not a sweep cube", "not a Zarr store"]),
    ("missing", ["reduce"], ["cube not found"]),
    ("obs", ["plot", "sed"], ["is an observables store"]),
    ("foreign", ["plot", "planes"], ["is not a sweep cube"]),
    ("foreign", ["match", "--l-gamma", "46"], ["is not a sweep cube"]),
    ("plain", ["explore", "--no-show"], ["is not a sweep cube"]),
])
def test_wrong_store_is_one_line(stores, tmp_path, kind, cmd, needles):
    args = [*cmd, str(stores[kind])]
    if cmd[0] == "plot":
        args += ["--out", str(tmp_path / "x.png")]
    _one_line_exit_2(run(app, args), str(stores[kind]), *needles)


def test_explore_port_taken(stores, monkeypatch):
    """An explicit --port that is taken: one line, exit 2. No --port: the default port if free,
    else a free one chosen by the OS (0)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        _one_line_exit_2(run(app, ["explore", str(stores["cube"]), "--port", str(port),
                                   "--no-show"]), f"port {port}", "in use")
        monkeypatch.setattr(dashboard, "DEFAULT_PORT", port)
        assert dashboard.choose_port(None) == 0
        with pytest.raises(OSError, match="in use"):
            dashboard.choose_port(port)
    assert dashboard.choose_port(None) == port  # free again
