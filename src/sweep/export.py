"""Export the SED and neutrino spectra of a cell (or a selection of cells) to a table with units.

``export_table(cube, sel, z_source)`` returns an astropy ``Table`` in long form, one row per
spectral point per cell, photons first then each neutrino flavour and their sum:

======================  =================  ===================================================
column                  unit               meaning
======================  =================  ===================================================
cell                    –                  running index of the exported cell
<axis> ...              axis units         the cell's grid parameters (e.g. sigma0, z_diss)
particle                –                  photon | nu_e | nu_e_bar | nu_mu | nu_mu_bar | nu_all
energy_obs, frequency_obs  eV, Hz          observed energy E/h ν for the source at z_source
energy_rest             eV                 source-frame energy (E_grid (1+z_cube))
nuLnu                   erg s-1            apparent νL_ν (photons) or E L_E (neutrinos):
                                           exactly the cube's ``nuLnu_obs``/``ELE_nu_obs``
nuFnu                   erg cm-2 s-1       νF_ν = νL_ν / (4π d_L²) at z_source (E² dN/dE for ν)
E2_dNdE                 GeV cm-2 s-1       the same in the neutrino-astronomy unit
status, message         –                  the cell's status name and reason
<jet quantity> ...      their units        z_cm, doppler, gamma_bulk, B, radius, ...
======================  =================  ===================================================

Frames follow the reducer (docs/reducer.md): the cube's spectra are apparent luminosities on a
grid containing 1/(1+z_cube); for a source at ``z_source`` (astropy cosmology, default
FlatLambdaCDM H0=70, Om0=0.3), E_obs = E_rest/(1+z_source) and νF_ν = νL_ν/(4π d_L²) with no
further (1+z) (isotropic-equivalent luminosities). Neutrino flavours are those at the source
(no oscillation). Zeros are kept as 0 (no emission at that energy; docs/cube.md).

Metadata (``table.meta``): z_source, cosmology, d_L, the cube path and its provenance
(``sweep_version``, ``spec_sha256``, ``created``, ``history``, ``model_options``, ``spec_yaml``)
and the selection. Writers: ``.ecsv`` (everything, round-trips), ``.csv`` (ECSV with commas:
a CSV whose ``#`` header carries units and metadata; ``pandas.read_csv(..., comment='#')``),
``.fits`` (units in TUNITn, provenance in header cards and COMMENT lines), ``.nc`` (netCDF4 via
xarray/h5netcdf; units and long_name per variable, provenance as global attributes).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from sweep.model import constants as const
from sweep.model.cell import JET_QUANTITIES, NEUTRINO_FLAVOURS

STATUS_NAMES = ("pending", "done", "invalid", "not_converged", "failed")
PROVENANCE_ATTRS = ("sweep_version", "spec_sha256", "spec_source", "created", "history",
                    "model_options", "title", "spec_yaml")
FORMATS = (".ecsv", ".csv", ".fits", ".nc")
_ERG_GEV = 1.0 / (1e9 * const.eV)


def _status_name(v) -> str:
    try:
        return STATUS_NAMES[int(v)]
    except (ValueError, IndexError, TypeError):
        return f"unknown({v})"


def cells_of(ds, sel=None):
    """The selected sub-cube and the list of its cell index tuples (grid dims only)."""
    from sweep.plots import apply_selection

    sub = apply_selection(ds, sel or {})
    dims = [d for d in sub["nuLnu_obs"].dims if d != "frequency"]
    shape = [sub.sizes[d] for d in dims]
    return sub, dims, list(np.ndindex(*shape)) if shape else [()]


def export_table(ds, sel=None, z_source: float = 1.0, cosmology=None, cube_path=None):
    """Long-form astropy Table of the selected cells (see module docstring)."""
    import astropy.units as u
    from astropy.table import Table

    from sweep.reduce import cube_redshift, default_cosmology

    if not z_source > 0:
        raise ValueError(f"z_source must be > 0, got {z_source}")
    cosmology = cosmology or default_cosmology()
    d_l = float(cosmology.luminosity_distance(z_source).to("cm").value)
    area = 4.0 * np.pi * d_l**2
    z_cube = cube_redshift(ds)
    sub, dims, cells = cells_of(ds, sel)
    if len(cells) > 100_000:
        raise ValueError(f"the selection has {len(cells)} cells; narrow it with --sel "
                         "(at most 100000 cells per export)")
    nu_grid = np.asarray(sub["frequency"].values, float)
    e_ph_rest = nu_grid * (1.0 + z_cube) * const.h / const.eV
    has_nu = "ELE_nu_obs" in sub
    if has_nu:
        e_nu_rest = np.asarray(sub["neutrino_energy"].values, float) * (1.0 + z_cube)
        flavours = [str(f) for f in sub["neutrino_flavour"].values]
    jet = [q for q in JET_QUANTITIES if q in sub]
    want = ["nuLnu_obs"] + (["ELE_nu_obs"] if has_nu else []) + jet + [
        v for v in ("status", "message") if v in sub]
    sub = sub[want].compute()

    cols: dict[str, list] = {k: [] for k in ["cell", *dims, "particle", "energy_rest",
                                               "nuLnu", "status", "message", *jet]}
    for n, idx in enumerate(cells):
        isel = dict(zip(dims, idx))
        cell = sub.isel(isel)
        blocks = [("photon", e_ph_rest, np.asarray(cell["nuLnu_obs"].values, float))]
        if has_nu:
            ele = np.asarray(cell["ELE_nu_obs"].transpose("neutrino_flavour", ...).values, float)
            blocks += [(f, e_nu_rest, ele[k]) for k, f in enumerate(flavours)]
            allf = ele.sum(axis=0) if np.isfinite(ele).any() else np.full(ele.shape[1], np.nan)
            blocks.append(("nu_all", e_nu_rest, allf))
        status = _status_name(cell["status"].values) if "status" in cell else "unknown"
        message = str(cell["message"].values) if "message" in cell else ""
        for particle, e_rest, y in blocks:
            m = len(e_rest)
            cols["cell"] += [n] * m
            for d in dims:
                cols[d] += [cell[d].values.item()] * m
            cols["particle"] += [particle] * m
            cols["energy_rest"].append(e_rest)
            cols["nuLnu"].append(y)
            cols["status"] += [status] * m
            cols["message"] += [message] * m
            for q in jet:
                cols[q] += [float(cell[q].values)] * m
    e_rest = np.concatenate(cols.pop("energy_rest"))
    lum = np.concatenate(cols.pop("nuLnu"))
    t = Table()
    t["cell"] = np.asarray(cols["cell"], dtype=np.int64)
    for d in dims:
        t[d] = np.asarray(cols[d])
        unit = sub[d].attrs.get("units")
        t[d].description = sub[d].attrs.get("long_name", d)
        if unit and unit not in ("1", "R_s", "Rs", "R_BLR"):
            try:
                t[d].unit = u.Unit(unit)
            except ValueError:
                t[d].description += f" [{unit}]"
        elif unit:
            t[d].description += f" [{unit}]"
    t["particle"] = np.asarray(cols["particle"], dtype=str)
    e_obs = e_rest / (1.0 + z_source)
    t["energy_obs"] = e_obs * u.eV
    t["energy_obs"].description = f"observed energy for the source at z_source={z_source:g}"
    t["frequency_obs"] = e_obs * const.eV / const.h * u.Hz
    t["frequency_obs"].description = "observed frequency E_obs/h"
    t["energy_rest"] = e_rest * u.eV
    t["energy_rest"].description = "source-frame energy"
    t["nuLnu"] = lum * u.erg / u.s
    t["nuLnu"].description = ("apparent nuL_nu (photons, cube nuLnu_obs) or E L_E per flavour "
                              "(neutrinos, cube ELE_nu_obs)")
    t["nuFnu"] = lum / area * u.erg / u.cm**2 / u.s
    t["nuFnu"].description = f"nuF_nu = nuL_nu/(4 pi d_L^2) at z_source={z_source:g}"
    t["E2_dNdE"] = lum / area * _ERG_GEV * u.GeV / u.cm**2 / u.s
    t["E2_dNdE"].description = "nuF_nu in GeV cm-2 s-1"
    t["status"] = np.asarray(cols["status"], dtype=str)
    t["message"] = np.asarray(cols["message"], dtype=str)
    for q in jet:
        unit, long_name = JET_QUANTITIES[q]
        t[q] = np.asarray(cols[q], float)
        t[q].description = long_name
        if unit != "1":
            t[q].unit = u.Unit(unit.replace("erg cm-3", "erg / cm3").replace("erg s-1", "erg / s"))
    meta = {"z_source": float(z_source), "cosmology": repr(cosmology),
            "luminosity_distance_cm": d_l, "z_cube": float(z_cube),
            "selection": json.dumps({k: str(v) for k, v in (sel or {}).items()}),
            "n_cells": len(cells), "cube": str(cube_path) if cube_path else "",
            "flavours": "at the source, no oscillation" if has_nu else "no neutrino spectra",
            "description": "sweep export: SED and neutrino spectra of cube cells (sweep.export)"}
    for k in PROVENANCE_ATTRS:
        if k in ds.attrs:
            meta[f"cube_{k}"] = str(ds.attrs[k])
    t.meta.update(meta)
    return t


def _write_fits(t, path: Path):
    from astropy.io import fits
    from astropy.table import Table

    t2 = Table(t, copy=False)
    t2.meta = {}
    hdu = fits.table_to_hdu(t2)
    short = {"z_source": "ZSOURCE", "luminosity_distance_cm": "DL_CM", "z_cube": "ZCUBE",
             "n_cells": "NCELLS", "cube_sweep_version": "SWVERS", "cube_spec_sha256": "SPECSHA",
             "cube_created": "CREATED"}
    for k, key in short.items():
        if k in t.meta:
            hdu.header[key] = (t.meta[k], k)
    for k in ("cosmology", "selection", "cube", "flavours", "cube_model_options", "cube_history",
              "cube_spec_yaml"):
        if k in t.meta and t.meta[k]:
            for line in str(t.meta[k]).splitlines():
                for i in range(0, max(len(line), 1), 60):
                    hdu.header.add_comment(f"{k}: {line[i:i + 60]}")
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path, overwrite=True)


def _write_nc(t, path: Path):
    import xarray as xr

    data = {}
    for name in t.colnames:
        col = t[name]
        vals = np.asarray(col)
        attrs = {"long_name": col.description or name}
        if col.unit is not None:
            attrs["units"] = col.unit.to_string()
        data[name] = ("row", vals, attrs)
    ds = xr.Dataset(data, attrs={k: (v if isinstance(v, (int, float)) else str(v))
                                 for k, v in t.meta.items()})
    ds.to_netcdf(path, engine="h5netcdf")


def write_table(t, out) -> Path:
    """Write ``t`` by the suffix of ``out`` (one of FORMATS)."""
    out = Path(out)
    suf = out.suffix.lower()
    if suf == ".ecsv":
        t.write(out, format="ascii.ecsv", overwrite=True)
    elif suf == ".csv":
        t.write(out, format="ascii.ecsv", delimiter=",", overwrite=True)
    elif suf in (".fits", ".fit"):
        _write_fits(t, out)
    elif suf == ".nc":
        _write_nc(t, out)
    else:
        raise ValueError(f"--out must end in one of {', '.join(FORMATS)}, got {out.name!r}")
    return out


def export_cube(cube_path, out, sel=None, z_source: float = 1.0, cosmology=None):
    """Open the cube, build the table and write it. Returns (path, table)."""
    from sweep.reduce import open_cube

    ds = open_cube(cube_path)
    if "nuLnu_obs" not in ds:
        raise ValueError(f"{cube_path} has no nuLnu_obs: give the cube, not its observables store")
    t = export_table(ds, sel, z_source, cosmology, cube_path=cube_path)
    return write_table(t, out), t
