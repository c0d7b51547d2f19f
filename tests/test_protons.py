"""Proton helpers: synchrotron by mass scaling, neutrino luminosity vs the Eq. 22 estimate."""
import numpy as np
import pytest

from sweep.model import constants as C
from sweep.model.processes import photopion as pp
from sweep.model.processes import protons as pr


def test_proton_synchrotron_mass_scaling():
    """The wrapper must give the proton loss (4/3)σ_T(m_e/m_p)² c u_B (γ²−1)/(m_pc²) (independent
    textbook formula, 1e-12), emit that power on the grid (the shared kernel's row normalisation,
    1e-9) and radiate at ν_c ∝ 1/m: the energy-weighted mean frequency is m_e/m_p of an
    electron's with the same γ and B (2 %: grid resolution of the mean)."""
    synchrotron = pytest.importorskip("sweep.model.processes.synchrotron")
    B = 10.0
    ppd = 20
    x = 10.0 ** (np.arange(-16 * ppd, 6 * ppd + 1) / ppd)
    r = 10.0 ** (1.0 / ppd)
    dx = x * (np.sqrt(r) - 1 / np.sqrt(r))
    g = np.array([1e6, 1e7, 1e8])
    K, G, b, scale = pr.proton_synchrotron_matrix(g, x, dx, B)
    ub = B * B / (8 * np.pi)
    b_ref = 4 / 3 * C.sigma_T * (C.m_e / C.m_p) ** 2 * C.c * ub * (g * g - 1) / C.m_p_c2
    assert np.allclose(b, b_ref, rtol=1e-12)
    p_emit = (K * x[None, :] * dx[None, :]).sum(axis=1) * C.m_e_c2
    assert np.allclose(p_emit, b * C.m_p_c2, rtol=1e-9)
    Ke, _, _, _ = synchrotron.emission_matrix(g, x, dx, B)
    mean_p = (K * x * x * dx).sum(axis=1) / (K * x * dx).sum(axis=1)
    mean_e = (Ke * x * x * dx).sum(axis=1) / (Ke * x * dx).sum(axis=1)
    assert np.allclose(mean_p / mean_e, C.m_e / C.m_p, rtol=0.02)


def test_neutrino_luminosity_vs_eq22():
    """Full KA08 neutrino spectrum vs the δ-function estimate of model.md Eq. 22,
    E_νL_Eν ≈ (3/8) f_pγ E_pL_Ep at E_ν = E_p/20, for γ^-2 protons on a 1e3 K black body
    (f_pγ ≪ 1, Δ-resonance dominated): the estimate is good to a factor ~2 (it ignores the
    spread of ξ and the multipion region), so: ratio at the estimate's peak in [0.5, 2] and peak
    energies within a factor 2.  Also checks the luminosity conventions (V, R/c escape)."""
    ppd = 20
    x = np.logspace(-8, 13, 21 * ppd + 1)
    gp = np.logspace(0, 10, 10 * ppd + 1)
    ge = np.logspace(0, 14, 14 * ppd + 1)
    en = np.logspace(0, 15, 15 * ppd + 1)
    k = pp.build_photopion_kernels(x, gp, ge, en)
    R = 1e16
    nx = pr.blackbody_density(x, 1e3)
    n_p = gp**-2.0 * np.exp(-gp / 1e9)
    f = pr.photopion_efficiency(k, nx, R)
    assert f.max() < 0.1
    q = pp.photopion_injection(k, nx, n_p)
    e, lum = pr.neutrino_luminosity(en, q["neutrinos"], R)
    e22, l22 = pr.neutrino_estimate_eq22(gp, n_p, f, R)
    at = np.argmax(l22)
    ratio = np.interp(np.log(e22[at]), np.log(e), lum) / l22[at]
    assert 0.5 < ratio < 2.0, ratio
    assert 0.5 < e[np.argmax(lum)] / e22[at] < 2.0


def test_eq21_peak_energy():
    """Eq. 21 with γ_p,max = 1e7, δ = 10, z = 0: 0.05 × 10 × 1e7 × 938.272 MeV = 4.69 PeV (1e-6)."""
    assert abs(pr.neutrino_peak_energy_eq21(1e7, 10.0) / 4.69136e15 - 1) < 1e-5
