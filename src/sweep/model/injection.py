"""Reconnection injection (model.md §2; Eqs. 14–18, 23–27): p(σ), L'_inj, γ_min, γ_max, Q'(γ).

Interface
---------
* ``p_of_sigma(sigma, params)`` — Table 1 polynomial with clamps.
* ``injection_luminosity(params, gamma, beta, B, R)`` — total comoving L'_inj [erg/s] (Eq. 26,
  or the jet-cone option of Eq. 25); species split with ``params.f_split_pairs``.
* ``mean_gamma_targets(params, sigma)`` — ⟨γ_±⟩, ⟨γ_p⟩ of Eq. 15 for p < 2.
* ``gamma_min_from_mean(mean, gmax, p, floor)`` — exact root of ⟨γ⟩(γ_min, γ_max, p) = mean.
* ``gamma_max_pairs(...)`` / ``gamma_max_protons(...)`` — Eq. 18 minima with their components; the
  pair radiation limit includes IC losses on external fields with the exact KN correction,
  u'_rad,KN(γ) = ∫u'_ν' f_KN(4γhν'/m_ec²) dν', solved self-consistently for γ.
* ``injection_spectrum(gamma, lum, radius, mass, shape=..., ...)`` → Q'(γ) [cm⁻³ s⁻¹] with
  V' m c² ∫γQ'dγ = L' (V' = 4πR³/3); shapes: ``power_law`` (sharp cut-offs, Eq. 14),
  ``broken_power_law``, ``power_law_exp_cutoff``.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from . import constants as const
from .params import JetParameters
from .processes.klein_nishina import f_kn, f_kn_array

# Table 1 coefficients, a6 ... a0 (x = log10 σ)
P_SIGMA_COEFFS = (0.059452, -0.434136, 0.962786, -0.315536, -0.833513, -0.388311, 2.584913)


def p_polynomial(sigma) -> np.ndarray:
    """Raw Table 1 polynomial p(σ) (no clamps)."""
    x = np.log10(np.asarray(sigma, dtype=float))
    return np.polyval(P_SIGMA_COEFFS, x)


def p_of_sigma(sigma, params: JetParameters | None = None) -> np.ndarray:
    """Power-law index p(σ) (§2.1) with clamps: σ < σ_p_min → p(σ_p_min) (the fit diverges below
    0.1); σ > σ_p_max → p_high_sigma (text: "for σ > X we set p = Y"; X = 1e3, Y = 1.2 [P])."""
    p = params or JetParameters()
    s = np.asarray(sigma, dtype=float)
    val = p_polynomial(np.clip(s, p.sigma_p_min, None))
    return np.where(s > p.sigma_p_max, p.p_high_sigma, val)


# ------------------------------------------------------------------------------------------
# injection luminosity (Appendix A)
# ------------------------------------------------------------------------------------------
def poynting_luminosity_eq23(gamma, beta, B, R, theta_j) -> np.ndarray:
    """Eq. 23: L_P = βcΓ²B'²r²(1 − cosθ_j)/2, r = R/sinθ_j [erg/s]."""
    th = np.asarray(theta_j, dtype=float)
    sky = np.where(th > 1e-4, (1.0 - np.cos(th)) / np.sin(th) ** 2, 0.5 + th**2 / 8.0)
    return beta * const.c * gamma**2 * B**2 * R**2 * sky / 2.0


def lab_to_comoving_factor(gamma, beta, theta_j, domain: str = "4pi") -> np.ndarray:
    """L_inj / L'_inj = ∫ δ(θ)⁴ dΩ/4π over the domain (Eq. 25).

    '4pi': Γ²(1 + β²/3) (Eq. 26); 'cone' (|θ| ≤ θ_j): [(1−β)⁻³ − (1−βcosθ_j)⁻³]/(6βΓ⁴),
    with the β → 0 limit (1 − cosθ_j)/2."""
    gamma = np.asarray(gamma, dtype=float)
    beta = np.asarray(beta, dtype=float)
    if domain == "4pi":
        return gamma**2 * (1.0 + beta**2 / 3.0)
    if domain != "cone":
        raise ValueError(f"linj_domain: value {domain!r} is invalid; allowed: '4pi', 'cone'")
    th = np.asarray(theta_j, dtype=float)
    bs = np.where(beta > 1e-8, beta, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        fac = ((1.0 - bs) ** -3 - (1.0 - bs * np.cos(th)) ** -3) / (6.0 * bs * gamma**4)
    return np.where(beta > 1e-8, fac, (1.0 - np.cos(th)) / 2.0)


def injection_luminosity(params: JetParameters, gamma, beta, B, R) -> np.ndarray:
    """Total comoving L'_inj [erg/s] = f_rec L_P(Eq. 23) / (∫δ⁴dΩ/4π): Eq. 26 for domain '4pi',
    the jet-cone option of Eq. 25 for 'cone'."""
    gamma = np.asarray(gamma, dtype=float)
    beta = np.asarray(beta, dtype=float)
    theta_j = math.radians(params.theta_app_deg) / gamma
    l_lab = params.f_rec * poynting_luminosity_eq23(gamma, beta, B, R, theta_j)
    return l_lab / lab_to_comoving_factor(gamma, beta, theta_j, params.linj_domain)


# ------------------------------------------------------------------------------------------
# γ_min (Eq. 15)
# ------------------------------------------------------------------------------------------
def _int_pow(a, b, s):
    """∫_a^b γ^s dγ (vectorised; log for s = −1)."""
    s1 = s + 1.0
    small = np.abs(s1) < 1e-9
    s1s = np.where(small, 1.0, s1)
    return np.where(small, np.log(b / a), (b**s1s - a**s1s) / s1s)


def mean_lorentz_factor(gmin, gmax, p) -> np.ndarray:
    """⟨γ⟩ = ∫γ^{1−p}dγ / ∫γ^{−p}dγ over [γ_min, γ_max] (exact, any p)."""
    gmin, gmax, p = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (gmin, gmax, p)))
    return _int_pow(gmin, gmax, 1.0 - p) / _int_pow(gmin, gmax, -p)


def mean_gamma_targets(params: JetParameters, sigma) -> tuple[np.ndarray, np.ndarray]:
    """⟨γ_±⟩, ⟨γ_p⟩ for p < 2 (Eq. 15, [P]).

    'equal_energy': ⟨γ_±⟩ = f_rec σ (m_p+κm_e)/(2κm_e), ⟨γ_p⟩ = f_rec σ (m_p+κm_e)/(2m_p).
    'electron_proton' (P23/Rueda-Becerril): ⟨γ_e⟩ = f_rec σ m_p/m_e, ⟨γ_p⟩ as above.
    (For κ = 0 the pair value is taken per proton-mass as in 'electron_proton'.)
    """
    s = np.asarray(sigma, dtype=float)
    rho_per_p = const.m_p + params.kappa * const.m_e
    gp = params.f_rec * s * rho_per_p / (2.0 * const.m_p)
    if params.mean_gamma == "equal_energy" and params.kappa > 0:
        ge = params.f_rec * s * rho_per_p / (2.0 * params.kappa * const.m_e)
    else:
        ge = params.f_rec * s * const.m_p / const.m_e
    return ge, gp


@njit(cache=True)
def _mean_scalar(a, b, p):
    """⟨γ⟩ over [a, b] for index p (scalar ``mean_lorentz_factor``)."""
    s1 = 2.0 - p
    num = math.log(b / a) if abs(s1) < 1e-9 else (b**s1 - a**s1) / s1
    s1 = 1.0 - p
    den = math.log(b / a) if abs(s1) < 1e-9 else (b**s1 - a**s1) / s1
    return num / den


@njit(cache=True)
def _bisect_mean(mean, gmax, p, lo, hi, n_iter):
    lo = lo.copy()
    hi = hi.copy()
    for i in range(mean.size):
        a, b = lo[i], hi[i]
        for _ in range(n_iter):
            mid = 0.5 * (a + b)
            if _mean_scalar(math.exp(mid), gmax[i], p[i]) > mean[i]:
                b = mid
            else:
                a = mid
        lo[i], hi[i] = a, b
    return lo, hi


def gamma_min_from_mean(mean, gmax, p, floor=1.0, n_iter: int = 100) -> np.ndarray:
    """γ_min such that ⟨γ⟩(γ_min, γ_max, p) = mean, bounded below by ``floor`` (Eq. 15, exact).

    ⟨γ⟩ is monotonic in γ_min, so a vectorised bisection in ln γ_min is used (100 halvings of
    the bracket [ln floor, ln γ_max] → relative precision ≪ 1e-12).  Returns ``floor`` where the
    target is below ⟨γ⟩(floor), and γ_max where the target is ≥ γ_max (unreachable).
    """
    mean, gmax, p = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (mean, gmax, p)))
    floor = np.broadcast_to(np.asarray(floor, dtype=float), mean.shape)
    lo = np.log(floor).copy()
    hi = np.log(np.maximum(gmax, floor)).copy()
    # the bisection itself runs compiled, element by element (the same halvings as the array
    # form it replaces: 100 numpy passes per call were ~2 ms of every cell's set-up)
    lo, hi = _bisect_mean(np.ascontiguousarray(mean, dtype=float).ravel(),
                          np.ascontiguousarray(gmax, dtype=float).ravel(),
                          np.ascontiguousarray(p, dtype=float).ravel(), lo.ravel(), hi.ravel(), n_iter)
    lo, hi = lo.reshape(mean.shape), hi.reshape(mean.shape)
    g = np.exp(0.5 * (lo + hi))
    g = np.where(mean_lorentz_factor(floor, gmax, p) >= mean, floor, g)
    return np.where(mean >= gmax, gmax, g)


def gamma_min(params: JetParameters, p, mean, gmax, floor) -> np.ndarray:
    """Eq. 15: γ_min = floor (params.gamma_min_e/p) for p ≥ 2, exact ⟨γ⟩ root for p < 2."""
    p = np.asarray(p, dtype=float)
    g = gamma_min_from_mean(mean, gmax, p, floor)
    return np.where(p < 2.0, g, floor)


# ------------------------------------------------------------------------------------------
# γ_max (Eqs. 16–18)
# ------------------------------------------------------------------------------------------
def gamma_max_reconnection(params: JetParameters, B, R, mass) -> np.ndarray:
    """Eq. 16: γ_rec = e β_rec B' ℓ/(m c²), ℓ = l_rec_over_r · R."""
    return const.e * params.beta_rec * B * params.l_rec_over_r * R / (mass * const.c**2)


def gamma_max_escape(params: JetParameters, B, R, mass) -> np.ndarray:
    """t'_acc = R/c: γ_esc = e B' R/(η_acc m c²) (Eq. 29)."""
    return const.e * B * R / (params.eta_acc * mass * const.c**2)


def gamma_rad_protons(params: JetParameters, B) -> np.ndarray:
    """Proton-synchrotron limit (m_p/m_e)[6πe/(η_acc σ_T B')]^½."""
    return const.m_p / const.m_e * np.sqrt(6.0 * math.pi * const.e / (params.eta_acc * const.sigma_T * B))


def u_rad_kn(gamma, nu, u_nu) -> np.ndarray:
    """KN-weighted energy density ∫u_ν f_KN(4γhν/m_ec²) dν [erg cm⁻³] (trapezoid in ln ν).

    gamma: (nz,), nu: (nnu,), u_nu: (nz, nnu) → (nz,)."""
    g = np.atleast_1d(np.asarray(gamma, dtype=float))
    nu = np.asarray(nu, dtype=float)
    b = 4.0 * g[:, None] * const.h * nu[None, :] / const.m_e_c2
    y = u_nu * nu[None, :] * f_kn_array(b)
    return np.trapezoid(y, np.log(nu), axis=1)


def gamma_rad_pairs(params: JetParameters, B, nu=None, u_nu=None, n_iter: int = 60) -> np.ndarray:
    """Pair radiation limit γ_rad,e = [6πe/(η_acc σ_T B'(1 + u'_rad,KN(γ)/u'_B))]^½ (Eq. 18),
    solved self-consistently: γ²(1 + u_KN(γ)/u_B) is increasing in γ, so bisection in ln γ
    (60 halvings of a bracket of ≤ 40 e-folds → 1e-16 relative).  Without fields: synchrotron only."""
    B = np.atleast_1d(np.asarray(B, dtype=float))
    a = 6.0 * math.pi * const.e / (params.eta_acc * const.sigma_T * B)
    g_syn = np.sqrt(a)
    if u_nu is None:
        return g_syn
    u_b = B**2 / (8.0 * math.pi)
    hi = np.log(g_syn)
    lo = np.zeros_like(hi)  # γ ≥ 1
    nu = np.ascontiguousarray(nu, dtype=float)
    u_nu = np.ascontiguousarray(np.broadcast_to(u_nu, (hi.size, nu.size)), dtype=float)
    # compiled, element by element: the same halvings as the array form (≈ 2 ms of every cell)
    lo, hi = _bisect_rad(np.broadcast_to(a, hi.shape).astype(float), np.broadcast_to(u_b, hi.shape).astype(float),
                         lo.astype(float), hi.astype(float), nu, u_nu, n_iter)
    return np.exp(0.5 * (lo + hi))


@njit(cache=True)
def _bisect_rad(a, u_b, lo, hi, nu, u_nu, n_iter):
    lo = lo.copy()
    hi = hi.copy()
    lnu = np.log(nu)
    hnu = const.h * nu / const.m_e_c2
    for i in range(lo.size):
        x0, x1 = lo[i], hi[i]
        for _ in range(n_iter):
            mid = 0.5 * (x0 + x1)
            g = math.exp(mid)
            # u_rad_kn: trapezoid in ln ν of u_ν ν f_KN(4γhν/m_ec²)
            u = 0.0
            y_prev = u_nu[i, 0] * nu[0] * f_kn(4.0 * g * hnu[0])
            for k in range(1, nu.size):
                y = u_nu[i, k] * nu[k] * f_kn(4.0 * g * hnu[k])
                u += 0.5 * (lnu[k] - lnu[k - 1]) * (y + y_prev)
                y_prev = y
            if g * g * (1.0 + u / u_b[i]) > a[i]:
                x1 = mid
            else:
                x0 = mid
        lo[i], hi[i] = x0, x1
    return lo, hi


# ------------------------------------------------------------------------------------------
# injection spectra Q'(γ)
# ------------------------------------------------------------------------------------------
SHAPES = ("power_law", "broken_power_law", "power_law_exp_cutoff")


def spectral_shape(gamma, shape: str = "power_law", *, p: float, gamma_min: float, gamma_max: float,
                   p2: float | None = None, gamma_break: float | None = None) -> np.ndarray:
    """Unnormalised dN/dγ shape on ``gamma``.

    power_law: γ^−p on [γ_min, γ_max] (sharp cut-offs).
    broken_power_law: γ^−p below γ_break, γ_break^{p2−p} γ^−p2 above, on [γ_min, γ_max].
    power_law_exp_cutoff: γ^−p exp(−γ/γ_max) for γ ≥ γ_min.
    """
    g = np.asarray(gamma, dtype=float)
    if shape == "power_law":
        return np.where((g >= gamma_min) & (g <= gamma_max), g ** (-p), 0.0)
    if shape == "broken_power_law":
        if p2 is None or gamma_break is None:
            raise ValueError("broken_power_law needs p2 and gamma_break")
        val = np.where(g < gamma_break, g ** (-p), gamma_break ** (p2 - p) * g ** (-p2))
        return np.where((g >= gamma_min) & (g <= gamma_max), val, 0.0)
    if shape == "power_law_exp_cutoff":
        return np.where(g >= gamma_min, g ** (-p) * np.exp(-g / gamma_max), 0.0)
    raise ValueError(f"shape: value {shape!r} is invalid; allowed: one of {SHAPES}")


def _energy_integral(shape: str, **kw) -> float:
    """∫γ S(γ) dγ of the shape (analytic for power laws, fine quadrature otherwise)."""
    p, gmin, gmax = kw["p"], kw["gamma_min"], kw["gamma_max"]
    if shape == "power_law":
        return float(_int_pow(gmin, gmax, 1.0 - p))
    if shape == "broken_power_law":
        gb = min(max(kw["gamma_break"], gmin), gmax)
        lo = _int_pow(gmin, gb, 1.0 - p)
        hi = kw["gamma_break"] ** (kw["p2"] - p) * _int_pow(gb, gmax, 1.0 - kw["p2"])
        return float(lo + hi)
    # exponential cut-off: quadrature in ln γ to 50 e-folds beyond γ_max
    x = np.linspace(math.log(gmin), math.log(gmax) + math.log(50.0), 4001)
    g = np.exp(x)
    return float(np.trapezoid(g * g * spectral_shape(g, shape, **kw), x))


def injection_spectrum(gamma, lum, radius, mass, shape: str = "power_law", **shape_kw) -> np.ndarray:
    """Q'(γ) [cm⁻³ s⁻¹ per unit γ] on ``gamma`` with V' m c² ∫γQ'dγ = lum (V' = 4πR³/3).

    The normalisation integral is evaluated on the exact (continuous) shape, not on the given
    grid, so it is independent of the grid resolution (Eq. 14; LeHaMoC normalises ∫γQdγ).
    """
    vol = 4.0 * math.pi * radius**3 / 3.0
    q0 = lum / (vol * mass * const.c**2 * _energy_integral(shape, **shape_kw))
    return q0 * spectral_shape(gamma, shape, **shape_kw)
