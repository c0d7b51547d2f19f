"""Protons, Bethe–Heitler, photopion and neutrinos in the steady-state kinetic solver (model.md §4–§5).

``ProtonExtension`` plugs into ``sweep.model.kinetics`` through its extension protocol
(``Blob.extensions``; ``setup(ctx)`` once per run, ``contribute(ctx, state, terms)`` once per
fixed-point iteration).  Everything here is a pure function of arrays; the physics of the processes
lives in ``processes/{synchrotron,bethe_heitler,photopion,protons}.py`` and is only assembled here.

Proton equation (own lattice ``grids.gamma_p``: cells γ_c = 10^{c/ppd}, faces in between)
------------------------------------------------------------------------------------------
    0 = ∂/∂γ [b_p(γ) N_p] − N_p/t_esc + Q_p(γ),     b_p = b_syn + b_BH + b_pγ,   t_esc = R/c

solved with ``proton_sweep``, the pairs' exact-per-cell sweep (``kinetics.cooling_sweep``) with the
injection resolved on 16 sub-cells per cell (second order in exponential cut-offs; see its
docstring), flux-conservative as the pairs' (a
proton crossing face f loses m_pc²(γ_{f+1} − γ_f); the power lost at face f is Ñ_f b_f m_pc²
with Ñ_f = F_f Δγ_f / b_f the protons of the face cell), so

    L_inj,p = L_esc,p + Σ_f Ñ_f (b_syn + b_BH + b_pγ)_f m_pc²            (exact, to round-off).

* Injection: ``shape`` = "power_law" (sharp cut-offs, the jet model), "power_law_exp_cutoff"
  (γ^−p e^{−γ/γ_max}, γ ≥ γ_min: ATHEνA Test 4) or "broken_power_law", normalised to
  ``luminosity`` = V m_pc² Σ_c γ_c Q_c (discrete sum on the grid, as the pairs in kinetics).
* Synchrotron: the shared pair kernel by mass scaling (``protons.proton_synchrotron_matrix``:
  same kernel option as the pairs, ``Blob.processes.synchrotron_kernel``), evaluated at the
  faces and energy-normalised (photon power = proton loss power to round-off); SSA by protons
  with the same kernel (negligible in practice, kept for consistency).
* Bethe–Heitler and photopion kernels are built on the FACE lattice of the protons, so the
  secondaries of face f are emitted by Ñ_f; both kernels are normalised so that the energy of the
  secondaries equals the proton loss row by row (``bethe_heitler``: KA08 Eq. 62 pair spectrum
  renormalised to Blumenthal's φ; ``photopion``: by default losses, secondaries and escaping
  neutrons from one SOPHIA 2.0 yield table, options KA08 / legacy σκ), hence power lost by protons
  to BH/pγ = power injected into secondaries (+ escaping neutrons), up to what falls off the grids
  (the grids are sized so that nothing does: secondaries are bounded by γ_p m_p/m_e).
* Targets: the blob's own photons (current iterate) plus the external fields.  The photon field
  changes every iteration, so the photon-field-dependent parts (loss rates, the linear maps
  from Ñ_p to secondaries) are rebuilt each iteration from tables precomputed once per grid
  (LRU-cached by grid, so repeated runs on the same grids skip the precomputation).  The
  rebuild is cheap because of the structure of the photopion table: above η = 100 η₀ the KA08
  fractional spectra are frozen (Feynman scaling), so all those rows are one row times K(η)
  and collapse into the loss sum (``_pg_inject``; checked against ``photopion_injection``).
* Target photons absorbed in pγ/BH interactions are not removed from the photon field (their
  energy ≪ the proton's; LeHaMoC and ATHEνA do the same).  Proton escape R/c (``t_esc``).

Secondaries (same iteration)
----------------------------
BH pairs and pγ e± → ``terms.pair_source``; π⁰ γ-rays and proton synchrotron →
``terms.photon_emis``; proton SSA → ``terms.photon_sink``.  Neutrinos (ν_e, ν̄_e, ν_μ, ν̄_μ) escape
on R/c: E L_E = V E² q_ν(E) (comoving; = (4π/3)R²c E² n(E), the photons' convention).

Energy bookkeeping added to the solver's balance (erg cm⁻³ s⁻¹ in ``terms``, erg/s in
``SteadyState.energy``): in ``protons_injected``; out ``escaping_protons``, ``neutrinos``,
``neutrons`` (photopion neutrons leaving the blob, ``pg_loss_model="sophia"``), ``proton_ssa_absorbed``; proton synchrotron, BH and pγ power are carried by the photon and pair
equations (whose escape/SSA terms the solver already counts).  The per-process proton powers are
in ``SteadyState.extra["hadronic_power"]`` [erg/s].

Outputs (``SteadyState.extra``, the contract of ``cell.py``)
-------------------------------------------------------------
``extra["protons"] = {"gamma": γ_p, "n": dN/dγdV [cm⁻³], "b_syn"/"b_bh"/"b_pg": −dγ/dt [s⁻¹]
at the cells, "b_pg_neutron": the part of "b_pg" that leaves in neutrons}``, ``extra["neutrinos"] = {"energy_ev": E [eV], "ELE": {"nu_e", "nu_e_bar", "nu_mu",
"nu_mu_bar", "all"}: E L_E [erg/s]}`` (comoving).

Analytics (model.md §5): ``neutrinos_observer`` (δ⁴, E(1+z)⁻¹), ``neutrino_peak``,
``photopion_efficiency_by_target`` (f_pγ(γ_p) = (R/c)/t_pγ per target field: synchrotron, disc,
BLR, DT, …; the paper's Figs. 13–14).
"""
from __future__ import annotations

import dataclasses
import math
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit

from . import constants as const
from .grids import cell_widths, lattice
from .processes.lattice import lattice_loss_rate

ME_OVER_MP = const.m_e / const.m_p
#: KA08 species of the photopion tables -> cell.py flavour names
FLAVOURS = {"nu_e": "nu_e", "antinu_e": "nu_e_bar", "nu_mu": "nu_mu", "antinu_mu": "nu_mu_bar"}
PROTON_SHAPES = ("power_law", "power_law_exp_cutoff", "broken_power_law")


# --------------------------------------------------------------------------------------------
# numba kernels (per-iteration work)
# --------------------------------------------------------------------------------------------
@njit(cache=True)
def _loss_sums(nd, K, h_lo, gamma, h_f):
    """(−dγ/dt = γ_j Σ_i nd_i K[i+j−h_lo],  S_j = Σ_{h ≥ h_f} nd_i K[h]) on the proton faces."""
    npr = gamma.size
    nx = nd.size
    nh = K.size
    loss = np.zeros(npr)
    frozen = np.zeros(npr)
    for j in range(npr):
        i0 = h_lo - j
        if i0 < 0:
            i0 = 0
        acc = 0.0
        acc_f = 0.0
        for i in range(i0, nx):
            hh = i + j - h_lo
            if hh >= nh:
                break
            v = nd[i] * K[hh]
            acc += v
            if hh >= h_f:
                acc_f += v
        loss[j] = gamma[j] * acc
        frozen[j] = acc_f
    return loss, frozen


@njit(cache=True)
def _pg_direct(nd, Nf, T, h_lo, nrow):
    """G[j, :] = Σ_{h < nrow} nd[h + h_lo − j] T[h, :] for every proton face j with Ñ_j ≠ 0: one
    BLAS matrix product G = D·T[:nrow], D[j, h] = nd[h + h_lo − j] (zero outside the photon
    grid).  The same sums as one matrix-vector product per face (differences ≤ 1e-14 dex: sums
    of non-negative terms in another order; the zeros of D and of T's rows outside their
    [m_start, m_stop) add exact zeros).  ``T`` may be several species' tables side by side."""
    nx = nd.size
    npr = Nf.size
    if nrow <= 0:
        return np.zeros((npr, T.shape[1]))
    D = np.zeros((npr, nrow))
    for j in range(npr):
        if Nf[j] == 0.0:
            continue
        for hh in range(nrow):
            i = hh + h_lo - j
            if 0 <= i < nx:
                D[j, hh] = nd[i]
    return np.dot(D, T[:nrow])


@njit(cache=True)
def _pg_scatter(G, c0, nm, Nf, frozen_sum, Tf_over_K, h_f, nh, m_lo, ny):
    """Secondaries per bin of one species from its columns c0 … c0+nm−1 of ``_pg_direct``'s G
    and the frozen rows (see ``_pg_inject``)."""
    npr = Nf.size
    out = np.zeros(ny)
    for j in range(npr):
        w = Nf[j]
        if w == 0.0:
            continue
        k0 = j + m_lo
        ms = 0
        if k0 < 0:
            ms = -k0
        me = nm
        if k0 + nm > ny:
            me = ny - k0
        if me <= ms:
            continue
        for mm in range(ms, me):
            out[k0 + mm] += w * G[j, c0 + mm]
        a = w * frozen_sum[j]
        if a != 0.0 and h_f < nh:
            for mm in range(ms, me):
                out[k0 + mm] += a * Tf_over_K[mm]
    return out


def _pg_inject(nd, Nf, frozen_sum, T, Tf_over_K, h_lo, h_f, m_lo, ny, m_start, m_stop):
    """Secondaries per cm³ per s in each bin k of one secondary grid:
        Σ_j Ñ_j [ Σ_{i: h<h_f} nd_i T[h, k−j−m_lo] + S_j T[h_f, k−j−m_lo]/K[h_f] ],  h = i+j−h_lo
    (rows h ≥ h_f of the photopion table are T[h_f]·K[h]/K[h_f]; see module docstring).
    Row h of T is zero outside columns [m_start[h], m_stop[h]).  The solver does every species
    with one ``_pg_direct`` product on the side-by-side tables (``_build_pg``)."""
    nrow = min(h_f, T.shape[0])
    G = _pg_direct(nd, Nf, np.ascontiguousarray(T[:max(nrow, 0)]), h_lo, nrow)
    return _pg_scatter(G, 0, T.shape[1], Nf, frozen_sum, Tf_over_K, h_f, T.shape[0], m_lo, ny)


# --------------------------------------------------------------------------------------------
# precomputed per-grid tables (cached)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _PGTab:
    """One photopion secondary table, summed over its species, split at the frozen row."""
    T: np.ndarray  # (nh, nm), rows < h_f used directly
    Tf_over_K: np.ndarray  # (nm,) T[h_f]/K[h_f]
    m_lo: int
    ny: int
    m_start: np.ndarray = None  # (nh,) first non-zero column of each row
    m_stop: np.ndarray = None  # (nh,) one past the last non-zero column


def _frozen_row(T_all: np.ndarray, K: np.ndarray, rtol: float = 1e-9) -> int:
    """Smallest h_f such that every row h ≥ h_f of every table equals T[h_f]·K[h]/K[h_f]."""
    nh = K.size
    h_f = nh - 1
    if nh == 0 or K[-1] <= 0:
        return nh
    ref = T_all[:, -1, :] / K[-1]
    scale = np.abs(ref).max() + 1e-300
    if nh < 2:
        return h_f
    # the same element-wise test as row by row from the top; the first failing row from the
    # top ends the frozen block (numba scan from the top: no (species, rows, columns) temporary)
    return _first_frozen(np.ascontiguousarray(T_all, dtype=float), np.ascontiguousarray(K, dtype=float),
                         np.ascontiguousarray(ref), float(rtol * scale))


@njit(cache=True)
def _first_frozen(T_all, K, ref, tol):
    """1 + the highest row h < nh − 1 with K[h] ≤ 0 or max |T[s, h, :] − ref[s, :]·K[h]| >
    tol·K[h] (0 if none)."""
    ns, nh, nm = T_all.shape
    for h in range(nh - 2, -1, -1):
        kh = K[h]
        if kh <= 0:
            return h + 1
        dev = 0.0
        for s in range(ns):
            for m in range(nm):
                d = abs(T_all[s, h, m] - ref[s, m] * kh)
                if d > dev:
                    dev = d
        if dev > tol * kh:
            return h + 1
    return 0


def _pg_tab(tab, K, h_f) -> _PGTab:
    T = np.ascontiguousarray(tab.T.sum(axis=0))
    if h_f < T.shape[0] and K[h_f] > 0:
        tf = np.ascontiguousarray(T[h_f] / K[h_f])
    else:
        tf = np.zeros(T.shape[1])
    nz = T != 0.0
    any_nz = nz.any(axis=1)
    m_start = np.where(any_nz, np.argmax(nz, axis=1), 0).astype(np.int64)
    m_stop = np.where(any_nz, T.shape[1] - np.argmax(nz[:, ::-1], axis=1), 0).astype(np.int64)
    return _PGTab(T=T, Tf_over_K=tf, m_lo=int(tab.m_lo), ny=int(tab.y.size), m_start=m_start, m_stop=m_stop)


_CACHE: OrderedDict = OrderedDict()
_CACHE_SIZE = 4


def _cached(key, build):
    hit = _CACHE.get(key)
    if hit is not None:
        _CACHE.move_to_end(key)
        return hit
    val = build()
    _CACHE[key] = val
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return val


def _grid_key(ppd, *grids):
    return (ppd,) + tuple((int(round(math.log10(g[0]) * ppd * 2)), len(g)) for g in grids)


# Canonical lattice of the per-ppd tables: photons/secondaries x = 10^{k/ppd}, k from
# _CANON_X[0]·ppd to _CANON_X[1]·ppd; proton faces 10^{(c+½)/ppd}, c from 0 to _CANON_P·ppd.
# BH and pγ kernels depend on the grids only through lattice index sums (rows: κ, η ∝ x γ_p) and
# differences (columns: u = γ_e/γ_p, ξ = E/E_p), so one table per ppd serves every run whose
# grids lie on the lattice: a run's kernels are row/column slices of it (``_slice_pg``,
# ``_slice_bh``; tested equal to a direct build).  Grids reaching beyond it are built directly.
_CANON_X = (-10, 17)
_CANON_P = 13
_CANON: dict = {}


def _canon_grids(ppd):
    x = lattice(_CANON_X[0] * ppd, (_CANON_X[1] - _CANON_X[0]) * ppd + 1, ppd)
    gpf = lattice(0, _CANON_P * ppd, ppd, 0.5)
    return x, gpf


def _pg_data_params(loss_model) -> tuple:
    """What the SOPHIA-table kernels depend on beyond their code: the shipped table (its hash)
    and the frozen-row energy (a module constant, varied by tests)."""
    if loss_model != "sophia":
        return ()
    from .processes import photopion as pg
    from .processes.sophia_table import load_table

    return (load_table().meta["sha256"], float(pg.SOPHIA_FROZEN_GEV))


def _canonical(kind, ppd, *opts):
    if kind == "pg":
        opts = opts + _pg_data_params(opts[1])
    key = (kind, ppd) + opts
    hit = _CANON.get(key)
    if hit is None:
        from .processes import bethe_heitler as bh
        from .processes import photopion as pg

        from . import tables

        x, gpf = _canon_grids(ppd)
        params = opts + (_CANON_X, _CANON_P)
        if kind == "bh":
            hit = tables.fixed("bh_kernels", ppd, params,
                               lambda: bh.build_bethe_heitler_kernels(x, gpf, x, pair_spectrum=opts[0]),
                               bh.BetheHeitlerKernels, modules=(bh.__name__, "sweep.model.processes.lattice"))
        else:
            hit = tables.fixed("pg_kernels", ppd, params,
                               lambda: pg.build_photopion_kernels(x, gpf, x, x, xi_min=opts[0], loss_model=opts[1]),
                               pg.PhotopionKernels, modules=(pg.__name__, "sweep.model.processes.lattice",
                                                             "sweep.model.processes.sophia_table"))
        _CANON[key] = hit
    return hit


def _rows(kc, k0a, nxa, p0a, npa, ppd):
    """(h_lo, n_rows) of a run's kernel rows inside the canonical table, or None if outside."""
    hlo_c = _CANON_X[0] * ppd + kc.h_lo  # absolute lattice index sum of canonical row 0
    h_lo = hlo_c - (k0a + p0a)
    nh = (k0a + nxa - 1) + (p0a + npa - 1) - hlo_c + 1
    if nh > kc.K.size or kc.h_lo <= 0:  # (rows below canonical row 0 are below threshold)
        return None
    return h_lo, max(nh, 0)


def _slice_bh(kc, g, gpf):
    """BetheHeitlerKernels of the run's grids (photons g.x, proton faces gpf, pairs g.gamma) cut
    from the canonical table ``kc`` (None if the grids leave it)."""
    from .grids import log_bin_widths

    ppd = g.ppd
    rows = _rows(kc, g.k0, len(g.x), g.p0, len(gpf), ppd)
    if rows is None:
        return None
    h_lo, nh = rows
    k0c = _CANON_X[0] * ppd
    ntab = min(kc.T.shape[0], nh)
    shift = (0 - g.p0) - (k0c - 0)  # (y0 − p0) of the run minus that of the canonical table
    return dataclasses.replace(
        kc, x=g.x, dx=log_bin_widths(g.x), gamma_p=gpf, dgamma_p=log_bin_widths(gpf),
        gamma_e=g.gamma, dgamma_e=log_bin_widths(g.gamma), h_lo=h_lo, kappa=kc.kappa[:nh],
        K=kc.K[:nh], T=np.ascontiguousarray(kc.T[:ntab]) if kc.T.shape[0] else kc.T,
        m_lo=kc.m_lo - shift, m_start=kc.m_start[:ntab], m_stop=kc.m_stop[:ntab],
        ka08_over_phi=kc.ka08_over_phi[:ntab], pair_rate=kc.pair_rate[:nh],
        k_shift=kc.k_shift[:nh] - shift, w_hi=kc.w_hi[:nh])


def _slice_pg(kc, g, gpf):
    """PhotopionKernels of the run's grids (photons g.x, faces gpf, pairs g.gamma, ν g.x_nu)."""
    from .grids import log_bin_widths
    from .processes.photopion import SecondaryTable

    ppd = g.ppd
    rows = _rows(kc, g.k0, len(g.x), g.p0, len(gpf), ppd)
    if rows is None:
        return None
    h_lo, nh = rows
    k0c = _CANON_X[0] * ppd

    def tab(t, y, y0):
        m_lo = t.m_lo + (k0c - 0) - (y0 - g.p0)
        return SecondaryTable(t.species, np.ascontiguousarray(t.T[:, :nh]), int(m_lo), y, log_bin_widths(y))

    return dataclasses.replace(
        kc, x=g.x, dx=log_bin_widths(g.x), gamma_p=gpf, dgamma_p=log_bin_widths(gpf), h_lo=h_lo,
        eta=kc.eta[:nh], K=kc.K[:nh], ka08_over_sigmakappa=kc.ka08_over_sigmakappa[:nh],
        K_neutron=kc.K_neutron[:nh],
        photons=tab(kc.photons, g.x, g.k0), pairs=tab(kc.pairs, g.gamma, 0),
        neutrinos=tab(kc.neutrinos, g.x_nu, g.n0))


def _build_bh(g, gpf, pair_spectrum, canonical=True):
    from .processes import bethe_heitler as bh

    if canonical:
        k = _slice_bh(_canonical("bh", g.ppd, pair_spectrum), g, gpf)
        if k is not None:
            return k
    return bh.build_bethe_heitler_kernels(g.x, gpf, g.gamma, pair_spectrum=pair_spectrum)


def _build_pg(g, gpf, xi_min, loss_model="sophia", canonical=True):
    from .processes import photopion as pg

    k = None
    if canonical:
        k = _slice_pg(_canonical("pg", g.ppd, xi_min, loss_model), g, gpf)
    if k is None:
        k = pg.build_photopion_kernels(g.x, gpf, g.gamma, g.x_nu, xi_min=xi_min, loss_model=loss_model)
    T_all = np.concatenate([k.photons.T, k.pairs.T, k.neutrinos.T], axis=0) if (
        k.photons.T.shape[2] == k.pairs.T.shape[2] == k.neutrinos.T.shape[2]) else None
    if T_all is not None:
        h_f = _frozen_row(T_all, k.K)
    else:
        h_f = min(_frozen_row(t.T, k.K) for t in (k.photons, k.pairs, k.neutrinos))
    tabs = {"photons": _pg_tab(k.photons, k.K, h_f), "pairs": _pg_tab(k.pairs, k.K, h_f)}
    for s, sp in enumerate(k.neutrinos.species):
        tabs[sp] = _pg_tab(dataclasses.replace(k.neutrinos, T=k.neutrinos.T[s:s + 1], Tsum=None), k.K, h_f)
    # the direct rows (h < h_f) of every species side by side: one BLAS product per iteration
    nh = {t.T.shape[0] for t in tabs.values()}
    stack = None
    if len(nh) == 1:
        nrow = min(h_f, nh.pop())
        cols, c = {}, 0
        for name, t in tabs.items():
            cols[name] = c
            c += t.T.shape[1]
        stack = (np.ascontiguousarray(np.hstack([t.T[:nrow] for t in tabs.values()])), cols, nrow)
    return {"kernels": k, "h_f": h_f, "tabs": tabs, "stack": stack}


# --------------------------------------------------------------------------------------------
# the extension
# --------------------------------------------------------------------------------------------
@njit(cache=True)
def _tau_from_face(ly, g0, b0, s):
    """Cooling time from γ = g0·e^{ly} down to g0 when b = b0 (γ/g0)^s [s] (expm1: no round-off
    amplification near the face, where g0/b0 can exceed t_esc by 1e15 for slowly cooling protons)."""
    if abs(1.0 - s) < 1e-8:
        return g0 / b0 * ly
    return g0 / b0 * math.expm1((1.0 - s) * ly) / (1.0 - s)


@njit(cache=True)
def proton_sweep(gamma, b, q_sub, u_sub, t_esc):
    """Steady state of ∂_γ(bN) − N/t + Q = 0 for the protons, exact per cell as
    ``kinetics.cooling_sweep`` but with the injection resolved inside each cell.

    gamma: cell centres (C, log lattice); b: −dγ/dt at the faces (C−1) [s⁻¹]; q_sub: protons
    injected per sub-cell [cm⁻³ s⁻¹] (C, S), the S sub-cells tiling each cell uniformly in ln γ
    (centres ln(γ/γ_c) = u_sub (S,), as ``ProtonExtension.setup`` builds them); t_esc [s].
    Returns (F faces [cm⁻³ s⁻¹], M cells [cm⁻³]).

    Inside cell c (faces g0 = γ_c/√r below, g0·r above) b ∝ γ^s (s from the two face values,
    top cell extrapolated with s = 2), so the cooling time from γ down to g0 is
    τ(γ) = (g0/b0)((γ/g0)^{1−s} − 1)/(1 − s).  A particle injected at γ reaches the lower face
    with probability e^{−τ(γ)/t_esc}; particles entering from above cross the whole cell,
    e^{−Δτ/t_esc}.  Each sub-cell k injects uniformly in τ between its
    edges τ_k^− < τ_k^+, so it contributes q_k e^{−τ_k^−/t}(1 − e^{−(τ_k^+−τ_k^−)/t})/((τ_k^+−τ_k^−)/t)
    (exact in slow cooling, where only the lowest sub-cell reaches the face).  Hence
    F_below = F_above e^{−Δτ/t} + Σ_k (those) and, by particle
    conservation in the cell, M = t (F_above + Σ_k q_k − F_below): the same flux-conservative
    bookkeeping as ``cooling_sweep`` (L_inj = L_esc + Σ_f F_fΔγ_f m c² exactly), which it
    reproduces when the injection is uniform in τ inside the cell (∝ 1/b).  ``cooling_sweep``
    assumes exactly that, so in a steep (exponential) injection tail its lower-face flux, and
    the face counts Ñ_f = F_fΔγ_f/b_f that drive the secondaries, are the upper part of the cell
    extrapolated with b's slope: a first-order error (Ñ_f low by ≈ e^{−(γ_c−γ_f)/γ_max}, 7 % at
    γ = γ_max·1.2 and 34 % at 7γ_max for 20 ppd); here it is resolved by the sub-cells."""
    C = gamma.shape[0]
    S = u_sub.shape[0]
    F = np.zeros(C - 1)
    M = np.zeros(C)
    r = gamma[1] / gamma[0]
    lr = math.log(r)
    sq = math.sqrt(r)
    f_above = 0.0
    for c in range(C - 1, -1, -1):
        qc = 0.0
        for k in range(S):
            qc += q_sub[c, k]
        if c == 0:
            M[0] = t_esc * (qc + f_above)
            break
        g0 = gamma[c] / sq
        b0 = b[c - 1]
        b1 = b[c] if c < C - 1 else b0 * r * r
        if b0 <= 0.0 or b1 <= 0.0:
            f_below = 0.0
        else:
            s = math.log(b1 / b0) / math.log(r)
            acc = 0.0
            for k in range(S):
                # sub-cell k spans ln(γ/g0) = [k, k+1]·ln r/S; injection uniform in τ inside it
                t_lo = _tau_from_face(k * lr / S, g0, b0, s) / t_esc
                t_hi = _tau_from_face((k + 1) * lr / S, g0, b0, s) / t_esc
                a = t_hi - t_lo
                if t_lo > 700.0:
                    continue
                if a < 1e-6:
                    p1 = 1.0 - 0.5 * a + a * a / 6.0
                elif a > 700.0:
                    p1 = 1.0 / a
                else:
                    p1 = -math.expm1(-a) / a
                acc += q_sub[c, k] * math.exp(-t_lo) * p1
            dtau = _tau_from_face(lr, g0, b0, s) / t_esc
            f_below = (f_above * math.exp(-dtau) if dtau < 700.0 else 0.0) + acc
        M[c] = t_esc * (f_above + qc - f_below)
        F[c - 1] = f_below
        f_above = f_below
    return F, M


@dataclass
class HadronicSetup:
    gp: np.ndarray  # proton cells
    gpf: np.ndarray  # proton faces
    dEp: np.ndarray
    dgp: np.ndarray
    q_p: np.ndarray  # protons injected per cell [cm⁻³ s⁻¹]
    t_esc: float
    b_syn: np.ndarray  # at faces
    K_syn: np.ndarray | None
    G_ssa: np.ndarray | None
    bh: Any
    pg: dict | None
    x_nu: np.ndarray
    dx_nu: np.ndarray
    prev_M: np.ndarray | None = None
    prev_nu: np.ndarray | None = None
    q_sub: np.ndarray | None = None  # injection per sub-cell [cm⁻³ s⁻¹] (C, NSUB), sums to q_p
    u_sub: np.ndarray | None = None  # sub-cell positions ln(γ/γ_c) (NSUB,)
    b_syn_cells: np.ndarray | None = None  # b_syn on the cells (fixed during the solve)


@dataclass
class ProtonExtension:
    """Protons + Bethe–Heitler + photopion + neutrinos for ``kinetics.Blob.extensions``.

    ``p, gamma_min, gamma_max, shape[, p2, gamma_break]``: proton injection spectrum (see
    ``sweep.model.injection.spectral_shape``); ``luminosity``: V m_pc² ∫γQdγ [erg/s] (comoving);
    ``synchrotron``, ``ssa``, ``bethe_heitler``, ``photopion``: processes on/off; ``t_esc``:
    proton escape time in R/c; ``bh_pair_spectrum``: "ka08" or "mean" (see bethe_heitler);
    ``xi_min``: smallest secondary energy fraction kept in the photopion tables;
    ``pg_loss_model``: "sophia" (default: losses, secondaries and escaping neutrons from the
    SOPHIA 2.0 yield table), "ka08" (KA08 secondaries, loss = their energy) or "sigma_kappa"
    (legacy: Mücke σ × channel-weighted κ loss, KA08 renormalised to it; kept to reproduce older
    results, see docs/hadronic.md).
    """

    p: float = 2.0
    gamma_min: float = 1.0
    gamma_max: float = 1e6
    luminosity: float = 0.0
    shape: str = "power_law"
    p2: float | None = None
    gamma_break: float | None = None
    synchrotron: bool = True
    ssa: bool = True
    bethe_heitler: bool = True
    photopion: bool = True
    t_esc: float = 1.0
    bh_pair_spectrum: str = "ka08"
    xi_min: float = 1e-7
    pg_loss_model: str = "sophia"

    def __post_init__(self):
        from .processes.photopion import LOSS_MODELS

        if self.pg_loss_model not in LOSS_MODELS:
            raise ValueError(f"protons.pg_loss_model: value {self.pg_loss_model!r} is invalid; "
                             f"allowed: {LOSS_MODELS}")
        if self.shape not in PROTON_SHAPES:
            raise ValueError(f"protons.shape: value {self.shape!r} is invalid; allowed: {PROTON_SHAPES}")
        if not (self.gamma_min >= 1.0 and self.gamma_max > self.gamma_min):
            raise ValueError(f"protons: need 1 ≤ gamma_min < gamma_max, got gamma_min={self.gamma_min}, "
                             f"gamma_max={self.gamma_max}")
        if self.luminosity is None or self.luminosity < 0:
            raise ValueError(f"protons.luminosity: value {self.luminosity!r} is invalid; allowed: ≥ 0 erg/s")
        if self.t_esc <= 0:
            raise ValueError(f"protons.t_esc: value {self.t_esc} is invalid; allowed: > 0 (units of R/c)")

    # ---------------------------------------------------------------- grids
    def gamma_top(self) -> float:
        """Largest proton γ on the grid (exp cut-off: 30 γ_max, where e^{−30} ≈ 1e-13)."""
        return 30.0 * self.gamma_max if self.shape == "power_law_exp_cutoff" else float(self.gamma_max)

    def grid_request(self, blob) -> dict:
        """Keyword arguments for ``grids.make_grids`` that this extension needs (secondaries are
        bounded by γ_p m_p/m_e: e± and π⁰ photons by the pairs/photons tops, neutrinos too)."""
        top = self.gamma_top()
        sec = top / ME_OVER_MP
        nu_lo = max(self.xi_min / ME_OVER_MP, 1e-6)
        # protons from γ = 1 (as the pairs): cooled protons stay on the grid whatever γ_min is
        return dict(gamma_p_range=(1.0, top), x_nu_range=(nu_lo, sec), gamma_max=sec, x_max=sec)

    def _covers(self, g, req) -> bool:
        if g.gamma_p is None or g.x_nu is None:
            return False
        lo, hi = req["gamma_p_range"]
        tol = 10.0 ** (0.5 / g.ppd)
        return (g.gamma_p[0] <= lo * tol and g.gamma_p[-1] * tol >= hi and g.gamma[-1] * tol >= req["gamma_max"]
                and g.x[-1] * tol >= req["x_max"] and g.x_nu[0] <= req["x_nu_range"][0] * tol
                and g.x_nu[-1] * tol >= req["x_nu_range"][1])

    # ---------------------------------------------------------------- setup
    def setup(self, ctx) -> None:
        from . import kinetics
        from .injection import spectral_shape
        from .processes import protons as prot

        blob = ctx.blob
        req = self.grid_request(blob)
        if not self._covers(ctx.grids, req):
            grids = grids_for(blob)
            fresh = kinetics.setup(dataclasses.replace(blob, extensions=()), grids=grids)
            for f in dataclasses.fields(fresh):
                if f.name not in ("blob", "extra"):
                    setattr(ctx, f.name, getattr(fresh, f.name))
        g = ctx.grids
        ppd = g.ppd
        gp = g.gamma_p
        gpf = lattice(g.p0, len(gp) - 1, ppd, 0.5)
        vol = blob.volume
        # injection per cell: midpoint rule on 16 log sub-cells (sharp cut-offs resolved)
        h = math.log(10.0) / ppd
        u = ((np.arange(16) + 0.5) / 16 - 0.5) * h
        gs = gp[:, None] * np.exp(u)[None, :]
        kw = dict(p=self.p, gamma_min=self.gamma_min, gamma_max=self.gamma_max)
        if self.shape == "broken_power_law":
            kw.update(p2=self.p2, gamma_break=self.gamma_break)
        q_sub = spectral_shape(gs.ravel(), self.shape, **kw).reshape(gs.shape) * gs * (h / 16)
        q = q_sub.sum(axis=1)
        e_disc = vol * const.m_p_c2 * float(np.sum(gp * q))
        if self.luminosity > 0 and e_disc <= 0:
            raise ValueError("protons: the injection spectrum has no particles on the grid")
        norm = (self.luminosity / e_disc) if self.luminosity > 0 else 0.0
        q = q * norm
        q_sub = np.ascontiguousarray(q_sub * norm)
        pr = blob.processes
        if self.synchrotron and blob.B > 0:
            K, G, b_syn, _ = prot.proton_synchrotron_matrix(gpf, ctx.x, ctx.dx, blob.B, pr.synchrotron_kernel)
            G = G if (self.ssa and pr.ssa) else None
        else:
            K, G, b_syn = None, None, np.zeros(len(gpf))
        key = _grid_key(ppd, ctx.x, gpf, g.gamma, g.x_nu)
        bh = _cached(("bh", self.bh_pair_spectrum) + key,
                     lambda: _build_bh(g, gpf, self.bh_pair_spectrum)) if self.bethe_heitler else None
        pg = _cached(("pg", self.xi_min, self.pg_loss_model) + _pg_data_params(self.pg_loss_model) + key,
                     lambda: _build_pg(g, gpf, self.xi_min, self.pg_loss_model)) if self.photopion else None
        ctx.extra["hadronic"] = HadronicSetup(
            gp=gp, gpf=gpf, dEp=np.diff(gp), dgp=cell_widths(gp, ppd), q_p=q,
            t_esc=self.t_esc * blob.R / const.c, b_syn=b_syn, K_syn=K, G_ssa=G, bh=bh, pg=pg,
            x_nu=g.x_nu, dx_nu=cell_widths(g.x_nu, ppd), q_sub=q_sub, u_sub=np.ascontiguousarray(u))

    # ---------------------------------------------------------------- per iteration
    def contribute(self, ctx, st, terms) -> None:
        from .kinetics import cooling_sweep, face_particles
        from .processes import bethe_heitler as bhm
        from .processes import synchrotron

        hs: HadronicSetup = ctx.extra["hadronic"]
        if hs.b_syn_cells is None:  # fixed during the solve: once per run
            hs.b_syn_cells = _faces_to_cells(hs.b_syn, hs.gpf, hs.gp)
        mp2 = const.m_p_c2
        me2 = const.m_e_c2
        vol = ctx.blob.volume
        nd = np.ascontiguousarray((st.n_ph + ctx.n_ext) * ctx.dx)
        b = hs.b_syn.copy()
        nf = len(hs.gpf)
        b_bh = np.zeros(nf)
        b_pg = np.zeros(nf)
        b_n = None
        if hs.bh is not None:
            b_bh = bhm._bh_loss(nd, hs.bh.K, hs.bh.h_lo, hs.gpf)
            b += b_bh
        if hs.pg is not None:
            k = hs.pg["kernels"]
            b_pg, frozen = _loss_sums(nd, k.K, k.h_lo, hs.gpf, hs.pg["h_f"])
            b += b_pg
            if k.K_neutron is not None and np.any(k.K_neutron):
                b_n = lattice_loss_rate(nd, k.K_neutron, k.h_lo, hs.gpf)  # part of b_pg: neutrons
        if hs.q_sub is not None:
            F, M = proton_sweep(hs.gp, b, hs.q_sub, hs.u_sub, hs.t_esc)
        else:
            F, M = cooling_sweep(hs.gp, b, hs.q_p, hs.t_esc)
        Nf = face_particles(F, b, hs.dEp)
        Nf = np.ascontiguousarray(Nf)
        # --- secondaries
        n_pair = len(ctx.grids.gamma)
        ng = len(ctx.x)
        nnu = len(hs.x_nu)
        q_bh = np.zeros(n_pair)
        q_pg_pairs = np.zeros(n_pair)
        q_pg_ph = np.zeros(ng)
        q_nu = {}
        if hs.bh is not None:
            kb = hs.bh
            q_bh = bhm._bh_pairs_mean(nd, Nf, kb.pair_rate, kb.k_shift, kb.w_hi, kb.h_lo, n_pair)
            if kb.T.shape[0] > 0:
                q_bh += bhm._bh_pairs_table(nd, Nf, kb.T, kb.m_start, kb.m_stop, kb.m_lo, kb.h_lo, n_pair)
            terms.pair_source += q_bh
        if hs.pg is not None:
            k = hs.pg["kernels"]
            h_f = hs.pg["h_f"]
            tabs = hs.pg["tabs"]

            stack = hs.pg.get("stack")
            G = _pg_direct(nd, Nf, stack[0], k.h_lo, stack[2]) if stack is not None else None

            def inj(name):
                t = tabs[name]
                if G is None:
                    return _pg_inject(nd, Nf, frozen, t.T, t.Tf_over_K, k.h_lo, h_f, t.m_lo, t.ny,
                                      t.m_start, t.m_stop)
                return _pg_scatter(G, stack[1][name], t.T.shape[1], Nf, frozen, t.Tf_over_K, h_f,
                                   t.T.shape[0], t.m_lo, t.ny)

            q_pg_ph = inj("photons")
            q_pg_pairs = inj("pairs")
            for sp in k.neutrinos.species:
                q_nu[FLAVOURS[sp]] = inj(sp)
            terms.photon_emis += q_pg_ph / ctx.dx
            terms.pair_source += q_pg_pairs
        # --- proton synchrotron and SSA
        p_ssa = 0.0
        if hs.K_syn is not None:
            terms.photon_emis += synchrotron.emit(Nf, hs.K_syn)
            if hs.G_ssa is not None:
                a = synchrotron.ssa_coefficient(Nf, hs.G_ssa, hs.gpf, ctx.nu) * ME_OVER_MP
                terms.photon_sink += const.c * a
                p_ssa = me2 * const.c * float(np.sum(st.n_ph * ctx.dx * ctx.x * a))
        # --- neutrinos: q per bin -> E L_E = V E² q(E) (per unit E/m_ec²)
        x_nu = hs.x_nu
        ele = {}
        tot = np.zeros(nnu)
        for fl in ("nu_e", "nu_e_bar", "nu_mu", "nu_mu_bar"):
            qn = q_nu.get(fl, np.zeros(nnu))
            ele[fl] = vol * me2 * x_nu * x_nu * qn / hs.dx_nu
            tot = tot + ele[fl]
        ele["all"] = tot
        p_nu = me2 * float(np.sum(sum(q_nu.values()) * x_nu)) if q_nu else 0.0
        # --- energy terms [erg cm⁻³ s⁻¹]
        terms.power_in["protons_injected"] = mp2 * float(np.sum(hs.gp * hs.q_p))
        terms.power_out["escaping_protons"] = mp2 * float(np.sum(hs.gp * M)) / hs.t_esc
        terms.power_out["neutrinos"] = p_nu
        p_n = mp2 * float(np.sum(Nf * b_n)) if b_n is not None else 0.0
        if b_n is not None:
            terms.power_out["neutrons"] = p_n
        if p_ssa:
            terms.power_out["proton_ssa_absorbed"] = p_ssa
        # --- residuals (protons' own species; neutrinos follow from protons and photons)
        r = 0.0
        w = M * hs.gp**2 / hs.dgp
        if hs.prev_M is not None and w.max() > 0:
            sel = w > 1e-10 * w.max()
            a, c = M[sel], hs.prev_M[sel]
            r = float(np.max(np.abs(np.log10(a / c)))) if np.all(c > 0) and np.all(a > 0) else np.inf
        terms.residuals["protons"] = r if hs.prev_M is not None else np.inf
        if hs.prev_nu is not None and tot.max() > 0:
            sel = tot > 1e-10 * tot.max()
            c = hs.prev_nu[sel]
            terms.residuals["neutrinos"] = (float(np.max(np.abs(np.log10(tot[sel] / c))))
                                            if np.all(c > 0) else np.inf)
        hs.prev_M = M
        hs.prev_nu = tot
        # --- outputs
        power = {"injected": vol * terms.power_in["protons_injected"],
                 "escaping": vol * terms.power_out["escaping_protons"],
                 "synchrotron": vol * mp2 * float(np.sum(Nf * hs.b_syn)),
                 "bethe_heitler": vol * mp2 * float(np.sum(Nf * b_bh)),
                 "photopion": vol * mp2 * float(np.sum(Nf * b_pg)),
                 "bh_pairs": vol * me2 * float(np.sum(ctx.grids.gamma * q_bh)),
                 "pg_pairs": vol * me2 * float(np.sum(ctx.grids.gamma * q_pg_pairs)),
                 "pg_photons": vol * me2 * float(np.sum(ctx.x * q_pg_ph)),
                 "pg_neutrinos": vol * p_nu,
                 "pg_neutrons": vol * p_n,
                 "ssa_absorbed": vol * p_ssa}
        st.extra["protons"] = {"gamma": hs.gp, "n": M / hs.dgp,
                               "b_syn": hs.b_syn_cells,
                               "b_bh": _faces_to_cells(b_bh, hs.gpf, hs.gp),
                               "b_pg": _faces_to_cells(b_pg, hs.gpf, hs.gp),
                               # the part of b_pg lost by protons turning into escaping neutrons
                               "b_pg_neutron": (_faces_to_cells(b_n, hs.gpf, hs.gp) if b_n is not None
                                                else np.zeros_like(hs.gp))}
        st.extra["neutrinos"] = {"energy_ev": x_nu * me2 / const.eV, "ELE": ele}
        st.extra["hadronic_power"] = power


def _faces_to_cells(b_f, gf, gc):
    """Log-log interpolation of a face quantity onto the cells (for reporting), extrapolated
    log-linearly from the two outermost positive faces at the ends."""
    out = np.zeros(len(gc))
    pos = b_f > 0
    if pos.sum() >= 2:
        lf, lb, lc = np.log(gf[pos]), np.log(b_f[pos]), np.log(gc)
        out = np.exp(np.interp(lc, lf, lb))
        hi = lc > lf[-1]
        out[hi] = np.exp(lb[-1] + (lc[hi] - lf[-1]) * (lb[-1] - lb[-2]) / (lf[-1] - lf[-2]))
        lo = lc < lf[0]
        out[lo] = np.exp(lb[0] + (lc[lo] - lf[0]) * (lb[1] - lb[0]) / (lf[1] - lf[0]))
        out[gc < gf[pos][0] / 2] = 0.0
    return out


def grids_for(blob, ppd: int | None = None):
    """The grids of a run with hadronic extensions (= ``kinetics.default_grids``, which widens the
    pairs' defaults by every extension's ``grid_request``)."""
    from .kinetics import default_grids

    return default_grids(blob, ppd)


# --------------------------------------------------------------------------------------------
# analytics and observer frame (model.md §5)
# --------------------------------------------------------------------------------------------
def neutrinos_observer(ss, doppler: float, z_red: float = 0.0) -> dict:
    """Observer-frame neutrino spectra of a solved blob: E_obs = δE'/(1+z), (EL_E)_obs = δ⁴ E'L'_E'.

    Returns {"energy_ev": E_obs [eV], "ELE": {flavour: [erg/s], "all": …}}."""
    from .observer import to_observer

    neut = ss.extra["neutrinos"]
    out = {}
    e_obs = None
    for fl, y in neut["ELE"].items():
        e_obs, out[fl] = to_observer(neut["energy_ev"], y, doppler, z_red)
    return {"energy_ev": e_obs, "ELE": out}


def neutrino_peak(energy_ev, ele) -> tuple[float, float, float]:
    """(E_pk [eV], (E L_E)_pk [erg/s], L_ν = ∫ E L_E d ln E [erg/s]) of an all-flavour spectrum
    (peak refined by a parabola in log-log through the three highest points)."""
    e = np.asarray(energy_ev, dtype=float)
    y = np.asarray(ele, dtype=float)
    if not np.any(y > 0):
        return float("nan"), 0.0, 0.0
    i = int(np.argmax(y))
    le, ly = np.log10(e[i]), np.log10(y[i])
    if 0 < i < len(y) - 1 and y[i - 1] > 0 and y[i + 1] > 0:
        a, b, c = np.log10(y[i - 1:i + 2])
        d = a - 2 * b + c
        if d < 0:
            s = 0.5 * (a - c) / d
            step = np.log10(e[i + 1] / e[i])
            le = le + s * step
            ly = b - 0.25 * (a - c) * s
    tot = float(np.sum(0.5 * (y[1:] + y[:-1]) * np.diff(np.log(e))))
    return float(10**le), float(10**ly), tot


def photopion_efficiency_by_target(gamma_p, R: float, targets: dict, ppd: int = 20,
                                   loss_model: str = "sophia") -> dict:
    """f_pγ(γ_p) = (R/c)/t_pγ(γ_p) for each target photon field separately (paper Figs. 13–14).

    gamma_p: proton Lorentz factors (comoving); R: blob radius [cm]; targets: {name: (ν [Hz],
    u_ν [erg cm⁻³ Hz⁻¹])} comoving isotropic fields (e.g. the blob's synchrotron photons from
    ``SteadyState``: u_ν = νL_ν/(ν · (4π/3)R²c) ... see ``target_from_steady_state``; disc, BLR,
    DT from ``sweep.model.fields``).  The loss rate is the same integral as in the solver for
    ``loss_model`` ("sophia": ``sophia_table.loss_kernel_eta`` weighted by the energy fraction
    that goes into the secondaries γ, e±, ν per interaction (``sophia_table.secondary_fraction``:
    the pion-production efficiency of the paper's Eq. 22, which does not count the energy of
    protons that turn into escaping neutrons, although the solver's proton loss does);
    "sigma_kappa"/"ka08": Mücke σκ, ``photopion.loss_kernel_eta``), exact per target point.
    Returns {name: f_pγ}.
    """
    from .processes import photopion as pg
    from .processes import sophia_table

    if loss_model == "sophia":
        frac = sophia_table.secondary_fraction()

        def kernel(eta):
            return sophia_table.loss_kernel_eta(eta, per_bin=frac)
    else:
        kernel = pg.loss_kernel_eta

    gamma_p = np.atleast_1d(np.asarray(gamma_p, dtype=float))
    out = {}
    for name, (nu, u_nu) in targets.items():
        nu = np.asarray(nu, dtype=float)
        u_nu = np.asarray(u_nu, dtype=float)
        x = nu * const.h / const.m_e_c2
        # photon number per unit x: n_x = u_ν (dν/dx) / (hν)
        n_x = u_nu * (const.m_e_c2 / const.h) / (const.h * nu)
        lx = np.log(x)
        rate = np.empty(gamma_p.size)
        for j, g in enumerate(gamma_p):
            eta = 4.0 * ME_OVER_MP * x * g
            integ = n_x * kernel(eta) * x  # per d ln x
            rate[j] = float(np.trapezoid(integ, lx)) if x.size > 1 else 0.0
        out[name] = rate * R / const.c
    return out


def target_from_steady_state(ss, R: float) -> tuple[np.ndarray, np.ndarray]:
    """(ν [Hz], u_ν [erg cm⁻³ Hz⁻¹]) of a solved blob's own photons (for f_pγ by target):
    νL_ν = (4π/3)R²c · ν u_ν / ... i.e. u_ν = νL_ν / (ν · V c/R)."""
    vol = 4.0 * math.pi * R**3 / 3.0
    nu = np.asarray(ss.nu, dtype=float)
    return nu, np.asarray(ss.nuLnu, dtype=float) / (nu * vol * const.c / R)


def photopion_efficiency_from_run(ss, blob, gamma_p=None) -> dict:
    """f_pγ(γ_p) per target of a solved blob: "synchrotron" (the blob's own escaping-photon field,
    synchrotron-dominated at the pγ-relevant energies) and each external field by its name
    (``ExternalField.name``: e.g. disc, BLR, DT from ``cell.build_blob``).  Returns
    {"gamma_p": γ_p, name: f_pγ, ...}; γ_p defaults to the run's proton grid."""
    if gamma_p is None:
        gamma_p = ss.extra["protons"]["gamma"] if "protons" in ss.extra else np.logspace(0, 10, 101)
    targets = {"synchrotron": target_from_steady_state(ss, blob.R)}
    for fld in blob.external_fields:
        targets[fld.name] = (np.asarray(fld.nu, dtype=float), np.asarray(fld.u_nu, dtype=float))
    out = {"gamma_p": np.asarray(gamma_p, dtype=float)}
    out.update(photopion_efficiency_by_target(gamma_p, blob.R, targets))
    return out


def neutrino_summary(ss, doppler: float = 1.0, z_red: float = 0.0) -> dict:
    """Observer-frame all-flavour neutrino peak energy [eV], peak E L_E [erg/s] and luminosity
    L_ν = ∫ E L_E d ln E [erg/s] (δ⁴ boost, E(1+z)⁻¹; model.md §5), plus the comoving ones."""
    neut = ss.extra["neutrinos"]
    e_c, y_c, l_c = neutrino_peak(neut["energy_ev"], neut["ELE"]["all"])
    obs = neutrinos_observer(ss, doppler, z_red)
    e_o, y_o, l_o = neutrino_peak(obs["energy_ev"], obs["ELE"]["all"])
    return {"E_peak_ev": e_o, "ELE_peak": y_o, "L_nu": l_o,
            "E_peak_ev_comoving": e_c, "ELE_peak_comoving": y_c, "L_nu_comoving": l_c}


def solve_with_protons(blob, **kw):
    """``kinetics.solve`` on the grids the extensions need (avoids building the default grids
    first); the result is identical to ``kinetics.solve(blob)``."""
    from .kinetics import solve

    return solve(blob, grids=grids_for(blob), **kw)


__all__ = ["ProtonExtension", "grids_for", "solve_with_protons", "neutrinos_observer", "neutrino_peak",
           "neutrino_summary", "photopion_efficiency_by_target", "photopion_efficiency_from_run",
           "target_from_steady_state", "FLAVOURS"]
