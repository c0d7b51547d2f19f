"""What `sweep submit` tells the user at the end: the next commands for this cube, and the
performance report path whole when the output goes to a file (no terminal wrapping)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SWEEP = str(Path(sys.executable).with_name("sweep"))

SPEC = """
name: hint-test
axes:
  sigma0: {{values: [10, 30]}}
  z_diss: {{values: [30, 100], unit: Rs}}
model: {{ppd: 6, frequency_ppd: 2, neutrino_ppd: 2, particle_ppd: 2}}
output: {{path: {out}, chunks: {{z_diss: 2}}}}
cluster: {{local: {{n_workers: 1}}}}
"""


def test_submit_ends_with_next_commands_and_unwrapped_report(tmp_path):
    # a path longer than a default 80-column console, so wrapping would show
    deep = tmp_path / ("a_rather_long_directory_name_for_the_run_" * 2) / "with spaces"
    deep.mkdir(parents=True)
    cube = deep / "hint.zarr"
    spec = tmp_path / "hint.yaml"
    spec.write_text(SPEC.format(out=f"'{cube}'"))
    r = subprocess.run([SWEEP, "submit", str(spec), "--cell-fn", "sweep.testing:fake_cell"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    report = str(deep / "hint.performance.html")
    done = [ln for ln in lines if ln.startswith("done in")]
    assert done and done[0].endswith(f"report {report}"), r.stdout  # on one line
    i = lines.index("next:")
    nxt = "\n".join(lines[i:])
    quoted = f"'{cube}'"  # shell-quoted: the path has a space
    assert f"sweep reduce {quoted}" in nxt and f"sweep explore {quoted}" in nxt, nxt
    # the hint runs as printed (the command, not the comment): `sweep` itself when that is on
    # PATH, else the path it was started by
    cmd = next(ln for ln in lines[i:] if " reduce " in ln).split("#")[0].strip()
    r2 = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=300)
    assert r2.returncode == 0 and "wrote" in r2.stdout, r2.stdout + r2.stderr
