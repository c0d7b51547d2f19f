"""ATHEνA Test 4 (leptohadronic) to steady state: wall time and each process's share.

    .venv/bin/python benchmarks/bench_test4.py [--reps 7] [--ppd 20]

Warm-up: one full solve first (numba caches loaded, per-grid kernel tables built and LRU-cached by
``sweep.model.hadronic``); then the minimum over ``--reps`` solves of ``kinetics.solve(blob)``
(a fresh Blob each time: setup + iterations + final bookkeeping; the per-grid pγ/BH tables come
from the cache, the photon-field-dependent linear maps are rebuilt every iteration).  Shares are
measured by wrapping each kernel function with a timer (the wrapper overhead, ~1 µs per call, is
included in the total).  Also prints the issue-5 validation figures at 10/20/30 ppd.
Target (issue 5): ≤ 0.3 s on one core at 20 ppd; issue 9 (SOPHIA-table photopion, the default):
≤ 0.1 s.  Timings are noisy on a shared machine: the minimum of the repetitions is reported, and
divided by the machine-speed figure ``../shared/tools/calib.py`` measured in the same run
(T/T_calib; T_calib = 0.646 s on the reference 2-core machine).  ``--pg`` picks the photopion
model ("sophia", "ka08", "sigma_kappa") so the models' times can be compared.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from collections import defaultdict

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import _reference  # noqa: F401,E402  (SWEEP_ATHENA_DIR for the reference spectra)
from sweep.validation.hadronic import athena_test4_blob, figures, load_reference  # noqa: E402
from sweep.model import hadronic as H  # noqa: E402
from sweep.model import kinetics  # noqa: E402
from sweep.model.processes import bethe_heitler as bhm  # noqa: E402
from sweep.model.processes import compton, pairs, synchrotron  # noqa: E402

TIMES: dict = defaultdict(float)

# (module, attribute, label): every kernel the iteration calls
PROBES = [
    (kinetics, "setup", "setup (grids, matrices, tables from cache)"),
    (kinetics, "cooling_sweep", "cooling sweeps (pairs + protons)"),
    (synchrotron, "emit", "synchrotron emission (e± + p)"),
    (synchrotron, "ssa_coefficient", "SSA (e± + p)"),
    (compton, "emit", "inverse Compton emission"),
    (pairs, "pair_injection", "γγ pair injection"),
    (pairs, "absorption_rate", "γγ absorption"),
    (bhm, "_bh_loss", "Bethe–Heitler losses"),
    (bhm, "_bh_pairs_table", "Bethe–Heitler pairs (KA08 table)"),
    (bhm, "_bh_pairs_mean", "Bethe–Heitler pairs (δ rows)"),
    (H, "_loss_sums", "photopion losses"),
    (H, "_pg_direct", "photopion secondaries: direct rows (γ, e±, ν side by side)"),
    (H, "_pg_scatter", "photopion secondaries: per species + frozen rows"),
]


def _wrap(mod, name, label):
    fn = getattr(mod, name)

    def timed(*a, **k):
        t = time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            TIMES[label] += time.perf_counter() - t

    setattr(mod, name, timed)
    return fn


def _calib() -> float:
    """../shared/tools/calib.py measured now (median of 5 after a warm-up) [s]."""
    path = Path(__file__).resolve().parents[1] / ".." / "shared" / "tools" / "calib.py"
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, check=True)
    return float(out.stdout.split()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--ppd", type=int, default=20)
    ap.add_argument("--pg", default="sophia", help="photopion model: sophia, ka08, sigma_kappa")
    a = ap.parse_args()
    ref = load_reference()
    kw = {"pg_loss_model": a.pg}

    t0 = time.perf_counter()
    ss = kinetics.solve(athena_test4_blob(a.ppd, **kw))
    print(f"cold first solve (numba cache load + per-grid tables): {time.perf_counter() - t0:.2f} s")

    best = None
    for _ in range(a.reps):
        t0 = time.perf_counter()
        ss = kinetics.solve(athena_test4_blob(a.ppd, **kw))
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    g = ss.grids
    calib = _calib()
    print(f"Test 4 at {a.ppd} ppd, photopion {a.pg}: {best * 1e3:.1f} ms warm solve to steady state "
          f"(min of {a.reps}; target ≤ 100 ms), {ss.iterations} iterations, status {ss.status}, "
          f"energy balance {ss.energy_balance:.9f}")
    print(f"  machine calib {calib:.3f} s (reference 0.646 s): T/T_calib = {best / calib:.4f} "
          f"→ {best / calib * 0.646 * 1e3:.1f} ms on the reference machine")
    print(f"  grids: γ_e {len(g.gamma)}, photons {len(g.x)}, γ_p {len(g.gamma_p)}, ν {len(g.x_nu)}")

    originals = [(m, n, _wrap(m, n, lab)) for m, n, lab in PROBES]
    try:
        runs = 5
        TIMES.clear()
        t0 = time.perf_counter()
        for _ in range(runs):
            kinetics.solve(athena_test4_blob(a.ppd, **kw))
        total = (time.perf_counter() - t0) / runs
    finally:
        for m, n, fn in originals:
            setattr(m, n, fn)
    print(f"\nshare of the time (mean of {runs} instrumented solves, {total * 1e3:.1f} ms each):")
    acc = 0.0
    inner = TIMES.copy()
    setup_t = inner.pop("setup (grids, matrices, tables from cache)", 0.0) / runs
    for lab, t in sorted(inner.items(), key=lambda kv: -kv[1]):
        acc += t / runs
        print(f"  {lab:48s} {t / runs * 1e3:8.2f} ms  {t / runs / total:6.1%}")
    print(f"  {'setup (grids, matrices, tables from cache)':48s} {setup_t * 1e3:8.2f} ms  {setup_t / total:6.1%}"
          "  (includes the kernels it calls: none of the above)")
    other = total - acc - setup_t
    print(f"  {'other (numpy: IC loss/scatter mat-vec, bookkeeping)':48s} {other * 1e3:8.2f} ms  {other / total:6.1%}")

    print("\nvalidation figures vs ATHEνA (dex; issue targets 0.03 / 0.10 / 0.05):")
    print(f"  {'ppd':>4} {'photons median':>15} {'photons max':>12} {'ν median':>9} {'ν max':>7} {'iter':>5} {'balance':>12}")
    for ppd in (10, 20, 30):
        s = kinetics.solve(athena_test4_blob(ppd, **kw))
        f = figures(s, *ref)
        print(f"  {ppd:4d} {f['photons_median']:15.3f} {f['photons_max']:12.3f} {f['neutrinos_median']:9.3f} "
              f"{f['neutrinos_max']:7.3f} {s.iterations:5d} {s.energy_balance:12.9f}")


if __name__ == "__main__":
    main()
