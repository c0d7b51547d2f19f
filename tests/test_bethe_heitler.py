"""Bethe–Heitler kernels vs independent numbers (tolerances and reasons in each docstring)."""
import numpy as np
import pytest

from sweep.model import constants as C
from sweep.model.processes import bethe_heitler as bh
from sweep.model.processes.protons import blackbody_density

PPD = 20


@pytest.fixture(scope="module")
def grids():
    x = np.logspace(-8, 13, 21 * PPD + 1)
    gp = np.logspace(0, 10, 10 * PPD + 1)
    ge = np.logspace(0, 14, 14 * PPD + 1)
    return x, gp, ge


@pytest.fixture(scope="module")
def kern(grids):
    return bh.build_bethe_heitler_kernels(*grids)


def test_sigma_bh_series_join_and_asymptote():
    """Maximon's (1968) two expansions must join at k = 4 (they are independent series: 0.1 %)
    and the high-energy one must approach Racah's 28/9 ln 2k − 218/27 (1e-4 at k = 1e4)."""
    lo, hi = bh.sigma_bh_tilde(4.0 - 1e-9), bh.sigma_bh_tilde(4.0 + 1e-9)
    assert abs(lo / hi - 1) < 1e-3
    k = 1e4
    assert abs(bh.sigma_bh_tilde(k) / (28 / 9 * np.log(2 * k) - 218 / 27) - 1) < 1e-4


def test_phi_and_cross_section_consistent_at_threshold():
    """Near threshold the pair is made at rest in the proton frame, so the mean lepton Lorentz
    factor must be γ_p: φ/(2ψ) → 1.  φ (Chodorowski+92 fit) and ψ = ∫kσ_BH dk (Maximon 1968) are
    independent formulae, so this checks both normalisations (2 % at κ = 2.05: the next-order
    term is O(κ−2))."""
    assert abs(bh.phi_bh(2.05) / (2 * bh.psi_bh(2.05)) - 1) < 0.02
    # and the mean energy share falls with κ (the proton's BH inelasticity drops at high κ)
    f = [bh.phi_bh(k) / (2 * bh.psi_bh(k)) for k in (3.0, 10.0, 100.0, 1e3)]
    assert all(a > b for a, b in zip(f, f[1:]))


def test_loss_rate_on_blackbody_vs_scipy(grids, kern):
    """Grid loss rate vs scipy quad of Blumenthal's integral over dκ (natural units) on a
    T = 1e5 K black body: 1 % (measured ≤ 0.2 % at 20 ppd; photon bins are averaged).  Only
    γ_p where the rate is > 1e-2 of its maximum: deeper in the Wien tail (κ ≪ 2 at the BB peak)
    the midpoint density of a 20-ppd photon bin misrepresents an exponential (26 % at 3e3, 3 % at 1e4 where the rate is 3e-4 of its maximum)."""
    x, gp, _ = grids
    T = 1e5
    nx = blackbody_density(x, T)
    rate = bh.bh_loss_rate(kern, nx)
    def n_of_x(v):
        return float(blackbody_density(v, T))
    for g in (3e4, 1e5, 1e6, 1e7, 1e8):
        j = int(np.argmin(abs(gp - g)))
        ref = bh.bh_loss_time_direct(gp[j], n_of_x)
        assert abs(rate[j] / ref - 1) < 0.01, (g, rate[j] / ref)


def test_cmb_energy_loss_length_published():
    """Protons on the CMB (2.725 K): the BH energy-loss length c·E/(dE/dt) has its minimum
    ≈ 1 Gpc near 2–4×10¹⁹ eV (Blumenthal 1970; Chodorowski et al. 1992; Berezinsky et al. 2006
    curves). Tolerance ±35 % for reading published curves; the log10-instead-of-ln bug would give
    ≈ 2.7 Gpc and fail."""
    def n_of_x(v):
        return float(blackbody_density(v, 2.725))
    lengths = []
    for E in np.logspace(19.0, 20.0, 6):
        g = E * C.eV / C.m_p_c2
        lengths.append(g / bh.bh_loss_time_direct(g, n_of_x) * C.c / 3.0857e24)  # Mpc
    assert 650 < min(lengths) < 1350, lengths


def test_pair_energy_and_number_bookkeeping(grids, kern):
    """Energy in injected pairs = energy lost by protons (exact by construction: 1e-9), for a
    γ^-2 proton spectrum on a black body."""
    x, gp, ge = grids
    nx = blackbody_density(x, 1e5)
    n_p = gp**-2.0 * np.exp(-gp / 1e7)
    loss = bh.bh_loss_rate(kern, nx)
    q = bh.bh_pair_injection(kern, nx, n_p)
    p_lost = np.sum(n_p * kern.dgamma_p * loss) * C.m_p_c2
    p_pairs = np.sum(q * ge * kern.dgamma_e) * C.m_e_c2
    assert abs(p_pairs / p_lost - 1) < 1e-9
    # pairs are produced near γ_e ~ γ_p (mean energy share ≤ 1): the injected spectrum's mean
    # Lorentz factor is below the protons' loss-weighted mean γ_p
    mean_ge = np.sum(q * ge * kern.dgamma_e) / np.sum(q * kern.dgamma_e)
    mean_gp = np.sum(n_p * kern.dgamma_p * loss * gp) / np.sum(n_p * kern.dgamma_p * loss)
    assert mean_ge < mean_gp


def test_rejects_mismatched_grids():
    with pytest.raises(ValueError, match="points per decade"):
        bh.build_bethe_heitler_kernels(np.logspace(0, 2, 21), np.logspace(0, 2, 41), np.logspace(0, 2, 21))


def test_blumenthal_w_reproduces_phi_and_sigma():
    """KA08 Eq. 62 pair spectrum (Blumenthal's W tabulated as M(u, κ)): its energy moment must be
    half of Blumenthal's φ(κ) (electrons; Chodorowski+92 fit, quoted ≲ 1.5 % accurate) and its
    number moment ψ(κ) = ∫kσ_BH dk (Maximon 1968).  Three independent formulae; 1 % (measured
    ≤ 0.3 %) for 2.5 ≤ κ ≤ 10⁷."""
    lu, lk, m = bh.m_table()
    u = np.exp(lu)
    for kap in (2.5, 3.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6, 1e7):
        b = int(np.argmin(abs(np.exp(lk) - kap)))
        kk = np.exp(lk[b])
        e = np.trapezoid(m[:, b] * u * u, lu)
        n = np.trapezoid(m[:, b] * u, lu)
        assert abs(e / (0.5 * bh.phi_bh(kk)) - 1) < 0.01, (kk, e / (0.5 * bh.phi_bh(kk)))
        assert abs(n / bh.psi_bh(kk) - 1) < 0.01, (kk, n / bh.psi_bh(kk))


def test_table_energy_matches_phi_before_renormalisation(kern):
    """Per (γ_p, photon bin) row the binned KA08 pair table carries the exact φ loss to 2 %
    before the (then exact) renormalisation: measures binning + interpolation error."""
    r = kern.ka08_over_phi
    r = r[r > 0]
    assert r.size > 50
    assert np.all(abs(r - 1) < 0.02), (r.min(), r.max())


def test_pair_spectrum_broad_and_below_kinematic_limit(grids, kern):
    """Monoenergetic protons on one photon bin (κ ≈ 2e3): the pair spectrum spans the kinematic
    range u = γ_e/γ_p ∈ [1/(2κ), 2κ] (nothing outside, by construction of W) and is broad, not a
    line: the middle 80 % of the energy spans ≥ 1 decade (KA08 Fig. 10 shows ~2 decades); its
    number-weighted mean u equals φ/(2ψ) (mean-energy share, 2 % for binning)."""
    x, gp, ge = grids
    j = 100  # γ_p = 1e5
    i = int(np.argmin(abs(x - 1e3 / gp[j])))  # κ = 2γ_p x ≈ 2e3
    kap = 2 * gp[j] * x[i]
    n_p = np.zeros_like(gp)
    n_p[j] = 1.0 / kern.dgamma_p[j]
    nx = np.zeros_like(x)
    nx[i] = 1.0 / kern.dx[i]
    q = bh.bh_pair_injection(kern, nx, n_p) * kern.dgamma_e
    u = ge / gp[j]
    r = ge[1] / ge[0]
    assert np.all(q[(u * np.sqrt(r) < 1 / (2 * kap * r**0.5)) | (u / np.sqrt(r) > 2 * kap * r**0.5)] == 0)
    e = q * ge
    mean_u = e.sum() / q.sum() / gp[j]
    assert abs(mean_u / (bh.phi_bh(kap) / (2 * bh.psi_bh(kap))) - 1) < 0.02
    cum = np.cumsum(e) / e.sum()
    u10, u90 = u[np.searchsorted(cum, 0.1)], u[np.searchsorted(cum, 0.9)]
    assert u90 / u10 > 10


@pytest.mark.slow
def test_pair_spectrum_on_blackbody_vs_direct_blumenthal_integral(grids, kern):
    """Issue 9 req. 5 (BH stays exact, no tuning): e± spectrum of mono-energetic protons
    (γ_p = 1e7) on an isotropic 10⁵ K black body (κ = 2γ_p x ~ 10–10³) from the solver's kernels
    (KA08 Eq. 62 tabulated as M(u, κ), photon-bin averaged, binned, renormalised to φ) against a
    direct numerical integral of Blumenthal's (1970) dσ/(dE₋dcosθ₋) (``w_blumenthal``) with scipy
    quad and none of the kernel's tables: per electron,

        dN/(dt du) = ∫_{k_min(u)}^∞ dk F(k) ∫_{E_min(u)}^{k−1} dE₋ W(k, E₋, (E₋ − u)/p₋)/p₋,
        F(k) = 2c k ∫_{x > k/2γ_p} dx n(x)/(2γ_p x)²   [per unit k; α_f r_e² factored out]

    (the angle-integrated KA08 Eq. 62 with the photon integral moved inside), u = γ_e/γ_p,
    leptons = 2 × electrons.  Energy-weighted shape u² dN/du (each normalised to its energy)
    within 5 % where above 1e-2 of its peak (binning of a 20-ppd lattice); the total pair energy
    equals the proton's BH loss to round-off (kernels renormalised to φ), and the direct
    integral's energy equals that loss within 1.5 % (Chodorowski's φ fit vs the exact W).
    Measured: shape within 0.7 % everywhere above 1e-2 of the peak, energy 0.57 % (quad
    tolerances 1e-5/1e-4 relative; ~15 s)."""
    from scipy.integrate import quad

    x, gp, ge = grids
    T = 1e5
    j = int(np.argmin(abs(gp - 1e7)))
    g = gp[j]
    n_p = np.zeros_like(gp)
    n_p[j] = 1.0 / kern.dgamma_p[j]
    nx = blackbody_density(x, T)
    q = bh.bh_pair_injection(kern, nx, n_p)  # per unit γ_e, e⁺ + e⁻
    loss = bh.bh_loss_rate(kern, nx)[j]  # −dγ_p/dt
    e_solver = np.sum(q * ge * kern.dgamma_e) * C.m_e_c2
    assert e_solver == pytest.approx(loss * C.m_p_c2, rel=1e-9)
    # F(k) on a fine log grid (black body integral by quad in ln x)
    theta = C.k_B * T / C.m_e_c2
    lk = np.linspace(np.log(2.0), np.log(2 * g * 80 * theta), 200)

    def F(kk):
        lo = kk / (2 * g)
        v, _ = quad(lambda l: float(blackbody_density(np.exp(l), T)) / (2 * g * np.exp(l)) ** 2 * np.exp(l),
                    np.log(lo), np.log(max(80 * theta, 1.01 * lo)), limit=200)
        return 2 * C.c * kk * v

    Fk = np.array([F(np.exp(v)) for v in lk])

    def inner(u, kk):
        emin = (1 + u * u) / (2 * u)
        if kk - 1 <= emin:
            return 0.0
        v, _ = quad(lambda em: bh.w_blumenthal(kk, em, u) / np.sqrt(em * em - 1), emin, kk - 1, limit=100,
                    epsrel=1e-5)
        return v

    us = np.logspace(-3.5, 2.5, 25)
    direct = np.empty(us.size)
    for a, u in enumerate(us):
        kmin = (1 + u) ** 2 / (2 * u)
        f = lambda l: np.interp(l, lk, Fk) * inner(u, np.exp(l)) * np.exp(l)  # noqa: E731
        direct[a] = (quad(f, np.log(max(kmin, 2.0)), lk[-1], limit=100, epsrel=1e-4)[0]
                     if np.log(kmin) < lk[-1] else 0.0)
    direct *= 2 * C.alpha_f * C.r_e**2  # e⁺ + e⁻ per unit u per s
    e_direct = np.trapezoid(direct * us * us, np.log(us)) * g * C.m_e_c2
    assert e_direct == pytest.approx(loss * C.m_p_c2, rel=0.015)
    sol = np.interp(np.log(us * g), np.log(ge), q * ge * ge) / g  # u² dN/du per s (same units)
    ds, ss = direct * us * us / e_direct, sol / e_solver
    top = ds > ds.max() * 1e-2
    print("BH shape ratios solver/direct:", np.round(ss[top] / ds[top], 4), "energy direct/loss:",
          e_direct / (loss * C.m_p_c2))
    assert np.max(np.abs(ss[top] / ds[top] - 1)) < 0.05
