"""Figures are produced and non-trivial; the CLI wires reduce/plot/match with exit code 2 on bad input."""
from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

import reducer_cubes as rc
from sweep import catalogs as cat
from sweep import plots
from sweep import reduce as red


@pytest.fixture(scope="module")
def cube_and_obs():
    cube = rc.make_cube()
    return cube, red.compute_observables(cube).compute()


@pytest.fixture(scope="module")
def lac4():
    return cat.load_4lac()


def _png_ok(path, min_bytes=20_000):
    import matplotlib.image as mpimg

    assert path.stat().st_size > min_bytes
    img = mpimg.imread(path)
    assert img.shape[0] > 300 and img.shape[1] > 500
    # non-trivial: many distinct colours (tracks, colour bar, catalogue points)
    q = (img[..., :3] * 255).astype(np.uint8).reshape(-1, 3)
    assert len(np.unique(q, axis=0)) > 50


def test_selection_parsing(cube_and_obs):
    cube, _ = cube_and_obs
    assert plots.parse_selection(["sigma0=30 mdot=0.01"]) == {"sigma0": "30", "mdot": "0.01"}
    assert plots.parse_selection(["sigma0=30", "mdot=0.01"]) == {"sigma0": "30", "mdot": "0.01"}
    sub = plots.apply_selection(cube, {"sigma0": "30", "mdot": "1e-2"})
    assert sub.sizes["sigma0"] == 1 and float(sub.mdot[0]) == 0.01
    with pytest.raises(ValueError, match="allowed values"):
        plots.apply_selection(cube, {"sigma0": "31"})
    with pytest.raises(ValueError, match="unknown axis"):
        plots.apply_selection(cube, {"foo": "1"})
    with pytest.raises(ValueError, match="NAME=VALUE"):
        plots.parse_selection(["sigma0"])


def test_tracks_follow_distance(cube_and_obs):
    """One track per (sigma0, mdot) = 4, each along the 4 distances, colour = log z_cm increasing;
    the failed cell is a gap (NaN)."""
    _, obs = cube_and_obs
    tracks, cname = plots.plane_tracks(obs)
    assert len(tracks) == 4 and all(len(t["x"]) == 4 for t in tracks)
    assert all(np.all(np.diff(t["c"]) > 0) for t in tracks)
    assert np.isnan(tracks[0]["x"][0]) and np.isfinite(tracks[1]["x"]).all()
    tracks, _ = plots.plane_tracks(obs, {"sigma0": "30"})
    assert len(tracks) == 2


def test_planes_png_and_html(cube_and_obs, lac4, tmp_path):
    _, obs = cube_and_obs
    png = plots.plot_planes(obs, tmp_path / "planes.png", lac4)
    _png_ok(png)
    html = plots.plot_planes(obs, tmp_path / "planes.html", lac4, {"mdot": "0.01"})
    text = html.read_text()
    assert html.stat().st_size > 100_000 and "Bokeh" in text
    assert "TXS 0506+056" in text and "sigma0=30" in text
    with pytest.raises(ValueError, match=".png or .html"):
        plots.plot_planes(obs, tmp_path / "planes.pdf", lac4)


def test_sed_png_and_html(cube_and_obs, tmp_path):
    cube, _ = cube_and_obs
    _png_ok(plots.plot_sed(cube, tmp_path / "sed.png", {"sigma0": "30", "mdot": "0.01"}))
    curves = plots.sed_curves(cube, {"sigma0": "30", "mdot": "0.01"})
    assert len(curves) == 4 and curves[0][4] is not None  # neutrinos present
    html = plots.plot_sed(cube, tmp_path / "sed.html", {"sigma0": "30"})
    assert html.stat().st_size > 100_000


def test_many_points_are_rasterized(tmp_path):
    """Above 1e5 model points the HTML planes use a datashader rasterisation (an Image in place
    of 2e5 glyphs), and the PNG a hexbin; both files are produced."""
    import holoviews as hv

    n_tr, n_z = 20, 10_000
    rng = np.random.default_rng(0)
    z = np.logspace(1, 3, n_z)
    shape = (n_tr, n_z)
    obs = xr.Dataset(
        {"nu_syn_peak_rest": (("sigma0", "z_diss"), 10 ** rng.uniform(12, 17, shape)),
         "L_gamma": (("sigma0", "z_diss"), 10 ** rng.uniform(43, 48, shape)),
         "compton_dominance": (("sigma0", "z_diss"), 10 ** rng.uniform(-1, 1, shape)),
         "z_cm": (("sigma0", "z_diss"), np.broadcast_to(z * 3e14, shape))},
        coords={"sigma0": np.arange(n_tr, dtype=float), "z_diss": z})
    lay = plots.planes_holoviews(obs, None)
    rendered = hv.render(lay)  # runs the rasterize operation
    imgs = [r for r in rendered.select({"type": __import__("bokeh.models").models.GlyphRenderer})
            if type(r.glyph).__name__ == "Image"]
    assert len(imgs) == 2
    plots.plot_planes(obs, tmp_path / "big.html")
    _png_ok(plots.plot_planes(obs, tmp_path / "big.png"))


def test_cli_chain(tmp_path):
    """sweep reduce -> plot planes/sed -> match on a Zarr cube; bad input exits 2 with the field."""
    from sweep.cli import app

    cube = tmp_path / "c.zarr"
    rc.write_cube(cube, chunks={"z_diss": 2})
    run = CliRunner().invoke
    r = run(app, ["reduce", str(cube), "--z-source", "0.3365", "--dec", "5.7"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "c.observables.zarr").exists()
    r = run(app, ["plot", "planes", str(cube), "--sel", "sigma0=30 mdot=0.01",
                  "--out", str(tmp_path / "p.png")])
    assert r.exit_code == 0, r.output
    _png_ok(tmp_path / "p.png")
    r = run(app, ["plot", "sed", str(cube), "--sel", "sigma0=30", "--sel", "mdot=0.01",
                  "--out", str(tmp_path / "s.png")])
    assert r.exit_code == 0, r.output
    r = run(app, ["match", str(cube), "--source", "4FGL J0509.4+0542", "--top", "3"])
    assert r.exit_code == 0, r.output
    assert "TXS 0506+056" in r.output and "chi2" in r.output
    r = run(app, ["match", str(cube), "--coverage", "--catalog", "3lac"])
    assert r.exit_code == 0 and "FSRQ" in r.output, r.output
    for args, field in ((["plot", "planes", str(cube), "--sel", "sigma0=31", "--out",
                          str(tmp_path / "x.png")], "sigma0=31"),
                        (["match", str(cube), "--catalog", "5lac", "--coverage"], "--catalog"),
                        (["match", str(cube), "--source", "no such source"], "no such source"),
                        (["match", str(cube)], "--source"),
                        (["plot", "planes", str(cube), "--catalog-dir", str(tmp_path),
                          "--out", str(tmp_path / "x.png")], "table-4LAC-DR2-h.fits")):
        r = run(app, args)
        assert r.exit_code == 2, (args, r.output)
        assert field in r.output and "Traceback" not in r.output


def test_sed_selection_never_draws_cells_not_done(cube_and_obs):
    """16 cells, one failed: without --sel at most --max-lines done cells are drawn (never the
    failed one), the note says how many and why; the labels carry units and only the axes that
    vary, the title the ones that do not."""
    cube, _ = cube_and_obs
    st = cube["status"].transpose("sigma0", "mdot", "z_diss").values
    bad = tuple(int(i[0]) for i in np.nonzero(st != 1))
    pick = plots.sed_selection(cube, None, max_lines=6)
    assert len(pick["cells"]) == 6 and pick["n_eligible"] == 15 and pick["n_cells"] == 16
    idx = [tuple(c[d] for d in ("sigma0", "mdot", "z_diss")) for c in pick["cells"]]
    assert bad not in idx
    assert "6 of 16 cells drawn" in pick["note"] and "1 not drawn" in pick["note"]
    assert "evenly spaced" in pick["note"]
    allp = plots.sed_selection(cube, None, max_lines=50)
    assert len(allp["cells"]) == 15  # every done cell, the failed one left out
    one = plots.sed_selection(cube, {"sigma0": "30", "mdot": "0.01"})
    assert one["varying"] == ["z_diss"] and set(one["fixed"]) == {"σ0 = 30", "ṁ = 0.01"}
    labels = [c[0] for c in plots.sed_curves(cube, selection=one)]
    unit = cube["z_diss"].attrs["units"]
    assert labels[0] == f"z_diss = {float(cube.z_diss[0]):g} {plots._UNIT_TEXT.get(unit, unit)}"
    assert "σ0 = 30" in one["title"]


def test_cli_sed_says_what_it_drew(tmp_path):
    from sweep.cli import app

    cube = tmp_path / "c.zarr"
    rc.write_cube(cube, chunks={"z_diss": 2})
    r = CliRunner().invoke(app, ["plot", "sed", str(cube), "--max-lines", "4", "--out",
                                 str(tmp_path / "s.png")])
    assert r.exit_code == 0, r.output
    assert "4 of 16 cells drawn (no --sel: the whole cube); 15 are done" in r.stdout


def test_track_segments_break_at_gaps_and_jumps():
    """A NaN breaks a track; a step of more than JUMP_DEX in log ν_pk is a jump, not a line."""
    x = np.array([17.3, 16.8, 12.9, 12.7, np.nan, 12.4])
    y = np.array([44.0, 44.1, 44.2, 44.0, 43.0, 42.0])
    cont, jump = plots.track_segments(x, y)
    assert cont == [(0, 1), (2, 3)] and jump == [(1, 2)]
