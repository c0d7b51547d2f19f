"""Steady-state solver: exact cooling sweep, energy balance, convergence flag, ATHEνA Test 1."""
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.integrate import quad

from sweep.model import constants as const
from sweep.model.grids import make_grids
from sweep.model.kinetics import Blob, Injection, Processes, cooling_sweep, solve

ATHENA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "athena"
L_E = 10**40.4997


def _test1_blob(ppd, kernel="single_pitch"):
    """ATHEνA Test 1 (data/athena/README.md). ATHEνA's synchrotron kernel is F(x) at a single
    pitch angle (docs/solver.md); the pitch-angle-averaged kernel is checked separately."""
    return Blob(R=1e15, B=1.0, ppd=ppd, processes=Processes(synchrotron_kernel=kernel),
                injections=[Injection("e", "power_law", p=1.9, gamma_min=1.0, gamma_max=10**6.1,
                                      luminosity=L_E)])


def test_cooling_sweep_vs_analytic():
    """Steady state of ∂_γ(bN) − N/t + Q = 0 with b = b₀γ², Q = γ^{-2} on [10, 1e5] (no losses
    elsewhere): the continuous solution N(γ) = (1/b)∫_γ^∞ Q(γ') e^{−(τ(γ)−τ(γ'))/t} dγ',
    τ(γ) = ∫_γ dγ/b, here in closed form (w = 1/γ'):
    N = t (1 − exp(−(1/γ − 1/γ_max)/(b₀t))) / γ². Cell averages within 1 % at 20 ppd away from the cut-offs
    (second-order scheme: ~ (h²/24)·curvature ≈ 1e-3, plus the cell-average vs point value)."""
    g = make_grids(20, 1.0, 1e5)
    b0, t = 1e-7, 1e3  # cooling break at γ = 1/(b0 t) = 1e4
    gf = g.gamma_faces
    b = b0 * gf**2
    qf = lambda v: np.where((v >= 10) & (v <= 1e5), v**-2.0, 0.0)  # noqa: E731
    h = math.log(10) / 20
    u = ((np.arange(32) + 0.5) / 32 - 0.5) * h
    gs = g.gamma[:, None] * np.exp(u)
    Q = (qf(gs) * gs).sum(axis=1) * h / 32
    F, M = cooling_sweep(g.gamma, b, Q, t)
    n_num = M / g.dgamma

    def n_exact(gam):
        # cell average of the closed form over the log-centred cell (quad)
        f = lambda v: t * -math.expm1(-(1 / v - 1e-5) / (b0 * t)) / v**2  # noqa: E731
        lo, hi = gam * math.exp(-h / 2), gam * math.exp(h / 2)
        return quad(f, lo, hi, epsabs=0)[0] / (hi - lo)

    sel = (g.gamma > 20) & (g.gamma < 3e4)
    ref = np.array([n_exact(v) for v in g.gamma[sel]])
    assert np.max(np.abs(n_num[sel] / ref - 1)) < 1e-2
    # number conservation of the sweep: injected = escaping (no sink at the bottom)
    assert np.sum(M) / t == pytest.approx(np.sum(Q), rel=1e-12)


@pytest.mark.parametrize("ppd,tol", [(10, 1e-2), (30, 3e-3)])
def test_energy_balance_test1(ppd, tol):
    """(escaping photons + escaping pairs + SSA-absorbed)/injected = 1 within 1 % at 10 ppd and
    0.3 % at 30 ppd (issue 3). By construction it holds to the convergence tolerance."""
    r = solve(_test1_blob(ppd))
    assert r.converged and r.status == "converged"
    print(f"ppd={ppd}: energy balance {r.energy_balance:.7f}, iterations {r.iterations}")
    assert abs(r.energy_balance - 1) < tol
    # the exact pitch-angle kernel too
    r2 = solve(_test1_blob(ppd, "exact"))
    assert abs(r2.energy_balance - 1) < tol


def test_not_converged_is_reported():
    """Too few iterations: converged=False, status not_converged, message says why."""
    r = solve(_test1_blob(10), max_iter=3)
    assert not r.converged
    assert r.status == "not_converged"
    assert "iterations" in r.message and r.residual > 1e-4


def _compare(r):
    """Figures of issue 3 on the reference's own abscissae (log-log interpolation of ours):
    photons over 1e8–1e24 Hz: median |Δ| where νL_ν > 1e-3 peak, max |Δ| where > 1e-2 peak;
    pairs: median |Δ| where γ²n > 1e-3 of its peak."""
    ph = np.loadtxt(ATHENA / "ATHEvA_test1_photons.txt")
    pa = np.loadtxt(ATHENA / "ATHEvA_test1_pairs.txt")
    pos = r.nuLnu > 0
    ours = np.interp(ph[:, 0], np.log10(r.nu[pos]), np.log10(r.nuLnu[pos]))
    d = ours - ph[:, 1]
    band = (ph[:, 0] >= 8) & (ph[:, 0] <= 24)
    peak = ph[band, 1].max()
    med = np.median(np.abs(d[band & (ph[:, 1] > peak - 3)]))
    mx = np.max(np.abs(d[band & (ph[:, 1] > peak - 2)]))
    y = r.gamma_e**2 * r.n_e
    posp = y > 0
    ourp = np.interp(pa[:, 0], np.log10(r.gamma_e[posp]), np.log10(y[posp]))
    dp = ourp - pa[:, 1]
    selp = pa[:, 1] > pa[:, 1].max() - 3
    medp = np.median(np.abs(dp[selp]))
    return med, mx, medp


def test_athena_test1():
    """ATHEνA Test 1 at 20 ppd: photons median ≤ 0.03 dex, max ≤ 0.10 dex; pairs median ≤ 0.03 dex.
    Figures at 10 and 30 ppd and with the pitch-angle-averaged kernel are printed."""
    lines = []
    for ppd in (10, 20, 30):
        for kern in ("single_pitch", "exact"):
            r = solve(_test1_blob(ppd, kern))
            assert r.converged
            med, mx, medp = _compare(r)
            lines.append(f"ppd={ppd:2d} kernel={kern:12s} photons median {med:.3f} max {mx:.3f} "
                         f"pairs median {medp:.3f}  iterations {r.iterations} "
                         f"balance {r.energy_balance:.6f}")
            if ppd == 20 and kern == "single_pitch":
                fig = (med, mx, medp)
    print("\n" + "\n".join(lines))
    assert fig[0] <= 0.03
    assert fig[1] <= 0.10
    assert fig[2] <= 0.03


def test_strong_cascade_converges_to_same_fixed_point():
    """A pair-cascade blob (γγ pair power 2× the injected power): Anderson-accelerated and plain
    damped iterations reach the same steady state (photons above 1e-6 of the peak within 3e-4
    dex, i.e. a few times the tolerance) and the energy balance closes within 1e-3."""
    blob = Blob(R=1e15, B=1.0, ppd=10, injections=[Injection("e", "power_law", p=2.0, gamma_min=10,
                                                             gamma_max=1e7, luminosity=1e46)])
    a = solve(blob, tol=1e-5)
    b = solve(blob, tol=1e-5, accel=0, max_iter=2000)
    assert a.converged and b.converged
    assert a.energy["gamma_gamma_pairs"] > a.energy["injected"]
    sel = a.nuLnu > 1e-6 * a.nuLnu.max()
    assert np.max(np.abs(np.log10(a.nuLnu[sel] / b.nuLnu[sel]))) < 3e-4
    assert abs(a.energy_balance - 1) < 1e-3
    assert a.iterations < b.iterations


def test_injection_forms_agree():
    """The same injection as a shape, as a callable Q(γ) and as an array on a fine γ grid gives the
    same steady state (photons within 2e-3 dex where > 1e-6 of the peak: array interpolation)."""
    from sweep.model.injection import spectral_shape

    kw = dict(p=2.3, gamma_min=10.0, gamma_max=1e5)
    base = dict(R=1e16, B=0.5, ppd=10)
    a = solve(Blob(injections=[Injection("e", "power_law", luminosity=1e42, **kw)], **base))
    fn = lambda g: spectral_shape(g, "power_law", **kw)  # noqa: E731
    b = solve(Blob(injections=[Injection("e", q=fn, gamma_max=1e5, luminosity=1e42)], **base))
    gg = np.logspace(0, 6, 6001)
    c = solve(Blob(injections=[Injection("e", q=fn(gg), q_gamma=gg, luminosity=1e42)], **base))
    sel = a.nuLnu > 1e-6 * a.nuLnu.max()
    for r in (b, c):
        assert r.converged
        assert np.max(np.abs(np.log10(r.nuLnu[sel] / a.nuLnu[sel]))) < 2e-3


def _compact_cascade_blob():
    """Compact, strongly magnetised, strongly cascading blob (R = 1e15 cm, B = 1e4 G, pairs to
    γ = 1e10, L = 1e45 erg/s; γγ pairs carry 74 % of the injected power).  Pairs above
    γ ≈ B_cr/(1.5B) ≈ 3e9 radiate (classical) synchrotron photons above their own energy, whose
    γγ pairs radiate higher still: a ladder that feeds the top of the photon grid, where
    τ_γγ ≫ 1 makes a linear photon → pair → photon loop of gain ≈ 0.98 per iteration.  Before
    the stagnation switch of the Anderson iteration (docs/solver.md §5) this blob stopped at
    300 iterations with residual 0.0099 and energy balance 1.17."""
    return Blob(R=1e15, B=1e4, ppd=10, injections=[Injection("e", "power_law", p=2.0, gamma_min=10,
                                                             gamma_max=1e10, luminosity=1e45)])


def test_compact_cascade_converges_with_energy_balance():
    """The compact cascading blob converges to the stated test (max |Δlog10| < 1e-4) within 150
    iterations (measured: 61; the plain damped iteration needs ~960 at tol 1e-5), and its energy
    balance closes within 5e-4 (measured 4e-5): at a fixed point every term of the budget
    telescopes, so the balance error is the per-iteration change (1e-4 dex = 2.3e-4 relative)
    times O(1); the stagnating iterate was off by 0.17.  The accelerated and plain iterations
    reach the same steady state: photons above 1e-6 of the peak within 2e-3 dex at tol 1e-5
    (measured 2e-4; the plain iteration's distance to the fixed point is ≈ r/(1 − 0.98) = 5e-4 dex)."""
    blob = _compact_cascade_blob()
    a = solve(blob)
    assert a.converged and a.residual < 1e-4
    assert a.iterations <= 150
    assert a.energy["gamma_gamma_pairs"] > 0.5 * a.energy["injected"]
    assert abs(a.energy_balance - 1) < 5e-4
    a5 = solve(blob, tol=1e-5)
    b = solve(blob, tol=1e-5, accel=0, max_iter=3000)
    assert a5.converged and b.converged
    sel = b.nuLnu > 1e-6 * b.nuLnu.max()
    assert np.max(np.abs(np.log10(a5.nuLnu[sel] / b.nuLnu[sel]))) < 2e-3
    assert abs(a5.energy_balance - 1) < 5e-4


def test_reported_compact_leptohadronic_cell_converges():
    """The baseline-grid cell σ0=10, ṁ=0.1, ε_jet=1, η_acc=1e4, θ_obs=3, z_diss=12.7 R_s (R' = 1.6e15
    cm, B' = 2.5e3 G, protons to γ_p = 4e7; γγ pair power 1.1× the injected pair power) stopped at
    400 iterations with residual 0.011–0.033 and balance 1.004–1.024 (depending on the photopion
    tables; top photon bins, a translation mode of Anderson on log n) before the stagnation
    switch; now it converges (measured: 43–53 iterations) with the energy balance 1 within 5e-4
    (measured < 1e-5; same argument as above)."""
    from sweep.model.cell import CellStatus, ModelOptions, run_cell

    r = run_cell({"sigma0": 10, "mdot": 0.1, "eps_jet": 1, "eta_acc": 1e4, "theta_obs": 3,
                  "z_diss": 12.7}, ModelOptions(ppd=10, max_iterations=400))
    assert r.status == CellStatus.DONE, r.message
    assert r.iterations <= 150
    assert abs(r.energy_balance - 1) < 5e-4
