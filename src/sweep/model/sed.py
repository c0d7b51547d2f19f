"""SEDs of a GIVEN particle spectrum, without the kinetic solve (agnpy-style API).

Arrays in, νL_ν (apparent, observer frame) or νF_ν out::

    from sweep.model import sed
    em = sed.Emitter(gamma=g, n_e=n, R=1e16, B=0.1)            # n_e: dN/dγ dV [cm⁻³]
    nu = np.logspace(8, 27, 200)                                 # observer-frame ν [Hz]
    L_syn = sed.synchrotron(nu, em, ssa=True, doppler=20, z=0.5)  # νL_ν [erg/s], δ⁴-boosted
    F_ssc = sed.ssc(nu, em, doppler=20, z=0.5, flux=True)        # νF_ν [erg cm⁻² s⁻¹]
    L_ec = sed.external_compton(nu, em, [(nu_p, u_nu_p)], doppler=20, z=0.5)
    # disc / BLR / torus of the jet model at distance z_cm (comoving fields, sweep.model.fields):
    L_blr = sed.external_compton_jet(nu, em, params, z_cm, which="blr", doppler=20, z=0.5)
    # angle-resolved: lab-frame geometry (sweep.model.external_rays), the blob's Γ and θ_obs
    from sweep.model import external_rays as rays
    blr = rays.shell_rays(0.1 * 1e46, 3e17, z_cm, nu0=2.47e15)       # ξL_d, R_BLR, Lyα
    L_ec = sed.external_compton_beamed(nu, em, blr, gamma_bulk=20, theta_obs=2.0, z=0.5)

Conventions (identical to the kinetic solver, ``sweep.model.kinetics``):
* comoving luminosity of escaping photons νL_ν = (4π/3) R² c hν² n(ν) with the escape-probability
  photon density n = ε̇/(c/R + c α): optically thin L_ν = 4π V j_ν, with SSA L_ν = 4πV j_ν/(1+τ),
  τ = α_ν R (``geometry="escape"``).  ``geometry="sphere"`` uses the homogeneous-sphere transfer
  solution instead, L_ν = 4πV j_ν · 3u(τ)/τ, u(τ) = ½ + e^{−τ}/τ − (1−e^{−τ})/τ², τ = 2α_νR
  (as in agnpy / Gould 1979).
* SSC targets are the blob's own synchrotron photons, n_syn = ε̇_syn/(c/R + c α_SSA).
* ``external_compton`` takes isotropic comoving u'_ν'(ν') arrays (targets only);
  ``external_compton_beamed`` takes lab-frame geometries and includes the angular structure of
  the comoving field and the observer's direction (issue 11).
* Observer frame (``sweep.model.observer``): ν = δν'/(1+z), νL_ν = δ⁴ν'L'_ν'; νF_ν = νL_ν/(4πd_L²)
  with astropy's cosmology (Planck18 unless given).  ``nu`` arguments are OBSERVER-frame
  frequencies (comoving ones when doppler = 1 and z = 0).
* Kernels are those of ``processes.synchrotron`` (exact pitch-angle average by default) and
  ``processes.compton`` (full Klein–Nishina, on the shared lattice of ``sweep.model.grids``);
  no formula is duplicated here.  ``gg_absorption=True`` attenuates the Compton components by
  1/(1+τ_γγ) on the blob's synchrotron (+ external) photons (``processes.pairs``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from . import constants as const
from .grids import make_grids
from .observer import nuFnu, to_observer
from .processes import compton, pairs
from .processes import synchrotron as _syn


@dataclass
class Emitter:
    """A homogeneous spherical blob holding the particle spectrum n_e(γ) [cm⁻³ per unit γ]."""

    gamma: np.ndarray
    n_e: np.ndarray
    R: float
    B: float

    def __post_init__(self):
        self.gamma = np.asarray(self.gamma, dtype=float)
        self.n_e = np.asarray(self.n_e, dtype=float)
        if self.gamma.ndim != 1 or self.gamma.shape != self.n_e.shape:
            raise ValueError("gamma and n_e must be 1-D arrays of the same length")
        if np.any(np.diff(self.gamma) <= 0) or self.gamma[0] < 1.0:
            raise ValueError("gamma must increase and be ≥ 1")

    @property
    def volume(self) -> float:
        return 4.0 * math.pi * self.R**3 / 3.0

    def weights(self) -> np.ndarray:
        """Particles per cm³ attributed to each node (trapezoid rule in γ)."""
        g = self.gamma
        w = np.zeros_like(g)
        d = np.diff(g)
        w[:-1] += 0.5 * d
        w[1:] += 0.5 * d
        return self.n_e * w

    def on_faces(self, gf: np.ndarray) -> np.ndarray:
        """n_e log-log interpolated onto the face lattice gf (0 outside the given range)."""
        pos = self.n_e > 0
        out = np.zeros_like(gf)
        if pos.sum() < 2:
            return out
        lg = np.log(self.gamma[pos])
        ok = (gf >= self.gamma[pos][0]) & (gf <= self.gamma[pos][-1])
        out[ok] = np.exp(np.interp(np.log(gf[ok]), lg, np.log(self.n_e[pos])))
        return out


def _comoving(nu, doppler, z):
    return np.asarray(nu, dtype=float) * (1.0 + z) / doppler


def _finish(nu_prime, nuLnu_prime, doppler, z, flux, cosmology):
    _, lum = to_observer(nu_prime, nuLnu_prime, doppler, z)
    if flux:
        return nuFnu(lum, z, cosmology)
    return lum


def _attenuation(tau, geometry):
    tau = np.asarray(tau, dtype=float)
    if geometry == "escape":
        return 1.0 / (1.0 + tau)
    if geometry == "sphere":
        t = 2.0 * tau
        out = np.ones_like(t)
        big = t > 1e-3
        tb = t[big]
        u = 0.5 + np.exp(-tb) / tb - (-np.expm1(-tb)) / tb**2
        out[big] = 3.0 * u / tb
        return out
    raise ValueError(f"geometry: value {geometry!r} is invalid; allowed: 'escape' or 'sphere'")


def synchrotron(nu, emitter: Emitter, *, ssa: bool = True, kernel: str = "exact",
                geometry: str = "escape", doppler: float = 1.0, z: float = 0.0,
                flux: bool = False, cosmology=None) -> np.ndarray:
    """Synchrotron νL_ν [erg/s] (or νF_ν with ``flux=True``) at observer frequencies ``nu``."""
    nup = _comoving(nu, doppler, z)
    P, G = _syn.power_per_hz(nup, emitter.gamma, emitter.B, kernel)
    nd = emitter.weights()
    L_nu = emitter.volume * (nd @ P)  # erg s⁻¹ Hz⁻¹
    if ssa:
        alpha = _syn.ssa_coefficient(nd, G, emitter.gamma, nup)
        L_nu = L_nu * _attenuation(alpha * emitter.R, geometry)
    return _finish(nup, nup * L_nu, doppler, z, flux, cosmology)


def _lattice(emitter: Emitter, ppd: int, fields=()):
    from .kinetics import ExternalField, _ext_range

    flds = [f if isinstance(f, ExternalField) else ExternalField(np.asarray(f[0]), np.asarray(f[1]))
            for f in fields]
    xlo, xhi = _ext_range(flds)
    g = make_grids(ppd, emitter.B, float(emitter.gamma[emitter.n_e > 0][-1]), x_min=xlo, x_max=xhi)
    gf = g.gamma_faces
    nf = emitter.on_faces(gf) * g.dE_faces
    return g, gf, nf, flds


def _syn_targets(g, gf, nf, emitter: Emitter, kernel: str):
    """Blob synchrotron photon density per unit x (escape-probability, with SSA)."""
    if emitter.B <= 0:
        return np.zeros_like(g.x)
    K, G, _, _ = _syn.emission_matrix(gf, g.x, g.dx, emitter.B, kernel)
    emis = _syn.emit(nf, K)
    alpha = _syn.ssa_coefficient(nf, G, gf, g.nu)
    return emis / (const.c / emitter.R + const.c * alpha)


def _compton_sed(nu, emitter, targets, g, gf, nf, gg_targets, gg_absorption, doppler, z, flux,
                 cosmology):
    tab = compton.table_for(g.ppd, len(gf), g.k0, len(g.x))
    emis = compton.emit(nf, gf, targets, g.x, g.dx, g.k0, *tab, 1e-14)
    lum = emitter.volume * g.x**2 * emis * const.m_e_c2  # comoving νL_ν, thin
    if gg_absorption:
        gg = pairs.GammaGamma(g)
        rate = pairs.absorption_rate(gg_targets, g.dx, gg.table)
        lum = lum / (1.0 + rate * emitter.R / const.c)
    nup = _comoving(nu, doppler, z)
    pos = lum > 0
    out = np.zeros_like(nup)
    if pos.sum() >= 2:
        lx = np.log(g.nu[pos])
        inside = (nup >= g.nu[pos][0]) & (nup <= g.nu[pos][-1])
        out[inside] = np.exp(np.interp(np.log(nup[inside]), lx, np.log(lum[pos])))
    return _finish(nup, out, doppler, z, flux, cosmology)


def ssc(nu, emitter: Emitter, *, kernel: str = "exact", ppd: int = 20, gg_absorption: bool = False,
        doppler: float = 1.0, z: float = 0.0, flux: bool = False, cosmology=None) -> np.ndarray:
    """Synchrotron self-Compton νL_ν [erg/s] (first order, full KN) at observer frequencies."""
    g, gf, nf, _ = _lattice(emitter, ppd)
    n_syn = _syn_targets(g, gf, nf, emitter, kernel)
    return _compton_sed(nu, emitter, n_syn, g, gf, nf, n_syn, gg_absorption, doppler, z, flux,
                        cosmology)


def external_compton(nu, emitter: Emitter, fields: Sequence, *, ppd: int = 20,
                     gg_absorption: bool = False, kernel: str = "exact", doppler: float = 1.0,
                     z: float = 0.0, flux: bool = False, cosmology=None) -> np.ndarray:
    """IC on isotropic COMOVING external fields, each (ν' [Hz], u'_ν' [erg cm⁻³ Hz⁻¹]) or a
    ``kinetics.ExternalField``; νL_ν [erg/s] at observer frequencies."""
    from .kinetics import _external_density

    g, gf, nf, flds = _lattice(emitter, ppd, fields)
    n_ext = _external_density(flds, g.x, g.dx)
    gg_t = n_ext + (_syn_targets(g, gf, nf, emitter, kernel) if gg_absorption else 0.0)
    return _compton_sed(nu, emitter, n_ext, g, gf, nf, gg_t, gg_absorption, doppler, z, flux,
                        cosmology)


def _beaming(gamma_bulk, theta_obs, doppler):
    """(δ, cos θ′_obs) from Γ and either θ_obs [deg] or δ."""
    if gamma_bulk is None or gamma_bulk < 1.0:
        raise ValueError(f"gamma_bulk: value {gamma_bulk!r} is invalid; allowed: ≥ 1")
    beta = math.sqrt(max(0.0, 1.0 - 1.0 / gamma_bulk**2))
    if (theta_obs is None) == (doppler is None):
        raise ValueError("theta_obs / doppler: give exactly one of them")
    if theta_obs is not None:
        if not 0.0 <= theta_obs <= 180.0:
            raise ValueError(f"theta_obs: value {theta_obs!r} is invalid; allowed: 0–180 degrees")
        mu = math.cos(math.radians(theta_obs))
        doppler = 1.0 / (gamma_bulk * (1.0 - beta * mu))
    else:
        lo, hi = 1.0 / (gamma_bulk * (1.0 + beta)), 1.0 / (gamma_bulk * (1.0 - beta)) if beta < 1 else np.inf
        if not lo * (1 - 1e-12) <= doppler <= hi * (1 + 1e-12):
            raise ValueError(f"doppler: value {doppler!r} is invalid for gamma_bulk={gamma_bulk}; "
                             f"allowed: {lo:.4g}–{hi:.4g}")
        mu = min(1.0, max(-1.0, (1.0 - 1.0 / (gamma_bulk * doppler)) / beta)) if beta > 0 else 1.0
    mu_p = (mu - beta) / (1.0 - beta * mu)
    return float(doppler), float(mu_p)


def external_compton_beamed(nu, emitter: Emitter, rays, *, gamma_bulk: float,
                            theta_obs: float | None = None, doppler: float | None = None,
                            angles: str = "exact", ppd: int = 20, z: float = 0.0,
                            flux: bool = False, cosmology=None) -> np.ndarray:
    """EC of a blob moving along the jet axis with bulk Lorentz factor ``gamma_bulk`` on
    LAB-FRAME target rays (``sweep.model.external_rays``: ``shell_rays``, ``ring_rays``,
    ``ss_disc_rays``, ``point_source_rays``, ``jet_rays(params, z)[...]``, or a list of them,
    built for the blob's distance), seen at ``theta_obs`` [deg] (or Doppler factor ``doppler``);
    νL_ν [erg/s] (νF_ν with ``flux=True``) at observer frequencies ``nu``.

    ``angles="exact"``: the comoving targets are beamed; emission toward the comoving line of
    sight with the angle-dependent Klein–Nishina kernel (``processes.external_compton``).
    ``angles="isotropic"``: the paper's approximation (the same comoving u′_ν′, isotropic)."""
    from .external_rays import comoving_on_lattice
    from .processes import external_compton as ecp

    if angles not in ("exact", "isotropic"):
        raise ValueError(f"angles: value {angles!r} is invalid; allowed: 'exact', 'isotropic'")
    delta, mu_obs = _beaming(gamma_bulk, theta_obs, doppler)
    # lattice: photon range from the comoving rays (a provisional wide range first)
    g0 = make_grids(ppd, emitter.B, float(emitter.gamma[emitter.n_e > 0][-1]), x_min=1e-12, x_max=1e-2)
    mu, N = comoving_on_lattice(rays, gamma_bulk, g0.x, g0.dx, ppd)
    tot = N.sum(axis=0) * g0.x
    sel = tot > 1e-12 * tot.max()
    g = make_grids(ppd, emitter.B, float(emitter.gamma[emitter.n_e > 0][-1]),
                   x_min=float(g0.x[sel][0]) / 10 ** (1.0 / ppd), x_max=float(g0.x[sel][-1]) * 10 ** (1.0 / ppd))
    mu, N = comoving_on_lattice(rays, gamma_bulk, g.x, g.dx, ppd)
    gf = g.gamma_faces
    nf = emitter.on_faces(gf) * g.dE_faces
    n_iso = N.sum(axis=0) / g.dx
    tab = compton.table_for(g.ppd, len(gf), g.k0, len(g.x))
    emis = compton.emit(nf, gf, n_iso, g.x, g.dx, g.k0, *tab, 1e-14)
    if angles == "exact":
        emis = emis * ecp.angular_factor(nf, gf, g.x, g.dx, g.k0, ppd, mu, N, mu_obs)
    lum = emitter.volume * g.x**2 * emis * const.m_e_c2
    nup = _comoving(nu, delta, z)
    pos = lum > 0
    out = np.zeros_like(nup)
    if pos.sum() >= 2:
        inside = (nup >= g.nu[pos][0]) & (nup <= g.nu[pos][-1])
        out[inside] = np.exp(np.interp(np.log(nup[inside]), np.log(g.nu[pos]), np.log(lum[pos])))
    return _finish(nup, out, delta, z, flux, cosmology)


def external_compton_jet(nu, emitter: Emitter, params, z_cm: float, which: str = "blr",
                         gamma_bulk: float | None = None, theta_obs: float | None = None,
                         angles: str | None = None, **kw) -> np.ndarray:
    """EC on the jet model's disc ('disc'), broad-line region ('blr') or torus ('dt') at
    distance ``z_cm``.  Without ``theta_obs``: the isotropic comoving field
    (``sweep.model.fields.external_fields``), keywords as ``external_compton``.  With
    ``theta_obs`` [deg]: the observer-frame SED at that angle (δ from Γ and θ_obs), the field's
    angular structure included (``angles="exact"``, default) or not (``"isotropic"``); keywords
    as ``external_compton_beamed``.  ``gamma_bulk`` defaults to the jet's Γ(z)."""
    from .fields import FIELD_NAMES, external_fields

    if which not in FIELD_NAMES:
        raise ValueError(f"which: value {which!r} is invalid; allowed: {FIELD_NAMES}")
    if theta_obs is None:
        if angles not in (None, "isotropic"):
            raise ValueError("angles: 'exact' needs theta_obs (the direction of the observer)")
        nu_p = np.logspace(9, 20, 331)
        u = external_fields(params, np.atleast_1d(float(z_cm)), nu_p, gamma=gamma_bulk)[which]
        return external_compton(nu, emitter, [(nu_p, np.asarray(u).reshape(-1))], **kw)
    from .external_rays import jet_rays

    if gamma_bulk is None:
        from .jet import lorentz_factor
        gamma_bulk = float(lorentz_factor(params, np.atleast_1d(float(z_cm)))[0])
    rays = jet_rays(params, float(z_cm))[which]
    return external_compton_beamed(nu, emitter, rays, gamma_bulk=gamma_bulk, theta_obs=theta_obs,
                                   angles=angles or "exact", **kw)


__all__ = ["Emitter", "synchrotron", "ssc", "external_compton", "external_compton_beamed",
           "external_compton_jet"]
