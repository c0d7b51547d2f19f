"""Comoving external photon fields: Shakura–Sunyaev disc, BLR and dusty torus (model.md §3).

All functions are vectorised over the distance z (shape (nz,)) and return arrays of shape
(nz, nnu) for spectra, (nz,) for bolometric values.  Scalars z are accepted (treated as (1,)).

Convention (what the kinetic solver receives)
---------------------------------------------
``u_nu`` is the comoving, angle-averaged (isotropic) *specific energy density*
u'_ν'(ν') [erg cm⁻³ Hz⁻¹].  The photon number density per unit frequency is
dN'/dV'dν' = u'_ν'/(hν') [cm⁻³ Hz⁻¹]; per unit dimensionless energy x = hν'/(m_e c²) it is
n'(x) = u'_ν' m_e c² / (h · hν') = u'_ν' (m_e c²)/(h² ν') [cm⁻³].  ∫u'_ν' dν' = u' (bolometric).
These fields are targets only: they do not escape and are not part of the output SED.

Equations
---------
* Disc (Eqs. 31–32): T⁴(R) = 3GMṀ/(8πσ_SB R³)[1 − (R_in/R)^½],  Ṁ = L_d/(η_rad c²),
  u'_ν'(ν') = (2π/c) ∫dμ Γ(1−βμ) B_ν(ν'/[Γ(1−βμ)]; T(R(μ))),  μ = z/√(z²+R²).
  Integrated over ln R ∈ [ln R_in, ln R_out] with Gauss–Legendre nodes (dμ = zR dR/(z²+R²)^{3/2}).
  Bolometric: (2π/c)∫dμ Γ²(1−βμ)² σ_SB T⁴/π.
* BLR (Eqs. 33–36): thin shell R_BLR = r_blr_1e45_cm (L_d/1e45)^½ over the upper hemisphere with
  I = ξ_BLR L_d cosθ_i/(8π²R_BLR²).  For a photon direction μ the emission point is at path
  length s with s² − 2zμs + z² − R_BLR² = 0 and cosθ_i = (z − sμ)/R_BLR; roots with s > 0 and
  cosθ_i ≥ 0 are summed.  Analytically: z < R_BLR → root s₊ on μ ∈ [−1, μ₁];
  z ≥ R_BLR → s₋ on [μ*, 1] plus s₊ on [μ*, μ₁], μ₁ = z/√(z²+R²), μ* = √(1−R²/z²).
  Each μ segment uses Gauss–Legendre with a square-root substitution at μ* (where ds/dμ is
  singular).  Spectrum S: blackbody at the disc T_max (default) or the Lyα line treated as a
  δ-function in ν, whose comoving spectrum is then analytic:
  u'_ν'(ν') = (2π/c) Σ_roots I(μ₀) D³/(ν' Γβ),  D = ν'/ν_line, μ₀ = (1 − D/Γ)/β.
* Torus (Eq. 37): u'_DT = Γ² ξ_DT L_d/(4πR_DT²c) for z < R_DT, 0 beyond; comoving grey body:
  blackbody shape at T' = ΓT_DT normalised to u'_DT.
* Crossover (Eq. 19): z_× = [0.83 R_g R_BLR²/ξ_BLR]^⅓ (analytic) and the numerical root of
  u'_AD(z) = u'_BLR(z) along the jet Γ(z).
"""
from __future__ import annotations

import math

import numpy as np

from . import constants as const
from .params import JetParameters

_N_DISC = 96  # GL nodes in ln R for the disc
_N_BLR = 48  # GL nodes per μ segment for the BLR
_XD, _WD = np.polynomial.legendre.leggauss(_N_DISC)
_XB, _WB = np.polynomial.legendre.leggauss(_N_BLR)


# ------------------------------------------------------------------------------------------
# engine quantities
# ------------------------------------------------------------------------------------------
def disc_luminosity(params: JetParameters) -> float:
    """L_d = ṁ L_Edd [erg/s] (§1, Eqs. 8–9)."""
    return params.mdot * const.eddington_luminosity(params.mass_g)


def r_blr_cm(params: JetParameters) -> float:
    """R_BLR = r_blr_1e45_cm (L_d/1e45)^½ [cm] (GT09)."""
    return params.r_blr_1e45_cm * math.sqrt(disc_luminosity(params) / 1e45)


def r_dt_cm(params: JetParameters) -> float:
    """R_DT = r_dt_1e45_cm (L_d/1e45)^½ [cm] (GT09)."""
    return params.r_dt_1e45_cm * math.sqrt(disc_luminosity(params) / 1e45)


def _mdot_gs(params: JetParameters) -> float:
    return disc_luminosity(params) / (params.eta_rad * const.c**2)


def disc_temperature(params: JetParameters, r_cm) -> np.ndarray:
    """Shakura–Sunyaev T(R) [K] (Eq. 31); 0 inside R_in."""
    r = np.asarray(r_cm, dtype=float)
    rs = const.schwarzschild_radius(params.mass_g)
    rin = params.r_in_rs * rs
    fac = 3.0 * const.G * params.mass_g * _mdot_gs(params) / (8.0 * math.pi * const.sigma_SB)
    with np.errstate(invalid="ignore", divide="ignore"):
        t4 = fac / r**3 * np.clip(1.0 - np.sqrt(rin / r), 0.0, None)
    return np.where(r > rin, t4, 0.0) ** 0.25


def disc_t_max(params: JetParameters) -> float:
    """Maximum disc temperature, at R = (49/36) R_in [K]."""
    rs = const.schwarzschild_radius(params.mass_g)
    return float(disc_temperature(params, 49.0 / 36.0 * params.r_in_rs * rs))


def _planck_nu(nu, t):
    """Planck intensity B_ν(T) [erg s⁻¹ cm⁻² Hz⁻¹ sr⁻¹]; safe for T = 0 and large hν/kT."""
    nu, t = np.broadcast_arrays(np.asarray(nu, dtype=float), np.asarray(t, dtype=float))
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        x = const.h * nu / (const.k_B * t)
        ok = (t > 0) & (x < 700.0)
        out = np.zeros(x.shape)
        # evaluated where it is not zero only (most of a wide lattice lies in the Wien cut-off)
        out[ok] = 2.0 * const.h * nu[ok] ** 3 / const.c**2 / np.expm1(x[ok])
    return out


def _prep(z_cm, gamma):
    z = np.atleast_1d(np.asarray(z_cm, dtype=float))
    g = np.broadcast_to(np.asarray(gamma, dtype=float), z.shape).astype(float)
    b = np.sqrt(np.clip(1.0 - 1.0 / g**2, 0.0, None))
    return z, g, b


def _disc_nodes(params, z):
    """(μ, weight dμ, T) of the disc quadrature, shape (nz, n)."""
    rs = const.schwarzschild_radius(params.mass_g)
    lo, hi = math.log(params.r_in_rs * rs), math.log(params.r_out_rs * rs)
    lnr = 0.5 * (hi - lo) * _XD + 0.5 * (hi + lo)
    r = np.exp(lnr)
    w = 0.5 * (hi - lo) * _WD * r  # dR
    zz = z[:, None]
    d2 = zz**2 + r[None, :] ** 2
    mu = zz / np.sqrt(d2)
    dmu = w[None, :] * zz * r[None, :] / d2**1.5
    t = disc_temperature(params, r)[None, :]
    return mu, dmu, np.broadcast_to(t, mu.shape)


def disc_u_nu(params: JetParameters, z_cm, gamma, nu_prime) -> np.ndarray:
    """Comoving disc spectrum u'_ν'(ν') [erg cm⁻³ Hz⁻¹], shape (nz, nnu) (Eq. 32)."""
    z, g, b = _prep(z_cm, gamma)
    nu = np.asarray(nu_prime, dtype=float)
    mu, dmu, t = _disc_nodes(params, z)
    d = g[:, None] * (1.0 - b[:, None] * mu)  # Γ(1−βμ), (nz, n)
    bnu = _planck_nu(nu[None, None, :] / d[:, :, None], t[:, :, None])
    return 2.0 * math.pi / const.c * np.einsum("zn,znf->zf", dmu * d, bnu)


def disc_u(params: JetParameters, z_cm, gamma) -> np.ndarray:
    """Comoving bolometric disc energy density u'_AD [erg cm⁻³], shape (nz,)."""
    z, g, b = _prep(z_cm, gamma)
    mu, dmu, t = _disc_nodes(params, z)
    d = g[:, None] * (1.0 - b[:, None] * mu)
    return 2.0 / const.c * np.sum(dmu * d**2 * const.sigma_SB * t**4, axis=1)


# ------------------------------------------------------------------------------------------
# BLR
# ------------------------------------------------------------------------------------------
def _gl_segment(a, bnd, sqrt_at_a: bool):
    """GL nodes/weights on [a, b] (arrays (nz,)); optional μ = a + (b−a)t² substitution."""
    a = a[:, None]
    bnd = bnd[:, None]
    if sqrt_at_a:
        t = 0.5 * (_XB + 1.0)  # t in (0,1)
        mu = a + (bnd - a) * t**2
        w = (bnd - a) * 2.0 * t * 0.5 * _WB
    else:
        mu = 0.5 * (bnd - a) * _XB + 0.5 * (bnd + a)
        w = 0.5 * (bnd - a) * _WB
    return mu, np.broadcast_to(w, mu.shape)


def _blr_nodes(params, z):
    """List of (μ, dμ, I(μ)) arrays (nz, n) of the BLR quadrature, one per root branch."""
    rb = r_blr_cm(params)
    i0 = params.xi_blr * disc_luminosity(params) / (8.0 * math.pi**2 * rb**2)
    mu1 = z / np.sqrt(z**2 + rb**2)
    inside = z < rb
    with np.errstate(invalid="ignore"):
        mustar = np.where(inside, -1.0, np.sqrt(np.clip(1.0 - rb**2 / z**2, 0.0, None)))
    out = []
    # branch 1: s_plus. inside: μ ∈ [−1, μ1]; outside: [μ*, μ1]
    mu, w = _gl_segment(mustar, mu1, sqrt_at_a=True)
    zz = z[:, None]
    disc = np.sqrt(np.clip(zz**2 * mu**2 - zz**2 + rb**2, 0.0, None))
    s = zz * mu + disc
    cos_i = np.clip((zz - s * mu) / rb, 0.0, 1.0)
    out.append((mu, w, i0 * cos_i))
    # branch 2 (outside only): s_minus on [μ*, 1]
    lo = np.where(inside, 1.0, mustar)
    mu, w = _gl_segment(lo, np.ones_like(z), sqrt_at_a=True)
    disc = np.sqrt(np.clip(zz**2 * mu**2 - zz**2 + rb**2, 0.0, None))
    s = zz * mu - disc
    cos_i = np.clip((zz - s * mu) / rb, 0.0, 1.0)
    out.append((mu, w * (~inside)[:, None], i0 * cos_i))
    return out


def blr_u(params: JetParameters, z_cm, gamma) -> np.ndarray:
    """Comoving bolometric BLR energy density u'_BLR [erg cm⁻³] (Eq. 35), shape (nz,)."""
    z, g, b = _prep(z_cm, gamma)
    tot = np.zeros_like(z)
    for mu, w, inten in _blr_nodes(params, z):
        d = g[:, None] * (1.0 - b[:, None] * mu)
        tot += np.sum(w * d**2 * inten, axis=1)
    return 2.0 * math.pi / const.c * tot


def blr_u_nu(params: JetParameters, z_cm, gamma, nu_prime) -> np.ndarray:
    """Comoving BLR spectrum u'_ν'(ν') [erg cm⁻³ Hz⁻¹], shape (nz, nnu) (Eq. 34)."""
    z, g, b = _prep(z_cm, gamma)
    nu = np.asarray(nu_prime, dtype=float)
    if params.blr_spectrum == "blackbody":
        tmax = disc_t_max(params)
        norm = math.pi / (const.sigma_SB * tmax**4)  # S(ν) = πB_ν/(σT⁴), ∫S dν = 1
        tot = np.zeros((z.size, nu.size))
        for mu, w, inten in _blr_nodes(params, z):
            d = g[:, None] * (1.0 - b[:, None] * mu)
            s = norm * _planck_nu(nu[None, None, :] / d[:, :, None], tmax)
            tot += np.einsum("zn,znf->zf", w * d * inten, s)
        return 2.0 * math.pi / const.c * tot
    # Lyα as a δ line: u'_ν' = (2π/c) Σ I(μ0) D³/(ν' Γβ) at D = ν'/ν_line
    nu_l = params.blr_line_ev * const.eV / const.h
    rb = r_blr_cm(params)
    i0 = params.xi_blr * disc_luminosity(params) / (8.0 * math.pi**2 * rb**2)
    bb = np.maximum(b, 1e-8)[:, None]
    gg = g[:, None]
    dd = nu[None, :] / nu_l
    mu0 = (1.0 - dd / gg) / bb
    zz = z[:, None]
    valid = (mu0 >= -1.0) & (mu0 <= 1.0)
    mu0c = np.clip(mu0, -1.0, 1.0)
    disc2 = zz**2 * mu0c**2 - zz**2 + rb**2
    sq = np.sqrt(np.clip(disc2, 0.0, None))
    inten = np.zeros_like(mu0c)
    for sgn in (1.0, -1.0):
        s = zz * mu0c + sgn * sq
        cos_i = (zz - s * mu0c) / rb
        ok = valid & (disc2 >= 0) & (s > 0) & (cos_i >= 0)
        inten += np.where(ok, i0 * np.clip(cos_i, 0.0, 1.0), 0.0)
    return 2.0 * math.pi / const.c * inten * dd**3 / (nu[None, :] * gg * bb)


# ------------------------------------------------------------------------------------------
# dusty torus
# ------------------------------------------------------------------------------------------
def dt_u(params: JetParameters, z_cm, gamma) -> np.ndarray:
    """u'_DT = Γ² ξ_DT L_d/(4πR_DT²c) for z < R_DT, else 0 [erg cm⁻³] (Eq. 37)."""
    z, g, _ = _prep(z_cm, gamma)
    rdt = r_dt_cm(params)
    u0 = params.xi_dt * disc_luminosity(params) / (4.0 * math.pi * rdt**2 * const.c)
    return np.where(z < rdt, g**2 * u0, 0.0)


def dt_u_nu(params: JetParameters, z_cm, gamma, nu_prime) -> np.ndarray:
    """Comoving torus grey body [erg cm⁻³ Hz⁻¹]: πB_ν(ν'; ΓT_DT)/(σT'⁴) × u'_DT, shape (nz, nnu)."""
    z, g, _ = _prep(z_cm, gamma)
    nu = np.asarray(nu_prime, dtype=float)
    tp = g * params.t_dt_k
    shape = math.pi * _planck_nu(nu[None, :], tp[:, None]) / (const.sigma_SB * tp[:, None] ** 4)
    return dt_u(params, z, g)[:, None] * shape


# ------------------------------------------------------------------------------------------
# all fields
# ------------------------------------------------------------------------------------------
FIELD_NAMES = ("disc", "blr", "dt")


def external_fields(params: JetParameters, z_cm, nu_prime, gamma) -> dict[str, np.ndarray]:
    """{'disc','blr','dt'} → u'_ν' [erg cm⁻³ Hz⁻¹], shape (nz, nnu), for a blob moving with bulk
    Lorentz factor ``gamma`` (shape (nz,); the jet model's Γ(z) is ``jet.lorentz_factor``: this
    module knows the photon fields, not the jet, so the caller passes it).
    """
    return {"disc": disc_u_nu(params, z_cm, gamma, nu_prime),
            "blr": blr_u_nu(params, z_cm, gamma, nu_prime),
            "dt": dt_u_nu(params, z_cm, gamma, nu_prime)}


def u_bolometric(params: JetParameters, z_cm, gamma) -> dict[str, np.ndarray]:
    """{'disc','blr','dt'} → bolometric comoving energy densities [erg cm⁻³], shape (nz,), for a
    blob with bulk Lorentz factor ``gamma`` (shape (nz,))."""
    return {"disc": disc_u(params, z_cm, gamma), "blr": blr_u(params, z_cm, gamma),
            "dt": dt_u(params, z_cm, gamma)}


def default_nu_grid(params: JetParameters, n_per_decade: int = 8) -> np.ndarray:
    """Comoving frequency grid covering all three fields for Γ ≤ Γmax [Hz]."""
    gmax = max(params.gamma_max_eff, params.gamma0)
    lo = 1e-3 * const.k_B * params.t_dt_k / const.h / (2.0 * gmax)
    hi = 60.0 * const.k_B * max(disc_t_max(params), params.blr_line_ev * const.eV / const.k_B) / const.h * 2.0 * gmax
    n = int(math.ceil(math.log10(hi / lo) * n_per_decade)) + 1
    return np.logspace(math.log10(lo), math.log10(hi), n)


def crossover_analytic(params: JetParameters) -> float:
    """Eq. 19: z_× = [0.83 R_g R_BLR²/ξ_BLR]^⅓ [cm] (DM09 near-zone scalings; ±30 %)."""
    rg = 0.5 * const.schwarzschild_radius(params.mass_g)
    return (0.83 * rg * r_blr_cm(params) ** 2 / params.xi_blr) ** (1.0 / 3.0)
