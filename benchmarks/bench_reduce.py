"""Time `sweep.reduce` on a synthetic chunked Zarr cube (docs/cube.md layout) and print figures.

    .venv/bin/python benchmarks/bench_reduce.py [n_z] [repeats]

Reports the minimum over repetitions (the machine is shared): seconds for the whole reduction
(compute + write of the companion store) and microseconds per cell.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import numpy as np  # noqa: E402

import reducer_cubes as rc  # noqa: E402
from sweep.reduce import reduce_cube  # noqa: E402


def main():
    n_z = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with tempfile.TemporaryDirectory() as d:
        cube = Path(d) / "bench.zarr"
        sig = tuple(np.linspace(5, 60, 10))
        mdot = tuple(np.logspace(-3, -1, 5))
        z = tuple(np.logspace(1, 3.5, n_z))
        rc.write_cube(cube, sigma0=sig, mdot=mdot, z_diss=z,
                      chunks={"sigma0": 2, "mdot": 5, "z_diss": 50})
        n = len(sig) * len(mdot) * len(z)
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            reduce_cube(cube)
            times.append(time.perf_counter() - t0)
        t = min(times)
        print(f"cells {n}, spectra 221 freq + 4x121 neutrino; reduce (min of {reps}): {t:.2f} s "
              f"= {1e6 * t / n:.0f} us/cell")


if __name__ == "__main__":
    main()
