"""The command line as a user meets it first: `--help` keeps every unit written in the source,
`--version` works, angles that look like radians are flagged."""
from __future__ import annotations

import re

import pytest
import typer.rich_utils
from typer.main import get_command
from typer.testing import CliRunner

from sweep import __version__
from sweep.cli import app

runner = CliRunner()
UNIT = re.compile(r"\\?\[([^\]\[]+)\]")


def _commands(cmd, path=()):
    """(path, click command) of every leaf command of the app."""
    if hasattr(cmd, "commands"):  # a group (typer vendors its own click)
        for name, sub in cmd.commands.items():
            yield from _commands(sub, path + (name,))
    else:
        yield path, cmd


def _flat(text: str) -> str:
    """Help text with the rich box drawn away and the wrapping undone."""
    return " ".join(text.replace("│", " ").split())


def test_every_bracketed_unit_is_shown_in_help(monkeypatch):
    """For every option and argument of every command, each ``[unit]`` in its help source
    (``[deg]``, ``[erg/s]``, ``[dex]``, ...) appears in the rendered ``--help``. Rich markup used to
    eat them (``--theta-obs`` read "viewing angle"). The walk must find a good number of units, so
    the test cannot pass vacuously."""
    monkeypatch.setattr(typer.rich_utils, "MAX_WIDTH", 250)
    root = get_command(app)
    checked = []
    for path, cmd in _commands(root):
        res = runner.invoke(app, [*path, "--help"], terminal_width=250)
        assert res.exit_code == 0, (path, res.output)
        shown = _flat(res.output)
        for p in cmd.params:
            for unit in UNIT.findall(getattr(p, "help", None) or ""):
                if unit.startswith("default:"):
                    continue
                assert f"[{unit}]" in shown, f"sweep {' '.join(path)} {p.name}: [{unit}] not in --help"
                checked.append((path, p.name, unit))
    units = {u for *_, u in checked}
    assert len(checked) >= 10 and {"deg", "dex", "erg/s"} <= units, checked
    # the cases of the report, literally
    jet = _flat(runner.invoke(app, ["jet", "--help"], terminal_width=250).output)
    assert "viewing angle [deg]" in jet
    red = _flat(runner.invoke(app, ["reduce", "--help"], terminal_width=250).output)
    assert "Declination [deg] for the IceCube rate" in red


def test_version():
    """`sweep --version` prints the version and exits 0 (it used to fail with "Missing command")."""
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0, res.output
    assert res.output.strip() == f"sweep {__version__}"


@pytest.mark.parametrize("args,warns", [
    (["--theta-obs", "0.05"], True),          # 0.05 rad = 2.9°: surely meant radians
    (["--set", "theta_obs=0.1"], True),
    (["--theta-obs", "3"], False),
])
def test_radians_lookalike_warns(args, warns):
    """θ_obs < 0.2 with the unit degrees is almost certainly radians: warn, naming the value in
    degrees it would mean (0.05 rad = 2.86°), but still compute what was asked."""
    res = runner.invoke(app, ["jet", "--z", "380", "--json", *args])
    assert res.exit_code == 0, res.output
    assert ("looks like radians" in res.stderr) is warns, res.stderr
    if args[-1] == "0.05":
        assert "--theta-obs 2.86" in res.stderr


def test_radian_theta_in_grid_spec_warns(tmp_path):
    """A grid spec with θ_obs axis values in radians (0.05, 0.1) warns on `sweep plan`, naming them."""
    spec = tmp_path / "rad.yaml"
    spec.write_text("name: rad\naxes:\n  theta_obs: {values: [0.05, 0.1, 3]}\n"
                    "  z_diss: {values: [30], unit: Rs}\n")
    res = runner.invoke(app, ["plan", str(spec), "--cell-seconds", "1"])
    assert res.exit_code == 0, res.output
    assert "theta_obs = 0.05, 0.1 looks like radians" in res.stderr, res.stderr
    spec.write_text(spec.read_text().replace("0.05, 0.1, 3", "1, 3"))
    res = runner.invoke(app, ["plan", str(spec), "--cell-seconds", "1"])
    assert res.exit_code == 0 and "radians" not in res.stderr
