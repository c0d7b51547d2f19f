"""Protons, Bethe–Heitler, photopion and neutrinos inside the steady-state solver (issue 5).

Cases: (i) protons in a dense grey-body field (strong pγ cooling: f_pγ = (R/c)/t_pγ ≈ 2 at the top
of the spectrum), (ii) ATHEνA Test 4 (data/athena/README.md).
"""
import math

import numpy as np
import pytest
from scipy.integrate import quad

from sweep.validation.hadronic import (athena_test4_blob, figures, load_reference, neutrino_normalisation,
                                       sophia_secondaries_fold)
from sweep.model import constants as const
from sweep.model import hadronic as H
from sweep.model.cell import cell_photopion_efficiency
from sweep.model.kinetics import Blob, ExternalField, solve
from sweep.model.processes import photopion as pg

T_BB, U_BB = 1e6, 1e3  # grey body [K], [erg cm⁻³]


def _grey_body():
    nu = np.logspace(12.0, 19.0, 561)
    x = const.h * nu / (const.k_B * T_BB)
    with np.errstate(over="ignore"):
        u_nu = 8 * math.pi * const.h / const.c**3 * nu**3 / np.expm1(np.minimum(x, 700.0))
    return nu, u_nu * U_BB / (const.a_rad * T_BB**4)


@pytest.fixture(scope="module")
def dense():
    nu, u_nu = _grey_body()
    ext = H.ProtonExtension(p=2.0, gamma_min=1e3, gamma_max=1e8, luminosity=1e45, shape="power_law")
    blob = Blob(R=1e16, B=1.0, ppd=20, injections=[], extensions=[ext],
                external_fields=[ExternalField(nu=nu, u_nu=u_nu, name="grey_body")])
    return blob, solve(blob)


@pytest.fixture(scope="module")
def test4():
    ss = solve(athena_test4_blob(20))
    return ss, figures(ss, *load_reference())


def test_dense_field_is_strong_pgamma_cooling(dense):
    """The bookkeeping case must really be loss-dominated: f_pγ > 1 over 1e6–1e8 and protons
    lose a sizeable fraction (> 20 %) of the injected power, so loss rates matter."""
    blob, ss = dense
    assert ss.converged
    pr = ss.extra["protons"]
    sel = (pr["gamma"] > 1e6) & (pr["gamma"] < 10**7.7)
    f_pg = pr["b_pg"][sel] / pr["gamma"][sel] * blob.R / const.c
    assert f_pg.min() > 1.0
    hp = ss.extra["hadronic_power"]
    assert hp["photopion"] / hp["injected"] > 0.2


def test_power_lost_equals_power_in_secondaries(dense):
    """Issue 5 req. 5: power lost by protons to BH and to pγ equals the power injected into
    their secondaries within 2 % (the kernels are normalised row by row and the grids hold every
    secondary, so the actual agreement is ~1e-5 for BH (pairs split between two grid cells at the
    pair-grid top) and round-off for pγ)."""
    _, ss = dense
    hp = ss.extra["hadronic_power"]
    assert hp["bh_pairs"] / hp["bethe_heitler"] == pytest.approx(1.0, abs=0.02)
    sec = hp["pg_pairs"] + hp["pg_photons"] + hp["pg_neutrinos"] + hp["pg_neutrons"]
    assert sec / hp["photopion"] == pytest.approx(1.0, abs=0.02)
    assert hp["pg_neutrons"] > 0.1 * hp["photopion"]  # SOPHIA: p → n in ~1/3–1/2 of interactions
    # the proton equation itself is flux-conservative: in = escape + every loss, to round-off
    out = hp["escaping"] + hp["synchrotron"] + hp["bethe_heitler"] + hp["photopion"]
    assert out / hp["injected"] == pytest.approx(1.0, abs=1e-10)


def _direct_pgamma_rate(gamma):
    """t_pγ⁻¹ = (c/2γ²) ∫ dE n(E)/E² ∫_{ε̄_th}^{2γE} dε̄ ε̄ σ(ε̄) f(ε̄) on the grey body (model.md
    §4) with the default ``sophia`` model's σ (SOPHIA's, from the table's fine grid) and f = the
    energy fraction the protons lose per interaction (1 − x_p, all of it when the nucleon is a
    neutron; per table bin): inner integral by a fine trapezoid table, outer by scipy quad over
    ln E. Independent of the solver's grids and binning."""
    from sweep.model.processes import sophia_table as stab

    tab = stab.load_table()
    gev = 1e9 * const.eV
    eb = np.logspace(np.log10(0.1517), 5.0, 20001)
    b = np.clip(np.searchsorted(tab.eps_edges_gev, eb, side="right") - 1, 0, tab.kappa.size - 1)
    sig = np.interp(np.log(eb), np.log(tab.eps_sigma_gev), tab.sigma_ub) * 1e-30
    f = eb * sig * stab.loss_fraction(tab)[b]
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (f[1:] + f[:-1]) * np.diff(eb))])  # GeV² cm²
    kt = const.k_B * T_BB
    dil = U_BB / (const.a_rad * T_BB**4)

    def integrand(le):
        e = math.exp(le)
        n_e = dil * 8 * math.pi * e * e / (const.h * const.c) ** 3 / math.expm1(e / kt)
        return n_e / e * np.interp(2 * gamma * e / gev, eb, cum, left=0.0) * gev**2

    lo = math.log(0.150 * gev / (2 * gamma))
    return const.c / (2 * gamma**2) * quad(integrand, lo, math.log(60 * kt), limit=200)[0]


def test_pgamma_loss_time_vs_direct_integral(dense):
    """The solver's pγ loss rate (external field mapped to the photon grid, face lattice,
    bin-averaged kernel) against the direct double integral: within 1 % for γ_p = 3e5–3e7
    (measured ≤ 0.13 % at 20 ppd; the top cell is excluded: its value is extrapolated from faces)."""
    _, ss = dense
    pr = ss.extra["protons"]
    for g in (3e5, 1e6, 3e6, 1e7, 3e7):
        j = int(np.argmin(np.abs(pr["gamma"] - g)))
        gg = pr["gamma"][j]
        assert pr["b_pg"][j] / gg / _direct_pgamma_rate(gg) == pytest.approx(1.0, abs=0.01)


def test_energy_balance_dense(dense):
    """Whole run incl. protons and neutrinos: (escaping photons + pairs + protons + neutrinos +
    SSA) / (injected + external) = 1 within 1e-3 (the scheme conserves energy exactly; the
    remainder is the fixed-point residual, tolerance 1e-4 dex per bin)."""
    _, ss = dense
    e = ss.energy
    assert e["protons_injected"] > 0 and e["neutrinos"] > 0 and e["escaping_protons"] > 0
    assert ss.energy_balance == pytest.approx(1.0, abs=1e-3)


def test_energy_balance_test4(test4):
    """Same for ATHEνA Test 4 (proton power 10^46.46 erg/s, ~1e-7 of it radiated: the balance
    is dominated by escaping protons, so also check the radiated part on its own: escaping
    photons + pairs + neutrinos + SSA = injected electrons + power lost by protons to radiation
    and secondaries within 1e-3)."""
    ss, _ = test4
    assert ss.converged
    assert ss.energy_balance == pytest.approx(1.0, abs=1e-6)
    e, hp = ss.energy, ss.extra["hadronic_power"]
    rad_out = e["escaping_photons"] + e["escaping_pairs"] + e["ssa_absorbed"] + e["neutrinos"] \
        + e.get("proton_ssa_absorbed", 0.0) + e.get("neutrons", 0.0)
    rad_in = e["injected"] + hp["synchrotron"] + hp["bethe_heitler"] + hp["photopion"]
    assert rad_out / rad_in == pytest.approx(1.0, abs=1e-3)


def test_neutrino_outputs_and_flavours(test4):
    """Contract of cell.py (extra['neutrinos'] with the four flavours, extra['protons']);
    all = Σ flavours; (ν_μ + ν̄_μ) : (ν_e + ν̄_e) energy ≈ 2 : 1 as the π → μ → e chain gives with
    instantaneous decays (KA08: 1.6–2.4 depending on the charged-pion spectra)."""
    from sweep.model.cell import NEUTRINO_FLAVOURS

    ss, _ = test4
    neut = ss.extra["neutrinos"]
    for fl in NEUTRINO_FLAVOURS:
        assert neut["ELE"][fl].shape == neut["energy_ev"].shape
    tot = sum(neut["ELE"][fl] for fl in NEUTRINO_FLAVOURS)
    np.testing.assert_allclose(tot, neut["ELE"]["all"], rtol=1e-12)
    le = np.log(neut["energy_ev"])
    e_mu = np.trapezoid(neut["ELE"]["nu_mu"] + neut["ELE"]["nu_mu_bar"], le)
    e_e = np.trapezoid(neut["ELE"]["nu_e"] + neut["ELE"]["nu_e_bar"], le)
    assert 1.6 < e_mu / e_e < 2.4
    # neutrino energy in the spectrum = the bookkeeping term (same numbers, trapezoid vs bins)
    assert np.trapezoid(neut["ELE"]["all"], le) == pytest.approx(ss.energy["neutrinos"], rel=0.02)
    pr = ss.extra["protons"]
    assert pr["gamma"].shape == pr["n"].shape and np.all(pr["n"] >= 0)


def test_frozen_row_injection_equals_reference_sum(test4):
    """``hadronic._pg_inject`` (rows above η = 100 η₀ collapsed into the loss sum) equals the
    kernels' own ``photopion_injection`` (full table) to round-off (1e-10 relative)."""
    from sweep.model.kinetics import setup

    ctx = setup(athena_test4_blob(10))
    hs = ctx.extra["hadronic"]
    k = hs.pg["kernels"]
    rng = np.random.default_rng(1)
    n_x = np.exp(rng.normal(0.0, 1.0, ctx.x.size)) * ctx.x**-1.5
    Nf = np.exp(rng.normal(0.0, 1.0, hs.gpf.size)) * hs.gpf**-1.0
    nd = np.ascontiguousarray(n_x * ctx.dx)
    _, frozen = H._loss_sums(nd, k.K, k.h_lo, hs.gpf, hs.pg["h_f"])
    ref = pg.photopion_injection(k, n_x, Nf / k.dgamma_p, per_flavour=True)
    for name, tab_name, dy in (("photons", "photons", ctx.dx), ("pairs", "pairs", k.pairs.dy),
                               ("nu_mu", "nu_mu", k.neutrinos.dy)):
        t = hs.pg["tabs"][tab_name]
        mine = H._pg_inject(nd, Nf, frozen, t.T, t.Tf_over_K, k.h_lo, hs.pg["h_f"], t.m_lo, t.ny,
                            t.m_start, t.m_stop) / dy
        np.testing.assert_allclose(mine, ref[name], rtol=1e-10, atol=1e-10 * ref[name].max())
    assert hs.pg["h_f"] < k.K.size  # the factorisation is actually used


def test_grids_for_equals_rebuild():
    """Solving on ``grids_for(blob)`` (no default grids first) gives the same result as the
    extension's own grid rebuild inside ``kinetics.setup`` (bit-identical spectra)."""
    a = solve(athena_test4_blob(10))
    b = H.solve_with_protons(athena_test4_blob(10))
    np.testing.assert_array_equal(a.nuLnu, b.nuLnu)
    np.testing.assert_array_equal(a.extra["neutrinos"]["ELE"]["all"], b.extra["neutrinos"]["ELE"]["all"])


def test_athena_test4_regression(test4):
    """ATHEνA Test 4 at 20 ppd: the figures this implementation reaches (docs/hadronic-solver.md),
    as a regression guard: photons median ≤ 0.055 dex (> 1e-3 of peak, 1e8–1e26 Hz), max ≤ 0.20
    dex (> 1e-2 of peak); all-flavour neutrinos median ≤ 0.26 dex (> 1e-2 of peak). Measured with
    the SOPHIA-table default (issue 9): 0.044 / 0.179 / 0.163; with the legacy σκ model:
    0.048 / 0.173 / 0.252, the same at 10 and 30 ppd (0.045 / 0.182 / 0.237 before
    ``proton_sweep`` resolved the exponential cut-off, 0.046 / 0.174 / 0.232 before the KA08
    e⁻/ν̄_e x'_− = x_−/2 correction). The issue's targets (0.03 / 0.10 / 0.05) are NOT met: see the xfail
    test below and the doc for the process-by-process analysis."""
    _, fig = test4
    assert fig["photons_median"] <= 0.055
    assert fig["photons_max"] <= 0.20
    assert fig["neutrinos_median"] <= 0.26


def _sweep_case(gc=None, bcoef=1e-20, ppd=20):
    r = 10 ** (1 / ppd)
    h = math.log(10) / ppd
    g = 10 ** (np.arange(0, 9 * ppd + 1) / ppd)
    gf = g[:-1] * math.sqrt(r)
    u = ((np.arange(16) + 0.5) / 16 - 0.5) * h  # the sub-cells of ProtonExtension.setup
    gs = g[:, None] * np.exp(u)[None, :]
    shape = gs**-2.0 if gc is None else gs**-2.0 * np.exp(-gs / gc)
    q_sub = np.ascontiguousarray(shape * gs * (h / 16))
    return g, gf, np.diff(g), bcoef * gf**2, q_sub, u


def test_proton_sweep_reduces_to_cooling_sweep_and_resolves_exp_cutoff():
    """``proton_sweep`` (injection resolved on the 16 sub-cells) against exact results.
    (i) dQ/dγ ∝ γ⁻² with b ∝ γ² is uniform in cooling time inside every cell, which is what
    ``kinetics.cooling_sweep`` assumes: both must agree to 1e-8, slow (t_cool ≫ t_esc) and fast
    cooling (measured 2e-15 and 1.3e-9: the sweeps' small-argument series of 1 − e^{−a} differ
    at that level in fast-cooling cells). (ii) Slow cooling, Q ∝ γ⁻² e^{−γ/γ_c}: the face density
    Ñ_f/Δγ_f must equal the exact t_esc Q(γ_f) within 1.5 % up to 3γ_c (measured 1.1 %, the
    residual first-order error of the 1/16-cell sub-cells; ``cooling_sweep``: 16 %). (iii) Both
    conserve particles and energy exactly: Σγ Q = Σγ M/t + Σ F_fΔγ_f to 1e-12."""
    from sweep.model.kinetics import cooling_sweep, face_particles

    t = 3e5
    for bcoef in (1e-20, 1e-9):
        g, gf, dE, b, q_sub, u = _sweep_case(bcoef=bcoef)
        F1, M1 = H.proton_sweep(g, b, q_sub, u, t)
        F0, M0 = cooling_sweep(g, b, q_sub.sum(axis=1), t)
        np.testing.assert_allclose(F1, F0, rtol=1e-8)
        np.testing.assert_allclose(M1, M0, rtol=1e-8)
    gc = 1e7
    g, gf, dE, b, q_sub, u = _sweep_case(gc=gc)
    F, M = H.proton_sweep(g, b, q_sub, u, t)
    n_face = face_particles(F, b, dE) / dE
    exact = t * gf**-2.0 * np.exp(-gf / gc)
    sel = (gf > 1e3) & (gf < 3 * gc)
    assert np.max(np.abs(n_face[sel] / exact[sel] - 1)) <= 0.015
    q = q_sub.sum(axis=1)
    assert (np.sum(g * M) / t + np.sum(F * dE)) / np.sum(g * q) == pytest.approx(1.0, abs=1e-12)


def test_neutrinos_equal_direct_ka08_quadrature():
    """Independent check of the solver's photopion neutrinos (raw KA08, ``pg_loss_model="ka08"``,
    Test 4 at 20 ppd): a direct trapezoid quadrature of KA08 Eq. (69) over the run's own protons
    and photons (``ka08_secondaries_quadrature``: 300 log points in η, 100 in γ_p, no tables, no
    binning, no face lattice; converged: 600×200 changes it by < 0.001 dex) must reproduce the
    all-flavour εL_ε where it is > 1e-2 of its peak: median |Δ| ≤ 0.01 dex (measured 0.002) and
    max ≤ 0.02 dex (measured 0.009, in the protons' exponential tail at 10^10.3 m_ec²). The max
    guards ``proton_sweep``: with the pairs' sweep the face proton counts are first-order in the
    exponential cut-off and the tail was −0.086 dex (docs/hadronic-solver.md §3 round 2)."""
    from sweep.validation.hadronic import ka08_secondaries_quadrature

    ss = solve(athena_test4_blob(20, pg_loss_model="ka08"))
    le = np.arange(5.0, 11.01, 0.1)
    quad_ele = ka08_secondaries_quadrature(ss, 1e16, 10**le, n_eta=300, n_gamma=100)
    neut = ss.extra["neutrinos"]
    ls = np.log10(np.asarray(neut["energy_ev"]) * const.eV / const.m_e_c2)
    ys = np.asarray(neut["ELE"]["all"])
    pos = ys > 0
    d = np.interp(le, ls[pos], np.log10(ys[pos])) - np.log10(quad_ele)
    sel = quad_ele > 1e-2 * quad_ele.max()
    assert np.median(np.abs(d[sel])) <= 0.01
    assert np.max(np.abs(d[sel])) <= 0.02


@pytest.mark.xfail(strict=True, reason="issue-5 targets not reached: ATHEνA's pγ yield is ~0.64x SOPHIA's "
                   "(this model's default; 0.68x raw KA08, 0.52x legacy σκ) and its Bethe-Heitler synchrotron band 1.3-1.6x "
                   "ours (docs/hadronic-solver.md §3)")
def test_athena_test4_issue_targets(test4):
    """Issue 5 req. 6 targets: photons median ≤ 0.03 / max ≤ 0.10 dex, neutrinos median ≤ 0.05 dex."""
    _, fig = test4
    assert fig["photons_median"] <= 0.03
    assert fig["photons_max"] <= 0.10
    assert fig["neutrinos_median"] <= 0.05


def test_photopion_efficiency_by_target_vs_solver(dense):
    """``photopion_efficiency_by_target`` (exact per target point, no binning) agrees with the
    solver's f_pγ on the same external field within 2 % (binning of the solver's grid)."""
    blob, ss = dense
    nu, u_nu = _grey_body()
    pr = ss.extra["protons"]
    g = np.array([1e6, 1e7])
    f = H.photopion_efficiency_by_target(g, blob.R, {"grey_body": (nu, u_nu)})["grey_body"]
    for gi, fi in zip(g, f):
        j = int(np.argmin(np.abs(pr["gamma"] - gi)))
        b_pions = pr["b_pg"][j] - pr["b_pg_neutron"][j]  # f_pγ: energy to pions, not neutrons
        assert b_pions / pr["gamma"][j] * blob.R / const.c == pytest.approx(fi, rel=0.02)


def test_bad_proton_input_names_field():
    with pytest.raises(ValueError, match="protons.shape"):
        H.ProtonExtension(shape="gaussian")
    with pytest.raises(ValueError, match="gamma_min"):
        H.ProtonExtension(gamma_min=10.0, gamma_max=5.0)


@pytest.mark.parametrize("case", ["test4", "dense", "jetlike"])
def test_canonical_tables_equal_direct_build(case):
    """The per-ppd canonical BH and pγ tables, sliced for a run's grids, give the same loss
    rates and secondary spectra as kernels built directly on those grids (relative 1e-10 for
    losses and pγ: the slices hold the same numbers; BH pairs see below)."""
    from sweep.model.kinetics import Injection
    from sweep.model.processes import bethe_heitler as bh

    if case == "test4":
        blob = athena_test4_blob(10)
    elif case == "dense":
        nu, u_nu = _grey_body()
        blob = Blob(R=1e16, B=1.0, ppd=10, injections=[], external_fields=[ExternalField(nu=nu, u_nu=u_nu)],
                    extensions=[H.ProtonExtension(p=2.0, gamma_min=1e3, gamma_max=1e8, luminosity=1e45)])
    else:  # jet-model-like: sharp cut-offs, strong field, low γ_max
        blob = Blob(R=3e16, B=3.0, ppd=12, injections=[Injection("e", "power_law", p=2.2, gamma_min=30.0,
                                                                  gamma_max=3e4, luminosity=1e43)],
                    extensions=[H.ProtonExtension(p=2.2, gamma_min=10.0, gamma_max=3e6, luminosity=1e45)])
    g = H.grids_for(blob)
    gpf = H.lattice(g.p0, len(g.gamma_p) - 1, g.ppd, 0.5)
    a = H._build_pg(g, gpf, 1e-7, canonical=True)
    b = H._build_pg(g, gpf, 1e-7, canonical=False)
    assert a["kernels"].K.size == b["kernels"].K.size and a["h_f"] == b["h_f"]
    rng = np.random.default_rng(3)
    n_x = np.exp(rng.normal(0.0, 1.0, g.x.size)) * g.x**-1.5
    n_p = np.exp(rng.normal(0.0, 1.0, gpf.size)) * gpf**-2.0
    ra = pg.photopion_injection(a["kernels"], n_x, n_p, per_flavour=True)
    rb = pg.photopion_injection(b["kernels"], n_x, n_p, per_flavour=True)
    for key in rb:
        np.testing.assert_allclose(ra[key], rb[key], rtol=1e-10, atol=1e-10 * rb[key].max())
    np.testing.assert_allclose(pg.photopion_loss_rate(a["kernels"], n_x), pg.photopion_loss_rate(b["kernels"], n_x),
                               rtol=1e-10)
    ka = H._build_bh(g, gpf, "ka08", canonical=True)
    kb = H._build_bh(g, gpf, "ka08", canonical=False)
    qa, qb = bh.bh_pair_injection(ka, n_x, n_p), bh.bh_pair_injection(kb, n_x, n_p)
    # BH pairs: 1e-6 (measured ≤ 3e-7): a direct build drops the table columns that cannot reach
    # its pair grid for any proton before renormalising each row to the exact φ loss, the
    # canonical table keeps them (they fall off the grid), so rows differ at that level
    np.testing.assert_allclose(qa, qb, rtol=1e-6, atol=1e-9 * qb.max())
    np.testing.assert_allclose(bh.bh_loss_rate(ka, n_x), bh.bh_loss_rate(kb, n_x), rtol=1e-10)


def test_observer_frame_neutrinos_and_peak(test4):
    """Observer frame as for photons (model.md §5): E_obs = δE'/(1+z), (EL_E)_obs = δ⁴ E'L'_E'
    exactly; the peak finder recovers the vertex of a log-parabola to 1e-6 dex and its integral
    to 1e-3 (trapezoid on 20 ppd)."""
    ss, _ = test4
    d, z = 12.0, 0.3
    obs = H.neutrinos_observer(ss, d, z)
    neut = ss.extra["neutrinos"]
    np.testing.assert_allclose(obs["energy_ev"], neut["energy_ev"] * d / (1 + z), rtol=1e-14)
    np.testing.assert_allclose(obs["ELE"]["nu_mu"], neut["ELE"]["nu_mu"] * d**4, rtol=1e-14)
    summ = H.neutrino_summary(ss, d, z)
    assert summ["L_nu"] == pytest.approx(summ["L_nu_comoving"] * d**4, rel=1e-12)
    assert summ["E_peak_ev"] == pytest.approx(summ["E_peak_ev_comoving"] * d / (1 + z), rel=1e-9)
    # synthetic log-parabola: y = 10^{40 − 0.8 (log E − 15.37)²}
    e = np.logspace(10, 20, 201)
    y = 10 ** (40 - 0.8 * (np.log10(e) - 15.37) ** 2)
    e_pk, y_pk, tot = H.neutrino_peak(e, y)
    assert math.log10(e_pk) == pytest.approx(15.37, abs=1e-6)
    assert math.log10(y_pk) == pytest.approx(40.0, abs=1e-6)
    exact = 1e40 * math.log(10) * math.sqrt(math.pi / (0.8 * math.log(10)))
    assert tot == pytest.approx(exact, rel=1e-3)


def test_photopion_efficiency_from_run(dense):
    """Per-target f_pγ of a run: the external field's equals the solver's own loss rate (2 %);
    the blob's own (secondary) photons are a sub-dominant target here."""
    blob, ss = dense
    f = H.photopion_efficiency_from_run(ss, blob, gamma_p=np.array([1e7]))
    assert set(f) == {"gamma_p", "synchrotron", "grey_body"}
    j = int(np.argmin(np.abs(ss.extra["protons"]["gamma"] - 1e7)))
    pr = ss.extra["protons"]
    f_solver = (pr["b_pg"][j] - pr["b_pg_neutron"][j]) / pr["gamma"][j] * blob.R / const.c
    assert f["grey_body"][0] + f["synchrotron"][0] == pytest.approx(f_solver, rel=0.02)
    assert f["synchrotron"][0] < 0.1 * f["grey_body"][0]


def test_cell_photopion_efficiency_per_target():
    """Jet-model cell (baseline, z = 30 R_s): f_pγ per target (synchrotron, disc, BLR, DT) at
    γ'_p,max; their sum equals the solver's own f_pγ on all targets within 3 % (targets add
    linearly; the per-target integral is unbinned, the solver's binned on its grid). At 30 R_s
    the blob's synchrotron photons dominate (model.md §5, Eq. 30 discussion)."""
    r = cell_photopion_efficiency({"z_diss": 30.0, "z_unit": "Rs"})
    assert r["status"] == "converged"
    at = r["at_gamma_max_p"]
    assert {"synchrotron", "disc", "blr", "dt"} <= set(at)
    total = sum(v for k, v in at.items() if k != "solver_total")
    assert total == pytest.approx(at["solver_total"], rel=0.03)
    assert at["synchrotron"] > max(at["disc"], at["blr"], at["dt"])


def test_example_yaml_is_the_python_test4():
    """examples/athena_test4.yaml (``sweep blob``) builds exactly the blob of
    ``sweep.validation.hadronic.athena_test4_blob`` (same spectra, bit for bit), so the figures
    above are those of ``sweep blob examples/athena_test4.yaml``."""
    from pathlib import Path

    from sweep import blob as blob_mod

    cfg, base = blob_mod.load_config(Path(__file__).resolve().parents[1] / "examples" / "athena_test4.yaml")
    a = solve(blob_mod.to_blob(cfg, base))
    b = solve(athena_test4_blob(cfg.ppd))
    np.testing.assert_array_equal(a.nuLnu, b.nuLnu)
    np.testing.assert_array_equal(a.extra["neutrinos"]["ELE"]["all"], b.extra["neutrinos"]["ELE"]["all"])



def test_test4_athena_sophia_figures(test4):
    """Issue 9 targets vs ATHEνA Test 4 with the default SOPHIA-table photopion: photons median
    ≤ 0.05 dex and max ≤ 0.20 dex (windows of ``figures``); neutrinos: ATHEνA's are a common
    factor below SOPHIA's (its pγ rate normalisation; audit: ≈ 0.69), so the one factor that best
    aligns them must be 0.6–0.7 and the median after it ≤ 0.05 dex (shape agrees).  Measured at
    20 ppd: 0.044 / 0.179 dex; factor 0.643, median after 0.038 dex."""
    _, fig = test4
    assert fig["photons_median"] <= 0.05
    assert fig["photons_max"] <= 0.20
    f, med = neutrino_normalisation(fig, load_reference()[1])
    assert 0.6 <= f <= 0.7
    assert med <= 0.05


def test_test4_neutrinos_vs_sophia_fold(test4):
    """Independent check of the fold: the solver's all-flavour Test 4 neutrinos against the SOPHIA
    table folded directly with the run's own protons and photons (``sophia_secondaries_fold``: no
    face lattice, photon-bin sub-samples, ξ rebinning or frozen rows), median |Δ| ≤ 0.03 dex over
    the top 2 dex (measured 0.014 dex, max 0.05 dex in the exponential proton cut-off, where the
    fold interpolates the proton cells and the solver uses face counts) and the total ν power
    within 2 % (measured 0.2 %)."""
    ss, _ = test4
    E, y = sophia_secondaries_fold(ss, 1e16)
    neut = ss.extra["neutrinos"]
    le = np.log10(np.asarray(neut["energy_ev"]) * const.eV / const.m_e_c2)
    ys = np.asarray(neut["ELE"]["all"])
    p = ys > 0
    top = y > y.max() * 1e-2
    d = np.interp(np.log10(E[top]), le[p], np.log10(ys[p])) - np.log10(y[top])
    assert np.median(np.abs(d)) <= 0.03
    p_fold = np.sum(y) * np.log(10) / 40
    assert ss.extra["hadronic_power"]["pg_neutrinos"] == pytest.approx(p_fold, rel=0.02)
