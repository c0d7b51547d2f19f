"""The engine on a real single-node SLURM (slurm/start.sh): the smoke grid with the real model,
and a worker job cancelled with scancel mid-sweep while the sweep still completes.

These tests start SLURM themselves when it is not running (root only). They skip, printing the
reason, only when that is impossible (not root and no working sinfo).
"""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from sweep import store
from sweep.model.cell import CellStatus

pytestmark = pytest.mark.slurm
ROOT = Path(__file__).resolve().parents[1]
SWEEP = str(Path(sys.executable).with_name("sweep"))


def _node_state() -> str:
    if not shutil.which("sinfo"):
        return ""
    r = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=30)
    return r.stdout.strip() if r.returncode == 0 else ""


@pytest.fixture(scope="module")
def slurm():
    state = _node_state()
    if not any(s in state for s in ("idle", "mixed", "allocated", "completing")):
        if os.geteuid() != 0:
            reason = (f"SLURM is not running (sinfo: {state or 'not available'}) and starting it "
                      "with slurm/start.sh needs root")
            print(reason)
            pytest.skip(reason)
        r = subprocess.run(["bash", str(ROOT / "slurm" / "start.sh")], capture_output=True, text=True,
                           timeout=600)
        assert r.returncode == 0, f"slurm/start.sh failed:\n{r.stdout}\n{r.stderr}"
        state = _node_state()
    assert any(s in state for s in ("idle", "mixed", "allocated", "completing")), state
    yield state


def _our_jobs() -> list[tuple[str, str]]:
    r = subprocess.run(["squeue", "-h", "-n", "dask-worker", "-o", "%i %T"], capture_output=True,
                       text=True, timeout=30)
    return [tuple(line.split()) for line in r.stdout.splitlines() if line.strip()]


def test_smoke_grid_on_slurm_real_model(slurm, tmp_path):
    """`sweep submit grids/smoke.yaml --cluster slurm` runs the real model in SLURM jobs."""
    out = tmp_path / "smoke.zarr"
    r = subprocess.run([SWEEP, "submit", str(ROOT / "grids" / "smoke.yaml"), "--cluster", "slurm",
                        "--out", str(out)], capture_output=True, text=True, timeout=400)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "ssh -N -L" in r.stdout  # the tunnel command to reach the dashboard
    # TLS (issue 12): the scheduler listens with tls://, the workers started with the
    # certificates (from a private directory beside the cube, removed at the end)
    assert "scheduler: tls://" in r.stdout and "(TLS, temporary certificates)" in r.stdout
    errs = "".join(f.read_text() for f in (tmp_path / "smoke.logs").glob("*.err"))
    import re

    assert re.search(r"Start worker at:\s+tls://", errs), errs[-2000:]
    assert re.search(r"Registered to:\s+tls://", errs), errs[-2000:]
    assert not list(tmp_path.glob(".sweep-tls-*"))
    assert stat.S_IMODE((tmp_path / "smoke.logs").stat().st_mode) == 0o750
    ds = xr.open_zarr(out)
    st = ds.status.values
    z = ds.z_diss.values
    assert (st[:, z < 10] == CellStatus.INVALID).all()
    assert np.isin(st[:, z >= 10], [CellStatus.DONE, CellStatus.NOT_CONVERGED]).all(), ds.message.values
    assert store.verify(out).ok
    assert any((tmp_path / "smoke.logs").glob("*.err"))  # the jobs ran and logged here
    t0 = time.time()  # the cluster cancels its jobs on close (they may linger a moment as COMPLETING)
    while _our_jobs() and time.time() - t0 < 60:
        time.sleep(0.5)
    assert _our_jobs() == []


def test_scancel_worker_job_mid_sweep(slurm, tmp_path):
    """A worker job cancelled with scancel costs only a retry of its task: the sweep completes."""
    spec = tmp_path / "s.yaml"
    spec.write_text(f"""
name: scancel
axes:
  z_diss: {{values: [20, 30, 40, 60, 80, 100, 150, 200], unit: Rs}}
model: {{ppd: 6, frequency_ppd: 2, neutrino_ppd: 2, particle_ppd: 2}}
output: {{path: {tmp_path / 's.zarr'}, chunks: {{z_diss: 1}}}}
cluster:
  default: slurm
  slurm: {{cores: 1, memory: 1GB, max_jobs: 2, walltime: "00:10:00", interface: lo}}
retries: 3
""")
    env = {**os.environ, "SWEEP_FAKE_SLEEP": "1.5"}
    p = subprocess.Popen([SWEEP, "submit", str(spec), "--cell-fn", "sweep.testing:fake_cell", "--no-report"],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    cube = tmp_path / "s.zarr"
    cancelled = None
    t0 = time.time()
    try:
        while time.time() - t0 < 180 and cancelled is None:
            assert p.poll() is None, p.stdout.read()
            running = [j for j, s in _our_jobs() if s == "RUNNING"]
            done = 0
            if (cube / "zarr.json").exists():
                try:
                    done = int((store.read_status(cube)[0] == CellStatus.DONE).sum())
                except Exception:  # noqa: BLE001
                    done = 0
            if running and 1 <= done <= 5:
                cancelled = running[0]
                subprocess.run(["scancel", cancelled], check=True, timeout=30)
            time.sleep(0.2)
        assert cancelled is not None, "no running worker job to cancel"
        out, _ = p.communicate(timeout=300)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, out
    assert cancelled not in [j for j, _ in _our_jobs()]
    st = store.read_status(cube)[0]
    assert (st == CellStatus.DONE).all(), (st, out)
    assert store.verify(cube).ok
