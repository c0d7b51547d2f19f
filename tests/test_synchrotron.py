"""Synchrotron kernel, losses and SSA against analytic results and independent integrals."""
import math

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import kv

from sweep.model import constants as const
from sweep.model.grids import make_grids
from sweep.model.processes import synchrotron as syn


def _F_quad(x):
    return x * quad(lambda t: kv(5.0 / 3.0, t), x, np.inf, limit=400)[0]


@pytest.mark.parametrize("x", [1e-4, 1e-2, 0.3, 1.0, 3.0, 10.0])
def test_closed_form_equals_pitch_angle_average(x):
    """R(x) (Bessel closed form) = ½∫ sin²α F(x/sinα) dα by direct quadrature; both are exact,
    so the tolerance (1e-6) is set by quad."""
    direct = 0.5 * quad(lambda a: math.sin(a) ** 2 * _F_quad(x / math.sin(a)), 0, math.pi, limit=200)[0]
    assert syn.r_exact(x) == pytest.approx(direct, rel=1e-6)


def test_normalisations():
    """∫F dx = 8π/(9√3) and ∫R dx = (2/3)·8π/(9√3) (Rybicki & Lightman 6.31 with ⟨sin²α⟩ = 2/3);
    tolerance 1e-6 (quadrature)."""
    ref = 8 * math.pi / (9 * math.sqrt(3))
    pts = [1e-4, 1e-2, 1.0, 5.0]
    # ∫F dx = ∫dx x∫_x^∞K53 = ½∫t²K_{5/3}(t)dt (order of integration swapped)
    i_f = 0.5 * quad(lambda t: t * t * kv(5.0 / 3.0, t), 0, 80, points=pts, limit=400)[0]
    i_r = quad(lambda v: float(syn.r_exact(v)), 0, 60, points=pts, limit=400)[0]
    assert i_f == pytest.approx(ref, rel=1e-6)
    assert i_r == pytest.approx(2.0 / 3.0 * ref, rel=1e-6)


def test_tables_and_fit():
    """Kernel tables (200 per decade, log-log linear: error ≈ x(Δln x)²/8 = 3.2e-4 at x = 20)
    within 4e-4 of the closed form (3e-4 below x = 10); the
    Aharonian+2010 fit within its stated ~0.2 % (we allow 0.3 %) for x ≤ 20."""
    x = np.logspace(-6, np.log10(20), 400)
    ex = syn.r_exact(x)
    lr, _ = syn._tables()
    tab = np.array([syn._interp_tab(v, lr) for v in x])
    assert np.max(np.abs(tab / ex - 1)) < 4e-4
    assert np.max(np.abs(tab / ex - 1)[x < 10]) < 3e-4
    akp = np.array([syn.r_akp10(v) for v in x])
    assert np.max(np.abs(akp / ex - 1)) < 3e-3
    lf, _ = syn._tables_single()
    xs = x[::20][x[::20] > 1e-4]  # quad of ∫K53 from tiny x is unreliable
    fs = np.array([syn._interp_tab(v, lf) for v in xs])
    fq = np.array([_F_quad(v) for v in xs])
    assert np.max(np.abs(fs / fq - 1)) < 3e-4


@pytest.mark.parametrize("kernel", ["exact", "single_pitch", "approx"])
def test_total_power_discrete_kernel(kernel):
    """Σ_ν P(ν,γ)Δν on a 20-ppd grid = (4/3)σ_T c γ² u_B: the raw discrete power (before the row
    normalisation to the (γ²−1) rate) must agree to 2e-3 (midpoint rule on a log grid) for
    resolved γ — checks the √3e³B/mc² normalisation and the kernel. The 'approx' kernel has its
    own normalisation (1.8 x^{1/3}e^{−x} integrates to 1.8Γ(4/3)=1.607 vs 1.075) so only the
    exact ones are compared; for all kernels the normalised rows give b exactly."""
    B = 1.0
    g = make_grids(20, B, 1e6)
    gam = np.array([10.0, 1e3, 1e5])
    K, G, b, scale = syn.emission_matrix(gam, g.x, g.dx, B, kernel)
    exact = 4 / 3 * const.sigma_T * const.c * gam**2 * B**2 / (8 * math.pi) / const.m_e_c2
    assert np.allclose((K * g.x * g.dx).sum(axis=1), b, rtol=1e-12)
    assert np.allclose(b, exact * (1 - gam**-2), rtol=1e-12)
    raw = scale * gam**2 / (gam**2 - 1)
    if kernel == "exact":
        assert np.all(np.abs(1.0 / raw - 1.0) < 2e-3)
    if kernel == "single_pitch":  # α = 90°: P = 2σ_T c γ² u_B sin²α = (3/2)·(4/3)σ_T c γ² u_B
        assert np.all(np.abs(1.0 / raw - 1.5) < 3e-3)


def test_ssa_thick_slope():
    """For N ∝ γ^{-2.5} the optically thick source function j_ν/α_ν ∝ ν^{5/2} (RL 6.54) between
    ν_c(γ_min) and ν_c(γ_max); fitted slope within 0.02 of 2.5 (grid quadrature)."""
    B = 1.0
    g = make_grids(20, B, 1e6)
    gam = g.gamma[(g.gamma >= 10) & (g.gamma <= 1e6)]
    dg = g.dgamma[(g.gamma >= 10) & (g.gamma <= 1e6)]
    nd = gam**-2.5 * dg
    K, G, b, _ = syn.emission_matrix(gam, g.x, g.dx, B)
    j = syn.emit(nd, K) * g.x  # ∝ j_ν
    a = syn.ssa_coefficient(nd, G, gam, g.nu)
    nu_lo = 1e3 * syn.NU_C_NORM * B * 10**2
    nu_hi = 1e-3 * syn.NU_C_NORM * B * 1e12
    sel = (g.nu > nu_lo) & (g.nu < nu_hi)
    # emit() is photons per unit x; x·emit ∝ j_ν (energy per unit ν)
    slope = np.polyfit(np.log(g.nu[sel]), np.log(j[sel] / a[sel]), 1)[0]
    assert slope == pytest.approx(2.5, abs=0.02)


def test_bad_kernel_name():
    with pytest.raises(ValueError, match="synchrotron_kernel"):
        syn.power_per_hz(np.array([1e9]), np.array([10.0]), 1.0, "nope")


def test_power_law_emission_and_absorption_vs_rybicki_lightman():
    """Single pitch angle α = 90° (kernel single_pitch, unnormalised P), N(γ) = Kγ^{-p}, p = 2.5:
    emissivity vs RL 6.36 (N(γ)dγ = Cγ^{-p}dγ) and absorption vs RL 6.53 (N(E)dE = C'E^{-p}dE,
    C' = K(m c²)^{p−1}), both in closed form with Γ functions: within 1e-3 (quadrature over a
    500-per-decade γ grid far from its ends)."""
    from scipy.special import gamma as G

    p, K, B = 2.5, 1.0, 1.0
    g = np.logspace(0, 8, 4001)
    nd = K * g**-p * np.gradient(g)
    nu = np.logspace(9, 11, 5)
    P, Gm = syn.power_per_hz(nu, g, B, "single_pitch")
    m, e, c = const.m_e, const.e, const.c
    w = 2 * math.pi * nu
    p_rl = (math.sqrt(3) * e**3 * K * B / (2 * math.pi * m * c**2 * (p + 1)) * G(p / 4 + 19 / 12)
            * G(p / 4 - 1 / 12) * (m * c * w / (3 * e * B)) ** (-(p - 1) / 2)) * 2 * math.pi
    np.testing.assert_allclose(nd @ P, p_rl, rtol=1e-3)
    c_e = K * (m * c**2) ** (p - 1)
    a_rl = (math.sqrt(3) * e**3 / (8 * math.pi * m) * (3 * e / (2 * math.pi * m**3 * c**5)) ** (p / 2)
            * c_e * B ** ((p + 2) / 2) * G((3 * p + 2) / 12) * G((3 * p + 22) / 12) * nu ** (-(p + 4) / 2))
    np.testing.assert_allclose(syn.ssa_coefficient(nd, Gm, g, nu), a_rl, rtol=1e-3)
