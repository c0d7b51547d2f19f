"""Benchmark: ATHEνA Test 1 to steady state (pairs + photons), one core.

Prints, per ppd (10/20/30): min/median wall time of ``solve`` over repetitions after a warm-up
(setup included: grids, injection, the B-dependent synchrotron matrix; the lattice-only IC/γγ
matrices are slices of the canonical per-ppd tables, as for consecutive cells of a sweep), the
time with the in-process tables dropped (reloaded from the on-disk table cache, as in a fresh
worker), iterations, residual, energy balance and peak memory (tracemalloc: Python/
numpy allocations during one solve; ru_maxrss: process high-water mark).  Then the cold-start
time of a fresh process (import + first solve) with the numba on-disk cache warm (default
NUMBA_CACHE_DIR) and cold (empty temporary NUMBA_CACHE_DIR: numba compiles everything).

    .venv/bin/python benchmarks/bench_kinetics.py [--reps 20]
"""
from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

SNIPPET = """
import time; t0 = time.perf_counter()
from sweep import table_cache; table_cache.install()
from sweep.model.kinetics import Blob, Injection, Processes, solve
b = Blob(R=1e15, B=1.0, ppd={ppd}, processes=Processes(synchrotron_kernel='single_pitch'),
         injections=[Injection('e', 'power_law', p=1.9, gamma_min=1.0, gamma_max=10**6.1,
                               luminosity=10**40.4997)])
t1 = time.perf_counter(); r = solve(b); t2 = time.perf_counter()
print(f"{{t1 - t0:.3f}} {{t2 - t1:.3f}} {{r.status}}")
"""


def test1(ppd):
    from sweep.model.kinetics import Blob, Injection, Processes

    return Blob(R=1e15, B=1.0, ppd=ppd, processes=Processes(synchrotron_kernel="single_pitch"),
                injections=[Injection("e", "power_law", p=1.9, gamma_min=1.0, gamma_max=10**6.1,
                                      luminosity=10**40.4997)])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--ppd", type=int, nargs="*", default=[10, 20, 30])
    ap.add_argument("--no-cold", action="store_true")
    args = ap.parse_args()
    from sweep import table_cache
    from sweep.model import kinetics, tables

    table_cache.install()  # as the CLI and the engine's workers do
    from sweep.model.kinetics import solve

    print("ATHEνA Test 1 (SSC, syn+SSA+IC(KN)+γγ), steady state, 1 thread")
    print(f"{'ppd':>4} {'n_γ':>4} {'n_x':>4} {'min ms':>8} {'median':>8} {'cold-cache ms':>13} "
          f"{'iter':>4} {'residual':>9} {'balance-1':>10} {'tracemalloc MB':>14}")
    for ppd in args.ppd:
        blob = test1(ppd)
        r = solve(blob)  # warm-up (JIT from cache, tables)
        times = []
        for _ in range(args.reps):
            t = time.perf_counter()
            r = solve(blob)
            times.append(time.perf_counter() - t)
        kinetics._ic_matrices.cache_clear()
        kinetics._gg_matrices.cache_clear()
        tables.clear_memory()  # a fresh worker: canonical tables from the on-disk cache
        t = time.perf_counter()
        solve(blob)
        cold = time.perf_counter() - t
        tracemalloc.start()
        solve(blob)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"{ppd:4d} {len(r.gamma_e):4d} {len(r.nu):4d} {1e3 * min(times):8.2f} "
              f"{1e3 * statistics.median(times):8.2f} {1e3 * cold:13.1f} {r.iterations:4d} "
              f"{r.residual:9.2e} {r.energy_balance - 1:10.2e} {peak / 2**20:14.2f}")
    print(f"process max RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    if args.no_cold:
        return
    print("\nfresh process, ppd=20: import [s], first solve incl. tables [s]")
    env = dict(os.environ)
    for label, cache in (("numba cache warm (default dir)", None),
                         ("numba cache cold (empty dir)", tempfile.mkdtemp(prefix="numba-cold-"))):
        e = dict(env)
        if cache:
            e["NUMBA_CACHE_DIR"] = cache
        out = subprocess.run([sys.executable, "-c", SNIPPET.format(ppd=20)], env=e,
                             capture_output=True, text=True, check=True).stdout.split()
        print(f"  {label:32s} import {out[0]} s, first solve {out[1]} s ({out[2]})")


if __name__ == "__main__":
    main()
