"""Inverse lookup and coverage on a synthetic cube whose observables are known analytically."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import reducer_cubes as rc
from sweep import catalogs as cat
from sweep import match
from sweep import reduce as red


@pytest.fixture(scope="module")
def model():
    o = red.compute_observables(rc.make_cube()).compute()
    return match.model_table(o)


def test_model_table_drops_failed_cells(model):
    """16 cells, one failed (status 4) -> 15 rows with the axis columns."""
    assert len(model) == 15
    assert model.attrs["axes"] == ["sigma0", "mdot", "z_diss"]
    assert (model["status"] == 1).all()


def test_exact_cell_is_recovered(model):
    """A target equal to a cell's analytic observables ranks that cell first with χ² ≈ 0 (the
    peaks are exact to 1e-6 dex); the second cell's χ² equals the hand-computed sum."""
    p = rc.hump_params(30.0, 1e-2, 100.0)
    row = model[(model.sigma0 == 30) & (model.mdot == 1e-2) & (model.z_diss == 100)].iloc[0]
    tgt = {"log_nu_peak": p["log_nu_s"], "log_L_gamma": row["log_L_gamma"],
           "log_CD": p["log_L_c"] - p["log_L_s"]}
    best = match.match_target(model, tgt, top=3)
    assert (best.loc[0, ["sigma0", "mdot", "z_diss"]].to_list() == [30.0, 1e-2, 100.0])
    assert best.loc[0, "chi2"] < 1e-8
    r = best.iloc[1]
    hand = sum(((r[k] - tgt[k]) / match.DEFAULT_SIGMA[k]) ** 2 for k in match.OBSERVABLES)
    assert r["chi2"] == pytest.approx(hand, rel=1e-12)
    assert (np.diff(best["chi2"]) >= 0).all()


def test_partial_target_and_lower_limit(model):
    """Without CD only two observables count; a CD lower limit costs nothing when the model is
    above it and (Δ/σ)² when below."""
    row = model.iloc[5]
    tgt = {"log_nu_peak": row["log_nu_peak"], "log_L_gamma": row["log_L_gamma"], "log_CD": None}
    best = match.match_target(model, tgt, top=1)
    assert best.loc[0, "n_used"] == 2 and best.loc[0, "chi2"] < 1e-20
    lim = {"log_nu_peak": row["log_nu_peak"], "log_L_gamma": row["log_L_gamma"],
           "log_CD": row["log_CD"] - 1.0}
    assert match.match_target(model, lim, top=1, lower_limit_cd=True).loc[0, "chi2"] < 1e-20
    lim["log_CD"] = row["log_CD"] + 0.6
    full = match.match_target(model, lim, top=len(model), lower_limit_cd=True)
    this = full[(full.sigma0 == row.sigma0) & (full.mdot == row.mdot)
                & (full.z_diss == row.z_diss)].iloc[0]
    assert this["chi2"] == pytest.approx((0.6 / 0.3) ** 2, rel=1e-9)
    with pytest.raises(ValueError, match="uncertainty"):
        match.match_target(model, tgt, sigma={"log_L_gamma": 0.0})


def test_coverage_counts_exactly(model):
    """Synthetic catalogue: 3 FSRQs placed on cells (one 0.5σ off in L_γ), 2 FSRQs 10σ away, 1 BL
    Lac on a cell -> FSRQ 3/5, BL Lac 1/1; parameter counts follow the cells used."""
    cells = model.iloc[[0, 7, 14]].reset_index(drop=True)
    rows = []
    for i, c in cells.iterrows():
        rows.append(dict(cls="FSRQ", log_nu_peak_rest=c.log_nu_peak,
                         log_L_gamma=c.log_L_gamma + (0.1 if i == 1 else 0.0),
                         log_CD=c.log_CD, cd_lower_limit=False))
    for _ in range(2):
        rows.append(dict(cls="FSRQ", log_nu_peak_rest=10.0, log_L_gamma=40.0, log_CD=np.nan,
                         cd_lower_limit=False))
    c = model.iloc[3]
    rows.append(dict(cls="BL Lac", log_nu_peak_rest=c.log_nu_peak, log_L_gamma=c.log_L_gamma,
                     log_CD=np.nan, cd_lower_limit=False))
    res = match.coverage(model, pd.DataFrame(rows), n_sigma=1.0, block=4)
    assert res["classes"]["FSRQ"] == {"n": 5, "reproduced": 3, "fraction": 0.6}
    assert res["classes"]["BL Lac"]["reproduced"] == 1
    # the sigma0 values of the cells that reproduce the three FSRQs
    got = res["parameters"]["FSRQ"]["sigma0"]
    assert sum(got.values()) >= 3 and set(got) <= set(model.sigma0.unique())
    assert "FSRQ" in match.format_coverage(res)


def test_real_source_by_name(model):
    """TXS 0506+056 from 4LAC-DR2 ranks cells; the best χ² is finite and no worse than the rest."""
    row = cat.find_source(cat.load_4lac(), "4FGL J0509.4+0542")
    tgt, lower = match.target_from_source(row)
    assert tgt["log_L_gamma"] == pytest.approx(46.34, abs=0.02)
    best = match.match_target(model, tgt, top=5, lower_limit_cd=lower)
    assert len(best) == 5 and np.isfinite(best.loc[0, "chi2"])


def test_linear_inputs_are_refused():
    """Values given linearly (1e14 Hz, 1e46 erg/s) are refused with the log10 they meant; values
    outside the blazar range with no linear reading are refused with the range."""
    names = {"log_nu_peak": "--nu-peak", "log_L_gamma": "--l-gamma", "log_CD": "--cd"}
    match.check_target({"log_nu_peak": 14.0, "log_L_gamma": 46.0, "log_CD": -0.3}, names)
    with pytest.raises(ValueError, match=r"looks linear: did you mean --nu-peak 14\?"):
        match.check_target({"log_nu_peak": 1e14}, names)
    with pytest.raises(ValueError, match=r"did you mean --l-gamma 46\.3\?"):
        match.check_target({"log_L_gamma": 2e46}, names)
    with pytest.raises(ValueError, match="outside the range"):
        match.check_target({"log_L_gamma": -3.0}, names)


def test_verdict_counts_cells_within_n_sigma(model):
    """On a cell exactly: a match, and the number of matching cells equals a direct count of
    cells within n σ on both observables; 10 dex away: no match, and the best cell's deviation
    is reported (10 dex / 0.2 dex = 50 σ on L_γ minus the spread of the cells)."""
    row = model.iloc[5]
    tgt = {"log_nu_peak": row["log_nu_peak"], "log_L_gamma": row["log_L_gamma"]}
    for n in (0.5, 1.0, 3.0):
        v = match.verdict(model, tgt, n_sigma=n)
        hand = int(((np.abs(model["log_nu_peak"] - tgt["log_nu_peak"]) <= n * 0.3)
                    & (np.abs(model["log_L_gamma"] - tgt["log_L_gamma"]) <= n * 0.2)).sum())
        assert v["match"] and v["n_within"] == hand >= 1 and v["n_cells"] == 15
    far = {"log_nu_peak": row["log_nu_peak"], "log_L_gamma": row["log_L_gamma"] + 10.0}
    v = match.verdict(model, far, n_sigma=3.0)
    assert not v["match"] and v["n_within"] == 0
    want = np.abs(model["log_L_gamma"] - far["log_L_gamma"]).min() / 0.2
    assert v["best_max_dev"] == pytest.approx(want, rel=1e-12)
    assert v["best_worst"][0] == "log_L_gamma" and v["best_worst"][1] < 0
    assert "NO MATCH" in match.format_verdict(v) and "below" in match.format_verdict(v)


def test_cli_match_refuses_linear_and_prints_verdict(tmp_path):
    """`sweep match --nu-peak 1e14` exits 2 with one line; a real run ends with the verdict."""
    from typer.testing import CliRunner

    from sweep.cli import app

    cube = tmp_path / "c.zarr"
    rc.write_cube(cube, chunks={"z_diss": 2})
    run = CliRunner().invoke
    r = run(app, ["match", str(cube), "--nu-peak", "1e14"])
    assert r.exit_code == 2 and "did you mean --nu-peak 14?" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    r = run(app, ["match", str(cube), "--l-gamma", "1e46"])
    assert r.exit_code == 2 and "did you mean --l-gamma 46?" in r.stderr
    r = run(app, ["match", str(cube), "--source", "TXS 0506+056", "--top", "3"])
    assert r.exit_code == 0, r.output
    last = r.stdout.strip().splitlines()[-1]
    assert last.startswith("verdict: ") and "within 1 σ" in last, last
