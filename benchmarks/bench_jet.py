"""Benchmark: the whole jet model (dynamics, injection, γmax with KN-corrected IC, three field
spectra on 200 comoving frequencies, bolometric values) for 100 distances.

Prints the import time (numba import and loading the cached f_KN ufunc dominate), the cold time
(first call in this process, after import) and the
minimum over repetitions after warm-up.  Requirement (issue 2): < 1 s after import.

    .venv/bin/python benchmarks/bench_jet.py [--n 100] [--repeat 20]
"""
from __future__ import annotations

import argparse
import time

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100, help="number of distances")
    ap.add_argument("--nnu", type=int, default=200, help="number of comoving frequencies")
    ap.add_argument("--repeat", type=int, default=20)
    a = ap.parse_args()

    t0 = time.perf_counter()
    import sweep.model.injection  # noqa: F401  (imports numba + loads the cached f_KN ufunc)
    from sweep.model.fields import external_fields
    from sweep.model.jet import blob_state, distance_to_cm
    from sweep.model.params import JetParameters
    t_import = time.perf_counter() - t0

    p = JetParameters()
    z = distance_to_cm(np.geomspace(10, 1e4, a.n), "Rs", p)
    nu = np.geomspace(1e9, 1e20, a.nnu)

    def run():
        s = blob_state(p, z)
        f = external_fields(p, z, nu, gamma=s.gamma)
        return s, f

    t0 = time.perf_counter()
    run()
    cold = time.perf_counter() - t0
    times = []
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    # single distance (what one grid cell calls)
    t1 = []
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        s = blob_state(p, z[40])
        external_fields(p, z[40], nu, gamma=s.gamma)
        t1.append(time.perf_counter() - t0)
    print(f"import (incl. numba + cached kernels): {t_import * 1e3:.0f} ms")
    print(f"{a.n} distances x {a.nnu} frequencies: cold {cold * 1e3:.1f} ms, "
          f"warm min {min(times) * 1e3:.1f} ms, median {np.median(times) * 1e3:.1f} ms "
          f"(requirement < 1000 ms)")
    print(f"1 distance: warm min {min(t1) * 1e3:.2f} ms, median {np.median(t1) * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
