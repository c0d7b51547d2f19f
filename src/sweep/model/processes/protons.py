"""Proton-specific helpers: synchrotron by mass scaling, photopion efficiency, neutrino estimates.

Proton synchrotron re-uses the pair kernel of ``processes.synchrotron`` (no second formula).
For a particle of mass m_p, charge e, Lorentz factor γ in a field B:
  ν_c,p(γ, B) = ν_c,e(γ, B m_e/m_p)  and  P_p(ν, γ; B) = P_e(ν, γ; B m_e/m_p)
(both ∝ B/m), so the EMITTED spectrum of a proton equals that of an electron of the same γ in
the scaled field B' = B m_e/m_p.  The Lorentz-factor loss rate and the SSA coefficient carry one
more 1/m: −dγ_p/dt = (m_e/m_p)·b_e(γ, B'),  α_ν,p = (m_e/m_p)·α_ν,e[N_p](B').
``proton_synchrotron_matrix`` applies exactly these three rules to ``synchrotron.emission_matrix``.

Photopion analytics (model.md §5): f_pγ(γ_p) = t_dyn/t_pγ(γ_p) with t_dyn = R/c (Eq. 22), the
all-flavour estimate E_ν L_Eν ≈ (3/8) f_pγ E_p L_Ep at E_p = 20 E_ν (Eq. 22) and the peak energy
E_ν,pk ≈ 0.05 δ γ_p,max m_p c²/(1+z) (Eq. 21).  Observer-frame neutrino spectra: use
``sweep.model.observer.to_observer`` (same δ⁴ boost and E(1+z)⁻¹ as photons).
"""
from __future__ import annotations

import numpy as np

from .. import constants as const

ME_OVER_MP = const.m_e / const.m_p


def proton_synchrotron_matrix(gamma_p, x, dx, B: float, kernel: str = "exact"):
    """(K, G, b_p, scale) for protons, from the shared pair synchrotron kernel (see module doc).

    K[j, k]: photons per unit x per s from one proton γ_j into bin k; G: SSA weight to be used as
    ``synchrotron.ssa_coefficient(N_p Δγ_p, G, gamma_p, nu) * ME_OVER_MP``; b_p = −dγ_p/dt [s⁻¹].
    """
    from . import synchrotron

    K, G, b_e, scale = synchrotron.emission_matrix(gamma_p, x, dx, B * ME_OVER_MP, kernel)
    return K, G, b_e * ME_OVER_MP, scale


def blackbody_density(x, T):
    """Isotropic black-body photon density per unit x = hν/m_ec² [cm⁻³] at temperature T [K]."""
    x = np.asarray(x, dtype=float)
    lam_c = const.h / (const.m_e * const.c)
    theta = const.k_B * T / const.m_e_c2
    z = x / theta
    with np.errstate(over="ignore"):
        return np.where(z < 700.0, 8.0 * np.pi / lam_c**3 * x**2 / np.expm1(np.minimum(z, 700.0)), 0.0)


def photopion_efficiency(kernels, n_x, R):
    """f_pγ(γ_p) = (R/c) / t_pγ(γ_p) on the proton grid of ``kernels`` (a PhotopionKernels) for the
    target photon density n_x [cm⁻³ per unit x]; evaluate per target field (synchrotron, disc,
    BLR, DT) by passing each field's n_x separately (paper Figs. 13–14).  t_pγ is the time in
    which the proton gives its energy to pions (secondaries γ, e±, ν): with the ``sophia`` kernels
    the energy of protons that turn into escaping neutrons (``neutron_escape_rate``), which the
    solver counts as a proton loss, is not part of f_pγ (the paper's definition, Eq. 22)."""
    from .photopion import neutron_escape_rate, photopion_loss_rate

    loss = photopion_loss_rate(kernels, n_x)
    if kernels.K_neutron is not None:
        loss = loss - neutron_escape_rate(kernels, n_x)
    rate = loss / kernels.gamma_p  # 1/t_pγ
    return rate * R / const.c


def neutrino_luminosity(e_nu, q_nu, R):
    """Comoving all-flavour (or per-flavour) escaping neutrino luminosity.

    e_nu: neutrino energies in m_ec²; q_nu: injection rate [cm⁻³ s⁻¹ per unit e_nu].  Neutrinos
    escape on R/c, so in steady state N = q R/c and εL_ε = V ε² q m_ec² (V = 4πR³/3).
    Returns (E_ν [eV], εL_ε [erg s⁻¹])."""
    e_nu = np.asarray(e_nu, dtype=float)
    vol = 4.0 * np.pi * R**3 / 3.0
    return e_nu * const.m_e_c2 / const.eV, vol * e_nu**2 * np.asarray(q_nu) * const.m_e_c2


def neutrino_estimate_eq22(gamma_p, n_p, f_pg, R):
    """Eq. 22: E_ν L_Eν ≈ (3/8) f_pγ(E_p) E_p L_Ep at E_ν = E_p/20 (comoving).

    E_p L_Ep = V γ_p² n_p m_pc² c/R (protons escaping on R/c, same convention as photons).
    Returns (E_ν [eV], E_ν L_Eν [erg s⁻¹]) on the points E_ν = γ_p m_pc²/20."""
    gamma_p = np.asarray(gamma_p, dtype=float)
    vol = 4.0 * np.pi * R**3 / 3.0
    epl = vol * gamma_p**2 * np.asarray(n_p) * const.m_p_c2 * const.c / R
    return gamma_p * const.m_p_c2 / const.eV / 20.0, 3.0 / 8.0 * np.asarray(f_pg) * epl


def neutrino_peak_energy_eq21(gamma_p_max, doppler=1.0, z_red=0.0):
    """Eq. 21: E_ν,pk ≈ 0.05 δ γ'_p,max m_pc²/(1+z) [eV]."""
    return 0.05 * doppler * gamma_p_max * const.m_p_c2 / const.eV / (1.0 + z_red)
