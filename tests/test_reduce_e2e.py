"""End to end on a real cube: `sweep submit grids/smoke.yaml` (real kinetic model, engine) and then
`sweep reduce`, `sweep plot planes`, `sweep plot sed`, `sweep match --source`, and the dashboard."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

ROOT = Path(__file__).resolve().parents[1]
SWEEP = str(Path(sys.executable).parent / "sweep")


@pytest.mark.slow
def test_smoke_cube_chain(tmp_path):
    out = tmp_path / "smoke.zarr"
    r = subprocess.run([SWEEP, "submit", str(ROOT / "grids" / "smoke.yaml"), "--out", str(out),
                        "--no-report"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    cube = xr.open_zarr(out)
    done = cube.status.values == 1
    assert done.any(), cube.message.values  # the chain needs at least one done cell

    def sweep(*args):
        res = subprocess.run([SWEEP, *args], capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, (args, res.stdout + res.stderr)
        return res.stdout

    assert "wrote" in sweep("reduce", str(out), "--z-source", "0.3365", "--dec", "5.7")
    obs = xr.open_zarr(tmp_path / "smoke.observables.zarr").compute()
    # every done cell gets a synchrotron peak and L_γ; cells not done stay NaN
    assert np.isfinite(obs.nu_syn_peak_rest.values[done]).all()
    assert (obs.L_gamma.values[done] > 0).all()
    assert np.isnan(obs.L_gamma.values[~done]).all()
    # the band luminosities of a done cell are below the bolometric photon output
    # (∫ νL_ν d ln ν over the whole grid), an independent upper bound
    from sweep.model.observer import band_luminosity

    nu = cube.frequency.values
    sed = cube.nuLnu_obs.values[done]
    bol = band_luminosity(nu, sed, nu[0], nu[-1])
    for v in ("L_gamma", "L_xrt", "L_bat"):
        assert (obs[v].values[done] <= bol * (1 + 1e-9)).all(), v
    for suffix in ("png", "html"):
        assert "wrote" in sweep("plot", "planes", str(out), "--out", str(tmp_path / f"p.{suffix}"))
        assert (tmp_path / f"p.{suffix}").stat().st_size > 20_000
    assert "wrote" in sweep("plot", "sed", str(out), "--sel", "sigma0=30",
                            "--out", str(tmp_path / "s.png"))
    text = sweep("match", str(out), "--source", "4FGL J0509.4+0542", "--top", "3")
    assert "TXS 0506+056" in text and "chi2" in text
    from sweep.dashboard import build_app

    app = build_app(out)
    assert len(app.select(__import__("panel").widgets.Select)) == len(
        [d for d in cube.nuLnu_obs.dims if d != "frequency"])
    # the seeds' view on the real cube (docs/products.md §3): every done cell with neutrinos gets
    # a dominant pγ target above the photopion threshold η₀ = 2m_π/m_p + m_π²/m_p² ≈ 0.313
    # (η = 4 E'_γ E'_p/(m_p c²)²; below it the kernel is zero) and in the Δ/multipion range
    # (η < 1e3); L_ν(>100 TeV) never exceeds the all-flavour total.
    assert "done cells" in sweep("plot", "neutrinos", str(out), "--out", str(tmp_path / "nu.png"))
    from sweep import seeds
    from sweep.model import constants as const

    df = seeds.seeds_table(out, z_source=1.0)
    assert len(df) == int(done.sum())
    has = np.isfinite(df["E_target_comoving"].to_numpy(float))
    assert has.sum() >= len(df) - 2
    eta = (4 * df["E_target_comoving"] * df["E_p_parent_comoving"] * const.eV**2
           / const.m_p_c2**2).to_numpy(float)[has]
    assert ((eta > 0.313) & (eta < 1e3)).all(), eta
    assert (df["L_nu_100TeV"] <= df["L_nu_all"] * (1 + 1e-9)).all()
