"""Submit a sweep: chunk-aligned tasks on a Dask cluster, results written by the workers.

Flow of :func:`submit`: validate → create / check / extend the cube (``sweep.store.prepare``) →
read its status → tasks for the chunks with cells to (re)compute (``sweep.plan.make_tasks``) →
start the cluster → ``client.submit(run_task, ...)`` for each → progress as they complete →
failures of whole tasks become per-cell ``failed`` statuses → consolidated metadata.

Fault model:

* A cell whose model raises is stored as ``failed`` with the exception as message; invalid
  and not-converged cells are stored with the model's status and message. The task goes on.
* A task whose worker dies (killed process, cancelled SLURM job) is rerun by the scheduler on
  another worker, up to ``retries`` deaths (``distributed.scheduler.allowed-failures``); after
  that the client marks the task's cells ``failed`` with the reason and the sweep goes on.
  An exception outside the model (e.g. a write error) is retried ``retries`` times likewise.
* Writes happen on the workers, one writer per chunk, status last (see ``sweep.store``), so a
  client killed with SIGKILL loses only the tasks in flight; a resubmit computes the rest.
"""
from __future__ import annotations

import contextlib
import errno
import os
import socket
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

import numpy as np

from sweep.model.cell import CellResult, CellStatus, ModelOptions
from sweep.lock import LockedError, cube_lock  # noqa: F401 - re-exported
from sweep.spec import Dim, LoadedSpec, SweepSpec


# ----------------------------------------------------------------------------------------------
# the task (runs on a worker)
# ----------------------------------------------------------------------------------------------
def resolve_cell_fn(cell_fn: Optional[Callable | str]) -> Callable:
    """The model function: ``sweep.model.cell.run_cell`` by default, resolved lazily; a string
    'module:attr' names another (used by tests)."""
    if cell_fn is None:
        from sweep.model.cell import run_cell

        return run_cell
    if isinstance(cell_fn, str):
        import importlib

        mod, _, attr = cell_fn.partition(":")
        return getattr(importlib.import_module(mod), attr)
    return cell_fn


def _compute_cell(fn: Callable, spec: SweepSpec, idx: tuple[int, ...], dims: list[Dim],
                  options: ModelOptions) -> CellResult:
    """One cell's result; never raises. A parameter combination JetParameters refuses is an
    invalid cell; an exception of the model is a failed cell with the exception as message."""
    from pydantic import ValidationError

    from sweep.spec import cell_parameters

    try:
        params = cell_parameters(spec, idx, dims)
    except ValidationError as exc:
        from sweep.model.params import format_validation_error

        return CellResult(CellStatus.INVALID, format_validation_error(exc).replace("\n", "; "))
    try:
        res = fn(params, options)
        if not isinstance(res, CellResult):
            raise TypeError(f"cell function returned {type(res).__name__}, not CellResult")
        return res
    except Exception as exc:  # noqa: BLE001 - a model error is the cell's result
        tb = traceback.extract_tb(exc.__traceback__)
        where = f" (at {Path(tb[-1].filename).name}:{tb[-1].lineno})" if tb else ""
        return CellResult(CellStatus.FAILED, f"{type(exc).__name__}: {exc}{where}")


def run_task(path: str, region: tuple[slice, ...], spec: SweepSpec, dims: list[Dim],
             rerun: list[int], cell_fn: Optional[Callable | str] = None) -> dict:
    """Compute the cells of one chunk-aligned region whose status is in ``rerun`` and write the
    whole region (status last). Returns counts and timings."""
    from sweep import store, table_cache

    t0 = time.perf_counter()
    table_cache.install()  # this worker's kernel tables load from / go to the on-disk cache
    fn = resolve_cell_fn(cell_fn)
    options: ModelOptions = spec.model
    data = store.read_region(path, region, options, rerun)
    spectral = store.spectral_shapes(options)
    t_read = time.perf_counter() - t0
    todo = np.isin(data.status, rerun)
    counts = {s.name.lower(): 0 for s in CellStatus}
    model_s = 0.0
    for local in zip(*np.nonzero(todo)):
        idx = tuple(int(s.start + i) for s, i in zip(region, local))
        t1 = time.perf_counter()
        res = _compute_cell(fn, spec, idx, dims, options)
        wall = time.perf_counter() - t1
        res.runtime_s = wall  # the cube's runtime_s: wall time of the whole call, as the engine saw it
        model_s += wall
        store.put_result(data, tuple(int(i) for i in local), res, spectral)
        counts[CellStatus(int(data.status[tuple(local)])).name.lower()] += 1
    t2 = time.perf_counter()
    store.write_region(path, data)
    t_write = time.perf_counter() - t2
    return {"counts": counts, "computed": int(todo.sum()), "model_s": model_s,
            "read_s": t_read, "write_s": t_write, "task_s": time.perf_counter() - t0,
            "worker": f"{socket.gethostname()}:{os.getpid()}"}


# ----------------------------------------------------------------------------------------------
# progress
# ----------------------------------------------------------------------------------------------
class Progress:
    """Cells done / failed, rate and ETA: a rich live bar on a terminal, periodic lines otherwise."""

    def __init__(self, total: int, console, enabled: bool = True, every_s: float = 5.0):
        self.total, self.console, self.enabled, self.every_s = total, console, enabled, every_s
        self.done = self.failed = 0
        self.t0 = time.perf_counter()
        self._last = 0.0
        self._rich = None
        if enabled and console.is_terminal:
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress as RP, TextColumn,
                                       TimeElapsedColumn, TimeRemainingColumn)

            self._rich = RP(TextColumn("[bold]cells"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("failed {task.fields[failed]}"),
                            TextColumn("{task.fields[rate]}"), TimeElapsedColumn(),
                            TextColumn("ETA"), TimeRemainingColumn(), console=console)
            self._task = self._rich.add_task("cells", total=total, failed=0, rate="")

    def __enter__(self):
        if self._rich:
            self._rich.start()
        return self

    def __exit__(self, *exc):
        if self._rich:
            self._rich.stop()
        elif self.enabled:
            self._line()

    def rate(self) -> float:
        dt = time.perf_counter() - self.t0
        return (self.done + self.failed) / dt if dt > 0 else 0.0

    def advance(self, n_ok: int, n_failed: int) -> None:
        self.done += n_ok
        self.failed += n_failed
        if self._rich:
            self._rich.update(self._task, completed=self.done + self.failed, failed=self.failed,
                              rate=f"{self.rate():.3g} cells/s")
        elif self.enabled and time.perf_counter() - self._last >= self.every_s:
            self._line()

    def _line(self) -> None:
        self._last = time.perf_counter()
        n = self.done + self.failed
        r = self.rate()
        eta = (self.total - n) / r if r > 0 else float("nan")
        self.console.print(f"cells {n}/{self.total} done, failed {self.failed}, "
                           f"{r:.3g} cells/s, ETA {eta:.0f} s", highlight=False)


# ----------------------------------------------------------------------------------------------
# submit (client side)
# ----------------------------------------------------------------------------------------------
# exit codes of `sweep submit` (docs/engine.md, "Exit codes")
EXIT_OK = 0  # every cell done, invalid or not_converged
EXIT_ERROR = 1  # the cluster could not start, or an unexpected error
EXIT_USAGE = 2  # bad spec or option, cube of another grid / not a sweep cube, cube locked
EXIT_FAILED = 3  # the sweep ran; some cells are failed (a task gave up, or the model raised)
EXIT_STORAGE = 4  # disk full / read-only / permission denied: uncommitted cells stay pending
EXIT_INCOMPLETE = 5  # the sweep ran but cells are still pending (e.g. damaged status chunks)
EXIT_INTERRUPTED = 130  # Ctrl-C (SIGINT)
EXIT_TERMINATED = 143  # SIGTERM (scancel of the client job, kill)


@dataclass
class SubmitResult:
    path: Path
    cells: int
    computed: int = 0
    tasks: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # statuses of the cells computed now
    failed_tasks: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    model_s: float = 0.0
    write_s: float = 0.0
    task_s: float = 0.0  # sum over tasks of their wall time on the workers
    run_s: float = 0.0  # wall time from the first submit to the last result
    report: Optional[Path] = None
    dashboard: Optional[str] = None
    cube_counts: dict[str, int] = field(default_factory=dict)  # statuses of the whole cube at the end

    @property
    def exit_code(self) -> int:
        """The documented exit code of ``sweep submit`` (docs/engine.md, "Exit codes")."""
        if self.failed_tasks or self.cube_counts.get("failed", 0):
            return EXIT_FAILED
        if self.cube_counts.get("pending", 0):
            return EXIT_INCOMPLETE
        return EXIT_OK


class ClusterStartError(RuntimeError):
    pass


class GridTooLargeError(ValueError):
    """The grid has more cells than the spec's ``limits.max_cells`` (and no --allow-large)."""


class StorageError(RuntimeError):
    """The cube's file system refused a write (disk full, quota, read-only, permission): the
    sweep stops; cells not committed stay pending."""


class Terminated(KeyboardInterrupt):
    """SIGTERM (e.g. scancel of the client's job): handled like Ctrl-C."""


STORAGE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO}


def storage_error(exc: BaseException) -> Optional[OSError]:
    """The OSError of a full / read-only / forbidden file system in ``exc`` or its causes."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OSError) and exc.errno in STORAGE_ERRNOS:
            return exc
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def _storage_message(exc: OSError, path: Path) -> str:
    why = {errno.ENOSPC: "no space left on device", errno.EDQUOT: "disk quota exceeded",
           errno.EROFS: "read-only file system", errno.EIO: "input/output error"}.get(
        exc.errno, "permission denied")
    where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
    return (f"cannot write the cube {path}: {why}{where}; cells not committed stay pending; "
            "free space / fix permissions and submit again to resume")


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """While submitting, SIGTERM raises :class:`Terminated` (a KeyboardInterrupt) in the main
    thread, so it takes the Ctrl-C path: the cluster is closed, the history line written."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second TERM must not cut the cleanup
        raise Terminated("SIGTERM")

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def report_path(cube: Path) -> Path:
    """The Dask performance report beside the cube: ``<cube stem>.performance.html``."""
    cube = Path(str(cube).rstrip("/"))
    stem = cube.name[:-5] if cube.name.endswith(".zarr") else cube.name
    return cube.parent / f"{stem}.performance.html"


def _file_sha256(p: Path) -> Optional[str]:
    import hashlib

    try:
        return hashlib.sha256(p.read_bytes()).hexdigest()
    except OSError:
        return None


def _report_target(cube: Path) -> Path:
    """Where this submit's report goes: ``report_path`` unless a file is there that this cube's
    submits did not write (the cube records the name and sha256 of its last report); then the
    first free ``<stem>.performance-N.html``. An existing file is never overwritten otherwise."""
    import json

    from sweep import store

    try:
        mine = json.loads(store.open_group(cube).attrs.get("sweep_report", "{}"))
    except Exception:  # noqa: BLE001
        mine = {}
    base = report_path(cube)
    candidates = [base] + [base.with_name(base.name.replace(".performance.html", f".performance-{i}.html"))
                           for i in range(2, 1000)]
    for p in candidates:
        if not p.exists() and not p.is_symlink():
            return p
        if not p.is_symlink() and mine.get("name") == p.name and _file_sha256(p) == mine.get("sha256"):
            return p
    raise StorageError(f"no free name for the performance report beside {cube}")


def _record_report(cube: Path, report: Path) -> None:
    import json

    from sweep import store

    with contextlib.suppress(Exception):
        store.open_group(cube, mode="r+").attrs["sweep_report"] = json.dumps(
            {"name": report.name, "sha256": _file_sha256(report)})


def submit(loaded: LoadedSpec, cluster: Optional[str] = None, out: Optional[str | Path] = None,
           retry_failed: bool = False, append: bool = False,
           cell_fn: Optional[Callable | str] = None, console=None, progress: bool = True,
           performance_report: bool = True, client=None, allow_large: bool = False) -> SubmitResult:
    """Run (or resume, or extend) the sweep of a validated spec. ``cluster``: 'local', 'slurm',
    'address' or a scheduler URL (default: the spec's ``cluster.default``); ``client``: use this
    already connected Dask client instead (tests, notebooks).

    Raises LockedError / CubeError (cube in use, not ours, other grid), ClusterStartError,
    StorageError (disk full / read-only: cells not committed stay pending), Terminated /
    KeyboardInterrupt (SIGTERM / SIGINT, after closing the cluster and writing the history)."""
    from rich.console import Console

    console = console or Console(stderr=False)
    path = Path(out or loaded.spec.output.path)
    n, limit = loaded.spec.n_cells(), loaded.spec.limits.max_cells
    if n > limit and not allow_large:
        raise GridTooLargeError(
            f"the grid has {n:.3g} cells ({n} exactly), above limits.max_cells = {limit}; check the "
            "spec (sweep plan shows core-hours and disk), raise limits.max_cells, or pass --allow-large")
    try:
        with _sigterm_as_interrupt(), cube_lock(path):
            return _submit_locked(loaded, cluster, path, retry_failed, append, cell_fn, console,
                                  progress, performance_report, client)
    except OSError as exc:
        err = storage_error(exc)
        if err is None:
            raise
        raise StorageError(_storage_message(err, path)) from None


def _submit_locked(loaded, cluster, path, retry_failed, append, cell_fn, console, progress,
                   performance_report, client) -> SubmitResult:
    from sweep import clusters, store
    from sweep.plan import make_tasks

    spec = loaded.spec
    which = cluster or spec.cluster.default
    t_start = time.perf_counter()
    if True:  # (the body of the cube lock)
        info = store.prepare(path, loaded, append=append)
        status, bad = store.read_status(path, info)
        rerun = [int(CellStatus.PENDING)] + ([int(CellStatus.FAILED)] if retry_failed else [])
        chunks = tuple(info.chunks[d.name] for d in info.dims)
        tasks = make_tasks(info.shape, chunks, status, rerun)
        result = SubmitResult(path, int(status.size), tasks=len(tasks))
        n_todo = sum(t.n_cells for t in tasks)
        counts = {s.name.lower(): int((status == int(s)).sum()) for s in CellStatus}
        result.cube_counts = counts
        console.print(f"cube {path}: {status.size} cells ("
                      + ", ".join(f"{k} {v}" for k, v in counts.items() if v) + ")"
                      + (f"; {len(bad)} unreadable status chunks recomputed" if bad else ""),
                      highlight=False)
        for dim, (n0, n1) in info.appended.items():
            console.print(f"appended {n1 - n0} values to {dim} ({n0} → {n1})", highlight=False)
        if not tasks:
            console.print("nothing to compute: every cell is "
                          + ("done, invalid or not converged" if retry_failed else
                             "done or closed (use --retry-failed to rerun failed cells)"),
                          highlight=False)
            store.consolidate(path)
            result.wall_s = time.perf_counter() - t_start
            return result
        console.print(f"computing {n_todo} cells in {len(tasks)} tasks (one per chunk)", highlight=False)

        own_cluster = own_client = None
        cleanup: list = []
        if client is None:
            try:
                own_cluster, client, cinfo = clusters.start(spec, which, path)
            except Exception as exc:  # noqa: BLE001 - reported to the user, cube untouched
                raise ClusterStartError(f"could not start the {which} cluster: "
                                        f"{type(exc).__name__}: {exc}") from exc
            own_client = client
            cleanup = cinfo.cleanup
            result.dashboard = cinfo.dashboard
            console.print(f"scheduler: {client.scheduler.address}"
                          + (" (TLS, temporary certificates)" if cinfo.tls and which != "address"
                             else " (TLS)" if cinfo.tls else " (NO TLS)"), highlight=False)
            console.print(f"dashboard: {cinfo.dashboard}", highlight=False)
            if cinfo.tunnel:
                console.print(f"from your laptop: {cinfo.tunnel}  then open "
                              f"http://localhost:{cinfo.dashboard.rsplit(':', 1)[-1]}", highlight=False)
        else:
            result.dashboard = client.dashboard_link
        try:
            rp = _report_target(path) if performance_report else None
            ctx = _perf_report(rp) if rp else contextlib.nullcontext()
            with ctx:
                _run_tasks(client, tasks, path, spec, info.dims, rerun, cell_fn, result, console,
                           progress)
            if rp is not None and rp.exists():
                result.report = rp
                _record_report(path, rp)
        finally:
            if own_client is not None:
                with contextlib.suppress(Exception):
                    own_client.close()
            if own_cluster is not None:
                with contextlib.suppress(Exception):
                    own_cluster.close()
            for f in cleanup:  # e.g. the private directory of the SLURM TLS certificates
                with contextlib.suppress(Exception):
                    f()
            _history(path, result)
            with contextlib.suppress(OSError):  # a full disk must not hide the real error
                store.consolidate(path)
        with contextlib.suppress(Exception):
            st, _ = store.read_status(path, info)
            result.cube_counts = {s.name.lower(): int((st == int(s)).sum()) for s in CellStatus}
    result.wall_s = time.perf_counter() - t_start
    c = result.counts
    console.print(f"done in {result.wall_s:.3g} s: computed {result.computed} cells ("
                  + ", ".join(f"{k} {v}" for k, v in c.items() if v) + f"); model time "
                  f"{result.model_s:.3g} s" + (f"; report {result.report}" if result.report else ""),
                  highlight=False)
    return result


@contextlib.contextmanager
def _perf_report(path: Path):
    from distributed import performance_report

    with performance_report(filename=str(path)):
        yield


def _history(path: Path, result: SubmitResult) -> None:
    import datetime as dt

    from sweep import store

    with contextlib.suppress(Exception):
        g = store.open_group(path, mode="r+")
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        c = ", ".join(f"{k} {v}" for k, v in result.counts.items() if v)
        g.attrs["history"] = g.attrs.get("history", "") + f"\n{now} submit: computed {result.computed} cells ({c})"


def _run_tasks(client, tasks, path: Path, spec: SweepSpec, dims, rerun, cell_fn, result: SubmitResult,
               console, progress: bool) -> None:
    from distributed import as_completed

    from sweep import store

    total = sum(t.n_cells for t in tasks)
    t0 = time.perf_counter()
    stop = _watchdog(client, console)
    if cell_fn is None:  # the real model: every worker loads kernels and tables before its first task
        from sweep.warmup import WarmUp, cache_environment, warm_cells

        client.register_plugin(WarmUp(warm_cells(spec), spec.model, cache_environment(spec.cluster)))
    try:
        futures = {}
        for prio, t in enumerate(tasks):
            f = client.submit(run_task, str(path), t.region, spec, dims, rerun, cell_fn,
                              key=f"{t.key}-{os.getpid()}-{time.time_ns()}", pure=False,
                              retries=spec.retries, priority=-prio)
            futures[f] = t
        result.counts = {s.name.lower(): 0 for s in CellStatus}
        with Progress(total, console, enabled=progress) as bar:
            try:
                for fut in as_completed(list(futures)):
                    task = futures.pop(fut)
                    try:
                        out = fut.result()
                    except Exception as exc:  # noqa: BLE001 - the task gave up: its cells fail
                        err = storage_error(exc)
                        if err is not None:
                            # every other write would fail alike: stop, leave the cells pending
                            client.cancel(list(futures))
                            raise StorageError(_storage_message(err, path)) from None
                        reason = _reason(exc, spec)
                        try:
                            n = store.mark_failed(path, task.region, reason, rerun)
                        except OSError as exc2:
                            err = storage_error(exc2)
                            if err is None:
                                raise
                            client.cancel(list(futures))
                            raise StorageError(_storage_message(err, path)) from None
                        result.failed_tasks.append(f"{task.key}: {reason}")
                        result.counts["failed"] += n
                        result.computed += n
                        bar.advance(0, n)
                        console.print(f"task {task.key} failed: {reason}", highlight=False)
                        continue
                    _add_task_result(out, result, bar)
            except KeyboardInterrupt:  # Ctrl-C or SIGTERM: commit what workers are running now
                _finish_in_flight(client, futures, result, bar, console)
                raise
    finally:
        stop.set()
    result.run_s = time.perf_counter() - t0


def _add_task_result(out: dict, result: SubmitResult, bar) -> None:
    for k, v in out["counts"].items():
        result.counts[k] += v
    result.computed += out["computed"]
    result.model_s += out["model_s"]
    result.write_s += out["write_s"]
    result.task_s += out["task_s"]
    n_fail = out["counts"]["failed"]
    bar.advance(out["computed"] - n_fail, n_fail)


#: after Ctrl-C / SIGTERM, how long the client waits for the tasks workers are running so that
#: their cells are committed rather than recomputed; within SLURM's default KillWait (30 s)
#: between the SIGTERM of scancel and the SIGKILL
INTERRUPT_GRACE_S = 20.0


def _finish_in_flight(client, futures: dict, result: SubmitResult, bar, console,
                      grace_s: float = INTERRUPT_GRACE_S) -> None:
    """Cancel the tasks no worker has started and wait up to ``grace_s`` for those being run
    (their region writes and status commits finish); a second Ctrl-C stops the wait. Tasks
    still running then are cancelled: their cells stay pending (status is committed last)."""
    from distributed import wait

    try:
        running = {k for keys in client.processing().values() for k in keys}
    except Exception:  # noqa: BLE001 - scheduler gone: nothing to wait for
        running = set()
    in_flight = [f for f in futures if f.key in running]
    with contextlib.suppress(Exception):
        client.cancel([f for f in futures if f.key not in running])
    if not in_flight:
        return
    console.print(f"stopping: finishing the {len(in_flight)} task(s) in flight (at most "
                  f"{grace_s:.0f} s; Ctrl-C again to stop at once)", highlight=False)
    with contextlib.suppress(Exception, KeyboardInterrupt):
        wait(in_flight, timeout=grace_s)
    for f in in_flight:
        if f.status == "finished":
            with contextlib.suppress(Exception):
                _add_task_result(f.result(), result, bar)
        futures.pop(f, None)
    with contextlib.suppress(Exception):
        client.cancel(in_flight)


def _watchdog(client, console, every_s: float = 60.0):
    """Warn (never abort) while the cluster has no worker, e.g. SLURM jobs stuck in the queue."""
    import threading

    stop = threading.Event()

    def run():
        while not stop.wait(every_s):
            try:
                n = len(client.scheduler_info().get("workers", {}))
            except Exception:  # noqa: BLE001
                return
            if n == 0:
                console.print(f"waiting: no Dask worker connected for {every_s:.0f} s (SLURM: check "
                              "`squeue --me` and the job logs)", highlight=False)

    threading.Thread(target=run, daemon=True, name="sweep-watchdog").start()
    return stop


def _reason(exc: BaseException, spec: SweepSpec) -> str:
    name = type(exc).__name__
    if name == "KilledWorker":
        return (f"worker died {spec.retries + 1} times while computing this chunk "
                f"(KilledWorker: {exc}); the model may crash the process (segfault, out of memory)")
    return f"task failed after {spec.retries} retries: {name}: {exc}"
