"""The Zarr cube of a sweep (docs/cube.md): creation, chunk-region writes, resume, append,
status summaries and verification.

Write model (why a crash never corrupts a finished chunk):

* The cube's metadata (every array, coordinate and attribute) is written once, by the client,
  from an xarray template (``Dataset.to_zarr(compute=False)``): no chunk data yet, so every
  cell reads ``status = 0`` (pending) and NaN spectra.
* Each task owns exactly one chunk-aligned region of the grid dimensions (and the whole spectral
  dimensions), so every Zarr chunk has exactly one writer: no locks, no races.
* A task writes its region from the *worker*: first every data variable, then ``message``,
  ``iterations``, ``runtime_s``, and the ``status`` chunk last. ``status`` is the commit
  record: a cell is finished only once its status chunk says so. A kill between the writes leaves
  the cells pending (their data is rewritten on resume).
* zarr's LocalStore writes each chunk file to a temporary name and renames it into place, so a
  chunk file is either the old or the new one, never half-written.
"""
from __future__ import annotations

import datetime as _dt
import itertools
import json
import math
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from sweep.model.cell import (
    JET_QUANTITIES,
    NEUTRINO_FLAVOURS,
    CellResult,
    CellStatus,
    ModelOptions,
    output_grids,
)
from sweep.spec import Z_UNIT_CF, Dim, LoadedSpec, SweepSpec

# spectral variables: name -> (spectral dims, units, long_name). long_name is short: plotting
# tools (hvplot, xarray) make axis labels "long_name [units]" and cut long ones off, units first;
# the detail goes into the CF ``comment`` attribute (COMMENTS)
SPECTRA: dict[str, tuple[tuple[str, ...], str, str]] = {
    "nuLnu_obs": (("frequency",), "erg s-1", "apparent nu L_nu"),
    "nuLnu_comoving": (("frequency",), "erg s-1", "comoving nu L_nu"),
    "ELE_nu_obs": (("neutrino_flavour", "neutrino_energy"), "erg s-1", "apparent neutrino E L_E"),
    "ELE_nu_comoving": (("neutrino_flavour", "neutrino_energy"), "erg s-1",
                        "comoving neutrino E L_E"),
    "n_e": (("gamma_e",), "cm-3", "pair spectrum dN/dgamma dV"),
    "n_p": (("gamma_p",), "cm-3", "proton spectrum dN/dgamma dV"),
}
COMMENTS: dict[str, str] = {
    "nuLnu_obs": "observed (apparent, Doppler-boosted, redshifted) nu L_nu of the escaping "
                 "photons; external fields excluded",
    "nuLnu_comoving": "comoving escaping-photon nu L_nu",
    "ELE_nu_obs": "observed neutrino E L_E per flavour at the source (no oscillation)",
    "ELE_nu_comoving": "comoving neutrino E L_E per flavour at the source",
    "n_e": "steady-state pair spectrum dN/(dgamma dV)",
    "n_p": "steady-state proton spectrum dN/(dgamma dV)",
    "frequency": "observer frame for *_obs, comoving otherwise",
    "neutrino_energy": "observer frame for *_obs, comoving otherwise",
    "z_diss": "distance of the dissipation region from the black hole",
}
# per-cell bookkeeping: name -> (dtype, fill, units, long_name); status is written last
CELL_META: dict[str, tuple[Any, Any, str, str]] = {
    "energy_balance": ("f8", np.nan, "1", "(escaping + absorbed power) / injected power"),
    "message": (str, "", "1", "why the cell is not done (empty when done)"),
    "iterations": ("i4", 0, "1", "solver iterations"),
    "runtime_s": ("f8", np.nan, "s", "wall time of the cell"),
    "status": ("i1", 0, "1", "cell status"),
}
SPECTRAL_COORDS = {
    "frequency": ("Hz", "photon frequency"),
    "neutrino_energy": ("eV", "neutrino energy"),
    "neutrino_flavour": ("1", "neutrino flavour at the source"),
    "gamma_e": ("1", "pair Lorentz factor (comoving)"),
    "gamma_p": ("1", "proton Lorentz factor (comoving)"),
}
MESSAGE_MAX = 2000  # characters kept of a cell's message
PENDING = int(CellStatus.PENDING)
DONE = int(CellStatus.DONE)


class CubeError(ValueError):
    """The cube cannot be used with this spec (mismatch, not a cube, ...)."""


# ----------------------------------------------------------------------------------------------
# layout
# ----------------------------------------------------------------------------------------------
def _parameter_attrs(name: str, z_unit: str) -> dict[str, str]:
    """CF units / long_name of a grid parameter, from the JetParameters field description."""
    import re

    if name == "z_diss":
        return {"units": Z_UNIT_CF[z_unit], "long_name": "dissipation distance",
                "comment": COMMENTS["z_diss"]}
    from sweep.spec import jet_parameter_model

    info = jet_parameter_model().model_fields.get(name)
    desc = (info.description or name) if info is not None else name
    m = re.search(r"\[([^\]]+)\]", desc)
    unit = m.group(1) if m else "1"
    unit = {"dimensionless": "1", "Eddington units": "1", "deg": "degree", "M_sun": "M_sun",
            "R_s": "R_s"}.get(unit, unit)
    long_name = desc.split("[", 1)[0].strip().rstrip(":,") or name
    return {"units": unit, "long_name": long_name}


def grid_dims(spec: SweepSpec) -> list[Dim]:
    return spec.dims()


def spectral_shapes(options: ModelOptions) -> dict[str, int]:
    g = output_grids(options)
    return {"frequency": len(g["frequency"]), "neutrino_energy": len(g["neutrino_energy"]),
            "neutrino_flavour": len(NEUTRINO_FLAVOURS), "gamma_e": len(g["gamma_e"]),
            "gamma_p": len(g["gamma_p"])}


CELL_VARIABLES = frozenset(list(SPECTRA) + list(JET_QUANTITIES) + list(CELL_META))


def variable_names() -> list[str]:
    """Every per-cell variable in write order (status last)."""
    return list(SPECTRA) + list(JET_QUANTITIES) + list(CELL_META)


def layout_nbytes(dims: list[Dim], options: ModelOptions) -> int:
    """Uncompressed size of the cube's per-cell variables (an upper bound of the disk size)."""
    n = int(np.prod([d.size for d in dims]))
    sh = spectral_shapes(options)
    per_cell = 0
    for sdims, _, _ in SPECTRA.values():
        per_cell += 8 * int(np.prod([sh[s] for s in sdims]))
    per_cell += 8 * len(JET_QUANTITIES) + 8 + 4 + 8 + 1 + 16  # + ~16 B per message
    return n * per_cell


def template(loaded: LoadedSpec, chunks: Mapping[str, int]):
    """The xarray Dataset of an empty cube (dask arrays, nothing computed) and its encoding."""
    import dask.array as da
    import xarray as xr

    from sweep import __version__

    spec = loaded.spec
    dims = spec.dims()
    z_unit = spec.z_unit()
    gshape = tuple(d.size for d in dims)
    gnames = tuple(d.name for d in dims)
    gchunks = tuple(chunks[d.name] for d in dims)
    grids = output_grids(spec.model)
    coords: dict[str, Any] = {}
    for d in dims:
        if d.name.startswith("zip"):
            coords[d.name] = (d.name, np.arange(d.size), {
                "long_name": f"index of zipped axes {', '.join(d.coords)}", "units": "1"})
            for p, vals in d.coords.items():
                coords[p] = (d.name, np.asarray(vals, float), _parameter_attrs(p, z_unit))
        else:
            coords[d.name] = (d.name, np.asarray(d.coords[d.name], float), _parameter_attrs(d.name, z_unit))
    for name in ("frequency", "neutrino_energy", "gamma_e", "gamma_p"):
        u, ln = SPECTRAL_COORDS[name]
        coords[name] = (name, grids[name], {"units": u, "long_name": ln,
                                            **({"comment": COMMENTS[name]} if name in COMMENTS
                                               else {})})
    u, ln = SPECTRAL_COORDS["neutrino_flavour"]
    coords["neutrino_flavour"] = ("neutrino_flavour", np.array(NEUTRINO_FLAVOURS, dtype=object),
                                  {"long_name": ln})
    sh = spectral_shapes(spec.model)

    data_vars: dict[str, Any] = {}
    encoding: dict[str, dict] = {}
    for name, (sdims, units, long_name) in SPECTRA.items():
        shape = gshape + tuple(sh[s] for s in sdims)
        ch = gchunks + tuple(sh[s] for s in sdims)
        data_vars[name] = (gnames + sdims, da.full(shape, np.nan, chunks=ch),
                           {"units": units, "long_name": long_name,
                            **({"comment": COMMENTS[name]} if name in COMMENTS else {})})
        encoding[name] = {"chunks": ch}
    for name, (units, long_name) in JET_QUANTITIES.items():
        data_vars[name] = (gnames, da.full(gshape, np.nan, chunks=gchunks),
                           {"units": units, "long_name": long_name})
        encoding[name] = {"chunks": gchunks}
    for name, (dtype, fill, units, long_name) in CELL_META.items():
        attrs = {"units": units, "long_name": long_name}
        if name == "status":
            attrs = {"long_name": long_name,
                     "flag_values": [int(s) for s in CellStatus],
                     "flag_meanings": CellStatus.flag_meanings()}
        if dtype is str:
            arr = da.from_array(np.full(gshape, "", dtype=object), chunks=gchunks)
            attrs = {"long_name": long_name}
        else:
            arr = da.full(gshape, fill, dtype=dtype, chunks=gchunks)
        data_vars[name] = (gnames, arr, attrs)
        encoding[name] = {"chunks": gchunks}
        if dtype is not str and not (isinstance(fill, float) and math.isnan(fill)):
            encoding[name]["fill_value"] = fill
    now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    attrs = {
        "title": f"sweep cube: {spec.name}",
        "Conventions": "CF-1.10",
        "sweep_version": __version__,
        "spec_yaml": loaded.text,
        "spec_sha256": loaded.sha256,
        "spec_source": loaded.source,
        "created": now,
        "history": f"{now} created by sweep {__version__} from {loaded.source}",
        "model_options": json.dumps(spec.model.model_dump(mode="json"), sort_keys=True),
        "z_unit": z_unit,
        "sweep_science": json.dumps(spec.science(), sort_keys=True),
        "sweep_chunks": json.dumps(dict(chunks)),
    }
    ds = xr.Dataset(data_vars, coords=coords, attrs=attrs)
    return ds, encoding


def create_cube(path: str | Path, loaded: LoadedSpec) -> None:
    """Write the cube's metadata (no chunk data): every cell pending."""
    ds, encoding = template(loaded, loaded.spec.chunk_sizes())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds.to_zarr(str(path), mode="w-", compute=False, zarr_format=3, consolidated=True,
                   encoding=encoding)


def consolidate(path: str | Path) -> None:
    import zarr

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zarr.consolidate_metadata(str(path))


def open_group(path: str | Path, mode: str = "r"):
    import zarr

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return zarr.open_group(str(path), mode=mode, use_consolidated=False)


# ----------------------------------------------------------------------------------------------
# the cube's own description of itself
# ----------------------------------------------------------------------------------------------
@dataclass
class CubeInfo:
    path: Path
    dims: list[Dim]
    chunks: dict[str, int]
    science: dict
    z_unit: str
    options: ModelOptions
    appended: dict[str, tuple[int, int]] = field(default_factory=dict)  # dim -> (old n, new n)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(d.size for d in self.dims)


def _dims_from_science(science: dict) -> list[Dim]:
    return [Dim(d["name"], len(next(iter(d["coords"].values()))),
                {k: np.asarray(v, float) for k, v in d["coords"].items()}) for d in science["dims"]]


def is_cube(path: str | Path) -> bool:
    try:
        g = open_group(path)
    except Exception:
        return False
    return "sweep_science" in g.attrs


def cube_info(path: str | Path) -> CubeInfo:
    try:
        g = open_group(path)
        science = json.loads(g.attrs["sweep_science"])
        chunks = json.loads(g.attrs["sweep_chunks"])
    except Exception as exc:  # noqa: BLE001
        raise CubeError(f"{path}: not a sweep cube ({type(exc).__name__}: {exc})") from None
    return CubeInfo(Path(path), _dims_from_science(science), chunks, science, science["z_unit"],
                    ModelOptions.model_validate(science["model"]))


def _same_values(a, b) -> bool:
    a, b = np.sort(np.asarray(a, float)), np.sort(np.asarray(b, float))
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-12, atol=0.0))


def science_differences(cube: dict, spec: dict) -> list[str]:
    """Human-readable differences between the cube's grid/model and the spec's."""
    out = []
    cd = {d["name"]: d for d in cube["dims"]}
    sd = {d["name"]: d for d in spec["dims"]}
    if list(cd) != list(sd):
        out.append(f"grid dimensions: cube has {list(cd)}, spec has {list(sd)}")
    for name in cd:
        if name not in sd:
            continue
        for p, vals in cd[name]["coords"].items():
            svals = sd[name]["coords"].get(p)
            if svals is None:
                out.append(f"dimension {name}: cube has parameter {p}, the spec does not")
            elif not _same_values(vals, svals):
                out.append(f"axis {p}: cube has {len(vals)} values {_short(vals)}, "
                           f"spec has {len(svals)} values {_short(svals)}")
    for key in ("fixed", "z_unit", "model"):
        if cube[key] != spec[key]:
            out.append(f"{key}: cube has {json.dumps(cube[key], sort_keys=True)}, "
                       f"spec has {json.dumps(spec[key], sort_keys=True)}")
    return out


def _short(vals) -> str:
    vals = [f"{v:g}" for v in vals]
    return "[" + ", ".join(vals if len(vals) <= 6 else vals[:3] + ["..."] + vals[-2:]) + "]"


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


# ----------------------------------------------------------------------------------------------
# one task's region: read, fill cells, write (runs on the worker)
# ----------------------------------------------------------------------------------------------
@dataclass
class RegionData:
    region: tuple[slice, ...]
    arrays: dict[str, np.ndarray]

    @property
    def status(self) -> np.ndarray:
        return self.arrays["status"]


def _fill_region(shape: tuple[int, ...], spectral: dict[str, int]) -> dict[str, np.ndarray]:
    out = {}
    for name, (sdims, _, _) in SPECTRA.items():
        out[name] = np.full(shape + tuple(spectral[s] for s in sdims), np.nan)
    for name in JET_QUANTITIES:
        out[name] = np.full(shape, np.nan)
    for name, (dtype, fill, _, _) in CELL_META.items():
        out[name] = np.full(shape, fill, dtype=object if dtype is str else dtype)
    return out


def read_region(path: str | Path, region: tuple[slice, ...], options: ModelOptions,
                rerun: Iterable[int]) -> RegionData:
    """Current content of a region. Unreadable status → everything pending; data is read only
    when some cells of the region are kept (not rerun)."""
    shape = tuple(s.stop - s.start for s in region)
    arrays = _fill_region(shape, spectral_shapes(options))
    try:
        status = _fast_read(Path(path), "status", region)
        if status is None:
            status = np.asarray(open_group(path)["status"][region], dtype=np.int8)
    except Exception:  # noqa: BLE001 - damaged status chunk: whole region is recomputed
        status = np.zeros(shape, np.int8)
    arrays["status"] = status
    keep = ~np.isin(status, list(rerun))
    if keep.any():
        from zarr.core.sync import sync

        names = [n for n in arrays if n != "status"]
        for name, val in zip(names, sync(_read_region_async(str(path), region, names))):
            arrays[name] = np.asarray(val).astype(object) if name == "message" else np.asarray(val)
    return RegionData(region, arrays)


def put_result(data: RegionData, local: tuple[int, ...], res: CellResult,
               spectral: dict[str, int]) -> None:
    """Store one cell's result in the region arrays; spectra stay NaN unless status is done."""
    a = data.arrays
    status = int(res.status)
    msg = str(res.message or "")
    if status == DONE:
        for name, (sdims, _, _) in SPECTRA.items():
            want = tuple(spectral[s] for s in sdims)
            arr = res.spectra.get(name)
            if arr is None:
                status, msg = int(CellStatus.FAILED), f"model returned no {name}"
                break
            arr = np.asarray(arr, dtype=float)
            if arr.shape != want:
                status, msg = int(CellStatus.FAILED), f"{name} has shape {arr.shape}, expected {want}"
                break
        else:
            for name in SPECTRA:
                a[name][local] = np.asarray(res.spectra[name], dtype=float)
            msg = ""
    if status != DONE:
        for name in SPECTRA:
            a[name][local] = np.nan
        if not msg:
            msg = CellStatus(status).name.lower()
    for name in JET_QUANTITIES:
        v = res.jet.get(name, np.nan)
        try:
            a[name][local] = float(v)
        except (TypeError, ValueError):
            a[name][local] = np.nan
    a["energy_balance"][local] = float(res.energy_balance)
    a["iterations"][local] = int(res.iterations)
    a["runtime_s"][local] = float(res.runtime_s)
    a["message"][local] = msg[:MESSAGE_MAX]
    a["status"][local] = status


def write_region(path: str | Path, data: RegionData) -> None:
    """Write every variable of the region, ``status`` last (the commit record).

    Numeric variables with the cube's own codecs (bytes + zstd, regular grid, '/' keys) take a
    fast path that encodes each whole chunk with numcodecs and writes it atomically (temporary
    file + rename, like zarr's LocalStore); it costs ~0.1 ms per chunk where zarr's generic
    ``setitem`` costs ~1 ms, which matters for small tasks (docs/engine.md §5). Anything else
    (the string ``message``, other codecs, other stores) goes through zarr."""
    from zarr.core.sync import sync

    root = Path(path)
    names = [n for n in variable_names() if n != "status"]
    # (a thread pool for these file writes was measured slower inside a Dask worker)
    done = [_fast_write(root, n, data.region, data.arrays[n]) for n in names]
    slow = [n for n, ok in zip(names, done) if not ok]
    if "message" in slow and not (data.arrays["message"] != "").any():
        # all empty and the chunk never written: it already reads as "" (the fill value)
        key = _chunk_file(root, "message", data.region)
        if key is not None and not key.exists():
            slow.remove("message")
    if slow:
        sync(_write_region_async(str(path), data, slow))
    if not _fast_write(root, "status", data.region, data.arrays["status"]):
        sync(_write_region_async(str(path), data, ["status"]))


_META_CACHE: dict[tuple[str, int], Any] = {}


def _fast_meta(root: Path, name: str):
    """(shape, chunk_shape, dtype, fill, zstd level) when the array qualifies for the fast path,
    else None. Cached per (file, mtime) so an append (resize) is seen."""
    mpath = root / name / "zarr.json"
    try:
        st = mpath.stat()
    except OSError:
        return None
    key = (str(mpath), st.st_mtime_ns)
    if key in _META_CACHE:
        return _META_CACHE[key]
    out = None
    try:
        meta = json.loads(mpath.read_text())
        codecs = meta.get("codecs", [])
        dtype = np.dtype(meta["data_type"])
        ok = (meta.get("chunk_grid", {}).get("name") == "regular"
              and meta.get("chunk_key_encoding", {}).get("name") == "default"
              and meta["chunk_key_encoding"].get("configuration", {}).get("separator", "/") == "/"
              and not meta.get("storage_transformers")
              and len(codecs) == 2 and codecs[0]["name"] == "bytes"
              and codecs[0].get("configuration", {}).get("endian", "little") == "little"
              and codecs[1]["name"] == "zstd" and dtype.kind in "fiu")
        if ok:
            fill = meta["fill_value"]
            fill = float(fill) if isinstance(fill, str) else fill  # "NaN", "Infinity"
            out = (tuple(meta["shape"]), tuple(meta["chunk_grid"]["configuration"]["chunk_shape"]),
                   dtype, fill, int(codecs[1].get("configuration", {}).get("level", 0)),
                   bool(codecs[1].get("configuration", {}).get("checksum", False)))
    except (KeyError, TypeError, ValueError):
        out = None
    _META_CACHE[key] = out
    return out


def _chunk_file(root: Path, name: str, region: tuple[slice, ...]) -> Path | None:
    """The file of the one chunk that ``region`` (grid dims; spectral dims whole) covers."""
    try:
        meta = json.loads((root / name / "zarr.json").read_text())
        chunks = meta["chunk_grid"]["configuration"]["chunk_shape"]
        if meta.get("chunk_key_encoding", {}).get("name") != "default":
            return None
    except (OSError, KeyError, ValueError):
        return None
    coords = [sl.start // c for sl, c in zip(region, chunks)] + [0] * (len(chunks) - len(region))
    return root / name / "c" / Path(*[str(c) for c in coords])


def _fast_read(root: Path, name: str, region: tuple[slice, ...]) -> np.ndarray | None:
    """Read one whole chunk (grid region) of a fast-path array; None when it does not qualify
    (the caller then uses zarr). A missing chunk file reads as the fill value."""
    from numcodecs import Zstd

    m = _fast_meta(root, name)
    if m is None:
        return None
    shape, chunks, dtype, fill, _, _ = m
    full = tuple(region) + tuple(slice(0, n) for n in shape[len(region):])
    coords = []
    for sl, c, n in zip(full, chunks, shape):
        if sl.start % c or not (sl.stop - sl.start == c or (sl.stop == n and sl.stop - sl.start < c)):
            return None
        coords.append(sl.start // c)
    target = root / name / "c" / Path(*[str(c) for c in coords])
    want = tuple(sl.stop - sl.start for sl in full)
    try:
        blob = target.read_bytes()
    except FileNotFoundError:
        return np.full(want, fill, dtype=dtype)
    raw = Zstd().decode(blob)
    buf = np.frombuffer(raw, dtype=dtype.newbyteorder("<")).reshape(chunks)
    return np.array(buf[tuple(slice(0, k) for k in want)], dtype=dtype)


def _fast_write(root: Path, name: str, region: tuple[slice, ...], values: np.ndarray) -> bool:
    """Write one whole chunk of ``name`` (grid region + every spectral index). False when the
    array does not qualify (the caller then uses zarr)."""
    import uuid

    from numcodecs import Zstd

    m = _fast_meta(root, name)
    if m is None:
        return False
    shape, chunks, dtype, fill, level, checksum = m
    values = np.asarray(values)
    full = tuple(region) + tuple(slice(0, n) for n in shape[len(region):])
    coords = []
    for sl, c, n in zip(full, chunks, shape):
        if sl.start % c or not (sl.stop - sl.start == c or (sl.stop == n and sl.stop - sl.start < c)):
            return False  # not exactly one chunk
        coords.append(sl.start // c)
    if values.shape != tuple(sl.stop - sl.start for sl in full):
        return False
    if values.shape != chunks:  # edge chunk: zarr stores it full size, padded with the fill
        buf = np.full(chunks, fill, dtype=dtype)
        buf[tuple(slice(0, k) for k in values.shape)] = values
    else:
        buf = values
    raw = np.ascontiguousarray(buf, dtype=dtype.newbyteorder("<")).tobytes()
    blob = Zstd(level=level, checksum=checksum).encode(raw)
    target = root / name / "c" / Path(*[str(c) for c in coords])
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{uuid.uuid4().hex}.partial")
    try:
        with open(tmp, "wb") as f:
            f.write(blob)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return True


async def _write_region_async(path: str, data: RegionData, names: list[str]) -> None:
    """zarr's generic path, concurrently (async API) for the given variables."""
    import asyncio

    import zarr.api.asynchronous as za

    g = await za.open_group(store=path, mode="r+", use_consolidated=False)
    arrays = await asyncio.gather(*(g.getitem(n) for n in names))
    values = [np.asarray(data.arrays[n], dtype=object) if n == "message" else data.arrays[n]
              for n in names]
    await asyncio.gather(*(a.setitem(data.region, v) for a, v in zip(arrays, values)))


async def _read_region_async(path: str, region, names: list[str]) -> list[np.ndarray]:
    import asyncio

    import zarr.api.asynchronous as za

    g = await za.open_group(store=path, mode="r", use_consolidated=False)
    arrays = await asyncio.gather(*(g.getitem(n) for n in names))
    return list(await asyncio.gather(*(a.getitem(region) for a in arrays)))


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
