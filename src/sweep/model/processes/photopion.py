"""Photopion (pγ) production: proton energy losses and secondaries (γ, e±, ν) (model.md §4).

Models (``build_photopion_kernels(..., loss_model=)``):

* ``"sophia"`` (default, issue 9): losses, secondaries and escaping neutrons from the SOPHIA 2.0
  yield table (``sophia_table``, built by tools/build_sophia_tables.py); see
  ``_build_sophia_kernels`` and docs/hadronic.md §7.
* ``"ka08"``: KA08 secondaries below, proton loss = their energy.
* ``"sigma_kappa"`` (legacy, the default before issue 9): Mücke σ × channel-weighted κ loss, KA08
  renormalised to it; its κ is 1.3–1.5× SOPHIA's above ε_r ≈ 0.5 GeV (kept to reproduce older
  results exactly).

Physics of the KA08 / σκ models
-------------------------------
* Proton losses (model.md §4):

      t_pγ⁻¹(γ_p) = (c / 2γ_p²) ∫ dε n(ε)/ε² ∫_{ε̄_th}^{2γ_pε} dε̄ ε̄ σ_pγ(ε̄) κ_pγ(ε̄)

  Written with η = 4 ε E_p /(m_p c²)² (ε̄_max = η/2 in m_p c² units) this is
  −dγ_p/dt = γ_p ∫ dx n(x) K(η),  K(η) = (8c/η²) ∫_{ε̄_th}^{η/2} ε̄ σκ dε̄   [cm³ s⁻¹].
* σ_pγ(ε̄): total γp cross-section of Mücke et al. 2000 (SOPHIA, Comput. Phys. Commun. 124, 290,
  §2; after Rachen 1996): nine Breit–Wigner resonances (Δ(1232) … Δ(1950)), direct single- and
  two-pion channels, and the multipion ("fragmentation") + diffractive terms rising as s^0.08–0.095.
  Threshold: SOPHIA's resonance term starts at ε̄ = 152 MeV (the kinematic one is 145 MeV; the
  cross-section is ≲ 1 % of its peak below 160 MeV, so the difference is irrelevant).
* κ_pγ(ε̄) (inelasticity; Stecker 1968 behaviour 0.2 near threshold → 0.6 at high energy):
  channel-weighted,  κ = [σ_1π K_2(s) + σ_multi κ_∞] / σ_tot, with the exact two-body mean
  K_2(s) = ½ (1 − (m_p² − m_π²)/s) for the resonant + direct single-pion channels (N π final
  state, forward–backward symmetric in the CM) and κ_∞ = 0.6 for the two-pion, multipion and
  diffractive channels.
* Secondaries: Kelner & Aharonian 2008 (PRD 78, 034013; KA08) analytic Φ_s(η, ξ), Eqs. (27)–(35)
  with the coefficients of their Tables I–III, for s = γ (π⁰), e⁺, e⁻, ν_μ, ν̄_μ, ν_e, ν̄_e
  (instantaneous π/μ decay).  dN_s/dE_s = ∫ dE_p/E_p f_p(E_p) ∫ dε f_ph(ε) Φ_s(η, ξ = E_s/E_p).
  Below the first tabulated η/η₀ = 1.1 the coefficients are held at their first values (x_±
  follow the true η); above η/η₀ = 100 the whole Φ_s(η, ξ) is frozen at η = 100 η₀ (Feynman
  scaling of the fractional spectra); the normalisation is then fixed by the renormalisation below.
* Energy bookkeeping: for every η bin the secondary kernel is multiplied by
  R(η) = K(η) / Σ_s ∫ ξ Φ_s(η, ξ) dξ so that the energy lost by protons (σκ rate above) equals the
  energy injected into all secondaries to rounding error.  The raw KA08/σκ ratio is available as
  ``PhotopionKernels.ka08_over_sigmakappa`` and is quoted in docs/hadronic.md.

Discretisation (all grids log-uniform with the SAME points per decade ``ppd``)
------------------------------------------------------------------------------
photon x_i = x_0 r^i (x = hν/m_ec²), protons γ_j = γ_0 r^j, secondaries y_k = y_0 r^k with
r = 10^(1/ppd).  Then η_{ij} = η_00 r^(i+j) depends on h = i + j only, and the energy fraction of
secondary bin k for proton j, ξ = (m_e/m_p) y_k/γ_j = ξ_00 r^(k−j), on m = k − j only, so
everything is a 2-D table T_s[h, m] built once per grid:

    number of secondaries per cm³ per s in bin k =
        Σ_j N_j Δγ_j Σ_i n_i Δx_i T_s[i+j, k−j]

T_s[h, m] = (1/ξ_m) ∫_{bin m} ξ Φ_s(η_h, ξ) dξ (energy-conserving assignment: Σ_m ξ_m T = ∫ ξ Φ),
averaged over the photon bin (uniform in x inside the bin).  Photon densities are per unit x
(cm⁻³), proton densities per unit γ_p (cm⁻³); injection rates are returned per unit of the
secondary grid variable (cm⁻³ s⁻¹ per unit x, γ_e or E_ν/m_ec²).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from .. import constants as const
from ..grids import log_bin_widths, log_grid_params
from .lattice import lattice_loss_rate

# --------------------------------------------------------------------------------------------
# Kelner & Aharonian 2008 fit parameters (these are definitions of the fit, not physical constants)
KA_R = 0.146  # m_π/m_p as used by KA08 in x_± (their Eq. 19)
KA_ETA0 = 2.0 * KA_R + KA_R**2  # threshold η₀ = 0.313

SPECIES = ("gamma", "positron", "electron", "nu_mu", "antinu_mu", "nu_e", "antinu_e")
# kind of x'_± / ψ prescription per species: 0 photon, 1 (e+, ν̄_μ, ν_e), 2 ν_μ, 3 (e−, ν̄_e)
_KIND = np.array([0, 1, 3, 2, 1, 1, 3], dtype=np.int64)

# KA08 Table I (photons), II (e+, ν̄_μ, ν_e, ν_μ), III (e−, ν̄_e): columns ρ = η/η₀, s, δ, B [cm³/s]
_TAB_GAMMA = np.array([
    [1.1, 0.0768, 0.544, 2.86e-19], [1.2, 0.106, 0.540, 2.24e-18], [1.3, 0.182, 0.750, 5.61e-18],
    [1.4, 0.201, 0.791, 1.02e-17], [1.5, 0.219, 0.788, 1.60e-17], [1.6, 0.216, 0.831, 2.23e-17],
    [1.7, 0.233, 0.839, 3.10e-17], [1.8, 0.233, 0.825, 4.07e-17], [1.9, 0.248, 0.805, 5.30e-17],
    [2.0, 0.244, 0.779, 6.74e-17], [3.0, 0.188, 1.23, 1.51e-16], [4.0, 0.131, 1.82, 1.24e-16],
    [5.0, 0.120, 2.05, 1.37e-16], [6.0, 0.107, 2.19, 1.62e-16], [7.0, 0.102, 2.23, 1.71e-16],
    [8.0, 0.0932, 2.29, 1.78e-16], [9.0, 0.0838, 2.37, 1.84e-16], [10.0, 0.0761, 2.43, 1.93e-16],
    [20.0, 0.107, 2.27, 4.74e-16], [30.0, 0.0928, 2.33, 7.70e-16], [40.0, 0.0772, 2.42, 1.06e-15],
    [100.0, 0.0479, 2.59, 2.73e-15]])
_TAB_POSITRON = np.array([
    [1.1, 0.367, 3.12, 8.09e-19], [1.2, 0.282, 2.96, 7.70e-18], [1.3, 0.260, 2.83, 2.05e-17],
    [1.4, 0.239, 2.76, 3.66e-17], [1.5, 0.224, 2.69, 5.48e-17], [1.6, 0.207, 2.66, 7.39e-17],
    [1.7, 0.198, 2.62, 9.52e-17], [1.8, 0.193, 2.56, 1.20e-16], [1.9, 0.187, 2.52, 1.47e-16],
    [2.0, 0.181, 2.49, 1.75e-16], [3.0, 0.122, 2.48, 3.31e-16], [4.0, 0.106, 2.50, 4.16e-16],
    [5.0, 0.0983, 2.46, 5.57e-16], [6.0, 0.0875, 2.46, 6.78e-16], [7.0, 0.0830, 2.44, 7.65e-16],
    [8.0, 0.0783, 2.44, 8.52e-16], [9.0, 0.0735, 2.45, 9.17e-16], [10.0, 0.0644, 2.50, 9.57e-16],
    [30.0, 0.0333, 2.77, 3.07e-15], [100.0, 0.0224, 2.86, 1.58e-14]])
_TAB_ANTINU_MU = np.array([
    [1.1, 0.365, 3.09, 8.09e-19], [1.2, 0.287, 2.96, 7.70e-18], [1.3, 0.250, 2.89, 1.99e-17],
    [1.4, 0.238, 2.76, 3.62e-17], [1.5, 0.220, 2.71, 5.39e-17], [1.6, 0.206, 2.67, 7.39e-17],
    [1.7, 0.197, 2.62, 9.48e-17], [1.8, 0.193, 2.56, 1.20e-16], [1.9, 0.187, 2.52, 1.47e-16],
    [2.0, 0.178, 2.51, 1.74e-16], [3.0, 0.123, 2.48, 3.38e-16], [4.0, 0.106, 2.56, 5.17e-16],
    [5.0, 0.0944, 2.57, 7.61e-16], [6.0, 0.0829, 2.58, 9.57e-16], [7.0, 0.0801, 2.54, 1.11e-15],
    [8.0, 0.0752, 2.53, 1.25e-15], [9.0, 0.0680, 2.56, 1.36e-15], [10.0, 0.0615, 2.60, 1.46e-15],
    [30.0, 0.0361, 2.78, 5.87e-15], [100.0, 0.0228, 2.88, 3.10e-14]])
_TAB_NU_E = np.array([
    [1.1, 0.768, 2.49, 9.43e-19], [1.2, 0.569, 2.35, 9.22e-18], [1.3, 0.491, 2.41, 2.35e-17],
    [1.4, 0.395, 2.45, 4.20e-17], [1.5, 0.31, 2.45, 6.26e-17], [1.6, 0.323, 2.43, 8.57e-17],
    [1.7, 0.305, 2.40, 1.13e-16], [1.8, 0.285, 2.39, 1.39e-16], [1.9, 0.270, 2.37, 1.70e-16],
    [2.0, 0.259, 2.35, 2.05e-16], [3.0, 0.158, 2.42, 3.81e-16], [4.0, 0.129, 2.46, 4.74e-16],
    [5.0, 0.113, 2.45, 6.30e-16], [6.0, 0.0996, 2.46, 7.65e-16], [7.0, 0.0921, 2.46, 8.61e-16],
    [8.0, 0.0861, 2.45, 9.61e-16], [9.0, 0.0800, 2.47, 1.03e-15], [10.0, 0.0723, 2.51, 1.10e-15],
    [30.0, 0.0411, 2.70, 3.55e-15], [100.0, 0.0283, 2.77, 1.86e-14]])
_TAB_NU_MU = np.array([
    [1.1, 0.0, 0.0, 1.08e-18], [1.2, 0.0778, 0.306, 9.91e-18], [1.3, 0.242, 0.792, 2.47e-17],
    [1.4, 0.377, 1.09, 4.43e-17], [1.5, 0.440, 1.06, 6.70e-17], [1.6, 0.450, 0.953, 9.04e-17],
    [1.7, 0.461, 0.956, 1.18e-16], [1.8, 0.451, 0.922, 1.32e-16], [1.9, 0.464, 0.912, 1.77e-16],
    [2.0, 0.446, 0.940, 2.11e-16], [3.0, 0.366, 1.49, 3.83e-16], [4.0, 0.249, 2.03, 5.09e-16],
    [5.0, 0.204, 2.18, 7.26e-16], [6.0, 0.174, 2.24, 9.26e-16], [7.0, 0.156, 2.28, 1.07e-15],
    [8.0, 0.140, 2.32, 1.19e-15], [9.0, 0.121, 2.39, 1.29e-15], [10.0, 0.107, 2.46, 1.40e-15],
    [30.0, 0.0705, 2.53, 5.65e-15], [100.0, 0.0463, 2.62, 3.01e-14]])
_TAB_ELECTRON = np.array([
    [3.0, 0.658, 3.09, 6.43e-19], [4.0, 0.348, 2.81, 9.91e-18], [5.0, 0.286, 2.39, 1.24e-16],
    [6.0, 0.256, 2.27, 2.67e-16], [7.0, 0.258, 2.13, 3.50e-16], [8.0, 0.220, 2.20, 4.03e-16],
    [9.0, 0.217, 2.13, 4.48e-16], [10.0, 0.192, 2.19, 4.78e-16], [30.0, 0.125, 2.27, 1.64e-15],
    [100.0, 0.0507, 2.63, 4.52e-15]])
_TAB_ANTINU_E = np.array([
    [3.0, 0.985, 2.63, 6.61e-19], [4.0, 0.378, 2.98, 9.74e-18], [5.0, 0.31, 2.31, 1.34e-16],
    [6.0, 0.327, 2.11, 2.91e-16], [7.0, 0.308, 2.03, 3.81e-16], [8.0, 0.292, 1.98, 4.48e-16],
    [9.0, 0.260, 2.02, 4.83e-16], [10.0, 0.233, 2.07, 5.13e-16], [30.0, 0.135, 2.24, 1.75e-15],
    [100.0, 0.0770, 2.40, 5.48e-15]])
_TABLES = (_TAB_GAMMA, _TAB_POSITRON, _TAB_ELECTRON, _TAB_NU_MU, _TAB_ANTINU_MU, _TAB_NU_E,
           _TAB_ANTINU_E)


def _pack_tables():
    n = max(t.shape[0] for t in _TABLES)
    out = np.zeros((len(_TABLES), n, 4))
    lens = np.zeros(len(_TABLES), dtype=np.int64)
    for k, t in enumerate(_TABLES):
        out[k, : t.shape[0]] = t
        out[k, t.shape[0]:] = t[-1]
        lens[k] = t.shape[0]
    return out, lens


KA_TABLES, KA_TABLE_LEN = _pack_tables()


@njit(cache=True)
def _ka_coeffs(tab, ntab, rho):
    """(s, δ, B) at ρ: linear in ln ρ for s, δ; log-log for B; clamped outside the table.

    Returns B = 0 below the first tabulated ρ for tables that do not start at 1.1 (e⁻, ν̄_e,
    which need π⁻ production, KA08 Table III starts at ρ = 3)."""
    if rho < tab[0, 0]:
        if tab[0, 0] > 2.0:
            return 0.0, 1.0, 0.0
        return tab[0, 1], tab[0, 2], tab[0, 3]
    if rho >= tab[ntab - 1, 0]:
        return tab[ntab - 1, 1], tab[ntab - 1, 2], tab[ntab - 1, 3]
    k = 0
    while tab[k + 1, 0] <= rho:
        k += 1
    t = (np.log(rho) - np.log(tab[k, 0])) / (np.log(tab[k + 1, 0]) - np.log(tab[k, 0]))
    s = tab[k, 1] + t * (tab[k + 1, 1] - tab[k, 1])
    d = tab[k, 2] + t * (tab[k + 1, 2] - tab[k, 2])
    b = np.exp(np.log(tab[k, 3]) + t * (np.log(tab[k + 1, 3]) - np.log(tab[k, 3])))
    return s, d, b


@njit(cache=True)
def _ka_shape(kind, eta):
    """(x'_−, x'_+, ψ) of KA08 for the species kind at η (ψ uses ρ clamped to [1.1, 100])."""
    r = KA_R
    r2 = r * r
    rho = eta / KA_ETA0
    rho_c = min(max(rho, 1.1), 100.0)
    arg = (eta - r2 - 2.0 * r) * (eta - r2 + 2.0 * r)
    sq = np.sqrt(arg) if arg > 0.0 else 0.0
    xm = (eta + r2 - sq) / (2.0 * (1.0 + eta))
    xp = (eta + r2 + sq) / (2.0 * (1.0 + eta))
    if kind == 0:  # photons, KA08 Eqs. (27)-(29)
        return xm, xp, 2.5 + 0.4 * np.log(rho_c)
    if kind == 1:  # e+, anti-nu_mu, nu_e (Eq. 32-34)
        return 0.25 * xm, xp, 2.5 + 1.4 * np.log(rho_c)
    if kind == 2:  # nu_mu (Eq. 35)
        if rho < 2.14:
            xpp = 0.427 * xp
        elif rho < 10.0:
            xpp = (0.427 + 0.0729 * (rho - 2.14)) * xp
        else:
            xpp = xp
        return 0.427 * xm, xpp, 2.5 + 1.4 * np.log(rho_c)
    # kind 3: e-, anti-nu_e (Table III prescription): x_± of KA08 Eq. (40) with
    # x'_− = x_−/2, x'_+ = x_+ (KA08 Eq. 41)
    arg3 = eta * (eta - 4.0 * r * (1.0 + r))
    sq3 = np.sqrt(arg3) if arg3 > 0.0 else 0.0
    xm3 = (eta - 2.0 * r - sq3) / (2.0 * (1.0 + eta))
    xp3 = (eta - 2.0 * r + sq3) / (2.0 * (1.0 + eta))
    psi = 6.0 * (1.0 - np.exp(1.5 * (4.0 - rho_c))) if rho_c > 4.0 else 0.0
    return 0.5 * xm3, xp3, psi


@njit(cache=True)
def ka08_phi(species, eta, xi):
    """KA08 Φ_s(η, ξ) [cm³ s⁻¹] for species index s (order of ``SPECIES``), ξ = E_s/E_p."""
    if eta <= KA_ETA0 or xi <= 0.0 or xi >= 1.0:
        return 0.0
    # beyond the fitted range (η > 100 η₀) the fractional spectra are frozen at η = 100 η₀
    # (Feynman scaling); the normalisation is fixed by the σκ renormalisation.
    if eta > 100.0 * KA_ETA0:
        eta = 100.0 * KA_ETA0
    kind = _KIND[species]
    s, d, b = _ka_coeffs(KA_TABLES[species], KA_TABLE_LEN[species], eta / KA_ETA0)
    if b == 0.0:
        return 0.0
    xm, xp, psi = _ka_shape(kind, eta)
    if xp <= xm or xm <= 0.0:
        return 0.0
    if xi < xm:
        return b * np.log(2.0) ** psi
    if xi >= xp:
        return 0.0
    y = (xi - xm) / (xp - xm)
    return b * np.exp(-s * np.log(xi / xm) ** d) * np.log(2.0 / (1.0 + y * y)) ** psi


# --------------------------------------------------------------------------------------------
# Mücke et al. 2000 (SOPHIA) total γp cross-section and the inelasticity
_MP_GEV = 0.93827  # SOPHIA fit parameter (proton mass in GeV used inside the fit formulae)
_RES_M = np.array([1.231, 1.440, 1.515, 1.525, 1.675, 1.680, 1.690, 1.895, 1.950])
_RES_BGAMMA = np.array([5.6, 0.5, 4.6, 2.5, 1.0, 2.1, 2.0, 0.2, 1.0])
_RES_RATIOJ = np.array([1.0, 0.5, 1.0, 0.5, 0.5, 1.5, 1.0, 1.5, 2.0])
_RES_W = np.array([0.11, 0.35, 0.11, 0.10, 0.16, 0.125, 0.29, 0.35, 0.3])
_RES_SIG0 = 4.893089117 / _MP_GEV**2 * _RES_RATIOJ * _RES_BGAMMA  # peak cross-sections [μb]
_MPI_GEV = KA_R * _MP_GEV  # pion mass of the K_2 kinematics (KA08 ratio r)
KAPPA_MULTI = 0.6  # inelasticity of multipion/diffractive channels (Stecker 1968 high-energy value)
EPSBAR_TH_GEV = 0.152  # where the SOPHIA cross-section starts [GeV]


@njit(cache=True)
def _ef(x, th, w):
    if x <= th:
        return 0.0
    if x < th + w:
        return (x - th) / w
    return 1.0


@njit(cache=True)
def _pl(x, xth, xmax, alpha):
    if x <= xth:
        return 0.0
    a = alpha * xmax / xth
    return ((x - xth) / (xmax - xth)) ** (a - alpha) * (x / xmax) ** (-a)


@njit(cache=True)
def sigma_channels(epsbar_gev):
    """(σ_single-pion, σ_multi) [μb] of the Mücke et al. 2000 γp cross-section at ε̄ [GeV].

    σ_single-pion = resonances + direct N π; σ_multi = direct Δπ (two-pion) + multipion
    fragmentation + diffractive.  Their sum is SOPHIA's total σ_γp (NDIR = 3, proton)."""
    x = epsbar_gev
    s = _MP_GEV * _MP_GEV + 2.0 * _MP_GEV * x
    if s < 1.1646:
        return 0.0, 0.0
    res = 0.0
    dir1 = 0.0
    dir2 = 0.0
    if x <= 10.0:
        for n in range(9):
            g2s = _RES_W[n] ** 2 * s
            bw = _RES_SIG0[n] * (s / x**2) * g2s / ((s - _RES_M[n] ** 2) ** 2 + g2s)
            if n == 0:
                res += bw * _ef(x, 0.152, 0.17)
            else:
                res += bw * _ef(x, 0.15, 0.38)
        dir1 = 92.7 * _pl(x, 0.152, 0.25, 2.0)
        if 0.1 < x < 0.6:
            dir1 += 40.0 * np.exp(-(x - 0.29) ** 2 / 0.002) - 15.0 * np.exp(-(x - 0.37) ** 2 / 0.002)
        dir2 = 37.7 * _pl(x, 0.4, 0.6, 2.0)
    frag2 = 80.3 * _ef(x, 0.5, 0.1) * s ** (-0.34)
    multidiff = 0.0
    if x > 0.85:
        ss1 = (x - 0.85) / 0.69
        ss2 = 29.3 * s ** (-0.34) + 59.3 * s**0.095
        cs_multidiff = (1.0 - np.exp(-ss1)) * ss2
        cs_multi = 0.89 * cs_multidiff
        cross_diffr = 0.11 * cs_multidiff
        ss1b = (x - 0.85) ** 0.75 / 0.64
        ss2b = 74.1 * x ** (-0.44) + 62.0 * s**0.08
        cs_tmp = 0.96 * (1.0 - np.exp(-ss1b)) * ss2b
        d1 = 0.14 * cs_tmp
        d2 = 0.013 * cs_tmp
        cs_delta = frag2 - (d1 + d2 - cross_diffr)
        if cs_delta < 0.0:
            frag2 = 0.0
            cs_multi = cs_multi + cs_delta
        else:
            frag2 = cs_delta
        multidiff = cs_multi + d1 + d2
    single = res + dir1
    if single < 0.0:
        single = 0.0
    return single, dir2 + frag2 + multidiff


@njit(cache=True)
def sigma_pgamma(epsbar_gev):
    """Total γp cross-section [cm²] at photon energy ε̄ [GeV] in the proton rest frame."""
    a, b = sigma_channels(epsbar_gev)
    return (a + b) * 1e-30


@njit(cache=True)
def sigma_kappa(epsbar_gev):
    """σ_pγ(ε̄) κ_pγ(ε̄) [cm²]; κ = channel-weighted inelasticity (see module docstring)."""
    a, b = sigma_channels(epsbar_gev)
    if a + b <= 0.0:
        return 0.0
    s = _MP_GEV * _MP_GEV + 2.0 * _MP_GEV * epsbar_gev
    k2 = 0.5 * (1.0 - (_MP_GEV**2 - _MPI_GEV**2) / s)
    return (a * k2 + b * KAPPA_MULTI) * 1e-30


def inelasticity(epsbar_gev):
    """κ_pγ(ε̄) (vectorised helper)."""
    e = np.atleast_1d(np.asarray(epsbar_gev, dtype=float))
    out = np.zeros_like(e)
    for i, v in enumerate(e):
        sg = sigma_pgamma(v)
        out[i] = sigma_kappa(v) / sg if sg > 0 else 0.0
    return out if np.ndim(epsbar_gev) else float(out[0])


_MP_C2_GEV = const.m_p_c2 / const.eV / 1e9


def _sigmakappa_cumulative():
    """Fine table of I(u) = ∫_{th}^{u} ε̄ σκ dε̄ with ε̄, u in m_p c² units [cm²]."""
    u = np.logspace(np.log10(EPSBAR_TH_GEV / _MP_C2_GEV), 8.0, 6001)
    f = np.array([v * sigma_kappa(v * _MP_C2_GEV) for v in u])
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (f[1:] + f[:-1]) * np.diff(u))])
    return u, cum


_U_TAB, _I_TAB = _sigmakappa_cumulative()


def loss_kernel_eta(eta):
    """K(η) = (8c/η²) ∫_{ε̄_th}^{η/2} ε̄ σκ dε̄ [cm³ s⁻¹] (ε̄ in m_p c²)."""
    eta = np.asarray(eta, dtype=float)
    u = 0.5 * eta
    i = np.interp(np.log(np.clip(u, _U_TAB[0], None)), np.log(_U_TAB), _I_TAB)
    i = np.where(u <= _U_TAB[0], 0.0, i)
    # beyond the table (ε̄ > 1e8 m_pc²) σκ is flat to within s^0.08: extend linearly in u²
    big = u > _U_TAB[-1]
    if np.any(big):
        f_last = _U_TAB[-1] * sigma_kappa(_U_TAB[-1] * _MP_C2_GEV)
        i = np.where(big, _I_TAB[-1] + 0.5 * f_last / _U_TAB[-1] * (u**2 - _U_TAB[-1] ** 2), i)
    return 8.0 * const.c / np.maximum(eta, 1e-300) ** 2 * i


# --------------------------------------------------------------------------------------------
# Kernel tables on log grids
@njit(cache=True)
def _phi_table(species_list, eta_sub, wsub, xi_lo_edges, nsub_xi):
    """T[s, h, m] = Σ_sub w (1/ξ_m) ∫_{bin m} ξ Φ_s dξ; eta_sub[h, q] sub-samples of bin h."""
    ns = species_list.size
    nh, nq = eta_sub.shape
    nm = xi_lo_edges.size - 1
    out = np.zeros((ns, nh, nm))
    for a in range(ns):
        sp = species_list[a]
        for h in range(nh):
            for q in range(nq):
                eta = eta_sub[h, q]
                if eta <= KA_ETA0:
                    continue
                w = wsub[h, q]
                for m in range(nm):
                    lo = np.log(xi_lo_edges[m])
                    hi = np.log(xi_lo_edges[m + 1])
                    if lo >= 0.0:
                        break
                    dl = (hi - lo) / nsub_xi
                    xc = np.exp(0.5 * (lo + hi))
                    acc = 0.0
                    for t in range(nsub_xi):
                        xi = np.exp(lo + (t + 0.5) * dl)
                        acc += xi * xi * ka08_phi(sp, eta, xi) * dl
                    out[a, h, m] += w * acc / xc
    return out


@njit(cache=True)
def _inject(nph_dx, np_dg, T, h_lo, m_lo, ny):
    """Σ_j Σ_i N_jΔγ_j n_iΔx_i T[i+j-h_lo, k-j-m_lo] -> number per bin k (length ny)."""
    out = np.zeros(ny)
    nx = nph_dx.size
    npr = np_dg.size
    nh, nm = T.shape
    for j in range(npr):
        wj = np_dg[j]
        if wj == 0.0:
            continue
        i0 = h_lo - j
        if i0 < 0:
            i0 = 0
        for i in range(i0, nx):
            w = wj * nph_dx[i]
            if w == 0.0:
                continue
            hh = i + j - h_lo
            if hh >= nh:
                break
            k0 = j + m_lo
            mstart = 0
            if k0 < 0:
                mstart = -k0
            mend = nm
            if k0 + nm > ny:
                mend = ny - k0
            for mm in range(mstart, mend):
                out[k0 + mm] += w * T[hh, mm]
    return out


@njit(cache=True)
def _build_G(nph_dx, T, h_lo, npr):
    """G[j, m] = Σ_i n_iΔx_i T[i+j-h_lo, m] (once per photon field)."""
    nh, nm = T.shape
    nx = nph_dx.size
    G = np.zeros((npr, nm))
    for j in range(npr):
        i0 = h_lo - j
        if i0 < 0:
            i0 = 0
        for i in range(i0, nx):
            w = nph_dx[i]
            if w == 0.0:
                continue
            hh = i + j - h_lo
            if hh >= nh:
                break
            for mm in range(nm):
                G[j, mm] += w * T[hh, mm]
    return G


@njit(cache=True)
def _apply_G(G, np_dg, m_lo, ny):
    npr, nm = G.shape
    out = np.zeros(ny)
    for j in range(npr):
        wj = np_dg[j]
        if wj == 0.0:
            continue
        k0 = j + m_lo
        for mm in range(nm):
            k = k0 + mm
            if 0 <= k < ny:
                out[k] += wj * G[j, mm]
    return out


_loss = lattice_loss_rate  # −dγ/dt of the rows (processes/lattice.py)


def _eta_subsamples(eta_centres, r, nsub):
    """Sub-samples inside each photon bin (uniform in x): points and weights (sum 1)."""
    t = (np.arange(nsub) + 0.5) / nsub - 0.5  # in units of the bin's log width
    f = r ** t  # multiplicative offsets
    w = f / f.sum()  # uniform in x  <=> weight ∝ x in ln x
    return eta_centres[:, None] * f[None, :], np.broadcast_to(w, (eta_centres.size, nsub)).copy()


@dataclass(frozen=True)
class SecondaryTable:
    """T[s, h, m] for one secondary grid (y_k = y0 r^k, ny points)."""
    species: tuple
    T: np.ndarray  # (n_species, n_h, n_m)
    m_lo: int  # m index of column 0 (m = k − j)
    y: np.ndarray  # secondary grid
    dy: np.ndarray  # its bin widths
    Tsum: np.ndarray = None  # T summed over species (filled in __post_init__)

    def __post_init__(self):
        if self.Tsum is None:
            object.__setattr__(self, "Tsum", np.ascontiguousarray(self.T.sum(axis=0)))


@dataclass(frozen=True)
class PhotopionKernels:
    """Precomputed pγ kernels for one set of grids (see module docstring for the conventions)."""
    ppd: float
    x: np.ndarray
    dx: np.ndarray
    gamma_p: np.ndarray
    dgamma_p: np.ndarray
    h_lo: int  # h index of row 0 (h = i + j)
    eta: np.ndarray  # η at the centre of each h row
    K: np.ndarray  # loss kernel per h [cm³ s⁻¹] (bin-averaged σκ rate)
    ka08_over_sigmakappa: np.ndarray  # raw Σ_s ∫ξΦ_s dξ / K per h (before renormalisation)
    photons: SecondaryTable  # γ from π⁰ on the photon grid x
    pairs: SecondaryTable  # e⁺ and e⁻ on the pair γ grid
    neutrinos: SecondaryTable  # ν_μ, ν̄_μ, ν_e, ν̄_e on the ν grid (E_ν/m_ec²)
    K_neutron: np.ndarray = None  # per h [cm³ s⁻¹]: energy rate leaving in neutrons (+ other
    # baryons) per unit γ_p n_ph (``sophia`` only; zeros otherwise).  K − K_neutron = secondaries


LOSS_MODELS = ("sophia", "ka08", "sigma_kappa")


def build_photopion_kernels(x, gamma_p, gamma_e, e_nu, xi_min=1e-7, nsub_eta=8, nsub_xi=4,
                            loss_model="sophia") -> PhotopionKernels:
    """Precompute the pγ kernels once per grid.

    x: photon grid hν/m_ec²; gamma_p: proton Lorentz factors; gamma_e: pair Lorentz factors
    (secondary e± energy E = γ_e m_ec²); e_nu: neutrino energies in m_ec².  All log-uniform with
    the same points per decade.  xi_min: smallest energy fraction E_s/E_p kept (energy below it is
    ≲ xi_min of the total and is dropped before renormalisation, so bookkeeping stays exact).
    loss_model: "sophia" (default: proton losses, secondaries and escaping neutrons all from the
    SOPHIA 2.0 yield table, ``sophia_table``; energy conserved by construction), "ka08" (KA08
    secondaries, proton loss = their energy) or "sigma_kappa" (legacy: proton loss from Mücke σ ×
    the channel-weighted κ, KA08 secondaries renormalised to it per η; κ is 1.3–1.5× SOPHIA's
    above ε_r ≈ 0.5 GeV, see docs/hadronic.md).  KA08/σκ differ by ``ka08_over_sigmakappa``
    (0.77–0.97 for 1.5 ≤ η/η₀ ≤ 100).
    """
    if loss_model not in LOSS_MODELS:
        raise ValueError(f"loss_model: value {loss_model!r} is invalid; allowed: {LOSS_MODELS}")
    if loss_model == "sophia":
        return _build_sophia_kernels(x, gamma_p, gamma_e, e_nu, xi_min, nsub_eta)
    x0, nx, ppd = log_grid_params(x, "x")
    g0, npr, ppd_p = log_grid_params(gamma_p, "gamma_p")
    for grid, name in ((gamma_e, "gamma_e"), (e_nu, "e_nu")):
        _, _, p = log_grid_params(grid, name)
        if abs(p - ppd) > 1e-6 * ppd:
            raise ValueError(f"{name}: points per decade {p:.6g} differ from the photon grid's {ppd:.6g}")
    if abs(ppd_p - ppd) > 1e-6 * ppd:
        raise ValueError(f"gamma_p: points per decade {ppd_p:.6g} differ from the photon grid's {ppd:.6g}")
    r = 10.0 ** (1.0 / ppd)
    me_mp = const.m_e / const.m_p
    eta00 = 4.0 * me_mp * x0 * g0
    # rows: every h whose photon bin reaches above threshold
    h_all = np.arange(nx + npr - 1)
    eta_all = eta00 * r**h_all
    h_lo = int(np.argmax(eta_all * np.sqrt(r) > KA_ETA0 * 1.0000001)) if np.any(eta_all * np.sqrt(r) > KA_ETA0) else nx + npr - 1
    eta_c = eta_all[h_lo:]
    eta_sub, wsub = _eta_subsamples(eta_c, r, nsub_eta)
    K = (loss_kernel_eta(eta_sub) * wsub).sum(axis=1)

    def table(grid, species_idx):
        xi00, m_lo, m_hi = _xi_lattice(grid, g0, npr, r, xi_min)
        edges = xi00 * r ** (np.arange(m_lo, m_hi + 2) - 0.5)
        # Φ is frozen above η = 100 η₀, so rows whose sub-samples all lie above are identical:
        # compute up to the first such row and replicate it (saves ~80 % of the precomputation)
        frozen = np.all(eta_sub > 100.0 * KA_ETA0, axis=1)
        h_f = int(np.argmax(frozen)) if np.any(frozen) else eta_sub.shape[0] - 1
        T = np.empty((len(species_idx), eta_sub.shape[0], edges.size - 1))
        T[:, : h_f + 1] = _phi_table(np.asarray(species_idx, dtype=np.int64), eta_sub[: h_f + 1],
                                     wsub[: h_f + 1], edges, nsub_xi)
        T[:, h_f + 1:] = T[:, h_f: h_f + 1]
        return T, m_lo, xi00 * r ** np.arange(m_lo, m_hi + 1).astype(float)

    Tg, mg, xig = table(x, [0])
    Te, me, xie = table(gamma_e, [1, 2])
    Tn, mn, xin = table(e_nu, [3, 4, 5, 6])
    # energy per h in each table: Σ_m ξ_m T[s, h, m]
    e_tot = (Tg * xig).sum(axis=(0, 2)) + (Te * xie).sum(axis=(0, 2)) + (Tn * xin).sum(axis=(0, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(K > 0, e_tot / K, 0.0)
        if loss_model == "ka08":
            K = e_tot.copy()
        scale = np.where(e_tot > 0, K / e_tot, 0.0)
    Tg, Te, Tn = (t * scale[None, :, None] for t in (Tg, Te, Tn))
    return _assemble(ppd, x, gamma_p, gamma_e, e_nu, h_lo, eta_c, K, ratio, (Tg, mg), (Te, me),
                     (Tn, mn), np.zeros_like(K))


def _assemble(ppd, x, gamma_p, gamma_e, e_nu, h_lo, eta_c, K, ratio, photons, pairs, neutrinos,
              K_neutron) -> PhotopionKernels:
    """PhotopionKernels from the loss kernel and the (table, m_lo) of each secondary species group
    (one home for the KA08/σκ and SOPHIA builders)."""
    def secondary(names, tm, grid):
        grid = np.asarray(grid, float)
        return SecondaryTable(names, np.ascontiguousarray(tm[0]), tm[1], grid, log_bin_widths(grid))

    return PhotopionKernels(
        ppd=ppd, x=np.asarray(x, float), dx=log_bin_widths(x), gamma_p=np.asarray(gamma_p, float),
        dgamma_p=log_bin_widths(gamma_p), h_lo=h_lo, eta=eta_c, K=K, ka08_over_sigmakappa=ratio,
        photons=secondary(("gamma",), photons, x),
        pairs=secondary(("positron", "electron"), pairs, gamma_e),
        neutrinos=secondary(("nu_mu", "antinu_mu", "nu_e", "antinu_e"), neutrinos, e_nu),
        K_neutron=K_neutron)


def _xi_lattice(grid, g0: float, npr: int, r: float, xi_min: float) -> tuple[float, int, int]:
    """Energy fractions ξ = E_s/E_p reachable from the proton grid (first value ``g0``, ``npr``
    points, ratio ``r``) onto the secondary ``grid``: ξ₀₀ (offset 0) and the offsets m_lo … m_hi
    with ξ_min < ξ < 1 (bin edges included), ξ_m = ξ₀₀ r^m."""
    y0, ny, _ = log_grid_params(grid, "secondary grid")
    xi00 = (const.m_e / const.m_p) * y0 / g0
    m_all = np.arange(-(npr - 1), ny)
    xi_c = xi00 * r ** m_all.astype(float)
    m_sel = m_all[(xi_c * np.sqrt(r) > xi_min) & (xi_c / np.sqrt(r) < 1.0)]
    if m_sel.size == 0:
        raise ValueError("secondary grid does not overlap the allowed energy fractions")
    return xi00, int(m_sel[0]), int(m_sel[-1])


def _check_grids(x, gamma_p, gamma_e, e_nu):
    x0, nx, ppd = log_grid_params(x, "x")
    g0, npr, ppd_p = log_grid_params(gamma_p, "gamma_p")
    for grid, name in ((gamma_e, "gamma_e"), (e_nu, "e_nu"), (gamma_p, "gamma_p")):
        _, _, p = log_grid_params(grid, name)
        if abs(p - ppd) > 1e-6 * ppd:
            raise ValueError(f"{name}: points per decade {p:.6g} differ from the photon grid's {ppd:.6g}")
    return x0, nx, ppd, g0, npr


def _rebin_energy(tab, xi_edges):
    """Table energy per (bin b, species s) redistributed onto the lattice ξ bins (edges xi_edges):
    cumulative energy linear in log x between the table's edges; energy below the first lattice
    edge (≲ xi_min) is put into the first bin, so Σ_m equals the table total exactly."""
    e = tab.energy  # (nb, ns, nx+1), [:, :, 0] underflow
    cum = np.cumsum(e, axis=2)  # cum[..., j] = energy below x_edges[j]
    lxe = np.log(tab.x_edges)
    le = np.log(np.clip(xi_edges, tab.x_edges[0], 1.0))
    j = np.clip(np.searchsorted(lxe, le, side="right") - 1, 0, lxe.size - 2)
    t = np.clip((le - lxe[j]) / (lxe[j + 1] - lxe[j]), 0.0, 1.0)
    c = cum[:, :, j] + t * (cum[:, :, j + 1] - cum[:, :, j])  # (nb, ns, n_edges)
    c[:, :, -1] = cum[:, :, -1]  # the top edge of the table grid is x = 1 at most
    out = np.diff(c, axis=2)
    out[:, :, 0] += c[:, :, 0]
    return out


#: rows whose ε̄_max = η/2 m_pc² exceeds this [GeV] are the first such row scaled by K (see
#: ``_build_sophia_kernels``); K itself stays exact for every row.  Above ~30 GeV SOPHIA's κ and
#: energy partition are flat (κ = 0.47 ± 0.005 from 30 GeV to 10 TeV), and the rows are dominated
#: by their top decade of ε̄: freezing at 30 GeV instead of the table top (10 TeV) changes the
#: Test 4 neutrinos by ≤ 7.5e-4 dex (median 5e-5) and photons by ≤ 3e-4 dex
#: (tests/test_sophia_table.py) and keeps the per-iteration cost at the KA08 tables' (which
#: freeze at η = 100 η₀, ε̄ = 14.7 GeV).
SOPHIA_FROZEN_GEV = 30.0


def _build_sophia_kernels(x, gamma_p, gamma_e, e_nu, xi_min, nsub_eta):
    """``PhotopionKernels`` from the SOPHIA table (see ``sophia_table`` and docs/hadronic.md).

    Row h (η_h = 4 ε E_p/(m_pc²)², ε̄_max = η/2 m_pc²), photon-bin averaged over ``nsub_eta``
    sub-samples q:  T_s[h, m] = Σ_q w_q (8c/η_q²) Σ_b A_b(η_q) E_{b,s,m}/ξ_m, with
    A_b(η) = ∫_{bin b, ε̄ < η/2} ε̄ σ(ε̄) dε̄ (the last bin extends to η/2: Feynman scaling) and
    E_{b,s,m} the table's energy fraction in lattice bin m.  K_neutron likewise with the escaping
    nucleons, and K = Σ_s Σ_m ξ_m T_s + K_neutron (proton energy-loss rate = secondaries + neutrons,
    to round-off).  Rows whose every sub-sample lies above ``SOPHIA_FROZEN_GEV`` (ε̄_max > 30
    GeV) are the first such row scaled by K (Feynman scaling of the whole row), which lets the
    solver collapse them (``hadronic._frozen_row``); K, K_neutron stay exact."""
    from .sophia_table import ESCAPING, SPECIES, load_table

    tab = load_table()
    x0, nx, ppd, g0, npr = _check_grids(x, gamma_p, gamma_e, e_nu)
    r = 10.0 ** (1.0 / ppd)
    me_mp = const.m_e / const.m_p
    mp_gev = _MP_C2_GEV
    eta00 = 4.0 * me_mp * x0 * g0
    eta_th = 2.0 * tab.eps_th_gev / mp_gev
    h_all = np.arange(nx + npr - 1)
    eta_all = eta00 * r**h_all
    above = eta_all * np.sqrt(r) > eta_th * 1.0000001
    h_lo = int(np.argmax(above)) if np.any(above) else nx + npr - 1
    eta_c = eta_all[h_lo:]
    eta_sub, wsub = _eta_subsamples(eta_c, r, nsub_eta)
    # A_b(η) for every sub-sample: (n_rows·nsub, nb)
    u = (0.5 * eta_sub * mp_gev).ravel()
    edges = tab.eps_edges_gev
    c_lo = tab.cumulative_eps_sigma(edges[:-1])
    hi = np.minimum(u[:, None], edges[None, 1:])
    hi[:, -1] = u  # last bin: Feynman scaling above the table
    A = np.clip(tab.cumulative_eps_sigma(np.maximum(hi, edges[None, :-1])) - c_lo[None, :], 0.0, None)
    pref = (8.0 * const.c / eta_sub.ravel() ** 2) * 1e-30 / mp_gev**2  # μb GeV² -> cm² (m_pc²)²
    W = (A * (pref * wsub.ravel())[:, None]).reshape(eta_sub.shape[0], nsub_eta, -1).sum(axis=1)  # (nh, nb)
    # frozen region: rows entirely above the table top
    frozen = np.all(0.5 * eta_sub * mp_gev > SOPHIA_FROZEN_GEV, axis=1)
    h_f = int(np.argmax(frozen)) if np.any(frozen) else None
    esc = tab.energy[:, [SPECIES.index(s) for s in ESCAPING]].sum(axis=(1, 2))
    Kn = W @ esc

    def table(grid, names):
        xi00, m_lo, m_hi = _xi_lattice(grid, g0, npr, r, xi_min)
        xi_edges = xi00 * r ** (np.arange(m_lo, m_hi + 2) - 0.5)
        xi_m = xi00 * r ** np.arange(m_lo, m_hi + 1).astype(float)
        E = _rebin_energy(tab, xi_edges)[:, [SPECIES.index(s) for s in names]]  # (nb, ns, nm)
        T = np.einsum("hb,bsm->shm", W, E) / xi_m[None, None, :]
        return T, m_lo, xi_m

    Tg, mg, xig = table(x, ["gamma"])
    Te, me, xie = table(gamma_e, ["positron", "electron"])
    Tn, mn, xin = table(e_nu, ["nu_mu", "antinu_mu", "nu_e", "antinu_e"])
    e_tot = (Tg * xig).sum(axis=(0, 2)) + (Te * xie).sum(axis=(0, 2)) + (Tn * xin).sum(axis=(0, 2))
    K = e_tot + Kn
    if h_f is not None:
        s_f = K / K[h_f]
        for t in (Tg, Te, Tn):
            t[:, h_f + 1:] = t[:, h_f: h_f + 1] * s_f[None, h_f + 1:, None]
        Kn = Kn.copy()
        Kn[h_f + 1:] = Kn[h_f] * s_f[h_f + 1:]
    # KA08 comparison column kept for the diagnostics of the legacy models: not defined here
    ratio = np.full_like(K, np.nan)
    return _assemble(ppd, x, gamma_p, gamma_e, e_nu, h_lo, eta_c, K, ratio, (Tg, mg), (Te, me),
                     (Tn, mn), Kn)


def neutron_escape_rate(k: PhotopionKernels, n_x):
    """Energy rate leaving in neutrons (+ other baryons), per proton, in units of m_pc² [s⁻¹] on
    the proton grid: γ_j Σ_i n_iΔx_i K_neutron[i+j]."""
    return _loss(np.ascontiguousarray(n_x * k.dx), k.K_neutron, k.h_lo, k.gamma_p)


def photopion_loss_rate(k: PhotopionKernels, n_x):
    """−dγ_p/dt [s⁻¹] on the proton grid for photon density n_x [cm⁻³ per unit x]."""
    return _loss(np.ascontiguousarray(n_x * k.dx), k.K, k.h_lo, k.gamma_p)


def photopion_injection(k: PhotopionKernels, n_x, n_p, per_flavour=False):
    """Secondary injection rates for photon density n_x [cm⁻³ per unit x] and protons n_p
    [cm⁻³ per unit γ_p].

    Returns dict with 'photons' (cm⁻³ s⁻¹ per unit x, on k.x), 'pairs' (e⁺+e⁻, per unit γ_e),
    'neutrinos' (all flavours, per unit E_ν/m_ec²) and, if per_flavour, 'nu_mu', 'antinu_mu',
    'nu_e', 'antinu_e', 'positron', 'electron' separately.
    """
    nd = np.ascontiguousarray(n_x * k.dx)
    pd = np.ascontiguousarray(n_p * k.dgamma_p)
    out = {}
    npr = k.gamma_p.size
    for name, tab in (("photons", k.photons), ("pairs", k.pairs), ("neutrinos", k.neutrinos)):
        # G[j, m] = Σ_i n_iΔx_i T[i+j, m], then Σ_j N_jΔγ_j G[j, k−j]: same sum as _inject, but
        # contiguous inner loops (≈ 5× faster than the direct triple loop)
        G = _build_G(nd, tab.Tsum, k.h_lo, npr)
        out[name] = _apply_G(G, pd, tab.m_lo, tab.y.size) / tab.dy
        if per_flavour and len(tab.species) > 1:
            for s, sp in enumerate(tab.species):
                G = _build_G(nd, np.ascontiguousarray(tab.T[s]), k.h_lo, npr)
                out[sp] = _apply_G(G, pd, tab.m_lo, tab.y.size) / tab.dy
    return out


def photopion_injection_direct(k: PhotopionKernels, n_x, n_p):
    """Same as ``photopion_injection`` (summed species only) by the direct triple sum (reference)."""
    nd = np.ascontiguousarray(n_x * k.dx)
    pd = np.ascontiguousarray(n_p * k.dgamma_p)
    return {name: _inject(nd, pd, tab.Tsum, k.h_lo, tab.m_lo, tab.y.size) / tab.dy
            for name, tab in (("photons", k.photons), ("pairs", k.pairs), ("neutrinos", k.neutrinos))}


class PhotopionLinearMap:
    """Secondary yields for a FIXED photon field as a linear map of the proton spectrum.

    build once per photon field (cost ~ N_p N_x N_m), then ``apply(n_p)`` costs N_p N_m per species.
    """

    def __init__(self, k: PhotopionKernels, n_x):
        self.k = k
        nd = np.ascontiguousarray(n_x * k.dx)
        self.loss = _loss(nd, k.K, k.h_lo, k.gamma_p)
        self.G = {name: _build_G(nd, tab.Tsum, k.h_lo, k.gamma_p.size)
                  for name, tab in (("photons", k.photons), ("pairs", k.pairs), ("neutrinos", k.neutrinos))}

    def apply(self, n_p):
        pd = np.ascontiguousarray(n_p * self.k.dgamma_p)
        out = {}
        for name, tab in (("photons", self.k.photons), ("pairs", self.k.pairs), ("neutrinos", self.k.neutrinos)):
            out[name] = _apply_G(self.G[name], pd, tab.m_lo, tab.y.size) / tab.dy
        return out
