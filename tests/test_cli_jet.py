"""`sweep jet`: table, JSON keys, overrides, invalid cells, bad input → exit 2, plot."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sweep.cli import app

KEYS = ["z_rs", "gamma", "delta", "sigma", "p", "r_cm", "b_g", "u_b", "u_ad", "u_blr", "u_dt", "l_inj",
        "gamma_max_e", "gamma_max_p", "gamma_min_e", "gamma_min_p"]
runner = CliRunner()


def test_json_keys_and_values():
    """Exact key list; values vs §8.2 at 30 R_s to the printed precision (3 figures → 0.5 %)."""
    res = runner.invoke(app, ["jet", "--z", "10,30", "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert [list(r) for r in rows] == [KEYS, KEYS]
    assert rows[1]["z_rs"] == pytest.approx(30.0)
    assert rows[1]["gamma"] == pytest.approx(3.53, rel=5e-3)
    assert rows[1]["b_g"] == pytest.approx(62.6, rel=5e-3)


def test_overrides_and_units():
    """--sigma0 60 gives Γmax = 61 beyond z_acc (exact); --set works; pc units convert."""
    res = runner.invoke(app, ["jet", "--z", "2000", "--sigma0", "60", "--set", "z_acc_rs=1500", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)[0]["gamma"] == pytest.approx(61.0, rel=1e-12)
    res = runner.invoke(app, ["jet", "--z", "0.1", "--units", "pc", "--mass", "1e8", "--json"])
    assert res.exit_code == 0, res.output
    rs = 2 * 6.67430e-8 * 1e8 * 1.98847e33 / 2.99792458e10**2
    assert json.loads(res.stdout)[0]["z_rs"] == pytest.approx(0.1 * 3.0857e18 / rs, rel=1e-12)


def test_invalid_cell_in_table_not_crash():
    res = runner.invoke(app, ["jet", "--z", "5,30"])
    assert res.exit_code == 0, res.output
    assert "invalid" in res.stdout and "z0" in res.stdout
    res = runner.invoke(app, ["jet", "--z", "5,30", "--json"])
    assert res.exit_code == 0
    rows = json.loads(res.stdout)
    assert all(v is None for v in rows[0].values()) and rows[1]["gamma"] > 1
    res = runner.invoke(app, ["jet", "--z", "30", "--set", "gamma_max=41", "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)[0]["gamma"] is None


@pytest.mark.parametrize("args,needle", [
    (["--sigma0", "-1"], "sigma0"), (["--theta-obs", "100"], "theta_obs"),
    (["--set", "nope=1"], "nope"), (["--set", "kappa"], "name=value"),
    (["--units", "km"], "units"), (["--z", "a,b"], "--z"), (["--set", "blr_spectrum=xray"], "blr_spectrum"),
])
def test_bad_input_exit_2(args, needle):
    res = runner.invoke(app, ["jet", *args])
    assert res.exit_code == 2
    assert needle in res.output and "Traceback" not in res.output


def test_plot(tmp_path: Path):
    out = tmp_path / "prof.png"
    res = runner.invoke(app, ["jet", "--z", "10,3000", "--plot", str(out)])
    assert res.exit_code == 0, res.output
    assert out.stat().st_size > 20_000 and out.read_bytes()[:4] == b"\x89PNG"


def test_real_subprocess_json():
    exe = Path(sys.executable).with_name("sweep")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "sweep.cli"]
    proc = subprocess.run([*cmd, "jet", "--z", "100", "--json"], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr
    row = json.loads(proc.stdout)[0]
    assert list(row) == KEYS
    assert row["u_blr"] == pytest.approx(3.20, rel=0.10 + 0.005 / 3.2)  # §8.2, 10 % (fields)


def test_table_headers_keep_units():
    """The table shows R [cm] and L'inj [erg/s] (rich markup used to eat lowercase [units])."""
    res = runner.invoke(app, ["jet", "--z", "30"], terminal_width=250)
    assert res.exit_code == 0, res.output
    for unit in ("R [cm]", "L'inj [erg/s]", "B' [G]", "z [R_s]"):
        assert unit in res.stdout, unit
