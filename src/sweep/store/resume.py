"""Resume and append: create the cube or check an existing one against the spec, extend one
axis under ``--append``, read the status array tolerantly, mark the cells of a given-up task."""
from __future__ import annotations

import datetime as _dt
import itertools
import json
import os
from pathlib import Path
from typing import Iterable

import numpy as np

from sweep.model.cell import CellStatus
from sweep.spec import LoadedSpec
from sweep.store.layout import (CELL_VARIABLES, MARKER, MESSAGE_MAX, has_marker, CubeError, CubeInfo,
                                _same_values, _short, consolidate, create_cube, cube_info, is_cube,
                                open_group, science_differences, variable_names)

# ----------------------------------------------------------------------------------------------
# create / resume / append
# ----------------------------------------------------------------------------------------------
def prepare(path: str | Path, loaded: LoadedSpec, append: bool = False) -> CubeInfo:
    """Create the cube, or check an existing one against the spec (and extend it for append).

    Raises CubeError when the existing cube was made from a different grid/model and the
    difference is not a pure one-axis extension under ``append``.
    """
    path = Path(path)
    spec = loaded.spec
    if has_marker(path) or is_cube(path):
        finish_append(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        create_cube(path, loaded)
        return cube_info(path)
    if _interrupted_creation(path):
        # a previous submit of ours died while writing the template: marker and metadata only
        import shutil

        shutil.rmtree(path)
        create_cube(path, loaded)
        return cube_info(path)
    if not is_cube(path):
        raise CubeError(f"{path} exists and is not a sweep cube (no {MARKER!r} marker); "
                        "refusing to touch it: choose another output path")
    info = cube_info(path)
    want = spec.science()
    diffs = science_differences(info.science, want)
    if not diffs:
        return info
    if not append:
        raise CubeError(
            f"{path} was made from a different grid or model:\n  " + "\n  ".join(diffs)
            + "\nUse --append to extend one axis with new values, or --out for a new cube.")
    return _append(path, loaded, info, want)


def _interrupted_creation(path: Path) -> bool:
    """True for an incomplete cube template written by the engine (it carries the ownership
    marker, written first) that holds no per-cell data: the trace of a killed creation. A store
    without the marker is never taken for one, whatever it holds."""
    if not path.is_dir() or not (path / "zarr.json").is_file():
        return False
    if not has_marker(path):
        return False  # not ours: never deleted
    for p in path.iterdir():
        if p.is_file() and p.name != "zarr.json":
            return False  # something else lives here: never delete it
        if p.is_dir() and p.name in CELL_VARIABLES and any(q.is_file() for q in (p / "c").rglob("*")):
            return False  # per-cell data written: a real (partial) cube
    try:
        g = open_group(path)
        complete = "sweep_science" in g.attrs and set(variable_names()) <= set(g.array_keys())
    except Exception:  # noqa: BLE001
        complete = False
    return not complete


def _append(path: Path, loaded: LoadedSpec, info: CubeInfo, want: dict) -> CubeInfo:
    import zarr  # noqa: F401

    cube, spec = info.science, loaded.spec
    other = {k: cube[k] for k in ("fixed", "z_unit", "model")}
    other_spec = {k: want[k] for k in ("fixed", "z_unit", "model")}
    cnames = [d["name"] for d in cube["dims"]]
    snames = [d["name"] for d in want["dims"]]
    problems = []
    if other != other_spec:
        problems.append("only axis values may change under --append; fixed/model/z unit differ")
    if cnames != snames:
        problems.append(f"--append cannot add or remove dimensions (cube {cnames}, spec {snames})")
    changed = []
    if not problems:
        for cdim, sdim in zip(cube["dims"], want["dims"]):
            p0 = next(iter(cdim["coords"]))
            if not _same_values(cdim["coords"][p0], sdim["coords"][p0]):
                changed.append((cdim, sdim))
        if len(changed) != 1:
            problems.append(f"--append extends exactly one axis; {len(changed)} differ: "
                            + ", ".join(c["name"] for c, _ in changed))
    if not problems:
        cdim, sdim = changed[0]
        if len(cdim["coords"]) > 1:
            problems.append(f"--append cannot extend the zipped dimension {cdim['name']}")
    if not problems:
        name = cdim["name"]
        old = np.asarray(cdim["coords"][name], float)
        new_all = np.asarray(sdim["coords"][name], float)
        missing = [v for v in old if not np.any(np.isclose(new_all, v, rtol=1e-12, atol=0))]
        if missing:
            problems.append(f"axis {name}: the spec drops cube values {_short(missing)}; --append "
                            "only adds values")
    if problems:
        raise CubeError(f"{path}: cannot append:\n  " + "\n  ".join(problems))
    extra = np.array([v for v in new_all if not np.any(np.isclose(old, v, rtol=1e-12, atol=0))])
    axis = cnames.index(name)
    n_old, n_new = len(old), len(old) + len(extra)
    science = dict(cube)
    science["dims"] = [dict(d) for d in cube["dims"]]
    science["dims"][axis] = {"name": name, "coords": {name: [float(x) for x in np.concatenate([old, extra])]}}
    now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    # the journal first: a kill anywhere below leaves a resize that finish_append completes
    _write_journal(path, {
        "dim": name, "n_old": n_old, "n_new": n_new, "extra": [float(x) for x in extra],
        "attrs": {"sweep_science": json.dumps(science, sort_keys=True), "spec_yaml": loaded.text,
                  "spec_sha256": loaded.sha256},
        "history": f"\n{now} appended {len(extra)} values to {name}: {_short(extra)}",
    })
    finish_append(path)
    out = cube_info(path)
    out.appended[name] = (n_old, n_new)
    return out


JOURNAL = "sweep_append.json"  # inside the cube directory, present only while a resize runs


def _write_journal(path: Path, entry: dict) -> None:
    j = Path(path) / JOURNAL
    tmp = j.with_name(JOURNAL + ".partial")
    with open(tmp, "w") as f:
        json.dump(entry, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, j)


def finish_append(path: str | Path) -> str | None:
    """Complete an ``--append`` resize recorded in the cube's journal (every step is idempotent:
    arrays already at the target shape are left alone), then drop the journal. Returns a note
    when there was one to finish, else None. Called by ``prepare`` and ``verify``."""
    j = Path(path) / JOURNAL
    if not j.is_file():
        return None
    entry = json.loads(j.read_text())
    name, n_old, n_new = entry["dim"], int(entry["n_old"]), int(entry["n_new"])
    g = open_group(path, mode="r+")
    for arr_name in list(g.array_keys()):
        arr = g[arr_name]
        dims = arr.metadata.dimension_names or ()
        if name not in dims:
            continue
        ax = dims.index(name)
        if arr.shape[ax] != n_new:
            shape = list(arr.shape)
            shape[ax] = n_new
            arr.resize(tuple(shape))
        if arr_name == name:
            arr[n_old:n_new] = np.asarray(entry["extra"], float)
    if g.attrs.get("sweep_science") != entry["attrs"]["sweep_science"]:
        g.attrs.update({**entry["attrs"], "history": g.attrs.get("history", "") + entry["history"]})
    consolidate(path)
    j.unlink()
    return f"finished an interrupted --append of {name} ({n_old} -> {n_new} values)"


# ----------------------------------------------------------------------------------------------
# reading status (tolerant: an unreadable chunk counts as pending)
# ----------------------------------------------------------------------------------------------
def chunk_regions(shape: tuple[int, ...], chunks: tuple[int, ...]) -> Iterable[tuple[slice, ...]]:
    ranges = [range(0, n, c) for n, c in zip(shape, chunks)]
    for starts in itertools.product(*ranges):
        yield tuple(slice(s, min(s + c, n)) for s, c, n in zip(starts, chunks, shape))


def read_status(path: str | Path, info: CubeInfo | None = None) -> tuple[np.ndarray, list[tuple]]:
    """The whole status array; chunks that cannot be read count as pending and are listed."""
    info = info or cube_info(path)
    g = open_group(path)
    arr = g["status"]
    out = np.zeros(info.shape, dtype=np.int8)
    bad = []
    for reg in chunk_regions(info.shape, tuple(info.chunks[d.name] for d in info.dims)):
        try:
            out[reg] = arr[reg]
        except Exception:  # noqa: BLE001 - damaged chunk: recompute it
            bad.append(reg)
    return out, bad


def mark_failed(path: str | Path, region: tuple[slice, ...], message: str,
                rerun: Iterable[int]) -> int:
    """Mark the cells of ``region`` that were to be computed as failed (client side, after a
    task gave up). Returns the number of cells marked."""
    g = open_group(path, mode="r+")
    try:
        status = np.asarray(g["status"][region], dtype=np.int8)
    except Exception:  # noqa: BLE001
        status = np.zeros(tuple(s.stop - s.start for s in region), np.int8)
    sel = np.isin(status, list(rerun))
    if not sel.any():
        return 0
    try:
        msg = np.asarray(g["message"][region]).astype(object)
    except Exception:  # noqa: BLE001
        msg = np.full(status.shape, "", dtype=object)
    msg[sel] = message[:MESSAGE_MAX]
    status = status.copy()
    status[sel] = int(CellStatus.FAILED)
    g["message"][region] = msg
    g["status"][region] = status
    return int(sel.sum())
