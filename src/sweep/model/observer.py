"""Comoving -> observer transformations and band luminosities (model.md §5, §6).

    ε_obs = δ ε' / (1 + z_red),   (νL_ν)_obs = δ⁴ ν'L'_ν',   νF_ν = (νL_ν)_obs / (4π d_L²)

Apparent (isotropic-equivalent) luminosities, as the reference paper plots them; no EBL.
The same transformation applies to neutrinos (E L_E).
"""
from __future__ import annotations

import numpy as np

from . import constants as const


def to_observer(nu_comoving, nuLnu_comoving, doppler: float, z_red: float = 0.0):
    """Return (ν_obs [Hz], νL_ν,obs [erg/s]) for a comoving spectrum (δ⁴ boost, E(1+z)⁻¹)."""
    nu = np.asarray(nu_comoving, dtype=float) * doppler / (1.0 + z_red)
    return nu, np.asarray(nuLnu_comoving, dtype=float) * doppler**4


def luminosity_distance_cm(z_red: float, cosmology=None) -> float:
    """Luminosity distance [cm] for redshift z_red (astropy; default Planck18 unless given)."""
    if z_red <= 0:
        raise ValueError(f"z_red must be > 0 for a luminosity distance, got {z_red}")
    if cosmology is None:
        from astropy.cosmology import Planck18 as cosmology
    return float(cosmology.luminosity_distance(z_red).to("cm").value)


def nuFnu(nuLnu_obs, z_red: float, cosmology=None):
    """νF_ν [erg cm⁻² s⁻¹] of an observer-frame νL_ν at redshift z_red."""
    d_l = luminosity_distance_cm(z_red, cosmology)
    return np.asarray(nuLnu_obs, dtype=float) / (4.0 * np.pi * d_l**2)


def band_luminosity(nu, nuLnu, nu_lo: float, nu_hi: float, axis: int = -1):
    """∫_{ν_lo}^{ν_hi} L_ν dν = ∫ νL_ν d ln ν [erg/s], log-log interpolation inside the band.

    ``nu`` is a 1-D increasing grid; ``nuLnu`` may have extra leading dims (``axis`` is the
    spectral one). Zeros/NaN contribute nothing. Exact for power laws in νL_ν.
    """
    nu = np.asarray(nu, dtype=float)
    y = np.moveaxis(np.asarray(nuLnu, dtype=float), axis, -1)
    lnu = np.log(nu)
    a, b = np.log(nu_lo), np.log(nu_hi)
    # knots: band edges + interior grid points
    inner = (lnu > a) & (lnu < b)
    knots = np.concatenate([[a], lnu[inner], [b]])
    with np.errstate(divide="ignore", invalid="ignore"):
        ly = np.where(y > 0, np.log(np.where(y > 0, y, 1.0)), -np.inf)
    lyk = np.stack([np.interp(knots, lnu, row, left=-np.inf, right=-np.inf)
                    for row in ly.reshape(-1, ly.shape[-1])])
    yk = np.exp(lyk)
    dx = np.diff(knots)
    y0, y1 = yk[:, :-1], yk[:, 1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (lyk[:, 1:] - lyk[:, :-1]) / dx
        seg = np.where(np.abs(slope) > 1e-10, (y1 - y0) / slope, 0.5 * (y0 + y1) * dx)
    seg = np.where((y0 > 0) & (y1 > 0), seg, 0.0)
    return seg.sum(axis=-1).reshape(y.shape[:-1])
