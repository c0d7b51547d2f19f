"""Resume and append: create the cube or check an existing one against the spec, extend one
axis under ``--append``, read the status array tolerantly, mark the cells of a given-up task."""
from __future__ import annotations

import datetime as _dt
import itertools
import json
from pathlib import Path
from typing import Iterable

import numpy as np

from sweep.model.cell import CellStatus
from sweep.spec import LoadedSpec
from sweep.store.layout import (CELL_VARIABLES, MESSAGE_MAX, SPECTRAL_COORDS, CubeError, CubeInfo,
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
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        create_cube(path, loaded)
        return cube_info(path)
    if _interrupted_creation(path):
        # a previous submit died while writing the template: metadata only, no data at all
        import shutil

        shutil.rmtree(path)
        create_cube(path, loaded)
        return cube_info(path)
    if not is_cube(path):
        raise CubeError(f"{path} exists and is not a sweep cube; choose another output path")
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
    """True for an incomplete cube template that holds no per-cell data (only metadata and
    coordinate values): the trace of a template write that was killed."""
    if not path.is_dir():
        return False
    if not (path / "zarr.json").is_file():
        return False  # an empty or foreign directory
    import re

    from sweep.spec import parameter_names

    ours = CELL_VARIABLES | set(SPECTRAL_COORDS) | set(parameter_names())
    for p in path.iterdir():
        if p.is_file() and p.name != "zarr.json":
            return False  # something else lives here: never delete it
        if p.is_dir() and p.name not in ours and not re.fullmatch(r"zip\d+", p.name):
            return False  # an array that is not part of a sweep cube: not ours
        if p.is_dir():
            if not (p / "zarr.json").is_file():
                return False
            if p.name in CELL_VARIABLES and any(q.is_file() for q in (p / "c").rglob("*")):
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
    g = open_group(path, mode="r+")
    for arr_name in list(g.array_keys()):
        arr = g[arr_name]
        dims = arr.metadata.dimension_names or ()
        if name not in dims:
            continue
        ax = dims.index(name)
        shape = list(arr.shape)
        shape[ax] = n_new
        arr.resize(tuple(shape))
        if arr_name == name:
            arr[n_old:n_new] = extra
    science = dict(cube)
    science["dims"] = [dict(d) for d in cube["dims"]]
    science["dims"][axis] = {"name": name, "coords": {name: [float(x) for x in np.concatenate([old, extra])]}}
    now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    g.attrs.update({
        "sweep_science": json.dumps(science, sort_keys=True),
        "spec_yaml": loaded.text,
        "spec_sha256": loaded.sha256,
        "history": g.attrs.get("history", "") + f"\n{now} appended {len(extra)} values to {name}: "
                                                f"{_short(extra)}",
    })
    consolidate(path)
    out = cube_info(path)
    out.appended[name] = (n_old, n_new)
    return out


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
