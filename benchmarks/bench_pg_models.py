"""Per-cell time of ``grids/baseline.yaml`` cells with each photopion model (issue 9 req. 6).

    .venv/bin/python benchmarks/bench_pg_models.py [--n 16] [--seed 3] [--repeat 3]

Draws ``--n`` random cells of the baseline grid (fixed seed), solves each with the SOPHIA-table
default and with the legacy σκ model (what the cells ran before issue 9), interleaved cell by cell
so that the shared machine's load affects both alike; each time is the minimum over ``--repeat``
solves after one warm-up solve per model (numba caches, per-grid tables).  Prints per-cell times,
the ratio of the summed minima (requirement: sophia ≤ 1.10 × sigma_kappa) and the machine-speed
figure ``../shared/tools/calib.py`` measured in the same run.
"""
from __future__ import annotations

import argparse
import functools
import itertools
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from sweep.model import hadronic  # noqa: E402
from sweep.model.cell import run_cell  # noqa: E402
from sweep.spec import cell_parameters, load_spec  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MODELS = ("sophia", "sigma_kappa")


def _calib() -> float:
    path = ROOT / ".." / "shared" / "tools" / "calib.py"
    return float(subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                                check=True).stdout.split()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    spec = load_spec(ROOT / "grids" / "baseline.yaml").spec
    options = spec.model
    dims = spec.dims()
    rng = np.random.default_rng(a.seed)
    cells = [cell_parameters(spec, tuple(int(rng.integers(d.size)) for d in dims), dims) for _ in range(a.n)]
    orig = hadronic.ProtonExtension

    def use(model):
        hadronic.ProtonExtension = functools.partial(orig, pg_loss_model=model)

    try:
        for m in MODELS:  # warm-up
            use(m)
            run_cell(cells[0], options)
        tot = dict.fromkeys(MODELS, 0.0)
        print(f"{'cell':>4} " + " ".join(f"{m:>12}" for m in MODELS) + "  status")
        for i, c in enumerate(cells):
            best = {}
            for m, _ in itertools.product(MODELS, range(a.repeat)):
                use(m)
                t0 = time.perf_counter()
                r = run_cell(c, options)
                dt = time.perf_counter() - t0
                best[m] = min(best.get(m, np.inf), dt)
            for m in MODELS:
                tot[m] += best[m]
            print(f"{i:4d} " + " ".join(f"{best[m] * 1e3:10.1f}ms" for m in MODELS) + f"  {r.status.name}")
    finally:
        hadronic.ProtonExtension = orig
    calib = _calib()
    print(f"sum of minima: " + ", ".join(f"{m} {tot[m]:.2f} s" for m in MODELS)
          + f"; ratio sophia/sigma_kappa = {tot['sophia'] / tot['sigma_kappa']:.3f} (requirement ≤ 1.10)")
    print(f"machine calib {calib:.3f} s (reference 0.646 s): mean sophia cell = "
          f"{tot['sophia'] / a.n / calib:.3f} T_calib")


if __name__ == "__main__":
    main()
