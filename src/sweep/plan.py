"""Plan a sweep: cells, chunks, chunk-aligned tasks, cost and output size, before submitting.

A task is one chunk of the grid dimensions (spectral dimensions are one whole chunk), so every
Zarr chunk has exactly one writer. The cost estimate times one cell of the grid (a calibration
run of the real model in this process), or uses a figure the user gives (``cell_seconds``), or the
median ``runtime_s`` of the done cells of an existing cube, and schedules the tasks on the
cluster's worker slots with the longest-processing-time-first rule (a list-scheduling makespan).
"""
from __future__ import annotations

import heapq
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional

import numpy as np

from sweep.model.cell import CellStatus
from sweep.spec import Dim, LoadedSpec, SweepSpec


MAX_ENUMERATED_TASKS = 1_000_000  # above this (a new cube), plan does not list tasks one by one


@dataclass(frozen=True)
class Task:
    """One chunk-aligned group of cells: the region it owns and how many cells it computes."""

    chunk: tuple[int, ...]
    region: tuple[slice, ...]
    n_cells: int  # cells to compute now (not the chunk size)

    @property
    def key(self) -> str:
        return "chunk-" + "-".join(str(c) for c in self.chunk)


def chunk_grid(shape: tuple[int, ...], chunks: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(math.ceil(n / c) for n, c in zip(shape, chunks))


def make_tasks(shape: tuple[int, ...], chunks: tuple[int, ...],
               status: Optional[np.ndarray] = None, rerun: Iterable[int] = (0,)) -> list[Task]:
    """Tasks for every chunk that has a cell whose status is in ``rerun`` (all chunks when
    ``status`` is None, i.e. a new cube)."""
    rerun = list(rerun)
    tasks = []
    for cidx in np.ndindex(*chunk_grid(shape, chunks)):
        region = tuple(slice(i * c, min((i + 1) * c, n)) for i, c, n in zip(cidx, chunks, shape))
        if status is None:
            n = int(np.prod([s.stop - s.start for s in region]))
        else:
            n = int(np.isin(status[region], rerun).sum())
        if n:
            tasks.append(Task(tuple(int(i) for i in cidx), region, n))
    return tasks


def makespan(task_seconds: list[float], slots: int) -> float:
    """Longest-processing-time-first list scheduling on ``slots`` identical workers."""
    if not task_seconds:
        return 0.0
    heap = [0.0] * max(1, slots)
    for t in sorted(task_seconds, reverse=True):
        heapq.heapreplace(heap, heap[0] + t)
    return max(heap)


def cluster_slots(spec: SweepSpec, which: str) -> tuple[int, int, str]:
    """(concurrent cells, cores allocated, description) of the chosen cluster."""
    c = spec.cluster
    if which == "slurm":
        s = c.slurm
        procs = s.processes or s.cores
        threads = max(1, s.cores // procs)
        return (s.max_jobs * procs * threads, s.max_jobs * s.cores,
                f"SLURM: up to {s.max_jobs} jobs × {s.cores} cores ({procs} worker processes each), "
                f"walltime {s.walltime}")
    if which == "local":
        n = c.local.n_workers or (os.cpu_count() or 1)
        return (n * c.local.threads_per_worker, n * c.local.threads_per_worker,
                f"LocalCluster: {n} workers × {c.local.threads_per_worker} threads")
    return (1, 1, f"scheduler at {c.address}: worker count unknown, estimate per worker slot")


@dataclass
class Calibration:
    seconds: float  # model time of one cell (warm: compiled kernels already loaded)
    source: str
    status: str = ""
    first_call_s: float = 0.0  # the first call in a fresh process (numba cache loading etc.)


def calibrate(loaded: LoadedSpec, cell_fn: Optional[Callable] = None, max_tries: int = 4,
              n_cells: int = 3) -> Calibration:
    """Time the model on cells of the grid, in this process.

    The first call (a cell near the middle of the grid) loads the compiled numba kernels: paid
    once per worker process, it is added to the wall-time estimate. The per-cell figure is the
    mean time of up to ``n_cells`` *other* cells spread over the grid (last, ¼ and ¾ of every
    axis, first), because the cost of a cell varies with its parameters (compact, cascading cells
    near the black hole take longer than cells far out); no per-parameter cache of the model can
    flatter it. Invalid cells return at once and are skipped, up to ``max_tries`` cells."""
    from sweep.spec import cell_parameters

    spec = loaded.spec
    fn = cell_fn or _default_cell_fn()
    dims = spec.dims()
    shape = [d.size for d in dims]
    cands = [tuple(n // 2 for n in shape), tuple(n - 1 for n in shape), tuple(n // 4 for n in shape),
             tuple((3 * n) // 4 for n in shape), tuple(0 for _ in shape)]
    seen = []
    for c in cands:
        if c not in seen:
            seen.append(c)
    first_idx = seen[0]
    t0 = time.perf_counter()
    res = fn(cell_parameters(spec, first_idx, dims), spec.model)
    first = time.perf_counter() - t0
    first_status = CellStatus(res.status).name.lower()
    timed: list[tuple[float, tuple, str]] = []
    for idx in seen[1:max_tries + 1]:
        t0 = time.perf_counter()
        res = fn(cell_parameters(spec, idx, dims), spec.model)
        dt = time.perf_counter() - t0
        if res.status != CellStatus.INVALID:
            timed.append((dt, idx, CellStatus(res.status).name.lower()))
        if len(timed) >= n_cells:
            break
    if timed:
        mean = sum(t for t, _, _ in timed) / len(timed)
        what = "; ".join(f"{_label(dims, i)}: {t:.3g} s" for t, i, _ in timed)
        return Calibration(mean, f"mean of a calibration run of {len(timed)} cell(s) ({what}; first call "
                                 f"{first:.3g} s)", timed[0][2], first)
    if first_status != "invalid":  # every other candidate was invalid: time the first again
        t0 = time.perf_counter()
        res = fn(cell_parameters(spec, first_idx, dims), spec.model)
        dt = time.perf_counter() - t0
        return Calibration(dt, f"calibration run of one cell ({_label(dims, first_idx)}, second call)",
                           CellStatus(res.status).name.lower(), first)
    return Calibration(first, f"calibration cells were all invalid ({_label(dims, first_idx)})",
                       "invalid", first)


def _label(dims: list[Dim], idx) -> str:
    return ", ".join(f"{p}={v[i]:g}" for d, i in zip(dims, idx) for p, v in d.coords.items())


def _default_cell_fn():
    from sweep.model.cell import run_cell  # noqa: PLC0415 - resolved lazily (the model is heavy)

    return run_cell


@dataclass
class Plan:
    n_cells: int
    n_chunks: int
    tasks: list[Task]
    cells_to_run: int
    chunks: dict[str, int]
    dims: dict[str, int]
    cluster: str
    slots: int
    cores: int
    cell_seconds: Optional[float] = None
    cell_source: str = ""
    core_hours: Optional[float] = None  # model CPU time
    allocated_core_hours: Optional[float] = None  # cores held × wall time
    wall_seconds: Optional[float] = None
    bytes_uncompressed: int = 0
    n_files: int = 0  # chunk files of the finished cube
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # above the spec's limits


def make_plan(loaded: LoadedSpec, which: Optional[str] = None, calibration: Optional[Calibration] = None,
              status: Optional[np.ndarray] = None, rerun: Iterable[int] = (int(CellStatus.PENDING),),
              overhead_per_task_s: float = 0.05, out_dir: Optional[str | Path] = None) -> Plan:
    from sweep.store import layout_nbytes

    spec = loaded.spec
    which = which or spec.cluster.default
    dims = spec.dims()
    shape = tuple(d.size for d in dims)
    ch = spec.chunk_sizes()
    chunks = tuple(ch[d.name] for d in dims)
    n_cells = math.prod(int(n) for n in shape)  # Python integers: no int64 overflow
    n_chunks = math.prod(chunk_grid(shape, chunks))
    slots, cores, desc = cluster_slots(spec, which)
    enumerate_tasks = status is not None or n_chunks <= MAX_ENUMERATED_TASKS
    tasks = make_tasks(shape, chunks, status, rerun) if enumerate_tasks else []
    p = Plan(n_cells=n_cells, n_chunks=n_chunks, tasks=tasks,
             cells_to_run=sum(t.n_cells for t in tasks) if enumerate_tasks else n_cells, chunks=ch,
             dims={d.name: d.size for d in dims}, cluster=desc, slots=slots, cores=cores,
             bytes_uncompressed=layout_nbytes(dims, spec.model))
    if not enumerate_tasks:
        p.notes.append(f"{n_chunks:.3g} tasks: not listed one by one; the wall time assumes every "
                       "task is a whole chunk")
    from sweep.store import variable_names

    p.n_files = p.n_chunks * len(variable_names())
    if calibration is not None:
        t = calibration.seconds
        p.cell_seconds, p.cell_source = t, calibration.source
        p.core_hours = p.cells_to_run * t / 3600.0
        startup = max(0.0, calibration.first_call_s - t)  # kernel loading, once per worker
        if enumerate_tasks:
            p.wall_seconds = startup + makespan([task.n_cells * t + overhead_per_task_s for task in tasks],
                                                slots)
        else:  # whole chunks in rounds of `slots` (an upper bound of the LPT makespan)
            per_task = math.prod(chunks) * t + overhead_per_task_s
            p.wall_seconds = startup + -(-n_chunks // max(1, slots)) * per_task
        p.allocated_core_hours = p.wall_seconds * cores / 3600.0
        if calibration.status and calibration.status != "done":
            p.notes.append(f"the calibration cell ended as '{calibration.status}': the figure may "
                           "underestimate the cost of done cells")
        if 0 < len(tasks) < slots:
            p.notes.append(f"only {len(tasks)} tasks for {slots} worker slots: smaller chunks would "
                           "use the cluster better")
    if status is not None:
        done = int((status == int(CellStatus.DONE)).sum())
        p.notes.append(f"existing cube: {done} cells done; only the {p.cells_to_run} cells still to "
                       "compute are counted" if tasks else "existing cube: nothing left to compute")
    if which == "slurm":
        p.notes.append("wall time excludes the SLURM queue wait; cells are timed on this machine")
    lim = spec.limits
    if n_cells > lim.max_cells:
        p.warnings.append(f"{n_cells:.3g} cells is above limits.max_cells = {lim.max_cells}: "
                          "sweep submit refuses it without --allow-large")
    if p.core_hours is not None and p.core_hours > lim.warn_core_hours:
        p.warnings.append(f"{p.core_hours:.3g} core-hours of model time is above "
                          f"limits.warn_core_hours = {lim.warn_core_hours:g}")
    if p.bytes_uncompressed > lim.warn_disk_gib * 2**30:
        p.warnings.append(f"≈ {_human_bytes(p.bytes_uncompressed)} of output is above "
                          f"limits.warn_disk_gib = {lim.warn_disk_gib:g}")
    if out_dir is not None:
        import shutil

        d = Path(out_dir)
        while not d.exists() and d != d.parent:
            d = d.parent
        try:
            free = shutil.disk_usage(d).free
        except OSError:
            free = None
        if free is not None and p.bytes_uncompressed > free:
            p.warnings.append(f"≈ {_human_bytes(p.bytes_uncompressed)} of output but only "
                              f"{_human_bytes(free)} free on {d}")
    return p


def _human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.3g} {unit}"
        n /= 1024
    return f"{n} B"


def _human_seconds(s: float) -> str:
    if s < 120:
        return f"{s:.3g} s"
    if s < 7200:
        return f"{s / 60:.3g} min"
    if s < 3 * 86400:
        return f"{s / 3600:.3g} h"
    return f"{s / 86400:.3g} d"


def format_plan(p: Plan) -> str:
    lines = [
        "grid: " + " × ".join(f"{k} {v}" for k, v in p.dims.items()) + f" = {p.n_cells} cells",
        "chunks: " + ", ".join(f"{k} {v}" for k, v in p.chunks.items())
        + f" → {p.n_chunks} chunks; "
          f"{len(p.tasks) if p.tasks or not p.cells_to_run else p.n_chunks} tasks (one writer per chunk) "
          f"computing {p.cells_to_run} cells",
        f"cluster: {p.cluster} ({p.slots} cells at a time)",
        f"output: ≈ {_human_bytes(p.bytes_uncompressed)} of data (uncompressed; zstd saves little on "
        f"spectra) in {p.n_files} chunk files (+ ~4 KiB per file and directory on disk)",
    ]
    if p.cell_seconds is not None:
        lines += [
            f"time per cell: {p.cell_seconds:.3g} s ({p.cell_source})",
            f"estimated cost: {p.core_hours:.3g} core-hours of model time; "
            f"{p.allocated_core_hours:.3g} core-hours allocated",
            f"estimated wall time: {_human_seconds(p.wall_seconds)}",
        ]
    else:
        lines.append("time per cell: not estimated (no calibration)")
    lines += [f"note: {n}" for n in p.notes]
    lines += [f"WARNING: {w}" for w in p.warnings]
    return "\n".join(lines)
