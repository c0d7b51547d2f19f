"""The seeds' view: paper 001 Eq. 4.2, the dominant pγ target energy, the zero floor and the figure."""
from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

import reducer_cubes as rc
from sweep import logscale, seeds
from sweep.cli import app
from sweep.model import constants as const


def test_relation_of_paper_001():
    """Eq. 4.2: 8.5 keV at δ=10, z=1, E_ν=200 TeV, ∝ δ², (1+z)⁻², E_ν⁻¹."""
    assert seeds.relation_kev(10, 1, 200e12) == pytest.approx(8.5, rel=1e-12)
    assert seeds.relation_kev(20, 1, 200e12) == pytest.approx(34.0, rel=1e-12)
    assert seeds.relation_kev(10, 3, 200e12) == pytest.approx(8.5 / 4, rel=1e-12)
    assert seeds.relation_kev(10, 1, 400e12) == pytest.approx(8.5 / 2, rel=1e-12)


def test_dominant_target_line_and_threshold():
    """A narrow line dominates wherever the proton is above threshold; below the pγ threshold
    (η < η₀ = 2 m_π/m_p + m_π²/m_p² ≈ 0.313) nothing contributes. For a steep power-law field
    (u_ν ∝ ν⁻³) the maximum of u_ν K(η) lies just above threshold, in the Δ(1232) region:
    proton-rest-frame photon energy ε̄ = η m_p c²/2 between 0.2 and 0.6 GeV."""
    nu = np.logspace(14, 22, 801)
    e_line = 1e3 * const.eV  # 1 keV line
    u = np.where(np.abs(np.log(const.h * nu / e_line)) < 0.02, 1.0, 0.0)  # ±2 % box
    e_p = 1e14 * const.eV  # η = 4·1 keV·1e14 eV/(m_p c²)² ≈ 0.45 > η₀
    e, w = seeds.dominant_target(nu, u, e_p)
    assert e == pytest.approx(1e3, rel=0.03) and w > 0
    e, w = seeds.dominant_target(nu, u, 0.5e14 * const.eV)  # η ≈ 0.23 < η₀: below threshold
    assert w == 0 and np.isnan(e)
    u_pl = nu**-3.0
    e, _ = seeds.dominant_target(nu, u_pl, e_p)
    eps_bar_gev = 2.0 * (e * const.eV) * e_p / const.m_p_c2 / (1e9 * const.eV)
    assert 0.2 < eps_bar_gev < 0.6


def test_log_floor_convention():
    v = np.array([0.0, 1e-9, 1e30, 1e36, np.nan])
    lo, hi = logscale.log_limits(v)
    assert lo == pytest.approx(1e30) and hi == pytest.approx(5e36)
    f, low = logscale.floor_values(v, lo)
    assert list(low) == [True, True, True, False, False]
    assert f[0] == lo and np.isnan(f[-1])
    assert logscale.log_limits([0.0, np.nan]) is None


def test_plot_neutrinos_cli(tmp_path):
    """The figure is written for PNG and HTML; a cube without comoving spectra still gets the
    luminosity panels (target energies NaN)."""
    path = rc.write_cube(tmp_path / "c.zarr")
    for suffix in ("png", "html"):
        out = tmp_path / f"nu.{suffix}"
        r = CliRunner().invoke(app, ["plot", "neutrinos", str(path), "--out", str(out),
                                     "--z-source", "0.5", "--dec", "5"])
        assert r.exit_code == 0, r.output
        assert "15 done cells" in r.output and out.stat().st_size > 20_000
    r = CliRunner().invoke(app, ["plot", "neutrinos", str(path), "--out", str(tmp_path / "x.pdf")])
    assert r.exit_code == 2 and ".png or .html" in r.output
    df = seeds.seeds_table(path, z_source=0.5, dec_deg=5.0)
    assert len(df) == 15 and np.isnan(df["E_target_obs"]).all()
    assert (df["L_nu_100TeV"] > 0).all() and (df["L_bat"] > 0).all()


def test_explorer_has_the_seeds_tab(tmp_path):
    """`sweep explore` shows the same view as a second tab; it renders to bokeh, and a selection
    change re-renders it with the selected cell highlighted."""
    import holoviews as hv
    import panel as pn

    from sweep.dashboard import build_app

    path = rc.write_cube(tmp_path / "c.zarr")
    app = build_app(path, catalog=None)
    assert isinstance(app, pn.Tabs) and len(app) == 2
    assert app._names[1] == "neutrinos vs hard X-rays"
    pane = app[1][1]
    lay = pane.object
    assert isinstance(lay, hv.Layout) and len(lay) == 5
    hv.render(lay, backend="bokeh")
    sel = app[0].select(pn.widgets.Select)[0]
    sel.value = 1  # sigma0 = 30
    assert pane.object is not lay
