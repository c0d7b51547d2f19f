"""The installed product: a wheel built from this source tree, installed into a fresh venv in a
temporary directory (no ``shared`` folder anywhere above it, no access to this checkout), runs the
whole user chain on a 4-cell grid of the real model:

    submit → status → verify → reduce → plot planes → plot sed → plot neutrinos → match → export
    → population → data verify

The fresh venv gets the runtime dependencies from the venv running the tests (a ``.pth`` line
pointing at its site-packages, so nothing is downloaded) and ``sweep`` itself only from the wheel
(``pip install --no-deps``); the test checks that ``sweep.__file__`` lies inside the new venv.
The wheel is built offline (``pip wheel --no-deps --no-build-isolation``; setuptools>=77 is in the
test extra). Slow (≈ 2–4 min on 2 cores: numba compiles the model afresh for the new location).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

GRID = """\
name: four
description: 4 cells of the real model for the installed-product test
axes:
  sigma0: {values: [10, 30]}
  z_diss: {values: [30, 300], unit: Rs}
fixed: {mass_msun: 1.0e9, mdot: 0.01, eps_jet: 0.1, eta_acc: 1.0e4, theta_obs: 3.0}
model: {radiation: leptohadronic, ppd: 20, max_iterations: 200}
output: {path: four.zarr, chunks: {sigma0: 1, z_diss: 2}}
cluster: {default: local, local: {threads_per_worker: 1}}
retries: 1
"""


def _run(args, cwd, env, timeout=900):
    r = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{args}\n--- stdout\n{r.stdout}\n--- stderr\n{r.stderr[-4000:]}"
    return r.stdout


@pytest.mark.slow
def test_wheel_in_fresh_venv(tmp_path):
    assert not any((p / "shared").exists() for p in [tmp_path, *tmp_path.parents]), (
        "the temporary directory has a 'shared' folder above it; the test needs one without")
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
           and not k.startswith("SWEEP_")}
    env["SWEEP_DATA_CACHE"] = str(tmp_path / "cache")
    # 1. wheel from a copy of the source tree (keeps build/ and *.egg-info out of the checkout)
    src = tmp_path / "src_copy"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "src", src / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.nbi", "*.nbc"))
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
          "-w", str(wheels), str(src)], cwd=tmp_path, env=env)
    (whl,) = wheels.glob("sweep-*.whl")
    import zipfile

    names = zipfile.ZipFile(whl).namelist()
    for f in ("sweep/data/manifest.json", "sweep/data/fermi/table-4LAC-DR2-h.fits",
              "sweep/data/fermi/3LAC_hi.csv", "sweep/data/fermi/gll_psc_v16_3lac-columns.fits",
              "sweep/data/icecube/IC86_II_effectiveArea.csv", "sweep/data/README.md"):
        assert f in names, f"{f} missing from the wheel"
    # 2. fresh venv: dependencies through a .pth to this interpreter's site-packages; sweep from
    #    the wheel only
    venv = tmp_path / "v"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp_path, env=env)
    py = venv / "bin" / "python"
    site = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                     cwd=tmp_path, env=env).strip())
    (site / "_deps_from_test_venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([str(py), "-m", "pip", "install", "--no-deps", "-q", str(whl)], cwd=tmp_path, env=env)
    where = _run([str(py), "-c", "import sweep; print(sweep.__file__)"], cwd=tmp_path, env=env)
    assert Path(where.strip()).is_relative_to(venv), where
    sweep = str(venv / "bin" / "sweep")
    work = tmp_path / "some" / "other" / "dir"
    work.mkdir(parents=True)
    (work / "four.yaml").write_text(GRID)

    def run(*args):
        return _run([sweep, *args], cwd=work, env=env)

    # 3. the chain
    assert "done 4" in run("submit", "four.yaml", "--out", "s.zarr", "--no-report")
    assert "done" in run("status", "s.zarr")
    run("verify", "s.zarr")
    assert "wrote" in run("reduce", "s.zarr", "--z-source", "1")
    assert "wrote" in run("plot", "planes", "s.zarr", "--out", "p.png")
    assert "wrote" in run("plot", "sed", "s.zarr", "--out", "sed.png")
    assert "4 done cells" in run("plot", "neutrinos", "s.zarr", "--out", "nu.png")
    assert "chi2" in run("match", "s.zarr", "--source", "TXS 0506+056", "--top", "2")
    assert "1 cell(s)" in run("export", "s.zarr", "--sel", "sigma0=30,z_diss=300",
                              "--out", "sed.ecsv")
    assert "TXS 0506+056" in run("population", "s.zarr", "--out", "pop.ecsv")
    assert "all 4 files verified" in run("data", "verify")
    for f in ("p.png", "sed.png", "nu.png"):
        assert (work / f).stat().st_size > 20_000, f
    # the exported luminosities are the cube's own numbers
    check = ("import numpy as np, xarray as xr; from astropy.table import Table;"
             "t = Table.read('sed.ecsv'); ph = t[t['particle'] == 'photon'];"
             "c = xr.open_zarr('s.zarr').sel(sigma0=30.0, z_diss=300.0);"
             "assert np.array_equal(ph['nuLnu'].value, c.nuLnu_obs.values);"
             "assert t.meta['cube_spec_sha256'] == xr.open_zarr('s.zarr').attrs['spec_sha256'];"
             "print('same')")
    assert "same" in _run([str(py), "-c", check], cwd=work, env=env)
