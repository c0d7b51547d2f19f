"""Worker warm-up: load the compiled kernels and the canonical tables before the first task.

A fresh worker process (a new SLURM job, a restarted worker) pays once: importing the model,
loading numba's compiled kernels from its on-disk cache (≈ 1–2 s, most of it numba's own start-up)
and loading the canonical per-ppd tables from the table cache (``sweep.table_cache``).  Without
a warm-up that cost lands on the first cell of the first task, 10–30× a warm cell.  ``WarmUp`` is
a Dask worker plugin the engine registers before it submits tasks: every worker, present or
joining later, solves one real cell of the grid first (off the event loop, so heartbeats go on),
with the spec's table-cache and numba-cache locations in its environment.  Cells of tasks then
run warm from the first one (benchmarks/bench_cells.py measures both).
"""
from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin


def cache_environment(cluster_spec) -> dict[str, str]:
    """Environment variables the workers need for the spec's cache locations (docs/engine.md):
    ``SWEEP_TABLE_CACHE`` from ``cluster.table_cache_dir``, ``NUMBA_CACHE_DIR`` from
    ``cluster.numba_cache_dir``; unset fields leave the defaults (and any value already in the
    environment of the process that starts the workers) alone."""
    env = {}
    tdir = getattr(cluster_spec, "table_cache_dir", None)
    ndir = getattr(cluster_spec, "numba_cache_dir", None)
    if tdir:
        env["SWEEP_TABLE_CACHE"] = os.path.expanduser(str(tdir))
    if ndir:
        env["NUMBA_CACHE_DIR"] = os.path.expanduser(str(ndir))
    return env


def warm_cells(spec, n: int = 4) -> list[dict]:
    """Parameters of a few cells spread over the grid (middle, ¾, last, ¼): the warm-up solves the
    first of them that is not invalid (an invalid cell returns before the solver runs)."""
    from sweep.spec import cell_parameters

    dims = spec.dims()
    shape = [d.size for d in dims]
    out, seen = [], []
    for idx in (tuple(s // 2 for s in shape), tuple((3 * s) // 4 for s in shape),
                tuple(s - 1 for s in shape), tuple(s // 4 for s in shape)):
        if idx not in seen:
            seen.append(idx)
            try:
                out.append(cell_parameters(spec, idx, dims))
            except Exception:  # noqa: BLE001 - a cell the spec cannot build is not a warm-up cell
                continue
    return out[:n]


class WarmUp(WorkerPlugin):
    """Solve one real cell on each worker before it computes tasks (see module docstring)."""

    name = "sweep-warmup"

    def __init__(self, cells: list[dict], options: Any, env: dict[str, str]):
        self.cells = cells
        self.options = options
        self.env = env
        self.seconds = None

    def _warm(self) -> float:
        import sys

        for k, v in self.env.items():
            if k == "NUMBA_CACHE_DIR" and "numba" in sys.modules:
                continue  # numba read its cache dir at import: the worker was started without it
            os.environ[k] = v
        t0 = time.perf_counter()
        from sweep import table_cache
        from sweep.model.cell import CellStatus, run_cell

        table_cache.install()

        for params in self.cells:
            res = run_cell(params, self.options)
            if res.status != CellStatus.INVALID:
                break
        return time.perf_counter() - t0

    async def setup(self, worker):
        loop = asyncio.get_running_loop()
        try:
            self.seconds = await loop.run_in_executor(None, self._warm)
            worker.log_event("sweep-warmup", {"seconds": self.seconds})
        except Exception as exc:  # noqa: BLE001 - a failed warm-up only costs time; the task reports
            worker.log_event("sweep-warmup", {"error": f"{type(exc).__name__}: {exc}"})
