"""Per-cell cost of the jet-model grid (issue 10): random baseline cells, ATHEνA Test 1/Test 4 warm
solves, cold start of a fresh worker process, per-kernel shares; every time also ÷ calib.

    nice -n 10 .venv/bin/python benchmarks/bench_cells.py [--cells 60] [--reps 3] [--spec grids/baseline.yaml]

* calib: ``../shared/tools/calib.py``'s figure (median of 5) measured in this process, before and
  after the timings (the machine is shared: the smaller of the two is used, and both are printed;
  the reference machine gives 0.646 s).
* cells: ``--cells`` distinct cells drawn at random (seed ``--seed``) from the spec's grid, each
  run through ``run_cell`` (jet state → blob → solve → observer frame → output grids, as a
  worker does) ``--reps`` times after one warm-up cell; a cell's time is the minimum over its
  repetitions (min-of-N against load from other processes), the figures are the mean and max of
  those minima over the cells.  Invalid cells (z < z0) count, as in a sweep.
* Test 1 / Test 4: ``kinetics.solve`` of the ATHEνA blobs at 20 ppd, min over ``--reps × 3``.
* cold start: (a) a bare fresh Python process (numba on-disk cache warm, table cache on disk
  warm) runs a cell, then the same cell again; (b) as a sweep does: ``sweep.engine.submit`` of
  that one cell on a fresh 1-worker LocalCluster (the worker's warm-up plugin loads kernels and
  tables first), its stored ``runtime_s`` against the same cell warm in this process.  Target:
  first/warm ≤ 2.
* shares: one more pass over the cells with each kernel wrapped by a timer (leaf functions, not
  nested; "other" = the rest of run_cell).
Targets (issue 10): mean ≤ 0.09 × calib, max ≤ 2 × calib, Test 1 ≤ 0.02 × calib,
Test 4 ≤ 0.15 × calib, cold first cell ≤ 2 × warm.
"""
from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import random  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CALIB = ROOT / ".." / "shared" / "tools" / "calib.py"
REF_CALIB = 0.646

COLD = """
import sys, time
t0 = time.perf_counter()
from sweep.spec import load_spec, cell_parameters
from sweep.model.cell import run_cell
spec = load_spec({spec!r}).spec
p = cell_parameters(spec, {idx!r})
t1 = time.perf_counter(); r = run_cell(p, spec.model); t2 = time.perf_counter()
w = min(run_cell(p, spec.model).runtime_s for _ in range(3))
print(t1 - t0, t2 - t1, w, r.status.name)
"""


ENGINE_SPEC = """
name: coldstart
axes:
  z_diss: {{values: [{z}, {z2}, {z3}], unit: Rs}}
fixed: {fixed}
model: {{ppd: {ppd}}}
output: {{path: {out}, chunks: {{z_diss: 1}}}}
cluster: {{default: local, local: {{n_workers: 1, threads_per_worker: 1}}}}
"""


def engine_cold(cell: dict, ppd: int, tmp: Path) -> tuple[float, float]:
    """(first cell in a fresh LocalCluster worker through ``sweep.engine.submit``, after its
    warm-up; the same cell warm in this process, min of 3) [s]."""
    import xarray as xr

    from sweep import engine
    from sweep.model.cell import run_cell
    from sweep.spec import parse_spec

    fixed = {k: v for k, v in cell.items() if k not in ("z_diss", "z_unit") and v is not None}
    # the warm-up solves the middle cell (another distance), the first task the measured one
    z = float(cell["z_diss"])
    text = ENGINE_SPEC.format(z=z, z2=1.37 * z, z3=1.83 * z, fixed=fixed, ppd=ppd, out=tmp / "c.zarr")
    loaded = parse_spec(text, "coldstart.yaml")
    engine.submit(loaded, progress=False, performance_report=False,
                  console=__import__("rich.console").console.Console(quiet=True))
    first = float(xr.open_zarr(tmp / "c.zarr").runtime_s.values[0])
    warm = min(run_cell(cell, loaded.spec.model).runtime_s for _ in range(3))
    return first, warm


def calib() -> float:
    spec = importlib.util.spec_from_file_location("calib", CALIB)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.once()
    return sorted(mod.once() for _ in range(5))[2]


def _probes():
    from sweep.model import cell, fields, hadronic, jet, kinetics, tables
    from sweep.model.processes import bethe_heitler as bhm
    from sweep.model.processes import compton, pairs, protons, synchrotron

    return [
        (jet, "blob_state", "set-up: jet state + γ_min roots"),
        (fields, "external_fields", "set-up: external fields (disc, BLR, torus)"),
        (synchrotron, "emission_matrix", "set-up: e± synchrotron matrix (B-dependent)"),
        (protons, "proton_synchrotron_matrix", "set-up: p synchrotron matrix (B-dependent)"),
        (tables, "canonical", "set-up: canonical table look-up (build/load on a miss)"),
        (compton, "canonical_loss_and_scatter", "set-up: IC loss/scatter slice"),
        (pairs, "_deposit", "set-up: γγ pair deposit map"),
        (hadronic, "_build_bh", "set-up: BH kernels slice"),
        (hadronic, "_build_pg", "set-up: pγ kernels slice + frozen row"),
        (kinetics, "cooling_sweep", "iter: pair cooling sweep"),
        (hadronic, "proton_sweep", "iter: proton cooling sweep"),
        (compton, "emit", "iter: IC emission"),
        (pairs, "pair_injection", "iter: γγ pair injection"),
        (pairs, "absorption_rate", "iter: γγ absorption"),
        (synchrotron, "emit", "iter: synchrotron emission"),
        (synchrotron, "ssa_coefficient", "iter: SSA"),
        (bhm, "_bh_loss", "iter: BH losses"),
        (bhm, "_bh_pairs_table", "iter: BH pairs (KA08 table)"),
        (bhm, "_bh_pairs_mean", "iter: BH pairs (δ rows)"),
        (hadronic, "_loss_sums", "iter: pγ losses"),
        (hadronic, "_pg_direct", "iter: pγ secondaries (direct rows, all species)"),
        (hadronic, "_pg_scatter", "iter: pγ secondaries (per species + frozen rows)"),
        (cell, "_spectra", "output: observer frame + output grids"),
    ]


def shares(cells, run):
    times: dict = defaultdict(float)
    originals = []
    for mod, name, label in _probes():
        fn = getattr(mod, name)

        def timed(*a, _fn=fn, _label=label, **k):
            t = time.perf_counter()
            try:
                return _fn(*a, **k)
            finally:
                times[_label] += time.perf_counter() - t

        originals.append((mod, name, fn))
        setattr(mod, name, timed)
    try:
        t0 = time.perf_counter()
        for p in cells:
            run(p)
        total = time.perf_counter() - t0
    finally:
        for mod, name, fn in originals:
            setattr(mod, name, fn)
    return total, times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spec", default=str(ROOT / "grids" / "baseline.yaml"))
    ap.add_argument("--cells", type=int, default=60)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seed", type=int, default=10)
    ap.add_argument("--no-cold", action="store_true")
    a = ap.parse_args()

    from sweep.validation.hadronic import athena_test4_blob
    from sweep import table_cache
    from sweep.model import tables
    from sweep.model.cell import run_cell
    from sweep.model.kinetics import Blob, Injection, Processes, solve
    from sweep.spec import cell_parameters, load_spec

    c0 = calib()
    spec = load_spec(a.spec).spec
    dims = spec.dims()
    rng = random.Random(a.seed)
    idxs = []
    while len(idxs) < a.cells:
        i = tuple(rng.randrange(d.size) for d in dims)
        if i not in idxs:
            idxs.append(i)
    cells = [cell_parameters(spec, i, dims) for i in idxs]
    print(f"table cache: {table_cache.install()}")
    t = time.perf_counter()
    run_cell(cells[0], spec.model)
    print(f"warm-up cell (numba cache load, canonical tables built or loaded): "
          f"{time.perf_counter() - t:.2f} s; tables {dict(tables.STATS)}")

    best = np.full(len(cells), np.inf)
    status: dict = defaultdict(int)
    iters = []
    for _ in range(a.reps):
        for j, p in enumerate(cells):
            r = run_cell(p, spec.model)
            best[j] = min(best[j], r.runtime_s)
            if _ == 0:
                status[r.status.name.lower()] += 1
                iters.append(r.iterations)

    t1b = Blob(R=1e15, B=1.0, ppd=20, processes=Processes(synchrotron_kernel="single_pitch"),
               injections=[Injection("e", "power_law", p=1.9, gamma_min=1.0, gamma_max=10**6.1,
                                     luminosity=10**40.4997)])
    solve(t1b)
    t_t1 = min(solve(t1b).runtime_s for _ in range(3 * a.reps))
    solve(athena_test4_blob(20))
    t_t4 = np.inf
    for _ in range(3 * a.reps):
        t = time.perf_counter()
        solve(athena_test4_blob(20))
        t_t4 = min(t_t4, time.perf_counter() - t)

    cold = None
    if not a.no_cold:
        env = dict(os.environ)
        env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
        worst = idxs[int(np.argmax(best))]
        med = idxs[int(np.argsort(best)[len(best) // 2])]
        cold = []
        for idx in (med, worst):
            out = subprocess.run([sys.executable, "-c", COLD.format(spec=a.spec, idx=idx)], env=env,
                                 capture_output=True, text=True, check=True).stdout.split()
            cold.append((idx, *map(float, out[:3]), out[3]))

    eng = None
    if not a.no_cold:
        import tempfile

        worst = cells[int(np.argmax(best))]
        med = cells[int(np.argsort(best)[len(best) // 2])]
        eng = [engine_cold(c, spec.model.ppd, Path(tempfile.mkdtemp(prefix="bench_cold_"))) for c in (med, worst)]

    total, tms = shares(cells, lambda p: run_cell(p, spec.model))
    c1 = calib()
    cal = min(c0, c1)
    print(f"\ncalib: {c0:.3f} s before, {c1:.3f} s after (using {cal:.3f}; reference machine {REF_CALIB})"
          + ("  [load changed during the run: figures are noisy]" if max(c0, c1) > 1.15 * cal else ""))
    print(f"{len(cells)} random cells of {a.spec} (seed {a.seed}, ppd {spec.model.ppd}), min of "
          f"{a.reps} per cell: status {dict(status)}, iterations median {int(np.median(iters))}, "
          f"max {max(iters)}")

    def row(name, t, target):
        ok = t / cal <= target
        print(f"  {name:34s} {t * 1e3:9.1f} ms  {t / cal:7.4f} × calib  target ≤ {target:g} × calib: "
              f"{'met' if ok else 'NOT met'}")
        return ok

    oks = [row("cell mean", best.mean(), 0.09), row("cell max", best.max(), 2.0),
           row("ATHEνA Test 1 warm solve (20 ppd)", t_t1, 0.02),
           row("ATHEνA Test 4 warm solve (20 ppd)", t_t4, 0.15)]
    print(f"  cell median {np.median(best) * 1e3:.1f} ms ({np.median(best) / cal:.4f} × calib); "
          f"projected whole grid ({spec.n_cells()} cells) on 1 core: "
          f"{spec.n_cells() * best.mean() / 60:.1f} min, on 2 cores {spec.n_cells() * best.mean() / 120:.1f} min, "
          f"on 128 workers {spec.n_cells() * best.mean() / 128:.1f} s (+ per-task overhead)")
    if cold:
        for idx, imp, first, warm, st in cold:
            ok = first <= 2.0 * warm
            oks.append(ok)
            print(f"  cold start, fresh process, cell {idx} ({st}): import {imp:.2f} s, first cell "
                  f"{first * 1e3:.0f} ms, warm {warm * 1e3:.0f} ms: first/warm {first / warm:.2f} "
                  f"(target ≤ 2: {'met' if ok else 'NOT met'})")
    if eng:
        for first, warm in eng:
            ok = first <= 2.0 * warm
            oks.append(ok)
            print(f"  engine (sweep submit, fresh LocalCluster worker, after its warm-up): first cell "
                  f"{first * 1e3:.0f} ms, same cell warm {warm * 1e3:.0f} ms: first/warm {first / warm:.2f} "
                  f"(target ≤ 2: {'met' if ok else 'NOT met'})")
    print(f"targets: {'all met' if all(oks) else 'NOT all met'}"
          + ("  (the bare fresh-process rows are the cost the worker warm-up moves before the first "
             "task; the engine rows are what a sweep's first cell sees)" if cold else ""))

    print(f"\nper-kernel shares (one instrumented pass over the {len(cells)} cells, {total:.2f} s, "
          f"{total / len(cells) * 1e3:.1f} ms per cell):")
    acc = 0.0
    for lab, t in sorted(tms.items(), key=lambda kv: -kv[1]):
        acc += t
        print(f"  {lab:52s} {t / len(cells) * 1e3:7.2f} ms  {t / total:6.1%}")
    print(f"  {'other (solver bookkeeping, numpy mat-vec, Anderson)':52s} "
          f"{(total - acc) / len(cells) * 1e3:7.2f} ms  {(total - acc) / total:6.1%}")


if __name__ == "__main__":
    main()
