"""Plan: chunk-aligned tasks (one writer per chunk), list-scheduling makespan, cost figures."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sweep.plan import Calibration, calibrate, format_plan, make_plan, make_tasks, makespan
from sweep.spec import parse_spec
from sweep.validation.fake_cell import configured

SPEC = """
axes:
  sigma0: {values: [10, 30, 60]}
  z_diss: {logspace: {start: 5, stop: 1000, num: 7}}
output: {chunks: {sigma0: 2, z_diss: 3}}
cluster: {local: {n_workers: 2}, slurm: {cores: 8, processes: 4, max_jobs: 3}}
"""


def test_tasks_cover_every_cell_exactly_once():
    shape, chunks = (3, 7, 5), (2, 3, 5)
    tasks = make_tasks(shape, chunks)
    owner = np.zeros(shape, int)
    for t in tasks:
        owner[t.region] += 1
        # chunk-aligned: every region starts on a chunk boundary and spans at most one chunk
        for s, c in zip(t.region, chunks):
            assert s.start % c == 0 and s.stop - s.start <= c
    assert (owner == 1).all()  # one writer per chunk, no cell left out
    assert len(tasks) == 2 * 3 * 1
    assert sum(t.n_cells for t in tasks) == 105


def test_tasks_only_for_chunks_with_work():
    status = np.ones((4, 6), np.int8)  # all done
    status[0, 5] = 0  # pending in chunk (0, 1) for chunks (2, 3)
    status[3, 0] = 4  # failed in chunk (1, 0)
    assert [(t.chunk, t.n_cells) for t in make_tasks((4, 6), (2, 3), status, [0])] == [((0, 1), 1)]
    got = [(t.chunk, t.n_cells) for t in make_tasks((4, 6), (2, 3), status, [0, 4])]
    assert got == [((0, 1), 1), ((1, 0), 1)]


def test_makespan_lpt():
    # LPT on 2 slots: 3,3 then 2→slot A (5), 2→slot B (5), 2→A (7). Exact value of the rule.
    assert makespan([3, 3, 2, 2, 2], 2) == 7
    assert makespan([1.0] * 10, 4) == 3
    assert makespan([5, 1, 1], 8) == 5  # never below the longest task
    assert makespan([], 3) == 0


def test_plan_figures_follow_from_the_calibration():
    ls = parse_spec(SPEC)
    p = make_plan(ls, "local", Calibration(2.0, "given"))
    assert p.n_cells == 21 and p.n_chunks == 2 * 3 and len(p.tasks) == 6
    assert p.slots == 2
    assert p.core_hours == pytest.approx(21 * 2.0 / 3600, rel=1e-12)
    # chunks sigma0 (2,1) × z_diss (3,3,1) → tasks of 6,6,2,3,3,1 cells, ×2 s + 0.05 s overhead:
    # LPT on 2 slots: A 12.05+6.05+4.05 = 22.15, B 12.05+6.05+2.05 = 20.15 → makespan 22.15 s
    assert p.wall_seconds == pytest.approx(22.15, rel=1e-12)
    s = make_plan(ls, "slurm", Calibration(2.0, "given"))
    assert s.slots == 3 * 4 * 2 and s.cores == 24  # 4 processes × 2 threads per 8-core job
    assert "queue wait" in " ".join(s.notes)
    assert p.bytes_uncompressed > 21 * 221 * 8
    text = format_plan(p)
    assert "21 cells" in text and "6 tasks" in text and "core-hours" in text


def test_calibration_times_one_cell():
    ls = parse_spec(SPEC)
    c = calibrate(ls, configured(SWEEP_FAKE_SLEEP=0.05))
    assert c.seconds >= 0.05 and c.status == "done"
    assert "sigma0=60" in c.source and "first call" in c.source  # timed cell ≠ warm-up cell


def test_cli_plan_submits_nothing(tmp_path):
    spec = tmp_path / "p.yaml"
    spec.write_text(SPEC.replace("output: {", f"output: {{path: {tmp_path / 'c.zarr'}, "))
    sweep = str(Path(sys.executable).with_name("sweep"))
    r = subprocess.run([sweep, "plan", str(spec), "--cell-seconds", "10"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "21 cells" in r.stdout and "estimated wall time" in r.stdout
    r = subprocess.run([sweep, "plan", str(spec), "--cell-fn", "sweep.validation.fake_cell:fake_cell"],
                       capture_output=True, text=True)
    assert r.returncode == 0 and "calibration run" in r.stdout, r.stderr
    assert not (tmp_path / "c.zarr").exists()


def test_plan_and_submit_of_huge_grid(tmp_path):
    """Audit: 1e20 cells overflowed int64 and hung plan; 1e8 cells were submitted without a word.
    plan now prints exact counts, core-hours and disk with warnings (quickly); submit refuses
    above limits.max_cells (exit 2, nothing written) unless --allow-large."""
    import time

    sweep = str(Path(sys.executable).with_name("sweep"))
    spec = tmp_path / "huge.yaml"
    spec.write_text("axes:\n" + "".join(f"  {a}: {{linspace: {{start: 1, stop: 10, num: 100000}}}}\n"
                                        for a in ("sigma0", "theta_obs", "eta_acc"))
                    + "  z_diss: {logspace: {start: 10, stop: 1000, num: 100000}}\n"
                    + f"output: {{path: {tmp_path / 'h.zarr'}}}\n")
    t0 = time.perf_counter()
    r = subprocess.run([sweep, "plan", str(spec), "--cell-seconds", "1"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert time.perf_counter() - t0 < 60  # a fresh interpreter; the plan itself is instant
    assert "= 100000000000000000000 cells" in r.stdout
    assert "WARNING: 1e+20 cells is above limits.max_cells = 10000000" in r.stdout
    assert "WARNING: 2.78e+16 core-hours" in r.stdout and "limits.warn_disk_gib" in r.stdout
    r = subprocess.run([sweep, "submit", str(spec)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "above limits.max_cells = 10000000" in r.stderr
    assert "--allow-large" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "h.zarr").exists() and not (tmp_path / "h.zarr.lock").exists()
