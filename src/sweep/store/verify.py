"""Status summaries and verification of a cube."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sweep.model.cell import JET_QUANTITIES, CellStatus
from sweep.spec import Dim
from sweep.store.layout import (DONE, PENDING, SPECTRA, _same_values, cube_info, open_group,
                                variable_names)
from sweep.store.resume import chunk_regions, read_status

# ----------------------------------------------------------------------------------------------
# status and verify
# ----------------------------------------------------------------------------------------------
def _coord_label(dims: list[Dim], idx: tuple[int, ...]) -> str:
    parts = []
    for d, i in zip(dims, idx):
        for p, vals in d.coords.items():
            parts.append(f"{p}={vals[i]:g}")
    return " ".join(parts)


def status_summary(path: str | Path, max_failures: int = 20) -> dict:
    """Counts by status, failures (with coordinates and messages), runtime statistics."""
    from sweep.store.layout import CubeError
    from sweep.store.resume import JOURNAL

    if (Path(path) / JOURNAL).is_file():
        raise CubeError(f"{path}: an --append was interrupted while resizing the arrays; "
                        "`sweep verify` or the next `sweep submit` finishes it")
    info = cube_info(path)
    status, bad = read_status(path, info)
    g = open_group(path)
    counts = {s.name.lower(): int((status == int(s)).sum()) for s in CellStatus}
    try:
        runtime = np.asarray(g["runtime_s"][...], float)
    except Exception:  # noqa: BLE001
        runtime = np.full(status.shape, np.nan)
    try:
        message = np.asarray(g["message"][...]).astype(object)
    except Exception:  # noqa: BLE001
        message = np.full(status.shape, "", dtype=object)
    failures = []
    for code in (CellStatus.FAILED, CellStatus.NOT_CONVERGED, CellStatus.INVALID):
        for idx in zip(*np.nonzero(status == int(code))):
            if len(failures) >= max_failures:
                break
            failures.append({"status": code.name.lower(), "cell": _coord_label(info.dims, idx),
                             "message": str(message[idx])})
    rt = runtime[(status == DONE) & np.isfinite(runtime)]
    stats = {}
    if rt.size:
        stats = {"n": int(rt.size), "min_s": float(rt.min()), "median_s": float(np.median(rt)),
                 "mean_s": float(rt.mean()), "max_s": float(rt.max()), "total_s": float(rt.sum())}
    g_attrs = dict(g.attrs)
    return {"path": str(path), "cells": int(status.size), "counts": counts,
            "unreadable_status_chunks": len(bad), "failures": failures, "runtime": stats,
            "dims": {d.name: d.size for d in info.dims}, "created": g_attrs.get("created"),
            "spec_sha256": g_attrs.get("spec_sha256")}


def format_status(s: dict) -> str:
    lines = [f"cube {s['path']}: {s['cells']} cells  "
             + "  ".join(f"{d}={n}" for d, n in s["dims"].items())]
    lines.append("  " + "  ".join(f"{k}: {v}" for k, v in s["counts"].items()))
    if s["unreadable_status_chunks"]:
        lines.append(f"  unreadable status chunks: {s['unreadable_status_chunks']} (run sweep verify)")
    rt = s["runtime"]
    if rt:
        lines.append(f"  runtime of done cells: min {rt['min_s']:.3g} s, median {rt['median_s']:.3g} s, "
                     f"mean {rt['mean_s']:.3g} s, max {rt['max_s']:.3g} s, total {rt['total_s'] / 3600:.3g} h")
    if s["failures"]:
        lines.append("  not done (first %d):" % len(s["failures"]))
        for f in s["failures"]:
            lines.append(f"    [{f['status']}] {f['cell']}: {f['message']}")
    return "\n".join(lines)


@dataclass
class VerifyReport:
    damage: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    chunks_read: int = 0
    # grid-chunk regions whose cells must be recomputed (repairable), and damage that a
    # recomputation cannot fix (metadata, coordinates)
    damaged_regions: list[tuple[slice, ...]] = field(default_factory=list)
    unrepairable: list[str] = field(default_factory=list)
    repaired_cells: int = 0

    @property
    def ok(self) -> bool:
        return not self.damage


def _span(reg) -> str:
    return "[" + ", ".join(f"{s.start}:{s.stop}" for s in reg) + "]"


def verify(path: str | Path, repair: bool = False) -> VerifyReport:
    """Read every chunk of every array (zstd frame checksums are checked on decode) and check
    every variable of every committed cell against its status; check coordinates, attributes and
    the consolidated metadata. ``damage`` lists problems, ``notes`` harmless findings,
    ``damaged_regions`` the grid chunks whose cells a resubmit can recompute.

    ``repair=True`` resets the cells of the damaged chunks to pending (status chunk rewritten,
    last) so that ``sweep submit`` recomputes exactly them; damage outside the per-cell variables
    (coordinates, metadata) is reported, never "repaired"."""
    from sweep.store.codec import _chunk_file
    from sweep.store.resume import finish_append

    rep = VerifyReport()
    path = Path(path)
    try:
        note = finish_append(path)
        if note:
            rep.notes.append(note)
    except Exception as exc:  # noqa: BLE001
        rep.damage.append(f"interrupted --append could not be finished: {type(exc).__name__}: {exc}")
        rep.unrepairable.append(rep.damage[-1])
        return rep
    try:
        info = cube_info(path)
        g = open_group(path)
    except Exception as exc:  # noqa: BLE001
        rep.damage.append(str(exc))
        rep.unrepairable.append(str(exc))
        return rep

    def fatal(msg: str) -> None:
        rep.damage.append(msg)
        rep.unrepairable.append(msg)

    for key in ("spec_yaml", "spec_sha256", "sweep_version", "created", "model_options", "Conventions"):
        if key not in g.attrs:
            fatal(f"global attribute {key} missing")
    names = set(g.array_keys())
    for name in variable_names():
        if name not in names:
            fatal(f"variable {name} missing")
    if rep.damage:
        return rep
    for name in sorted(names):
        attrs = g[name].attrs
        if "long_name" not in attrs:
            fatal(f"{name}: attribute long_name missing")
        if "units" not in attrs and name not in ("message", "status", "neutrino_flavour"):
            fatal(f"{name}: attribute units missing")
        if g[name].shape[:1] and name not in variable_names():
            # coordinates: every chunk readable, values as the cube records them
            try:
                vals = g[name][...]
                rep.chunks_read += len(list(chunk_regions(g[name].shape, g[name].chunks)))
            except Exception as exc:  # noqa: BLE001
                fatal(f"coordinate {name} unreadable ({type(exc).__name__}: {exc})")
                continue
            for d in info.dims:
                if name in d.coords and not _same_values(vals, d.coords[name]):
                    fatal(f"coordinate {name} differs from the cube's sweep_science record")

    gchunks = tuple(info.chunks[d.name] for d in info.dims)
    regions = list(chunk_regions(info.shape, gchunks))
    status_arr = g["status"]
    codes = [int(s) for s in CellStatus]
    closed_codes = [int(CellStatus.INVALID), int(CellStatus.NOT_CONVERGED), int(CellStatus.FAILED)]
    problems: dict[str, list] = {}  # description -> [regions]
    bad: dict[tuple, None] = {}
    counts = {s: 0 for s in CellStatus}

    def flag(reg, what: str) -> None:
        problems.setdefault(what, []).append(reg)
        bad[tuple((s.start, s.stop) for s in reg)] = None

    for reg in regions:
        rep.chunks_read += 1
        try:
            st = np.asarray(status_arr[reg], dtype=int)
        except Exception as exc:  # noqa: BLE001
            flag(reg, f"status: chunk unreadable ({type(exc).__name__})")
            continue
        if not np.isin(st, codes).all():
            flag(reg, f"status: values outside {codes}")
            continue
        for s in CellStatus:
            counts[s] += int((st == int(s)).sum())
        done = st == DONE
        closed = np.isin(st, closed_codes)
        for name in variable_names():
            if name == "status":
                continue
            rep.chunks_read += 1
            try:
                v = np.asarray(g[name][reg])
            except Exception as exc:  # noqa: BLE001
                flag(reg, f"{name}: chunk unreadable ({type(exc).__name__})")
                continue
            # a task writes every variable of its region, so a done cell's chunk must exist (a
            # region whose task gave up holds only status/message, written by the client)
            if done.any() and name != "message":
                f = _chunk_file(path, name, reg)
                if f is not None and not f.exists():
                    flag(reg, f"{name}: chunk missing although its cells are done")
                    continue
            if name in SPECTRA:
                fin = np.isfinite(v.astype(float)).reshape(st.shape + (-1,))
                if (done & ~fin.any(axis=-1)).any():
                    flag(reg, f"{name}: done cells with an all-NaN spectrum")
                if (closed & fin.any(axis=-1)).any():
                    flag(reg, f"{name}: cells that are not done hold a spectrum (must be NaN)")
            elif name in JET_QUANTITIES or name in ("energy_balance", "runtime_s"):
                if (done & ~np.isfinite(v.astype(float))).any():
                    flag(reg, f"{name}: done cells with a non-finite value")
            elif name == "iterations":
                if (done & (v.astype(int) < 1)).any():
                    flag(reg, "iterations: done cells with no solver iteration")
            elif name == "message":
                m = np.asarray(v.astype(object), dtype=str)
                if (done & (m != "")).any():
                    flag(reg, "message: done cells carry a message")
                if (closed & (m == "")).any():
                    flag(reg, "message: invalid/not_converged/failed cells have no message")
    for what, regs in problems.items():
        shown = ", ".join(_span(r) for r in regs[:3]) + (" ..." if len(regs) > 3 else "")
        rep.damage.append(f"{what}: {len(regs)} chunk(s) {shown}")
    rep.damaged_regions = [tuple(slice(a, b) for a, b in k) for k in bad]
    if counts[CellStatus.PENDING]:
        rep.notes.append(f"{counts[CellStatus.PENDING]} cells pending (incomplete sweep; "
                         "resubmit to finish)")
    # consolidated metadata in step with the arrays
    try:
        import zarr

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gc = zarr.open_group(str(path), mode="r", use_consolidated=True)
        for name in names:
            if gc[name].shape != g[name].shape:
                rep.damage.append(f"consolidated metadata of {name} is stale "
                                  f"({gc[name].shape} vs {g[name].shape}); fixed by the next submit")
    except Exception as exc:  # noqa: BLE001
        rep.damage.append(f"consolidated metadata unreadable ({type(exc).__name__}: {exc}); "
                          "fixed by the next submit")
    leftovers = [p for p in path.rglob("*.partial")]
    if leftovers:
        rep.notes.append(f"{len(leftovers)} leftover temporary chunk files (*.partial) from an "
                         "interrupted write; harmless")
    if repair and rep.damaged_regions:
        rep.repaired_cells = reset_to_pending(path, rep.damaged_regions)
    if repair and not rep.unrepairable:
        from sweep.store.layout import consolidate

        consolidate(path)
    return rep


def reset_to_pending(path: str | Path, regions) -> int:
    """Reset every cell of the given grid-chunk regions to pending: ``message`` cleared, then the
    status chunk rewritten (last, as a task commits). A resubmit recomputes exactly these cells
    (their other variables are rewritten whole by the task). Returns the number of cells reset."""
    g = open_group(path, mode="r+")
    n = 0
    for reg in regions:
        shape = tuple(s.stop - s.start for s in reg)
        g["message"][reg] = np.full(shape, "", dtype=object)
        g["status"][reg] = np.zeros(shape, dtype=np.int8)
        n += int(np.prod(shape))
    return n
