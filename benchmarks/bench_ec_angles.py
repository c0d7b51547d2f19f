"""Per-cell cost of the angle-resolved external Compton (issue 11) on random baseline cells.

    PYTHONPATH=src nice -n 10 python benchmarks/bench_ec_angles.py [--cells 60] [--seed 0]

For each of N random cells of grids/baseline.yaml (valid cells only; its model options, ppd 20,
leptohadronic) the cell is run with ``model.ec_angles: isotropic`` and ``exact`` (order
alternating, numba caches and kernel tables warm from a first untimed cell).  Prints the mean and
max per-cell time of both, the ratio, the time of the EC post-processing alone
(``cell.ec_toward_observer``), and the machine calibration T_calib of
/work/shared/tools/calib.py (../shared/tools/calib.py) measured in the same run: times / T_calib
compare across machines and loads.  The timings are noisy on a shared machine; the ratio of
means is the figure of merit (issue 11: ≤ 1.3).
"""
from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _calib() -> float:
    for cand in (ROOT.parent / "shared" / "tools" / "calib.py", Path("/work/shared/tools/calib.py")):
        if cand.exists():
            spec = importlib.util.spec_from_file_location("calib", cand)
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            mod.once()
            return sorted(mod.once() for _ in range(5))[2]
    return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--spec", default=str(ROOT / "grids" / "baseline.yaml"))
    args = ap.parse_args()

    from sweep.model import cell as C
    from sweep.model.jet import blob_state, distance_to_cm
    from sweep.spec import cell_parameters, load_spec

    spec = load_spec(args.spec).spec
    dims = spec.dims()
    shape = tuple(d.size for d in dims)
    rng = np.random.default_rng(args.seed)
    base = spec.model
    opts = {m: base.model_copy(update={"ec_angles": m}) for m in ("isotropic", "exact")}
    t_cal = _calib()
    times = {"isotropic": [], "exact": []}
    post = []
    dl = []
    n = 0
    warm = False
    tries = 0
    while n < args.cells and tries < 20 * args.cells:
        tries += 1
        idx = tuple(int(rng.integers(s)) for s in shape)
        prm = cell_parameters(spec, idx, dims)
        order = ("isotropic", "exact") if n % 2 == 0 else ("exact", "isotropic")
        res = {}
        for m in order:
            t = time.perf_counter()
            r = C.run_cell(prm, opts[m])
            res[m] = (r, time.perf_counter() - t)
        if res["exact"][0].status != C.CellStatus.DONE:
            continue
        if not warm:  # first valid cell: compile / build tables, not timed
            warm = True
            continue
        for m in times:
            times[m].append(res[m][1])
        # the EC post-processing alone
        jp = C.jet_parameters(prm)
        z = float(distance_to_cm(prm["z_diss"], prm["z_unit"], jp))
        st = blob_state(jp, np.atleast_1d(z))
        blob = C.build_blob(jp, st, opts["exact"])
        from sweep.model.kinetics import solve
        ss = solve(blob, tol=base.tolerance, max_iter=base.max_iterations)
        t = time.perf_counter()
        C.ec_toward_observer(jp, st.row(0), blob, ss)
        post.append(time.perf_counter() - t)
        a = res["isotropic"][0].spectra["nuLnu_obs"]
        b = res["exact"][0].spectra["nuLnu_obs"]
        nu = C.output_grids(base)["frequency"]
        band = (nu > 2.4e22) & (nu < 2.4e25)  # 0.1–100 GeV
        if a[band].sum() > 0:
            dl.append(np.log10(b[band].sum() / a[band].sum()))
        n += 1
        print(f"  cell {n:3d} {idx}: isotropic {res['isotropic'][1]:.3f} s, exact "
              f"{res['exact'][1]:.3f} s, post {post[-1] * 1e3:.1f} ms", flush=True)
    mi, me = statistics.mean(times["isotropic"]), statistics.mean(times["exact"])
    print(f"\n{n} random valid cells of {args.spec} (ppd {base.ppd}, {base.radiation}); "
          f"T_calib = {t_cal:.3f} s (same run)")
    for m in times:
        t = times[m]
        print(f"  {m:9s}: mean {statistics.mean(t):.3f} s ({statistics.mean(t) / t_cal:.3f} T_calib), "
              f"max {max(t):.3f} s ({max(t) / t_cal:.3f} T_calib)")
    print(f"  ratio of means exact/isotropic: {me / mi:.3f}; ratio of maxima: "
          f"{max(times['exact']) / max(times['isotropic']):.3f}")
    print(f"  EC post-processing alone: mean {statistics.mean(post) * 1e3:.1f} ms, max "
          f"{max(post) * 1e3:.1f} ms ({statistics.mean(post) / mi * 100:.1f} % of the mean cell)")
    if dl:
        print(f"  Δlog10 L(0.1–100 GeV) exact − isotropic: median {np.median(dl):+.3f}, "
              f"range {min(dl):+.3f} … {max(dl):+.3f} dex")


if __name__ == "__main__":
    sys.exit(main())
