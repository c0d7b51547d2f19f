"""sweep population: rows built from injected known cells of a synthetic cube."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from typer.testing import CliRunner

import reducer_cubes as rc
from sweep import population as pop
from sweep import reduce as red
from sweep.cli import app


@pytest.fixture(scope="module")
def cube_obs():
    ds = rc.make_cube()
    return ds, red.compute_observables(ds, z_source=1.0).compute()


def _source(name, assoc, obs_cell, z, dec, dlogL=0.0, cls="BL Lac"):
    return dict(name=name, assoc=assoc, catalog="test", cls=cls, sed_class="", z=z, ra=0.0,
                dec=dec, energy_flux100=np.nan, photon_index=np.nan,
                log_nu_peak_obs=np.nan,
                log_nu_peak_rest=float(np.log10(obs_cell["nu_syn_peak_rest"])),
                log_L_gamma=float(np.log10(obs_cell["L_gamma"])) + dlogL,
                log_CD=float(np.log10(obs_cell["compton_dominance"])), cd_lower_limit=False)


@pytest.fixture(scope="module")
def catalog(cube_obs):
    _, obs = cube_obs
    known = obs.sel(sigma0=30.0, mdot=0.01, z_diss=100.0)
    rows = [_source("4FGL JTEST+0001", "injected", known, z=0.5, dec=10.0),
            _source("4FGL JTEST+0002", "far away", known, z=0.3, dec=-20.0, dlogL=3.0),
            _source("4FGL JTEST+0003", "no redshift", known, z=np.nan, dec=0.0),
            _source("4FGL J0509.4+0542", "TXS 0506+056", known, z=0.3365, dec=5.69)]
    return pd.DataFrame(rows)


def test_injected_cell_is_the_row(cube_obs, catalog):
    """Within 0.05 σ (0.01–0.015 dex) only the injected cell matches; its neutrino energy flux and
    track rate are recomputed independently (astropy d_L, reduce.icecube_track_rate reading the
    effective-area file itself)."""
    ds, obs = cube_obs
    df = pop.population(ds, obs, catalog, n_sigma=0.05)
    assert list(df["assoc"]) == ["injected", "far away", "TXS 0506+056"]  # no-z source dropped
    r = df.iloc[0]
    assert r["n_match"] == 1 and r["best_sigma0"] == 30.0 and r["best_mdot"] == 0.01
    assert r["best_z_diss"] == 100.0 and r["best_chi2"] < 1e-20
    cell = obs.sel(sigma0=30.0, mdot=0.01, z_diss=100.0)
    dl = red.default_cosmology().luminosity_distance(0.5).to("cm").value
    assert r["F_nu_median"] == pytest.approx(float(cell["L_nu_all"]) / (4 * np.pi * dl**2),
                                             rel=1e-12)
    ele = ds["ELE_nu_obs"].sel(sigma0=30.0, mdot=0.01, z_diss=100.0).sum("neutrino_flavour")
    rate = red.icecube_track_rate(ds.neutrino_energy.values, ele.values, 0.5, 10.0,
                                  cosmology=red.default_cosmology()) * red.YEAR_S
    assert r["tracks_per_year_median"] == pytest.approx(rate, rel=1e-10)
    assert r["tracks_per_year_min"] == r["tracks_per_year_max"] == r["tracks_per_year_median"]
    # the far source: listed, with no match and NaN predictions
    far = df.iloc[1]
    assert far["n_match"] == 0 and np.isnan(far["F_nu_median"]) and pd.isna(far["rank"])
    # TXS (same observables, other z/dec): matched by the same cell, rate at its own z and dec
    txs = df.iloc[2]
    rate_txs = red.icecube_track_rate(ds.neutrino_energy.values, ele.values, 0.3365,
                                      5.69, cosmology=red.default_cosmology()) * red.YEAR_S
    assert txs["tracks_per_year_median"] == pytest.approx(rate_txs, rel=1e-10)
    # ranks by the median rate: the nearer TXS (z=0.34) outranks the injected source at z=0.5
    assert txs["rank"] == 1 and r["rank"] == 2
    text = pop.summary(df)
    assert "TXS 0506+056 (4FGL J0509.4+0542): rank 1 of 2" in text


def test_all_cells_median_and_range(cube_obs, catalog):
    """With a huge tolerance every done cell (15 of 16) matches: median/min/max over them."""
    ds, obs = cube_obs
    df = pop.population(ds, obs, catalog.iloc[:1], n_sigma=1e6)
    r = df.iloc[0]
    done = obs["status"].values == 1
    assert r["n_match"] == int(done.sum()) == 15
    dl = red.default_cosmology().luminosity_distance(0.5).to("cm").value
    f = obs["L_nu_all"].values[done] / (4 * np.pi * dl**2)
    assert r["F_nu_median"] == pytest.approx(np.median(f), rel=1e-12)
    assert (r["F_nu_min"], r["F_nu_max"]) == (pytest.approx(f.min(), rel=1e-12),
                                              pytest.approx(f.max(), rel=1e-12))
    assert r["best_z_diss"] == 100.0 and r["best_sigma0"] == 30.0


def test_cli_writes_table_with_units(tmp_path, catalog, monkeypatch):
    """End to end through the CLI on a real catalogue (packaged 4LAC-DR2): the table has every
    usable source once, units, and the summary names TXS 0506+056's rank (or no match)."""
    path = rc.write_cube(tmp_path / "c.zarr")
    out = tmp_path / "pop.ecsv"
    r = CliRunner().invoke(app, ["population", str(path), "--out", str(out), "--n-sigma", "2"])
    assert r.exit_code == 0, r.output
    assert "TXS 0506+056 (4FGL J0509.4+0542)" in r.output
    from astropy.table import Table

    t = Table.read(out)
    assert t["F_nu_median"].unit == "erg / (s cm2)" and t["tracks_per_year_median"].unit == "1 / yr"
    assert len(t) == len(set(t["name"])) > 1000
    assert t.meta["catalog"] == "4LAC-DR2" and t.meta["cube_spec_sha256"] == "synthetic"
    r = CliRunner().invoke(app, ["population", str(path), "--out", str(out), "--n-sigma", "-1"])
    assert r.exit_code == 2 and "n_sigma must be > 0" in r.output
