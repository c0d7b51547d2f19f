"""Status summaries and verification of a cube."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sweep.model.cell import CellStatus
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

    @property
    def ok(self) -> bool:
        return not self.damage


def verify(path: str | Path) -> VerifyReport:
    """Read every chunk of every array; check statuses against data and the consolidated
    metadata against the arrays. ``damage`` lists problems; ``notes`` harmless findings."""
    rep = VerifyReport()
    path = Path(path)
    try:
        info = cube_info(path)
        g = open_group(path)
    except Exception as exc:  # noqa: BLE001
        rep.damage.append(str(exc))
        return rep
    for key in ("spec_yaml", "spec_sha256", "sweep_version", "created", "model_options", "Conventions"):
        if key not in g.attrs:
            rep.damage.append(f"global attribute {key} missing")
    names = set(g.array_keys())
    for name in variable_names():
        if name not in names:
            rep.damage.append(f"variable {name} missing")
    if rep.damage:
        return rep
    # every chunk of every array
    values: dict[str, np.ndarray] = {}
    for name in sorted(names):
        arr = g[name]
        shape, chunks = arr.shape, arr.chunks
        full = np.empty(shape, dtype=object if arr.dtype.kind in "OTU" or "String" in str(arr.dtype) else arr.dtype)
        unreadable = 0
        for reg in chunk_regions(shape, chunks):
            rep.chunks_read += 1
            try:
                full[reg] = arr[reg]
            except Exception as exc:  # noqa: BLE001
                unreadable += 1
                if unreadable <= 3:
                    rep.damage.append(f"{name}: chunk {[(s.start, s.stop) for s in reg]} unreadable "
                                      f"({type(exc).__name__}: {exc})")
        if unreadable > 3:
            rep.damage.append(f"{name}: {unreadable} unreadable chunks in all")
        values[name] = full
        # units / long_name on every variable and coordinate
        attrs = arr.attrs
        if "long_name" not in attrs:
            rep.damage.append(f"{name}: attribute long_name missing")
        if "units" not in attrs and name not in ("message", "status", "neutrino_flavour"):
            rep.damage.append(f"{name}: attribute units missing")
    if rep.damage:
        return rep
    # coordinates against the cube's own record
    for d in info.dims:
        for p, vals in d.coords.items():
            if not _same_values(values[p], vals):
                rep.damage.append(f"coordinate {p} differs from the cube's sweep_science record")
    # statuses against data
    status = values["status"].astype(int)
    if not np.isin(status, [int(s) for s in CellStatus]).all():
        rep.damage.append(f"status has values outside {[int(s) for s in CellStatus]}")
    gnd = len(info.dims)

    def any_finite(a):
        return np.isfinite(a.astype(float)).reshape(a.shape[:gnd] + (-1,)).any(axis=-1)

    done = status == DONE
    has_data = np.zeros(status.shape, bool)
    all_data = np.ones(status.shape, bool)
    for name in SPECTRA:
        f = any_finite(values[name])
        has_data |= f
        all_data &= f
    msg = values["message"].astype(str)
    n = int((done & ~all_data).sum())
    if n:
        rep.damage.append(f"{n} cells are done but some spectrum is entirely NaN")
    n = int((done & (msg != "")).sum())
    if n:
        rep.damage.append(f"{n} cells are done but carry a message")
    n = int((done & ~np.isfinite(values["runtime_s"].astype(float))).sum())
    if n:
        rep.damage.append(f"{n} done cells have no runtime_s")
    closed = np.isin(status, [int(CellStatus.INVALID), int(CellStatus.NOT_CONVERGED), int(CellStatus.FAILED)])
    n = int((closed & has_data).sum())
    if n:
        rep.damage.append(f"{n} cells that are not done hold spectra (must be NaN)")
    n = int((closed & (msg == "")).sum())
    if n:
        rep.damage.append(f"{n} invalid/not_converged/failed cells have no message")
    pend = status == PENDING
    if pend.any():
        rep.notes.append(f"{int(pend.sum())} cells pending (incomplete sweep; resubmit to finish)")
        n = int((pend & has_data).sum())
        if n:
            rep.notes.append(f"{n} pending cells hold data from an interrupted write (recomputed on resume)")
    # consolidated metadata in step with the arrays
    try:
        import zarr

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gc = zarr.open_group(str(path), mode="r", use_consolidated=True)
        for name in names:
            if gc[name].shape != g[name].shape:
                rep.damage.append(f"consolidated metadata of {name} is stale "
                                  f"({gc[name].shape} vs {g[name].shape})")
    except Exception as exc:  # noqa: BLE001
        rep.damage.append(f"consolidated metadata unreadable ({type(exc).__name__}: {exc})")
    leftovers = [p for p in path.rglob("*.partial")]
    if leftovers:
        rep.notes.append(f"{len(leftovers)} leftover temporary chunk files (*.partial) from an "
                         "interrupted write; harmless")
    return rep
