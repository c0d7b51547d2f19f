"""Observables of a cube: SED peaks, Compton dominance, band and neutrino luminosities, IceCube rate.

Everything is computed per cell from the cube's observed spectra (``nuLnu_obs``,
``ELE_nu_obs``; docs/cube.md) lazily with dask (``xr.apply_ufunc(..., dask="parallelized")``),
so it works chunk by chunk on cubes bigger than memory and can be recomputed at any time
without rerunning the model. The method is documented in docs/reducer.md; in short:

Frames
    The cube's spectra are apparent (δ⁴-boosted) luminosities on a frequency grid that already
    contains ``1/(1+z_cube)`` where ``z_cube`` is the redshift the model was run with (model.md §5;
    the paper uses z_cube = 0, and so does the default). The reducer first goes to the *source
    (rest) frame*: ν_rest = ν_grid (1+z_cube). Rest-frame observables (peak frequencies,
    L_γ(0.1–100 GeV), X-ray band luminosities, neutrino luminosities) are what the K-corrected
    catalogue values are compared with. For a source placed at redshift ``z_source`` (astropy
    cosmology, default FlatLambdaCDM H0=70, Om0=0.3), observed energies are E_rest/(1+z_source),
    νF_ν(ν_obs) = νL_ν(ν_rest)/(4π d_L²), which gives the observer-frame peak frequencies, the
    fluxes in the observed X-ray bands and the IceCube track rate.

Hump separation
    In log10 νL_ν vs log10 ν the two *most prominent* local maxima (topographic prominence,
    ``scipy.signal.find_peaks``; threshold ``min_prominence_dex``) are the synchrotron (lower
    frequency) and inverse-Compton (higher frequency) humps; each peak is refined by a parabola
    through the three grid points around it (exact for log-parabola humps). When only one maximum
    is prominent (one hump dominates and the other shows as a shoulder), the other hump is located
    at the shoulder: the most prominent local maximum of the log-slope d log νL_ν / d log ν on the
    falling side (an IC shoulder) or local minimum on the rising side (a synchrotron shoulder),
    with νL_ν read there (a lower limit of that hump's peak). With neither, the single hump is
    taken as synchrotron and the IC quantities are NaN. ``hump_method`` records which case applied.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import xarray as xr

from sweep.model import constants as const
from sweep.model.observer import band_luminosity, luminosity_distance_cm

# --------------------------------------------------------------------------------------------
# Bands (photon energies in keV / GeV, rest frame of the source unless stated)
# --------------------------------------------------------------------------------------------
KEV_HZ = 1e3 * const.eV / const.h  # 1 keV in Hz
GEV_HZ = 1e9 * const.eV / const.h  # 1 GeV in Hz
GEV_ERG = 1e9 * const.eV

X_RAY_BANDS_KEV: dict[str, tuple[float, float, str]] = {
    "xrt": (0.3, 10.0, "Swift-XRT 0.3-10 keV"),
    "rosat": (0.1, 2.4, "ROSAT 0.1-2.4 keV"),
    "artxc": (4.0, 12.0, "SRG/ART-XC 4-12 keV"),
    "bat": (14.0, 195.0, "Swift/BAT 14-195 keV"),
    "ibis": (17.0, 60.0, "INTEGRAL/IBIS 17-60 keV"),
}
LAT_BAND_GEV = (0.1, 100.0)
NU_HIGH_EV = 1e14  # 100 TeV
ICECUBE_LIVETIME_DAYS = 2198.9  # IC86-II..VII (data README)
YEAR_S = 365.25 * 86400.0

HUMP_METHODS = {0: "two_maxima", 1: "shoulder", 2: "single_hump", 3: "no_emission"}

# (name, units, long_name) of the SED kernel outputs, in kernel order
_SED_OUT = [
    ("nu_syn_peak_rest", "Hz", "synchrotron peak frequency, source rest frame"),
    ("nuLnu_syn_peak", "erg s-1", "apparent nuL_nu at the synchrotron peak"),
    ("nu_ic_peak_rest", "Hz", "inverse-Compton (high-energy hump) peak frequency, rest frame"),
    ("nuLnu_ic_peak", "erg s-1", "apparent nuL_nu at the inverse-Compton peak"),
    ("hump_method", "1", "hump separation case: " + ", ".join(f"{k}={v}" for k, v in
                                                              HUMP_METHODS.items())),
    ("L_gamma", "erg s-1", "apparent luminosity 0.1-100 GeV (rest-frame band)"),
] + [(f"L_{k}", "erg s-1", f"apparent luminosity {v[2]} (rest-frame band)")
     for k, v in X_RAY_BANDS_KEV.items()] + [
    (f"F_{k}", "erg cm-2 s-1", f"energy flux {v[2]} (observed band, source at z_source)")
    for k, v in X_RAY_BANDS_KEV.items()]

_NU_OUT = [
    ("L_nu_all", "erg s-1", "all-flavour apparent neutrino luminosity (whole grid)"),
    ("E_nu_peak_rest", "eV", "peak energy of the all-flavour E L_E, source rest frame"),
    ("L_nu_100TeV", "erg s-1", "all-flavour apparent neutrino luminosity above 100 TeV (rest)"),
    ("icecube_tracks_per_year", "yr-1",
     "expected IceCube IC86-II track events per year (nu_mu + nu_mu_bar = 1/3 of all flavours)"),
]


# --------------------------------------------------------------------------------------------
# Small numerical helpers (numpy over leading dims)
# --------------------------------------------------------------------------------------------
def _log10_pos(y):
    y = np.asarray(y, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.isfinite(y) & (y > 0), np.log10(np.where(y > 0, y, 1.0)), -np.inf)


def _parabolic_peak(lx, ly, i):
    """Vertex (x, y) of the parabola through (i-1, i, i+1) of a uniform-ish log grid.

    Falls back to the grid point at the ends or when a neighbour is -inf.
    """
    n = ly.shape[-1]
    if i <= 0 or i >= n - 1 or not (np.isfinite(ly[i - 1]) and np.isfinite(ly[i + 1])):
        return lx[i], ly[i]
    x0, x1, x2 = lx[i - 1], lx[i], lx[i + 1]
    y0, y1, y2 = ly[i - 1], ly[i], ly[i + 1]
    denom = (x0 - x1) * (x0 - x2) * (x1 - x2)
    a = (x2 * (y1 - y0) + x1 * (y0 - y2) + x0 * (y2 - y1)) / denom
    b = (x2**2 * (y0 - y1) + x1**2 * (y2 - y0) + x0**2 * (y1 - y2)) / denom
    if not a < 0:
        return lx[i], ly[i]
    xv = -b / (2 * a)
    if not (x0 <= xv <= x2):
        return lx[i], ly[i]
    c = y1 - a * x1**2 - b * x1
    return xv, a * xv**2 + b * xv + c


def separate_humps(lognu, logL, min_prominence_dex: float = 0.2,
                   shoulder_prominence: float = 0.3, shoulder_depth_dex: float = 2.0,
                   max_depth_dex: float = 4.0, floor_dex: float = 25.0):
    """Synchrotron and IC peaks of ONE SED given in log10 (``logL`` may hold -inf for zeros).

    Returns (log ν_syn, log L_syn, log ν_ic, log L_ic, method) with NaN where undefined;
    ``method`` is a key of ``HUMP_METHODS``. See the module docstring for the method. A shoulder
    must be a local extremum of the log-slope with prominence >= ``shoulder_prominence`` and lie
    within ``shoulder_depth_dex`` of the main peak (deeper kinks are cut-offs, not humps). Maxima
    more than ``max_depth_dex`` below the global maximum are not humps (e.g. a π⁰/cascade bump at
    the top of the grid 8 dex down would otherwise be prominent); so |log CD| <= max_depth_dex.
    """
    from scipy.signal import find_peaks

    lognu = np.asarray(lognu, dtype=float)
    ly = np.asarray(logL, dtype=float)
    good = np.isfinite(ly)
    nan = float("nan")
    if not good.any():
        return nan, nan, nan, nan, 3
    top = ly[good].max()
    floor = top - floor_dex
    y = np.where(good, np.maximum(ly, floor), floor)
    ypad = np.concatenate([[floor - 1.0], y, [floor - 1.0]])
    peaks, props = find_peaks(ypad, prominence=min_prominence_dex)
    peaks = peaks - 1
    prom = props["prominences"]
    keep = y[peaks] >= top - max_depth_dex
    peaks, prom = peaks[keep], prom[keep]
    if len(peaks) == 0:  # flat spectrum: take the global maximum
        peaks, prom = np.array([int(np.argmax(y))]), np.array([0.0])
    order = np.argsort(prom)[::-1]
    if len(peaks) >= 2:
        i1, i2 = sorted(peaks[order[:2]])
        xs, ys = _parabolic_peak(lognu, ly, i1)
        xi, yi = _parabolic_peak(lognu, ly, i2)
        return xs, ys, xi, yi, 0
    ip = int(peaks[order[0]])
    xp, yp = _parabolic_peak(lognu, ly, ip)
    # shoulder search on the log-slope (central differences on valid points)
    slope = np.gradient(y, lognu)
    valid = y > floor + 1e-9
    near = y >= yp - shoulder_depth_dex
    best = None  # (prominence, index, side)
    right = np.arange(ip + 1, len(y))
    right = right[valid[right]]
    if len(right) > 3:
        pk, pr = find_peaks(slope[right], prominence=shoulder_prominence)
        pk_ok = [(p, i) for p, i in zip(pr["prominences"], pk)
                 if slope[right][i] < 0.5 and near[right][i]]
        if pk_ok:
            p, i = max(pk_ok)
            best = (p, int(right[i]), "ic")
    left = np.arange(0, ip)
    left = left[valid[left]]
    if len(left) > 3:
        pk, pr = find_peaks(-slope[left], prominence=shoulder_prominence)
        pk_ok = [(p, i) for p, i in zip(pr["prominences"], pk)
                 if slope[left][i] > -0.5 and near[left][i]]
        if pk_ok:
            p, i = max(pk_ok)
            if best is None or p > best[0]:
                best = (p, int(left[i]), "syn")
    if best is None:
        return xp, yp, nan, nan, 2
    _, j, side = best
    if side == "ic":
        return xp, yp, lognu[j], ly[j], 1
    return lognu[j], ly[j], xp, yp, 1


def loglog_bin_integrals(x, y, edges):
    """∫ y d ln x over consecutive bins [edges[k], edges[k+1]] with log-log interpolation.

    ``x`` increasing 1-D (>0), ``y`` (..., len(x)) >= 0 (zeros/NaN contribute nothing, as in
    ``observer.band_luminosity``, whose result this reproduces bin by bin), ``edges`` increasing.
    Parts of a bin outside the grid contribute nothing. Vectorised over leading dims.
    """
    x = np.asarray(x, dtype=float)
    edges = np.asarray(edges, dtype=float)
    lx = np.log(x)
    le = np.log(edges)
    knots = np.union1d(lx[(lx > le[0]) & (lx < le[-1])], le)
    ly = _log10_pos(y) * np.log(10.0)
    # interpolate ln y at the knots (shared x grid -> index/weight once)
    j = np.clip(np.searchsorted(lx, knots, side="right") - 1, 0, len(lx) - 2)
    w = (knots - lx[j]) / (lx[j + 1] - lx[j])
    inside = (knots >= lx[0]) & (knots <= lx[-1])
    a, b = ly[..., j], ly[..., j + 1]
    with np.errstate(invalid="ignore"):
        lyk = np.where(w <= 0, a, np.where(w >= 1, b, (1 - w) * a + w * b))
    lyk = np.where(inside, lyk, -np.inf)
    lyk = np.where(np.isnan(lyk), -np.inf, lyk)
    yk = np.exp(lyk)
    dx = np.diff(knots)
    y0, y1 = yk[..., :-1], yk[..., 1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (lyk[..., 1:] - lyk[..., :-1]) / dx
        seg = np.where(np.abs(slope) > 1e-10, (y1 - y0) / slope, 0.5 * (y0 + y1) * dx)
    seg = np.where((y0 > 0) & (y1 > 0), seg, 0.0)
    # segment k lies in bin b(k): bins start at knot indices of the edges
    starts = np.searchsorted(knots, le[:-1])
    return np.add.reduceat(seg, starts, axis=-1)


# --------------------------------------------------------------------------------------------
# IceCube effective area
# --------------------------------------------------------------------------------------------
def effective_area_path(path=None) -> Path:
    """Argument, else env ``SWEEP_ICECUBE_AEFF``, else the packaged IC86-II table
    (``sweep.datasets``, dataset ``icecube-ic86-ii``)."""
    from sweep.datasets import effective_area_file

    return effective_area_file(path)


def load_effective_area(path=None):
    """(logE_edges [log10 GeV], dec_edges [deg], Aeff [cm², shape (n_dec, n_E)]) of the 10-yr release."""
    rows = np.loadtxt(effective_area_path(path), skiprows=1)
    le = np.unique(np.concatenate([rows[:, 0], rows[:, 1]]))
    de = np.unique(np.concatenate([rows[:, 2], rows[:, 3]]))
    aeff = np.zeros((len(de) - 1, len(le) - 1))
    ie = np.searchsorted(le, rows[:, 0])
    idc = np.searchsorted(de, rows[:, 2])
    aeff[idc, ie] = rows[:, 4]
    return le, de, aeff


def aeff_at_declination(dec_deg: float, path=None):
    """(E_edges [GeV], Aeff [cm²]) of the declination bin holding ``dec_deg``."""
    le, de, aeff = load_effective_area(path)
    if not -90.0 <= dec_deg <= 90.0:
        raise ValueError(f"declination must be in [-90, 90] deg, got {dec_deg}")
    k = int(np.clip(np.searchsorted(de, dec_deg, side="right") - 1, 0, len(de) - 2))
    return 10.0**le, aeff[k]


def icecube_track_rate(E_rest_ev, ELE_all, z_source: float, dec_deg: float, *,
                       cosmology=None, effective_area=None, muon_fraction: float = 1.0 / 3.0):
    """Expected IC86-II track events per second for all-flavour apparent E L_E [erg/s] (rest frame).

    φ_μ(E_obs) = muon_fraction · E L_E(E_rest) / (4π d_L² E_obs²),  E_obs = E_rest/(1+z_source);
    N/T = Σ_bins A_eff(E, dec) ∫_bin φ_μ dE (log-log interpolation of E φ over ln E).
    """
    d_l = luminosity_distance_cm(z_source, cosmology)
    e_obs_gev = np.asarray(E_rest_ev, dtype=float) * 1e-9 / (1.0 + z_source)
    # E φ [cm⁻² s⁻¹] = E L_E / (4π d_L² E_obs[erg])
    e_phi = muon_fraction * np.asarray(ELE_all, dtype=float) / (
        4.0 * np.pi * d_l**2 * e_obs_gev * GEV_ERG)
    edges, aeff = aeff_at_declination(dec_deg, effective_area)
    per_bin = loglog_bin_integrals(e_obs_gev, e_phi, edges)
    return (per_bin * aeff).sum(axis=-1)


# --------------------------------------------------------------------------------------------
# Cosmology and the cube's redshift
# --------------------------------------------------------------------------------------------
def default_cosmology(H0: float = 70.0, Om0: float = 0.3):
    """FlatLambdaCDM(H0=70, Om0=0.3): the common choice in the Fermi blazar literature."""
    from astropy.cosmology import FlatLambdaCDM

    return FlatLambdaCDM(H0=H0, Om0=Om0)


def _find_key(obj, key):
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == key and isinstance(v, (int, float)):
                return float(v)
            r = _find_key(v, key)
            if r is not None:
                return r
    elif isinstance(obj, list):
        for v in obj:
            r = _find_key(v, key)
            if r is not None:
                return r
    return None


def cube_redshift(ds: xr.Dataset) -> float:
    """Redshift z_red the cube's observed spectra were computed with (default 0, model.md §5).

    Looked up as a scalar variable/coordinate ``z_red``, an attribute ``z_red``, the
    ``model_options`` JSON, or a scalar ``z_red`` in ``spec_yaml``. A ``z_red`` grid axis is not
    supported (the reducer needs one frequency frame per cube).
    """
    if "z_red" in ds.dims:
        raise NotImplementedError("a cube with z_red as a grid axis is not supported by the reducer")
    if "z_red" in ds.variables:
        v = np.unique(np.asarray(ds["z_red"].values, dtype=float))
        if len(v) != 1:
            raise NotImplementedError("z_red varies between cells; not supported by the reducer")
        return float(v[0])
    if "z_red" in ds.attrs:
        return float(ds.attrs["z_red"])
    for attr, parse in (("model_options", json.loads), ("spec_yaml", None)):
        text = ds.attrs.get(attr)
        if not text:
            continue
        try:
            if parse is None:
                import yaml

                obj = yaml.safe_load(text)
            else:
                obj = parse(text)
        except Exception:  # unparsable attribute: ignore
            continue
        z = _find_key(obj, "z_red")
        if z is not None:
            return z
    return 0.0


# --------------------------------------------------------------------------------------------
# Kernels over blocks (called by apply_ufunc on numpy blocks)
# --------------------------------------------------------------------------------------------
def _sed_kernel(nuLnu, *, nu_rest, z_source, d_l, min_prominence_dex):
    shape = nuLnu.shape[:-1]
    flat = np.asarray(nuLnu, dtype=float).reshape(-1, nuLnu.shape[-1])
    n = flat.shape[0]
    out = np.full((n, len(_SED_OUT)), np.nan)
    lognu = np.log10(nu_rest)
    ly = _log10_pos(flat)
    for r in range(n):
        xs, ys, xi, yi, m = separate_humps(lognu, ly[r], min_prominence_dex)
        out[r, 0:5] = 10.0**xs, 10.0**ys, 10.0**xi, 10.0**yi, m
    bands = [LAT_BAND_GEV[0] * GEV_HZ, LAT_BAND_GEV[1] * GEV_HZ]
    out[:, 5] = band_luminosity(nu_rest, flat, *bands)
    nb = len(X_RAY_BANDS_KEV)
    nu_obs = nu_rest / (1.0 + z_source)
    for k, (lo, hi, _) in enumerate(X_RAY_BANDS_KEV.values()):
        out[:, 6 + k] = band_luminosity(nu_rest, flat, lo * KEV_HZ, hi * KEV_HZ)
        out[:, 6 + nb + k] = band_luminosity(nu_obs, flat, lo * KEV_HZ, hi * KEV_HZ) / (
            4.0 * np.pi * d_l**2)
    # cells without any emission (NaN spectra: not done) stay NaN everywhere
    dead = ~np.isfinite(flat).any(axis=-1)
    out[dead] = np.nan
    return out.reshape(shape + (len(_SED_OUT),))


def _nu_kernel(ELE, *, E_rest, z_source, dec_deg, cosmology, effective_area):
    # ELE (..., flavour, energy)
    flat = np.asarray(ELE, dtype=float).reshape((-1,) + ELE.shape[-2:])
    dead = ~np.isfinite(flat).any(axis=(-1, -2))
    allf = np.nansum(flat, axis=-2)
    n = allf.shape[0]
    out = np.full((n, len(_NU_OUT)), np.nan)
    out[:, 0] = band_luminosity(E_rest, allf, E_rest[0], E_rest[-1])
    lE = np.log10(E_rest)
    ly = _log10_pos(allf)
    for r in range(n):
        if np.isfinite(ly[r]).any():
            i = int(np.argmax(ly[r]))
            out[r, 1] = 10.0 ** _parabolic_peak(lE, ly[r], i)[0]
    out[:, 2] = band_luminosity(E_rest, allf, NU_HIGH_EV, E_rest[-1] * 1.0000001)
    out[:, 3] = icecube_track_rate(E_rest, allf, z_source, dec_deg, cosmology=cosmology,
                                   effective_area=effective_area) * YEAR_S
    out[dead] = np.nan
    return out.reshape(ELE.shape[:-2] + (len(_NU_OUT),))


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------
COPY_VARS = ("z_cm", "z_rs", "doppler", "gamma_bulk", "status")


def compute_observables(ds: xr.Dataset, *, z_source: float = 1.0, dec_deg: float = 0.0,
                        cosmology=None, effective_area=None,
                        min_prominence_dex: float = 0.2) -> xr.Dataset:
    """Lazy observables Dataset of a cube (same grid axes, no spectral dims).

    ``z_source``/``dec_deg`` place the source for the observer-frame quantities and the IceCube
    rate (default z = 1, dec = 0°: the typical neutrino-blazar distance of paper 001 and the
    horizon, where IceCube tracks are most sensitive). Nothing is computed until ``.compute()``
    or ``to_zarr``; dask chunks of the grid axes are kept.
    """
    if cosmology is None:
        cosmology = default_cosmology()
    if not z_source > 0:
        raise ValueError(f"z_source must be > 0, got {z_source}")
    z_cube = cube_redshift(ds)
    d_l = luminosity_distance_cm(z_source, cosmology)
    nu_rest = np.asarray(ds["frequency"].values, dtype=float) * (1.0 + z_cube)
    E_rest = np.asarray(ds["neutrino_energy"].values, dtype=float) * (1.0 + z_cube)
    aeff_path = str(effective_area_path(effective_area))

    sed = ds["nuLnu_obs"]
    if sed.chunks is not None:
        sed = sed.chunk({"frequency": -1})
    sed_out = xr.apply_ufunc(
        _sed_kernel, sed,
        input_core_dims=[["frequency"]], output_core_dims=[["sed_observable"]],
        kwargs=dict(nu_rest=nu_rest, z_source=z_source, d_l=d_l,
                    min_prominence_dex=min_prominence_dex),
        dask="parallelized", output_dtypes=[float],
        dask_gufunc_kwargs={"output_sizes": {"sed_observable": len(_SED_OUT)}},
    )
    out = xr.Dataset()
    for k, (name, units, long_name) in enumerate(_SED_OUT):
        out[name] = sed_out.isel(sed_observable=k, drop=True).assign_attrs(
            units=units, long_name=long_name)
    if "ELE_nu_obs" in ds:
        ele = ds["ELE_nu_obs"]
        if ele.chunks is not None:
            ele = ele.chunk({"neutrino_flavour": -1, "neutrino_energy": -1})
        nu_out = xr.apply_ufunc(
            _nu_kernel, ele,
            input_core_dims=[["neutrino_flavour", "neutrino_energy"]],
            output_core_dims=[["nu_observable"]],
            kwargs=dict(E_rest=E_rest, z_source=z_source, dec_deg=dec_deg,
                        cosmology=cosmology, effective_area=aeff_path),
            dask="parallelized", output_dtypes=[float],
            dask_gufunc_kwargs={"output_sizes": {"nu_observable": len(_NU_OUT)}},
        )
        for k, (name, units, long_name) in enumerate(_NU_OUT):
            out[name] = nu_out.isel(nu_observable=k, drop=True).assign_attrs(
                units=units, long_name=long_name)
        out["L_nu_over_L_gamma"] = (out["L_nu_all"] / out["L_gamma"]).assign_attrs(
            units="1", long_name="all-flavour neutrino luminosity / L_gamma(0.1-100 GeV)")
        livetime_s = ICECUBE_LIVETIME_DAYS * 86400.0
        out["icecube_tracks_livetime"] = (out["icecube_tracks_per_year"] * livetime_s / YEAR_S
                                          ).assign_attrs(
            units="1", long_name=f"expected IceCube tracks in {ICECUBE_LIVETIME_DAYS} d "
                                 "(IC86-II..VII livetime)")
    out["compton_dominance"] = (out["nuLnu_ic_peak"] / out["nuLnu_syn_peak"]).assign_attrs(
        units="1", long_name="Compton dominance: IC peak nuL_nu / synchrotron peak nuL_nu")
    for v in ("nu_syn_peak", "nu_ic_peak"):
        out[f"{v}_obs"] = (out[f"{v}_rest"] / (1.0 + z_source)).assign_attrs(
            units="Hz", long_name=out[f"{v}_rest"].attrs["long_name"].replace(
                "source rest frame", "observer frame").replace(
                "rest frame", "observer frame") + " (source at z_source)")
    for v in COPY_VARS:
        if v in ds:
            out[v] = ds[v]
    out.attrs.update(
        z_source=float(z_source), dec_deg=float(dec_deg), z_cube=float(z_cube),
        cosmology=repr(cosmology), effective_area=aeff_path,
        icecube_livetime_days=ICECUBE_LIVETIME_DAYS, muon_fraction="1/3 of all flavours",
        min_prominence_dex=float(min_prominence_dex),
        frames="*_rest: source frame (nu_grid*(1+z_cube)); *_obs and F_*: source at z_source",
        description="observables of a sweep cube (sweep.reduce, docs/reducer.md)",
    )
    for key in ("spec_sha256", "sweep_version"):
        if key in ds.attrs:
            out.attrs[f"cube_{key}"] = ds.attrs[key]
    return out


def observables_path(cube_path) -> Path:
    """Default companion store: ``<cube>/../<name>.observables.zarr``."""
    p = Path(cube_path)
    name = p.name[:-5] if p.name.endswith(".zarr") else p.name
    return p.parent / f"{name}.observables.zarr"


def _quiet_zarr():
    """Silence zarr's notice that consolidated metadata is not in the v3 spec (the cube contract
    asks for consolidated metadata; the notice says nothing actionable to a user)."""
    import warnings

    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.filterwarnings("ignore", message="Consolidated metadata", category=UserWarning)
    return ctx


def store_kind(ds: xr.Dataset) -> str:
    """``"cube"`` (spectra on a frequency grid, docs/cube.md), ``"observables"`` (written by
    :func:`reduce_cube`) or ``"foreign"`` (some other Zarr store)."""
    if "nuLnu_obs" in ds and "frequency" in ds.coords:
        return "cube"
    if "L_gamma" in ds and ("nu_syn_peak_rest" in ds or "cube_spec_sha256" in ds.attrs):
        return "observables"
    return "foreign"


def _kind_error(p: Path, ds: xr.Dataset, kind: str, want: tuple[str, ...]) -> str:
    if kind == "observables":
        return (f"{p} is an observables store (written by sweep reduce), not a cube: give the "
                "cube it was reduced from")
    names = ", ".join(list(ds.data_vars)[:6]) or "none"
    return (f"{p} is not a sweep cube: a Zarr store without nuLnu_obs on a frequency axis "
            f"(its variables: {names})" + (" nor an observables store" if "observables" in want
                                           else ""))


def open_cube(cube_path, want: str | tuple[str, ...] | None = None) -> xr.Dataset:
    """Open a cube or observables store (lazily). ``want``: the kinds accepted (see
    :func:`store_kind`); anything else raises a ``ValueError`` saying what the path is."""
    p = Path(cube_path)
    if not p.exists():
        raise FileNotFoundError(f"cube not found: {p}")
    ctx = _quiet_zarr()
    try:
        try:
            ds = xr.open_zarr(p, consolidated=True)
        except Exception:
            try:
                ds = xr.open_zarr(p, consolidated=False)
            except Exception as exc:  # noqa: BLE001  no Zarr group, unreadable metadata
                raise ValueError(f"{p} is not a sweep cube (not a Zarr store: "
                                 f"{type(exc).__name__})") from None
    finally:
        ctx.__exit__(None, None, None)
    if want is not None:
        want = (want,) if isinstance(want, str) else tuple(want)
        kind = store_kind(ds)
        if kind not in want:
            raise ValueError(_kind_error(p, ds, kind, want))
    return ds


def reduce_cube(cube_path, out=None, **kwargs) -> Path:
    """Compute the observables of a cube chunk by chunk and write them to a Zarr store.

    Returns the store path (default ``observables_path(cube_path)``). Rewrites it if present.
    """
    ds = open_cube(cube_path, want="cube")
    obs = compute_observables(ds, **kwargs)
    out = Path(out) if out is not None else observables_path(cube_path)
    for v in obs.variables:
        obs[v].encoding = {}
    ctx = _quiet_zarr()
    try:
        obs.to_zarr(out, mode="w", consolidated=True)
    finally:
        ctx.__exit__(None, None, None)
    return out


def load_observables(cube_or_obs, *, recompute: bool = False, **kwargs) -> xr.Dataset:
    """Observables for a cube path (its companion store when present and matching the cube's
    spec hash and status array, else lazily computed) or for an observables store path."""
    p = Path(cube_or_obs)
    ds = open_cube(p, want=("cube", "observables"))
    if store_kind(ds) == "observables":
        return ds
    comp = observables_path(p)
    if comp.exists() and not recompute and not kwargs:
        obs = open_cube(comp)
        same = obs.attrs.get("cube_spec_sha256") == ds.attrs.get("spec_sha256")
        if same and "status" in ds and "status" in obs:  # stale after a resume/append?
            same = (obs["status"].shape == ds["status"].shape
                    and bool((obs["status"].values == ds["status"].values).all()))
        if same:
            return obs
    return compute_observables(ds, **kwargs)
