"""Synthetic cubes following docs/cube.md, with SEDs whose observables are known analytically.

Each cell's νL_ν is the sum of two log-parabola humps in log10 ν (synchrotron and IC),
    νL_ν = L_s 10^{-b (log ν − log ν_s)²} + L_c 10^{-b (log ν − log ν_c)²},
and its all-flavour E L_E is one log-parabola split over the four flavours (ν_μ+ν̄_μ = 1/3,
ν_e + ν̄_e = 2/3, the pγ source ratio). Peak frequencies, peak luminosities and band integrals of
a log-parabola are analytic (erf), so the reducer's numerics can be checked against them.
"""
from __future__ import annotations

import numpy as np
import xarray as xr
from scipy.special import erf

B_CURV = 0.15  # curvature [dex⁻¹] of every hump
B_NU = 0.3


def _grid(lo, hi, ppd):
    n = int(round(np.log10(hi / lo) * ppd)) + 1
    return np.logspace(np.log10(lo), np.log10(hi), n)


def hump_params(sigma0, mdot, z_rs):
    """Analytic hump parameters of a cell (log10 values) — smooth functions of the axes."""
    lz = np.log10(z_rs)
    log_nu_s = 13.0 + 0.8 * (lz - 1.0) + 0.3 * np.log10(sigma0 / 10.0)
    log_L_s = 44.0 + 0.5 * np.log10(mdot / 1e-3) + 0.4 * (lz - 1.0)
    log_nu_c = log_nu_s + 8.0 + 0.2 * (lz - 1.0)
    log_cd = -0.5 + 0.3 * np.log10(mdot / 1e-3) + 0.1 * np.log10(sigma0 / 10.0)
    log_E_nu = 15.0 + 0.2 * (lz - 1.0)
    log_L_nu = log_L_s - 1.0 + 0.2 * np.log10(sigma0 / 10.0)
    return dict(log_nu_s=log_nu_s, log_L_s=log_L_s, log_nu_c=log_nu_c,
                log_L_c=log_L_s + log_cd, log_E_nu=log_E_nu, log_L_nu=log_L_nu)


def logparabola(x, logpk, logL, b):
    return 10.0 ** (logL - b * (np.log10(x) - logpk) ** 2)


def logparabola_band(lo, hi, logpk, logL, b):
    """∫_{lo}^{hi} 10^{logL − b (log x − logpk)²} d ln x, exactly (erf)."""
    a = b * np.log(10.0)
    x1, x2 = np.log10(lo) - logpk, np.log10(hi) - logpk
    return 10.0**logL * np.log(10.0) * 0.5 * np.sqrt(np.pi / a) * (
        erf(np.sqrt(a) * x2) - erf(np.sqrt(a) * x1))


def make_cube(sigma0=(10.0, 30.0), mdot=(1e-3, 1e-2), z_diss=(10.0, 30.0, 100.0, 300.0),
              chunks=None, fail_cell=True, freq_ppd=10, nu_ppd=10, as_dask=False):
    """An in-memory xarray Dataset with the layout of docs/cube.md (subset of variables)."""
    nu = _grid(1e8, 1e30, freq_ppd)
    en = _grid(1e9, 1e21, nu_ppd)
    flav = ["nu_e", "nu_e_bar", "nu_mu", "nu_mu_bar"]
    frac = np.array([1 / 3, 1 / 3, 1 / 6, 1 / 6])
    S, M, Z = np.meshgrid(np.asarray(sigma0, float), np.asarray(mdot, float),
                          np.asarray(z_diss, float), indexing="ij")
    p = hump_params(S, M, Z)
    sed = (logparabola(nu, p["log_nu_s"][..., None], p["log_L_s"][..., None], B_CURV)
           + logparabola(nu, p["log_nu_c"][..., None], p["log_L_c"][..., None], B_CURV))
    ele_all = logparabola(en, p["log_E_nu"][..., None], p["log_L_nu"][..., None], B_NU)
    ele = ele_all[..., None, :] * frac[:, None]
    status = np.ones(S.shape, dtype=np.int8)
    message = np.full(S.shape, "", dtype=object)
    if fail_cell:
        sed[0, 0, 0] = np.nan
        ele[0, 0, 0] = np.nan
        status[0, 0, 0] = 4
        message[0, 0, 0] = "failed: synthetic"
    rs = 2.953e14
    axes = ("sigma0", "mdot", "z_diss")
    ds = xr.Dataset(
        {
            "nuLnu_obs": (axes + ("frequency",), sed,
                          {"units": "erg s-1", "long_name": "observed nuL_nu"}),
            "ELE_nu_obs": (axes + ("neutrino_flavour", "neutrino_energy"), ele,
                           {"units": "erg s-1", "long_name": "observed E L_E per flavour"}),
            "z_cm": (axes, Z * rs, {"units": "cm", "long_name": "dissipation distance"}),
            "doppler": (axes, 10.0 + 0 * Z, {"units": "1", "long_name": "Doppler factor"}),
            "status": (axes, status, {"units": "1", "flag_values": [0, 1, 2, 3, 4],
                                      "flag_meanings": "pending done invalid not_converged failed"}),
            "message": (axes, message.astype(str), {"units": "1", "long_name": "why not done"}),
        },
        coords={
            "sigma0": ("sigma0", np.asarray(sigma0, float), {"units": "1", "long_name": "sigma0"}),
            "mdot": ("mdot", np.asarray(mdot, float), {"units": "1", "long_name": "mdot"}),
            "z_diss": ("z_diss", np.asarray(z_diss, float), {"units": "R_s",
                                                            "long_name": "dissipation distance"}),
            "frequency": ("frequency", nu, {"units": "Hz", "long_name": "frequency"}),
            "neutrino_energy": ("neutrino_energy", en, {"units": "eV", "long_name": "energy"}),
            "neutrino_flavour": ("neutrino_flavour", flav, {"units": "1",
                                                            "long_name": "flavour"}),
        },
        attrs={"sweep_version": "test", "spec_sha256": "synthetic", "Conventions": "CF-1.10",
               "spec_yaml": "name: synthetic\n", "model_options": "{}"},
    )
    if chunks is not None or as_dask:
        ds = ds.chunk(chunks or {})
    return ds


def write_cube(path, **kw):
    ds = make_cube(**kw)
    for v in ds.variables:
        ds[v].encoding = {}
    ds.to_zarr(path, mode="w", consolidated=True)
    return path
