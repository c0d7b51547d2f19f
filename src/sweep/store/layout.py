"""The cube's layout (docs/cube.md): variables, CF attributes, the xarray template, creation,
and the cube's own description of itself (``CubeInfo``)."""
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
    BLOB_QUANTITIES,
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
# the ownership marker: a group attribute written before anything else of the cube; only a store
# carrying it is ever recreated by the engine (docs/engine.md, "Guarantees")
MARKER = "sweep_cube"


def _compressors():
    """zstd with the frame checksum on: a flipped byte in a chunk fails to decode (verify finds
    it) instead of reading back as a wrong number."""
    from zarr.codecs import ZstdCodec

    return [ZstdCodec(level=0, checksum=True)]
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


#: per-cell scalars: the jet state along the jet and the blob's own (e.g. escaping neutrons)
CELL_SCALARS = {**JET_QUANTITIES, **BLOB_QUANTITIES}

CELL_VARIABLES = frozenset(list(SPECTRA) + list(CELL_SCALARS) + list(CELL_META))


def variable_names() -> list[str]:
    """Every per-cell variable in write order (status last)."""
    return list(SPECTRA) + list(CELL_SCALARS) + list(CELL_META)


def layout_nbytes(dims: list[Dim], options: ModelOptions) -> int:
    """Uncompressed size of the cube's per-cell variables (an upper bound of the disk size)."""
    n = math.prod(int(d.size) for d in dims)  # Python integers: no overflow
    sh = spectral_shapes(options)
    per_cell = 0
    for sdims, _, _ in SPECTRA.values():
        per_cell += 8 * int(np.prod([sh[s] for s in sdims]))
    per_cell += 8 * len(CELL_SCALARS) + 8 + 4 + 8 + 1 + 16  # + ~16 B per message
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
        encoding[name] = {"chunks": ch, "compressors": _compressors()}
    for name, (units, long_name) in CELL_SCALARS.items():
        data_vars[name] = (gnames, da.full(gshape, np.nan, chunks=gchunks),
                           {"units": units, "long_name": long_name})
        encoding[name] = {"chunks": gchunks, "compressors": _compressors()}
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
        encoding[name] = {"chunks": gchunks, "compressors": _compressors()}
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
    attrs[MARKER] = marker_value(loaded)
    ds = xr.Dataset(data_vars, coords=coords, attrs=attrs)
    for name in coords:
        if name != "neutrino_flavour":
            encoding[name] = {"compressors": _compressors()}
    return ds, encoding


def marker_value(loaded: LoadedSpec) -> dict:
    from sweep import __version__

    return {"spec_sha256": loaded.sha256, "sweep_version": __version__}


def create_cube(path: str | Path, loaded: LoadedSpec) -> None:
    """Write the cube's metadata (no chunk data): every cell pending. The ownership marker is
    written first (an empty group carrying it), so a killed creation leaves a store that is
    recognisably the engine's and may be recreated; nothing else ever is."""
    import zarr

    ds, encoding = template(loaded, loaded.spec.chunk_sizes())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zarr.open_group(str(path), mode="w-", zarr_format=3, attributes={MARKER: ds.attrs[MARKER]})
        ds.to_zarr(str(path), mode="a", compute=False, zarr_format=3, consolidated=True,
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


def has_marker(path: str | Path) -> bool:
    """True when the store at ``path`` carries the engine's ownership marker."""
    try:
        return MARKER in open_group(path).attrs
    except Exception:  # noqa: BLE001
        return False


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
