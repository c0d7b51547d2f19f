"""The README's recipes run as written: the hvplot recipe (extracted from the README and run on a
cube) and the "other entry points" (each command line, with the set-up's .venv/bin/sweep)."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import reducer_cubes as rc

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
SWEEP = str(Path(sys.executable).with_name("sweep"))


def _section(title: str) -> str:
    m = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.S | re.M)
    assert m, f"README has no section {title!r}"
    return m[1]


def test_hvplot_recipe_runs_offline_html(tmp_path):
    """The recipe's code block, run on a cube at cubes/smoke.zarr (a synthetic one here), writes
    an HTML file with bokeh's JavaScript inline (no CDN: works offline) and the SED lines."""
    code = re.search(r"```python\n(.*?)```", _section("Explore a cube with hvplot"), re.S)[1]
    (tmp_path / "cubes").mkdir()
    cube = rc.make_cube(mdot=(1e-2,)).isel(mdot=0, drop=True)  # axes of the smoke grid
    for v in cube.variables:
        cube[v].encoding = {}
    cube.to_zarr(tmp_path / "cubes" / "smoke.zarr", consolidated=True)
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    html = (tmp_path / "sed_sigma0_30.html").read_text()
    assert len(html) > 500_000  # bokeh's JS is inside
    assert not re.search(r"<script[^>]+src=\"https?://", html), "HTML loads scripts from the web"
    assert "z_diss" in html and "frequency" in html
    assert "sigma0 = 30" in html  # the selection is applied (no sigma0 slider)


def test_cube_long_names_are_short_axis_labels():
    """hvplot labels an axis "long_name [units]"; a long long_name pushes the units off."""
    from sweep.store import layout as store

    names = [ln for _, _, ln in store.SPECTRA.values()]
    names += [ln for _, ln in store.SPECTRAL_COORDS.values()]
    names.append(store._parameter_attrs("z_diss", "Rs")["long_name"])
    assert all(len(n) <= 32 for n in names), [n for n in names if len(n) > 32]


@pytest.mark.slow
def test_other_entry_points_run_as_written(tmp_path):
    """Every command of "Other entry points" runs after the set-up command (with .venv/bin/sweep
    pointing at this environment's sweep): --help, jet, blob --plot, plan, status and verify of
    a cube at cubes/smoke.zarr; the SLURM submit only parses (--help)."""
    block = re.search(r"Other entry points.*?```bash\n(.*?)```", README, re.S)[1]
    cmds = [ln.split("#")[0].strip() for ln in block.splitlines() if ln.strip()]
    assert all(c.startswith(".venv/bin/sweep") for c in cmds), cmds
    for d in ("grids", "examples"):
        (tmp_path / d).symlink_to(ROOT / d)
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "sweep").symlink_to(SWEEP)
    spec = (ROOT / "grids" / "smoke.yaml").read_text()
    (tmp_path / "tiny.yaml").write_text(spec.replace("[5, 15, 30, 60, 100, 200, 380, 1000]",
                                                     "[5, 30]"))
    r = subprocess.run([SWEEP, "submit", "tiny.yaml", "--out", "cubes/smoke.zarr",
                        "--cell-fn", "sweep.testing:fake_cell", "--no-report"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    for cmd in cmds:
        if "--cluster slurm" in cmd:
            cmd += " --help"  # the SLURM study itself is not run here
        r = subprocess.run(cmd, shell=True, cwd=tmp_path, capture_output=True, text=True,
                           timeout=300)
        assert r.returncode == 0, (cmd, r.stdout[-2000:] + r.stderr[-2000:])
    assert (tmp_path / "t1.png").stat().st_size > 10_000
