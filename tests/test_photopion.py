"""Photopion kernels vs independent numbers (tolerances and reasons in each docstring)."""
import numpy as np
import pytest
from scipy.integrate import quad

from sweep.model import constants as C
from sweep.model.processes import bethe_heitler as bh
from sweep.model.processes import photopion as pp
from sweep.model.processes.protons import blackbody_density, photopion_efficiency

PPD = 20
T_BB = 1e5  # K: dense black body, n ≈ 2e16 cm⁻³, t_pγ ~ 30 s ≪ R/c


@pytest.fixture(scope="module")
def grids():
    x = np.logspace(-8, 13, 21 * PPD + 1)  # photons must reach the π⁰ γ-rays (x ~ 0.1 γ_p m_p/m_e)
    gp = np.logspace(0, 10, 10 * PPD + 1)
    ge = np.logspace(0, 14, 14 * PPD + 1)
    en = np.logspace(0, 15, 15 * PPD + 1)
    return x, gp, ge, en


@pytest.fixture(scope="module")
def kern(grids):
    """The legacy σκ model (the tests below pin its physics; the SOPHIA default is tested in
    tests/test_sophia_table.py)."""
    return pp.build_photopion_kernels(*grids, loss_model="sigma_kappa")


def test_cross_section_landmarks():
    """Mücke et al. 2000 σ_γp: Δ(1232) peak ≈ 0.5 mb at ε̄ ≈ 0.3–0.34 GeV and ≈ 0.12 mb at
    ε̄ = 10–100 GeV (PDG γp total cross-section); 10 % for reading the data."""
    peak = max(pp.sigma_pgamma(e) for e in np.linspace(0.25, 0.4, 61))
    assert 450e-30 < peak < 560e-30
    for e in (10.0, 100.0):
        assert abs(pp.sigma_pgamma(e) / 120e-30 - 1) < 0.1
    assert pp.sigma_pgamma(0.14) == 0.0  # below threshold


def test_inelasticity_limits():
    """κ ≈ 0.2 at the Δ (exact two-body value ½(1 − (m_p²−m_π²)/s) = 0.22) and → 0.6 at high
    energy (Stecker 1968); 5 %."""
    assert abs(pp.inelasticity(0.34) / 0.22 - 1) < 0.05
    assert abs(pp.inelasticity(1e3) / 0.6 - 1) < 0.05


def _t_inv_direct(g, T):
    """−dγ/dt / γ from the defining double integral (scipy quad of σκ, no tables)."""
    conv = C.m_e_c2 / C.eV / 1e9  # x -> GeV

    def inner(xv):
        emax = 2 * g * xv * conv
        if emax <= pp.EPSBAR_TH_GEV:
            return 0.0
        pts = [p for p in (0.3, 0.34, 0.5, 0.85, 1.0) if p < emax]
        v, _ = quad(lambda e: e * pp.sigma_kappa(e), pp.EPSBAR_TH_GEV, emax, limit=200, points=pts or None)
        return float(blackbody_density(xv, T)) / (xv * conv) ** 2 * v

    theta = C.k_B * T / C.m_e_c2
    xlo = pp.EPSBAR_TH_GEV / (2 * g * conv)
    v, _ = quad(lambda lx: inner(np.exp(lx)) * np.exp(lx), np.log(xlo), np.log(max(60 * theta, 1.01 * xlo)), limit=200)
    return C.c / (2 * g**2) * v


def test_loss_time_on_blackbody_vs_direct_integral(grids, kern):
    """t_pγ⁻¹ = (c/2γ²)∫dε n/ε² ∫dε̄ ε̄σκ on a 1e5 K black body: grid vs nested scipy quad, 1 %
    (measured ≤ 0.15 %) where the rate is ≥ 1e-2 of its maximum (deeper in the Wien tail a 20-ppd
    photon bin cannot represent an exponential: 5 % at 1e-5 of the maximum)."""
    x, gp, _, _ = grids
    nx = blackbody_density(x, T_BB)
    rate = pp.photopion_loss_rate(kern, nx) / gp
    for g in (3e6, 1e7, 1e8, 1e9):
        j = int(np.argmin(abs(gp - g)))
        ref = _t_inv_direct(gp[j], T_BB)
        assert abs(rate[j] / ref - 1) < 0.01, (g, rate[j] / ref)


def test_high_energy_limit_efficiency(grids, kern):
    """Far above threshold every photon interacts with ⟨σκ⟩ → 0.6 × σ_γp(high) ≈ 0.6 × 120 μb, so
    f_pγ → (R/c)·c n_tot σκ_∞ = R n_tot σκ_∞ (the 'known result', model.md Eq. 28 with
    ⟨σκ⟩ → σκ_∞).  At γ_p = 1e10 on 1e5 K photons ε̄ ~ 10⁴ GeV where σ is 130 μb (s^0.08 rise):
    10 % covers the choice of σ_∞ = 120 μb."""
    x, gp, _, _ = grids
    nx = blackbody_density(x, T_BB)
    R = 1e16
    f = photopion_efficiency(kern, nx, R)
    n_tot = np.sum(nx * kern.dx)
    f_known = R * n_tot * 0.6 * 120e-30
    assert abs(f[-1] / f_known - 1) < 0.1, f[-1] / f_known


def test_ka08_pion_decay_lepton_ratios():
    """Independent physics check of the KA08 species assignment: below the π⁻ threshold
    (η/η₀ = 1.5, 2) all leptons come from π⁺ → μ⁺ν_μ, μ⁺ → e⁺ν_eν̄_μ.  Decay kinematics give
    ⟨E_νμ⟩ = (1−m_μ²/m_π²)/2 = 0.2135 E_π and, for the muon (0.7865 E_π), ⟨E_e⟩ = ⟨E_ν̄μ⟩ =
    7/20 of its energy (unpolarised; polarisation shifts these by ≲ 10 %), so
    E(ν_μ)/E(e⁺) = 0.776 and E(ν̄_μ)/E(e⁺) = 1.0; 10 % (KA08 fits: ~10 %)."""
    def e_int(s, eta):
        return quad(lambda l: np.exp(2 * l) * pp.ka08_phi(s, eta, np.exp(l)), np.log(1e-8), 0, limit=400)[0]
    for rho in (1.5, 2.0):
        eta = rho * pp.KA_ETA0
        e_pos, e_numu, e_anumu = e_int(1, eta), e_int(3, eta), e_int(4, eta)
        assert e_int(2, eta) == 0.0 and e_int(6, eta) == 0.0  # no π⁻ yet
        assert abs(e_numu / e_pos / 0.776 - 1) < 0.1
        assert abs(e_anumu / e_pos - 1) < 0.1


def test_ka08_charge_conservation_pi_minus_leptons():
    """Charge conservation in pγ → N + pions: n(π⁺) − n(π⁻) = 1 − Q(nucleon) ∈ {0, 1}, so per
    interaction N(π⁻) ≤ N(π⁺); e⁻ and ν̄_e (from π⁻ → μ⁻ → e⁻ν̄_eν_μ) can never outnumber e⁺ and
    ν_e (from π⁺).  Independent of the KA08 fits, and it fails for the KA08 e⁻/ν̄_e spectra unless
    their plateau edge is x'_− = x_−/2 (KA08 Eq. 41): without the /2 (the bug fixed in 2026-11)
    N(e⁻)/N(e⁺) = 1.30 at η/η₀ = 30 and 1.56 at 100.  Measured with it: 0.22 (5), 0.39 (10),
    0.69 (30), 0.81 (100).  Bound 0.9: the fits' ~10 % accuracy on top of the exact ≤ 1."""
    def number(s, eta):
        return quad(lambda l: np.exp(l) * pp.ka08_phi(s, eta, np.exp(l)), np.log(1e-9), 0, limit=400)[0]
    for rho in (4.0, 5.0, 10.0, 30.0, 100.0):
        eta = rho * pp.KA_ETA0
        assert number(2, eta) < 0.9 * number(1, eta), rho  # e⁻ vs e⁺
        assert number(6, eta) < 0.9 * number(5, eta), rho  # ν̄_e vs ν_e


def test_ka08_energy_vs_sigma_kappa(kern):
    """The KA08 secondaries (SOPHIA fits) carry 0.62–1.10 of the σκ energy loss for
    1.5 ≤ η/η₀ ≤ 1000 — two independent parametrisations of the same physics.  Measured
    0.655–0.90 (0.675–1.04 before the e⁻/ν̄_e x'_− = x_−/2 correction, which removed spurious
    e⁻ energy at high η); the worst points are the Δ(1232) peak (η/η₀ ≈ 2.4, between KA08's
    table rows 2 and 3, so interpolated coefficients miss part of it) and η/η₀ ≈ 20 (between
    the lepton rows 10 and 30); above η/η₀ ≈ 10 KA08 sits 20–30 % below σκ (consistent with an
    effective SOPHIA multipion inelasticity below the κ_∞ = 0.6 assumed here).  See docs/hadronic.md."""
    rho = kern.eta / pp.KA_ETA0
    sel = (rho >= 1.5) & (rho <= 1000)
    r = kern.ka08_over_sigmakappa[sel]
    assert r.min() > 0.62 and r.max() < 1.10, (r.min(), r.max())


def test_energy_bookkeeping_strong_cooling(grids, kern):
    """Protons (γ^-2 e^{-γ/1e8}) in a dense black body where pγ dominates (t_pγ ≪ R/c for
    γ_p ≳ 1e7): power lost to BH + pγ equals the power injected into γ + e± + ν within 2 %
    (issue 5); measured ≲ 0.1 % (secondaries falling off the grids' ends)."""
    x, gp, ge, en = grids
    nx = blackbody_density(x, T_BB)
    n_p = gp**-2.0 * np.exp(-gp / 1e8)
    kb = bh.build_bethe_heitler_kernels(x, gp, ge)
    t_pg = gp / pp.photopion_loss_rate(kern, nx)
    assert np.all(t_pg[(gp > 1e7) & (gp < 1e9)] < 1e-3 * 1e16 / C.c)  # strong cooling
    dg = kern.dgamma_p
    p_lost = np.sum(n_p * dg * (pp.photopion_loss_rate(kern, nx) + bh.bh_loss_rate(kb, nx))) * C.m_p_c2
    q = pp.photopion_injection(kern, nx, n_p)
    qb = bh.bh_pair_injection(kb, nx, n_p)
    p_sec = (np.sum(q["photons"] * x * kern.photons.dy) + np.sum((q["pairs"] + qb) * ge * kern.pairs.dy)
             + np.sum(q["neutrinos"] * en * kern.neutrinos.dy)) * C.m_e_c2
    assert abs(p_sec / p_lost - 1) < 0.02, p_sec / p_lost
    assert abs(p_sec / p_lost - 1) < 0.005  # what we actually achieve (documented figure)


def test_linear_map_equals_direct(grids, kern):
    """The once-per-photon-field linear map G gives the same injection as the direct triple sum
    (1e-12: same terms, different summation order)."""
    x, gp, _, _ = grids
    nx = blackbody_density(x, T_BB)
    n_p = gp**-2.2
    direct = pp.photopion_injection_direct(kern, nx, n_p)
    lin = pp.PhotopionLinearMap(kern, nx).apply(n_p)
    for name in ("photons", "pairs", "neutrinos"):
        assert np.allclose(lin[name], direct[name], rtol=1e-12, atol=1e-300 + 1e-12 * direct[name].max())


def test_monoenergetic_spectrum_shape(grids, kern):
    """Monoenergetic protons on a narrow photon bin: the injected ν_μ spectrum must follow KA08's
    Φ_νμ(η, ξ) (bin-averaged) — checks the index bookkeeping h = i+j, m = k−j (5 %, the
    bin average of a steep function vs its centre value)."""
    x, gp, _, en = grids
    j, i = 100, 133  # γ_p = 1e5, x = 10^-1.35 -> η/η₀ ≈ 31 (inside KA08's tables)
    n_p = np.zeros_like(gp)
    n_p[j] = 1.0 / kern.dgamma_p[j]
    nx = np.zeros_like(x)
    nx[i] = 1.0 / kern.dx[i]
    q = pp.photopion_injection(kern, nx, n_p, per_flavour=True)["nu_mu"]
    eta = 4 * x[i] * gp[j] * C.m_e / C.m_p
    xi = en * C.m_e / (gp[j] * C.m_p)
    # KA08: dN/dE = Φ/E_p per proton per photon -> per unit e_nu: Φ · m_e/(γ_p m_p)
    ref = np.array([pp.ka08_phi(3, eta, v) for v in xi]) * C.m_e / (gp[j] * C.m_p)
    assert 20 < eta / pp.KA_ETA0 < 50
    # q is renormalised to σκ (a constant factor for one η): compare shapes over ξ ≥ 1e-6
    sel = (ref > 1e-2 * ref.max()) & (xi < 0.3) & (xi > 1e-6)
    shape = q[sel] / ref[sel]
    assert sel.sum() > 50
    assert np.std(shape) / np.mean(shape) < 0.05
    h = i + j - kern.h_lo
    assert abs(np.mean(shape) * kern.ka08_over_sigmakappa[h] - 1) < 0.05


# log10 ξ, log10(ξΦ) read off KA08 Figs. 2, 3, 5 (analytic-fit curves; digitisation published in
# the agnpy repository, data/photo_meson/kelner_aharonian_2008/fig{2,3,5}_values)
_KA08_FIG = {
    (0, 30.0): [(-3.9841, -19.6480), (-3.0134, -18.6814), (-2.0007, -17.7683), (-1.3530, -17.5375),
                (-1.0290, -17.5813), (-0.7532, -17.7558), (-0.5003, -18.1345), (-0.3905, -18.4552),
                (-0.3017, -18.8240)],
    (3, 30.0): [(-3.9830, -19.3219), (-2.9908, -18.3307), (-2.0188, -17.6115), (-1.7022, -17.5500),
                (-1.2042, -17.7067), (-0.8953, -18.0218), (-0.6706, -18.4554), (-0.5054, -19.0128)],
    (1, 1.5): [(-3.9854, -20.7334), (-3.0070, -19.7529), (-2.0271, -18.7742), (-1.5038, -18.3350),
               (-1.3695, -18.3054), (-1.1902, -18.3698), (-1.0041, -18.6345), (-0.8642, -19.0314),
               (-0.7651, -19.5351)],
}


@pytest.mark.parametrize("key", list(_KA08_FIG))
def test_phi_against_ka08_figures(key):
    """Our Φ_s(η, ξ) vs the curves of KA08 Figs. 2 (γ, η = 30η₀), 5 (ν_μ, 30η₀), 3 (e⁺, 1.5η₀):
    the SHAPE must agree to 3 % rms (measured 1.1–1.6 %: x_±, s, δ, ψ and the species
    prescriptions are right); the level to 20 % (measured 1.006 at 1.5η₀ but 0.87–0.88 for both
    30η₀ panels: a common 0.06 dex offset of those panels/their digitisation; irrelevant for the
    kernels, whose normalisation is fixed by σκ)."""
    s, rho = key
    eta = rho * pp.KA_ETA0
    r = np.array([10**lx * pp.ka08_phi(s, eta, 10**lx) / 10**lv for lx, lv in _KA08_FIG[key]])
    assert np.std(r) / np.mean(r) < 0.03, r
    assert abs(np.mean(r) - 1) < 0.2, r
