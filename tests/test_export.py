"""sweep export: the exported spectra are the cube's numbers, with units, frames and provenance."""
from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from astropy.table import Table
from typer.testing import CliRunner

import reducer_cubes as rc
from sweep import export
from sweep.cli import app
from sweep.model import constants as const

# d_L(z=1) for flat ΛCDM H0=70, Om0=0.3 is 6607.66 Mpc (e.g. Wright 2006 calculator; independent
# of astropy); 1e-4 relative covers the radiation/numerical details of the two calculations.
DL_Z1_CM = 6607.66 * 3.0856775814913673e24


@pytest.fixture(scope="module")
def cube(tmp_path_factory):
    return rc.write_cube(tmp_path_factory.mktemp("exp") / "c.zarr")


def test_one_cell_numbers(cube):
    ds = xr.open_zarr(cube)
    t = export.export_table(ds, {"sigma0": "30", "mdot": "0.01", "z_diss": "100"}, z_source=1.0)
    assert t.meta["n_cells"] == 1 and set(t["cell"]) == {0}
    cell = ds.sel(sigma0=30.0, mdot=0.01, z_diss=100.0)
    ph = t[t["particle"] == "photon"]
    # exactly the cube's νL_ν, on the cube's frequency grid moved to the observer at z=1
    np.testing.assert_array_equal(ph["nuLnu"].value, cell["nuLnu_obs"].values)
    np.testing.assert_allclose(ph["frequency_obs"].quantity.to_value("Hz"), ds.frequency.values / 2.0,
                               rtol=1e-12)
    np.testing.assert_allclose(ph["energy_rest"].quantity.to_value("eV"),
                               ds.frequency.values * const.h / const.eV, rtol=1e-12)
    np.testing.assert_allclose(ph["nuFnu"].quantity.to_value("erg cm-2 s-1"),
                               cell["nuLnu_obs"].values / (4 * np.pi * DL_Z1_CM**2), rtol=1e-4)
    np.testing.assert_allclose(ph["E2_dNdE"].quantity.to_value("GeV cm-2 s-1"),
                               ph["nuFnu"].value / 1.602176634e-3, rtol=1e-9)
    # per flavour, and the all-flavour sum
    ele = cell["ELE_nu_obs"].values
    for k, f in enumerate(ds.neutrino_flavour.values):
        np.testing.assert_array_equal(t[t["particle"] == f]["nuLnu"].value, ele[k])
    np.testing.assert_allclose(t[t["particle"] == "nu_all"]["nuLnu"].value, ele.sum(0), rtol=1e-12)
    # parameters, jet state, status and provenance
    assert (ph["sigma0"] == 30.0).all() and (ph["z_diss"] == 100.0).all()
    assert (t["status"] == "done").all()
    np.testing.assert_allclose(ph["z_cm"].quantity.to_value("cm"), float(cell["z_cm"]), rtol=1e-12)
    assert t.meta["cube_spec_sha256"] == "synthetic" and t.meta["z_source"] == 1.0
    assert t["nuLnu"].unit == "erg / s" and t["energy_obs"].unit == "eV"


@pytest.mark.parametrize("suffix", [".ecsv", ".csv", ".fits", ".nc"])
def test_formats_round_trip(cube, tmp_path, suffix):
    out = tmp_path / f"sed{suffix}"
    r = CliRunner().invoke(app, ["export", str(cube), "--sel", "sigma0=10,mdot=0.001",
                                 "--out", str(out), "--z-source", "0.5"])
    assert r.exit_code == 0, r.output
    assert "4 cell(s)" in r.output
    ds = xr.open_zarr(cube).sel(sigma0=10.0, mdot=0.001)
    want = ds["nuLnu_obs"].values  # (z_diss, frequency)
    if suffix == ".nc":
        back = xr.open_dataset(out, engine="h5netcdf")
        lum, part, cell = back["nuLnu"].values, back["particle"].values.astype(str), back["cell"].values
        assert back["nuFnu"].attrs["units"] == "erg / (s cm2)"
        assert back.attrs["z_source"] == 0.5
        status = back["status"].values.astype(str)
    else:
        back = Table.read(out, format="ascii.ecsv" if suffix == ".csv" else None)
        lum = np.ma.filled(np.ma.asarray(back["nuLnu"], dtype=float), np.nan)  # FITS: NaN masked
        part, cell = np.asarray(back["particle"]).astype(str), np.asarray(back["cell"])
        assert back["nuFnu"].unit == "erg / (s cm2)"
        status = np.asarray(back["status"]).astype(str)
    for k in range(4):
        got = lum[(cell == k) & (part == "photon")]
        np.testing.assert_array_equal(got, want[k])
    # the failed cell (sigma0=10, mdot=1e-3, z_diss=10) keeps its status and NaN spectra
    assert (status[cell == 0] == "failed").all() and np.isnan(lum[cell == 0]).all()


def test_bad_input(cube, tmp_path):
    r = CliRunner().invoke(app, ["export", str(cube), "--out", str(tmp_path / "x.txt")])
    assert r.exit_code == 2 and ".ecsv" in r.output
    r = CliRunner().invoke(app, ["export", str(cube), "--sel", "sigma0=31",
                                 "--out", str(tmp_path / "x.ecsv")])
    assert r.exit_code == 2 and "sigma0=31" in r.output and "allowed values" in r.output
    r = CliRunner().invoke(app, ["export", str(cube), "--z-source", "0",
                                 "--out", str(tmp_path / "x.ecsv")])
    assert r.exit_code == 2 and "--z-source=0" in r.output
