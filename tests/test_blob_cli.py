"""`sweep blob`: config schema errors, outputs, JSON payload (ATHEνA Test 1 example)."""
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from sweep.cli import app

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "athena_test1.yaml"
runner = CliRunner()


def test_example_runs_and_writes(tmp_path):
    """The shipped example converges, conserves energy (1e-3) and writes .nc, .csv and a plot."""
    nc, csv, png = tmp_path / "r.nc", tmp_path / "r.csv", tmp_path / "sed.png"
    res = runner.invoke(app, ["blob", str(EXAMPLE), "--out", str(nc), "--plot", str(png)])
    assert res.exit_code == 0, res.output
    assert "converged" in res.output
    assert nc.stat().st_size > 0 and png.stat().st_size > 0
    # says where the files went, and (the YAML names ATHEνA references) the agreement in dex:
    # the Test 1 bounds of test_kinetics (photons median ≤ 0.03, max ≤ 0.10; pairs ≤ 0.03)
    assert f"plot written to {png}" in res.stdout and f"spectra written to {nc}" in res.stdout
    import re

    m = re.search(r"photons median ([\d.]+) dex, max ([\d.]+) dex", res.stdout)
    assert m and float(m[1]) <= 0.03 and float(m[2]) <= 0.10, res.stdout
    m = re.search(r"pairs median ([\d.]+) dex", res.stdout)
    assert m and float(m[1]) <= 0.03, res.stdout
    import xarray as xr

    ds = xr.open_dataset(nc)
    assert ds.attrs["status"] == "converged"
    assert abs(ds.attrs["energy_balance"] - 1) < 1e-3
    # δ = 1, z = 0: observed = comoving
    np.testing.assert_allclose(ds["nuLnu_obs"].values, ds["nuLnu_comoving"].values)
    ds.close()
    res = runner.invoke(app, ["blob", str(EXAMPLE), "--out", str(csv)])
    assert res.exit_code == 0
    assert "plot written" not in res.stdout
    arr = np.loadtxt(csv, delimiter=",")
    assert arr.shape[1] == 4


def test_json_payload():
    """--json gives the comoving SED and pair spectrum, with the peak near ATHEνA's (10^39.1
    erg/s at ~10^17 Hz, within 0.05 dex)."""
    res = runner.invoke(app, ["blob", str(EXAMPLE), "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    for key in ("log_nu", "log_nuLnu", "log_gamma_e", "log_n_e", "iterations", "converged",
                "energy_balance", "runtime_s"):
        assert key in d
    assert d["converged"] is True
    assert max(d["log_nuLnu"]) == pytest.approx(39.105, abs=0.05)


def _write(tmp_path, text):
    p = tmp_path / "c.yaml"
    p.write_text(text)
    return p


@pytest.mark.parametrize("text,needle", [
    ("R: 1e15\nB: 1\nfoo: 3\ninjection: [{p: 2, gamma_max: 1e5, luminosity: 1e40}]\n", "foo"),
    ("R: 1e15\nB: 1\ninjection: [{p: 2, gamma_max: 1e5, luminosity: 1e40, bar: 1}]\n", "bar"),
    ("R: -1\nB: 1\ninjection: [{p: 2, gamma_max: 1e5, luminosity: 1e40}]\n", "R"),
    ("R: 1e15\nB: 1\ninjection: [{p: 2, gamma_max: 1e5}]\n", "luminosity"),
    ("R: 1e15\nB: 1\nprocesses: {synchrotron_kernel: magic}\ninjection: [{p: 2, gamma_max: 1e5, luminosity: 1e40}]\n",
     "synchrotron_kernel"),
])
def test_bad_config_names_the_key(tmp_path, text, needle):
    """Bad input: exit code 2, message naming the key, no traceback."""
    res = runner.invoke(app, ["blob", str(_write(tmp_path, text))])
    assert res.exit_code == 2
    assert needle in res.output
    assert "Traceback" not in res.output


def test_grey_body_external_field(tmp_path):
    """An external grey body is a target only: EC makes photons, the energy taken from the field is
    counted as input, and the balance closes (1e-3)."""
    text = ("R: 1e16\nB: 0.1\nppd: 10\ninjection: [{p: 2.2, gamma_min: 10, gamma_max: 1e4, "
            "luminosity: 1e42}]\nexternal_fields: [{type: grey_body, temperature: 1e4, "
            "energy_density: 0.1}]\n")
    res = runner.invoke(app, ["blob", str(_write(tmp_path, text)), "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["converged"]
    assert d["energy"]["external_absorbed"] > 0
    assert abs(d["energy_balance"] - 1) < 1e-3


def test_table_field_and_shapes(tmp_path):
    """A tabulated external field (file relative to the YAML) with a broken power law and an
    exponential cut-off injection: runs, converges, balance closes (1e-3); a missing table file
    is a clean error naming it."""
    nu = np.logspace(13, 16, 50)
    np.savetxt(tmp_path / "f.txt", np.column_stack([nu, 1e-16 * (nu / 1e14) ** -1.0]))
    text = ("R: 1e16\nB: 0.2\nppd: 10\ninjection:\n"
            "  - {shape: broken_power_law, p: 2.0, p2: 3.0, gamma_break: 1e3, gamma_min: 10, "
            "gamma_max: 1e5, luminosity: 1e42}\n"
            "  - {shape: power_law_exp_cutoff, p: 2.0, gamma_min: 1, gamma_max: 1e4, log10_luminosity: 41}\n"
            "external_fields: [{type: table, file: f.txt}]\n")
    res = runner.invoke(app, ["blob", str(_write(tmp_path, text)), "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["converged"] and abs(d["energy_balance"] - 1) < 1e-3
    assert d["energy"]["injected"] == pytest.approx(1.1e42, rel=1e-9)
    bad = _write(tmp_path, text.replace("f.txt", "nope.txt"))
    res = runner.invoke(app, ["blob", str(bad)])
    assert res.exit_code == 2 and "nope.txt" in res.output


def test_hadronic_blob_json_netcdf_and_plot(tmp_path):
    """`sweep blob examples/athena_test4.yaml` (protons): --json carries protons and neutrinos
    (all flavours and per flavour), the netCDF file holds them, the run conserves energy (the
    solver's bookkeeping is exact to the convergence tolerance, so 1e-3 is generous) and the
    all-flavour spectrum is the sum of the four flavours (to rounding of the JSON, 1e-5 dex)."""
    t4 = ROOT / "examples" / "athena_test4.yaml"
    out, png = tmp_path / "t4.nc", tmp_path / "t4.png"
    r = runner.invoke(app, ["blob", str(t4), "--json", "--out", str(out), "--plot", str(png)])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    for k in ("log_gamma_p", "log_n_p", "log_e_nu", "log_eLe_nu", "log_eLe_nu_mu", "log_eLe_nu_e_bar"):
        assert len(d[k]) > 20, k
    assert d["converged"] and abs(d["energy_balance"] - 1) < 1e-3
    # escaping photopion neutrons (issue 9): in the energy bookkeeping and reported on their own
    assert d["L_neutron"] > 0 and d["L_neutron"] == d["energy"]["neutrons"]
    tot = np.zeros(len(d["log_e_nu"]))
    for fl in ("nu_e", "nu_e_bar", "nu_mu", "nu_mu_bar"):
        tot += np.interp(d["log_e_nu"], d[f"log_e_{fl}"], 10 ** np.array(d[f"log_eLe_{fl}"]), left=0, right=0)
    mid = np.array(d["log_eLe_nu"]) > max(d["log_eLe_nu"]) - 3
    assert np.allclose(np.log10(tot[mid]), np.array(d["log_eLe_nu"])[mid], atol=1e-4)
    import xarray as xr

    ds = xr.open_dataset(out)
    assert {"n_p", "ELE_nu_comoving", "ELE_nu_obs"} <= set(ds.data_vars)
    assert ds.ELE_nu_comoving.attrs["units"] == "erg s-1"
    assert png.stat().st_size > 20_000
