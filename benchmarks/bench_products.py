"""Time the user products on synthetic cubes (docs/cube.md layout) and print figures.

    .venv/bin/python benchmarks/bench_products.py [n_z] [repeats]

* ``sweep population``: every 4LAC-DR2 source with z and ν_pk (1453) against a 10 × 5 × n_z cube
  (matching, then energy flux and IceCube rate over the matching cells at each source's z/dec);
* ``sweep export``: all cells of one σ0 to ECSV;
* ``seeds.target_energies``: per-cell cost of the dominant pγ target search (internal photons +
  external fields rebuilt from the parameters) on a real 4-cell cube of the model if
  ``SWEEP_BENCH_CUBE`` names one (the synthetic cube has no comoving spectra).

Minimum over repetitions (shared machine), and T / T_calib with ``../shared/tools/calib.py``
measured in the same run (reference 2-core machine: T_calib = 0.646 s).
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import numpy as np  # noqa: E402

import reducer_cubes as rc  # noqa: E402


def _calib() -> float:
    tool = ROOT.parent / "shared" / "tools" / "calib.py"
    if not tool.is_file():
        return float("nan")
    out = subprocess.run([sys.executable, str(tool)], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def _best(fn, reps):
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return min(ts)


def main():
    from sweep import catalogs, export, population, seeds
    from sweep import reduce as red

    n_z = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    calib = _calib()
    cat = catalogs.load_catalog("4lac")
    with tempfile.TemporaryDirectory() as d:
        cube = Path(d) / "bench.zarr"
        sig = tuple(np.linspace(5, 60, 10))
        mdot = tuple(np.logspace(-3, -1, 5))
        z = tuple(np.logspace(1, 3.5, n_z))
        rc.write_cube(cube, sigma0=sig, mdot=mdot, z_diss=z)
        n = len(sig) * len(mdot) * len(z)
        red.reduce_cube(cube)
        ds, obs = red.open_cube(cube), red.load_observables(cube).compute()
        t_pop = _best(lambda: population.population(ds, obs, cat, n_sigma=1.0), reps)
        df = population.population(ds, obs, cat, n_sigma=1.0)
        pairs = int(df["n_match"].sum())
        t_exp = _best(lambda: export.export_cube(cube, Path(d) / "e.ecsv",
                                                 {"sigma0": str(sig[0])}), reps)
        n_exp = len(mdot) * len(z)
        print(f"population: {len(df)} sources x {n} cells, {pairs} (source, cell) matches: "
              f"{t_pop:.2f} s = {t_pop / calib:.2f} T_calib")
        print(f"export: {n_exp} cells to ECSV ({n_exp * 705} rows): {t_exp:.2f} s = "
              f"{1e3 * t_exp / n_exp:.1f} ms/cell = {t_exp / calib:.2f} T_calib")
    real = os.environ.get("SWEEP_BENCH_CUBE")
    if real:
        rds = red.open_cube(real)
        ncell = int(np.prod([rds.sizes[d] for d in rds["status"].dims]))
        t_tg = _best(lambda: seeds.target_energies(rds, 1.0), reps)
        print(f"seeds target energies: {ncell} cells of {real}: {t_tg:.2f} s = "
              f"{1e3 * t_tg / ncell:.0f} ms/cell")
    print(f"T_calib = {calib:.3f} s (reference 0.646 s)")


if __name__ == "__main__":
    main()
