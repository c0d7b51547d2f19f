"""Steady-state kinetic solver for pairs and photons in a spherical blob (model.md §4, Eq. 20).

    0 = ∂/∂γ [b(γ) N] − N/t_esc + Q_inj(γ) + Q_γγ(γ)                      (pairs, b = −dγ/dt)
    0 = ε̇_syn + ε̇_IC − n [c/R + c α_SSA + R_γγ + R_sc]                    (photons, per unit x)

Design
------
* Grids: one ``sweep.model.grids.Grids`` per run (γ cells 10^{c/ppd}, faces 10^{(c+½)/ppd}, photons
  x_k = 10^{(k0+k)/ppd}); every process works on these arrays; kernel matrices are precomputed
  once per run (``Setup``) from ppd-cached tables.
* Pairs, flux-conservative and exactly energy-conserving: unknowns are the number fluxes F_f
  (particles cm⁻³ s⁻¹ crossing face f downwards) and the numbers M_c in the cells.  In each cell the
  stationary equation is integrated exactly along the cooling path (integrating factor over the
  cooling time Δτ_c = ∫dγ/b, b a power law between faces, source uniform in τ):
      F_{c−½} = F_{c+½} e^{−a} + Q_c (1 − e^{−a})/a,     M_c/t_esc = Q_c + F_{c+½} − F_{c−½},
  a = Δτ_c/t_esc; a single top-down sweep (O(C), no matrix).  A particle crossing face f loses
  γ_{f+1} − γ_f; the photons it radiates meanwhile are emitted with the spectrum of a particle AT
  the face: emission = Σ_f Ñ_f K_f(x), Ñ_f = F_f (γ_{f+1}−γ_f)/b_f (the particles of the face cell).
  The kernels K_f are normalised so that Σ_x x K_f Δx = b_f (synchrotron: exact (γ²−1) rate;
  IC: the discrete Klein–Nishina loss matrix built from the same table as the emission), so the
  power radiated equals the power lost by cooling to round-off, independently of ppd.  The scheme
  is second order: F is exact for the cell-integrated source, and the emission is a midpoint rule
  on the face lattice.  The pair spectrum reported is n_e(γ_c) = M_c/Δγ_c.
* Photons: the stationary photon equation is local in x once the sources and sinks are known.
* Steady state: fixed-point (Picard) iteration on the stationary equations
      photons n → [b(n), Q_γγ(n)] → pairs (exact sweep) → [ε̇(N, n), sinks(N, n)] → n'
  with the γγ coupling, IC on the blob's own photons (SSC, all orders) and SSA inside the loop.
  The state is the photon field (pairs and extension species are functions of it).  Updates use
  Anderson acceleration (depth ``accel`` = 5, Walker & Ni 2011) over the bins above 1e-25 of the
  peak (the set is kept while its bins stay positive), first on log n; if the residual stands
  still (within 5 %) for accel+1 iterations — a linear photon → pair → photon gain loop far from
  its fixed point, a pure translation in log n that Anderson on log n cannot extrapolate — the
  rest of the run accelerates n itself with 1/G(n) weights (see ``_Anderson``, docs/solver.md §5).
  If the residual exceeds 1.5× the best so far, the history is dropped and a plain step
  under-relaxed in log space is taken (ω halves when the residual grows, recovers when it falls).
  Convergence test: the fixed-point residual
      r = max |log10(G(s)/s)|  over photon bins with νL_ν > floor·max and pair cells with
          γ²n > floor·max   (floor = 1e-10)
  must fall below ``tol`` (default 1e-4).  A run that stops at ``max_iter`` returns
  ``converged=False``, ``status="not_converged"``; an exception gives ``status="failed"``.
* Energy bookkeeping (every run): injected power (Σ γ_c m c² Q_c V), power taken from external
  photon fields (IC scatterings, γγ with an external target), and the outputs: escaping photons,
  escaping pairs, SSA-absorbed power.  γγ-absorbed photons become pairs inside the blob (with exact
  energy), IC-scattered blob photons become the up-scattered photons, so
      energy_balance = (L_esc,γ + L_esc,e + L_SSA) / (L_inj + L_ext)
  is 1 to the convergence tolerance (not only to the quadrature accuracy).
* Extension (protons, Bethe–Heitler, photopion, neutrinos): ``Blob.extensions`` takes objects with
      setup(ctx: Setup) -> None                  (precompute their linear maps once per run)
      contribute(ctx, state: State, terms: Terms) -> None
  called once per iteration before the pair and photon updates; they may add to
  ``terms.pair_source`` (pairs per cell, cm⁻³ s⁻¹), ``terms.pair_loss`` (extra b at the faces),
  ``terms.photon_emis`` (per unit x), ``terms.photon_sink`` (s⁻¹), ``terms.power_in`` /
  ``terms.power_out`` (erg cm⁻³ s⁻¹, dict by name) and ``terms.residuals`` (their own species'
  max |Δlog10|, included in the convergence test), and keep their species (e.g. protons on
  ``grids.gamma_p``, solved with ``cooling_sweep``) and neutrinos in ``state.extra``.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Sequence

import numpy as np
from numba import njit

from . import constants as const
from .grids import Grids, cell_widths, make_grids
from .processes import compton, pairs, synchrotron


# ------------------------------------------------------------------------------------------
# public configuration objects
# ------------------------------------------------------------------------------------------
@dataclass
class Injection:
    """Continuous injection of one species.

    Either a spectral shape (``shape`` in ``sweep.model.injection.SHAPES`` with ``p``,
    ``gamma_min``, ``gamma_max`` [, ``p2``, ``gamma_break``]) normalised to ``luminosity`` [erg/s]
    (V m c² ∫γQdγ = L, evaluated as the discrete sum on the solver's grid), or an explicit
    ``q``: a callable Q(γ) [cm⁻³ s⁻¹ per unit γ] or an array of Q on ``q_gamma`` (log-log
    interpolated; zero outside).  With ``q`` given and ``luminosity`` set, Q is rescaled to it.
    With a callable ``q``, ``gamma_max`` must bound its support (it sets the top of the grid).
    """

    species: str = "e"
    shape: str | None = "power_law"
    p: float = 2.0
    gamma_min: float = 1.0
    gamma_max: float = 1e6
    luminosity: float | None = None
    p2: float | None = None
    gamma_break: float | None = None
    q: Callable | np.ndarray | None = None
    q_gamma: np.ndarray | None = None

    def top(self) -> float:
        """Largest γ that carries injected particles (for the grid)."""
        if self.q is not None and self.q_gamma is not None:
            qa = np.asarray(self.q, dtype=float)
            nz = np.nonzero(qa > 0)[0]
            return float(np.asarray(self.q_gamma)[nz[-1]]) if nz.size else 1.0
        if self.shape == "power_law_exp_cutoff":
            return 30.0 * self.gamma_max
        return float(self.gamma_max)

    def q_of_gamma(self, g: np.ndarray) -> np.ndarray:
        if self.q is not None:
            if callable(self.q):
                return np.asarray(self.q(g), dtype=float)
            qa = np.asarray(self.q, dtype=float)
            qg = np.asarray(self.q_gamma, dtype=float)
            out = np.zeros_like(g)
            pos = qa > 0
            if pos.sum() >= 2:
                lq = np.interp(np.log(g), np.log(qg[pos]), np.log(qa[pos]), left=-np.inf, right=-np.inf)
                out = np.exp(lq)
                out[(g < qg[pos][0]) | (g > qg[pos][-1])] = 0.0
            return out
        from .injection import spectral_shape

        kw = dict(p=self.p, gamma_min=self.gamma_min, gamma_max=self.gamma_max)
        if self.shape == "broken_power_law":
            kw.update(p2=self.p2, gamma_break=self.gamma_break)
        return spectral_shape(g, self.shape, **kw)


@dataclass
class ExternalField:
    """An isotropic comoving target photon field u_ν(ν) [erg cm⁻³ Hz⁻¹] on ``nu`` [Hz].
    Targets only: never evolved, never part of the output SED."""

    nu: np.ndarray
    u_nu: np.ndarray
    name: str = "external"

    def u_total(self) -> float:
        nu = np.asarray(self.nu, dtype=float)
        return float(np.trapezoid(np.asarray(self.u_nu, dtype=float) * nu, np.log(nu)))


@dataclass
class Processes:
    synchrotron: bool = True
    ssa: bool = True
    inverse_compton: bool = True
    gamma_gamma: bool = True
    synchrotron_kernel: str = "exact"  # or "approx" (x^{1/3} e^{-x})


@dataclass
class Blob:
    """One-zone blob: radius R [cm], field B [G], injections, external fields (comoving)."""

    R: float
    B: float
    injections: Sequence[Injection]
    external_fields: Sequence[ExternalField] = ()
    processes: Processes = field(default_factory=Processes)
    ppd: int = 20
    t_esc_pairs: float = 1.0  # pair escape time in units of R/c
    t_esc_photons: float = 1.0  # photon escape time in units of R/c
    extensions: Sequence[Any] = ()

    @property
    def volume(self) -> float:
        return 4.0 * math.pi * self.R**3 / 3.0


@dataclass
class SteadyState:
    nu: np.ndarray  # [Hz] comoving
    nuLnu: np.ndarray  # [erg/s] comoving, (4π/3)R²c hν² n(ν)
    gamma_e: np.ndarray
    n_e: np.ndarray  # [cm⁻³ per unit γ]
    iterations: int
    residual: float
    converged: bool
    status: str  # "converged" | "not_converged" | "failed"
    message: str
    energy_balance: float
    energy: dict  # parts [erg/s]
    runtime_s: float
    x: np.ndarray | None = None
    n_ph: np.ndarray | None = None  # [cm⁻³ per unit x]
    grids: Grids | None = None
    extra: dict = field(default_factory=dict)
    history: list = field(default_factory=list)  # fixed-point residual per iteration (≥ 2)
    # for post-processing (angle-resolved external Compton, ``processes.external_compton``):
    face_particles: np.ndarray | None = None  # Ñ_f [cm⁻³] of the pairs at the faces
    photon_sink: np.ndarray | None = None  # escape + absorption + scattering rate [s⁻¹] per bin
    n_ext: np.ndarray | None = None  # external target photons per unit x [cm⁻³]


# ------------------------------------------------------------------------------------------
# the pair (or any cooling species) sweep
# ------------------------------------------------------------------------------------------
@njit(cache=True)
def cooling_sweep(gamma, b, Q, t_esc):
    """Exact-per-cell steady state of ∂_γ(bN) − N/t + Q = 0 on a log lattice.

    gamma: cell centres (C); b: −dγ/dt at the faces (C−1) [s⁻¹]; Q: particles injected per cell
    [cm⁻³ s⁻¹] (C).  Returns (F faces [cm⁻³ s⁻¹], M cells [cm⁻³]).  See module docstring."""
    C = gamma.shape[0]
    F = np.zeros(C - 1)
    M = np.zeros(C)
    r = gamma[1] / gamma[0]
    sq = math.sqrt(r)
    f_above = 0.0
    for c in range(C - 1, -1, -1):
        if c == 0:
            M[0] = t_esc * (Q[0] + f_above)
            break
        # cooling time across the cell c: faces c-1 (below) and c (above; top: extrapolated)
        g0 = gamma[c] / sq
        b0 = b[c - 1]
        if c < C - 1:
            b1 = b[c]
        else:
            b1 = b0 * r * r
        if b0 <= 0.0 or b1 <= 0.0:
            a = np.inf
        else:
            s = math.log(b1 / b0) / math.log(r)
            if abs(1.0 - s) < 1e-8:
                dtau = g0 / b0 * math.log(r)
            else:
                dtau = g0 / b0 * (r ** (1.0 - s) - 1.0) / (1.0 - s)
            a = dtau / t_esc
        if a == np.inf or a > 700.0:
            p1 = 1.0 / a if a != np.inf else 0.0  # (1 - e^-a)/a
            e = 0.0
        elif a < 1e-6:
            p1 = 1.0 - 0.5 * a + a * a / 6.0
            e = 1.0 - a + 0.5 * a * a
        else:
            e = math.exp(-a)
            p1 = -math.expm1(-a) / a
        f_below = f_above * e + Q[c] * p1
        M[c] = t_esc * (f_above * (1.0 - e) + Q[c] * (1.0 - p1))
        F[c - 1] = f_below
        f_above = f_below
    return F, M


@njit(cache=True)
def face_particles(F, b, dE):
    """Ñ_f = F_f ΔE_f / b_f: particles per cm³ in the face cell (0 where b = 0)."""
    out = np.zeros(F.shape[0])
    for f in range(F.shape[0]):
        if b[f] > 0.0:
            out[f] = F[f] * dE[f] / b[f]
    return out


# ------------------------------------------------------------------------------------------
# per-run setup, state and gathered terms
# ------------------------------------------------------------------------------------------
@dataclass
class Setup:
    blob: Blob
    grids: Grids
    gf: np.ndarray
    dE: np.ndarray
    dgamma: np.ndarray
    x: np.ndarray
    dx: np.ndarray
    nu: np.ndarray
    q_inj: np.ndarray  # particles per cell per cm³ per s
    n_ext: np.ndarray
    t_esc_e: float
    rate_esc_ph: float
    b_syn: np.ndarray
    K_syn: np.ndarray | None
    G_ssa: np.ndarray | None
    L_ic: np.ndarray | None
    S_ic: np.ndarray | None
    ic_tab: tuple | None
    gg: Any
    extra: dict = field(default_factory=dict)


@dataclass
class State:
    n_ph: np.ndarray
    F: np.ndarray
    M: np.ndarray
    Nf: np.ndarray
    b: np.ndarray
    extra: dict = field(default_factory=dict)


@dataclass
class Terms:
    pair_source: np.ndarray
    pair_loss: np.ndarray
    photon_emis: np.ndarray
    photon_sink: np.ndarray
    power_in: dict = field(default_factory=dict)
    power_out: dict = field(default_factory=dict)
    residuals: dict = field(default_factory=dict)
    gg_rate: np.ndarray | None = None  # γγ absorption rate [s⁻¹] (bookkeeping)
    gg_pairs: np.ndarray | None = None  # γγ pairs per cell [cm⁻³ s⁻¹] (bookkeeping)


def _cell_integrals(func, grids: Grids, nsub: int = 16) -> np.ndarray:
    """∫_cell f(γ) dγ for each γ cell (midpoint rule on nsub log sub-cells: handles sharp cuts)."""
    h = math.log(10.0) / grids.ppd
    u = ((np.arange(nsub) + 0.5) / nsub - 0.5) * h
    g = grids.gamma[:, None] * np.exp(u)[None, :]
    vals = func(g.ravel()).reshape(g.shape)
    return (vals * g).sum(axis=1) * (h / nsub)


def _external_density(fields: Sequence[ExternalField], x: np.ndarray, dx: np.ndarray) -> np.ndarray:
    """n_ext per unit x [cm⁻³] on the photon grid, each field rescaled to its exact ∫u_ν dν."""
    n = np.zeros_like(x)
    lx = np.log(x)
    for fld in fields:
        nu = np.asarray(fld.nu, dtype=float)
        u = np.asarray(fld.u_nu, dtype=float)
        pos = u > 0
        if pos.sum() < 2:
            continue
        xf = nu[pos] * const.h / const.m_e_c2
        lu = np.interp(lx, np.log(xf), np.log(u[pos]), left=-np.inf, right=-np.inf)
        u_grid = np.exp(lu)
        nk = u_grid * const.m_e_c2 / (const.h * const.h * (x * const.m_e_c2 / const.h))
        disc = np.sum(nk * x * dx) * const.m_e_c2
        tot = fld.u_total()
        if disc > 0:
            n += nk * tot / disc
    return n


def _ext_range(fields) -> tuple[float | None, float | None]:
    lo, hi = None, None
    for fld in fields:
        u = np.asarray(fld.u_nu, dtype=float)
        nu = np.asarray(fld.nu, dtype=float)
        sel = u * nu > 1e-12 * np.max(u * nu) if np.any(u > 0) else np.zeros_like(u, bool)
        if not sel.any():
            continue
        x = nu[sel] * const.h / const.m_e_c2
        lo = x.min() if lo is None else min(lo, x.min())
        hi = x.max() if hi is None else max(hi, x.max())
    return lo, hi


def _lattice_grids(ppd, n_gamma, k0, n_x) -> Grids:
    from .grids import lattice

    return Grids(ppd=ppd, gamma=lattice(0, n_gamma, ppd), x=lattice(k0, n_x, ppd), k0=k0)


@lru_cache(maxsize=4)
def _ic_matrices(ppd, n_gamma, k0, n_x):
    """IC loss/scatter matrices and table of a run's lattice: slices of the canonical per-ppd
    tables (``sweep.model.tables``); the last few runs' slices are kept."""
    L, S = compton.canonical_loss_and_scatter(ppd, n_gamma - 1, k0, n_x)
    L.setflags(write=False)
    S.setflags(write=False)
    return L, S, compton.table_for(ppd, n_gamma - 1, k0, n_x)


@lru_cache(maxsize=4)
def _gg_matrices(ppd, n_gamma, k0, n_x):
    """γγ rate table and pair-deposit maps (lattice only; cached per process)."""
    return pairs.GammaGamma(_lattice_grids(ppd, n_gamma, k0, n_x))


def default_grids(blob: Blob, ppd: int | None = None) -> Grids:
    """The grids of a run: the pairs' defaults (from the injections, B and the external fields)
    widened by every extension's ``grid_request(blob)`` (protons, secondaries, neutrinos), so one
    set of grids serves all processes of the run."""
    top = max([inj.top() for inj in blob.injections] + [10.0])
    xlo, xhi = _ext_range(blob.external_fields)
    kw: dict = dict(x_min=xlo, x_max=xhi)
    for ext in blob.extensions:
        req = getattr(ext, "grid_request", None)
        if req is None:
            continue
        for key, v in req(blob).items():
            if key in ("gamma_p_range", "x_nu_range"):
                old = kw.get(key)
                kw[key] = v if old is None else (min(old[0], v[0]), max(old[1], v[1]))
            elif key in ("x_max", "gamma_max"):
                kw[key] = v if kw.get(key) is None else max(kw[key], v)
            elif key == "x_min":
                kw[key] = v if kw.get(key) is None else min(kw[key], v)
    return make_grids(ppd or blob.ppd, blob.B, top, **kw)


def setup(blob: Blob, grids: Grids | None = None) -> Setup:
    """Grids, injection and every kernel matrix of the run (once per run)."""
    for inj in blob.injections:
        if inj.species != "e":
            raise ValueError(f"injections.species: value {inj.species!r} needs the hadronic "
                             "extension; this solver handles 'e' (pairs)")
    if grids is None:
        grids = default_grids(blob)
    pr = blob.processes
    gf = grids.gamma_faces
    x, dx = grids.x, grids.dx
    vol = blob.volume
    q = np.zeros(len(grids.gamma))
    for inj in blob.injections:
        qi = _cell_integrals(inj.q_of_gamma, grids)
        if inj.luminosity is not None:
            p_disc = vol * const.m_e_c2 * np.sum(grids.gamma * qi)
            if p_disc <= 0:
                raise ValueError("injection: the spectrum has no particles on the grid")
            qi *= inj.luminosity / p_disc
        q += qi
    t_esc_e = blob.t_esc_pairs * blob.R / const.c
    if pr.synchrotron and blob.B > 0:
        K, G, b_syn, _ = synchrotron.emission_matrix(gf, x, dx, blob.B, pr.synchrotron_kernel)
    else:
        K, G, b_syn = None, None, np.zeros(len(gf))
    key = (grids.ppd, len(grids.gamma), grids.k0, len(x))
    if pr.inverse_compton:
        L, S, tab = _ic_matrices(*key)
    else:
        L = S = tab = None
    gg = _gg_matrices(*key) if pr.gamma_gamma else None
    ctx = Setup(blob=blob, grids=grids, gf=gf, dE=grids.dE_faces, dgamma=grids.dgamma, x=x, dx=dx,
                nu=grids.nu, q_inj=q, n_ext=_external_density(blob.external_fields, x, dx),
                t_esc_e=t_esc_e, rate_esc_ph=const.c / (blob.R * blob.t_esc_photons),
                b_syn=b_syn, K_syn=K, G_ssa=G if (pr.ssa and K is not None) else None,
                L_ic=L, S_ic=S, ic_tab=tab, gg=gg)
    for ext in blob.extensions:
        ext.setup(ctx)
    return ctx


def _gather(ctx: Setup, st: State) -> Terms:
    """Sources and sinks that depend on the current photon field (and extension species)."""
    nx = len(ctx.x)
    terms = Terms(pair_source=ctx.q_inj.copy(), pair_loss=ctx.b_syn.copy(),
                  photon_emis=np.zeros(nx), photon_sink=np.full(nx, ctx.rate_esc_ph))
    nt = st.n_ph + ctx.n_ext
    if ctx.L_ic is not None:
        terms.pair_loss += ctx.L_ic @ (nt * ctx.dx)
    if ctx.gg is not None:
        qp, e_ext = pairs.pair_injection(st.n_ph, ctx.n_ext, ctx.x, ctx.dx, ctx.gg.table,
                                         ctx.gg.idx, ctx.gg.wgt, len(ctx.grids.gamma))
        terms.pair_source += qp
        terms.gg_pairs = qp
        terms.power_in["gamma_gamma_external"] = e_ext * const.m_e_c2
        terms.gg_rate = pairs.absorption_rate(nt, ctx.dx, ctx.gg.table)
        terms.photon_sink += terms.gg_rate
    for ext in ctx.blob.extensions:
        ext.contribute(ctx, st, terms)
    return terms


def _photons(ctx: Setup, Nf: np.ndarray, n_ph: np.ndarray, terms: Terms):
    """New photon density and the per-process pieces needed for the bookkeeping."""
    nt = n_ph + ctx.n_ext
    emis = terms.photon_emis.copy()
    sink = terms.photon_sink.copy()
    a_ssa = None
    sc_rate = None
    if ctx.K_syn is not None:
        emis += synchrotron.emit(Nf, ctx.K_syn)
    if ctx.G_ssa is not None:
        a_ssa = synchrotron.ssa_coefficient(Nf, ctx.G_ssa, ctx.gf, ctx.nu)
        sink += const.c * a_ssa
    if ctx.L_ic is not None:
        tab, lmin, m_lo, m_th = ctx.ic_tab
        emis += compton.emit(Nf, ctx.gf, nt, ctx.x, ctx.dx, ctx.grids.k0, tab, lmin, m_lo, m_th, 1e-14)
        sc_rate = Nf @ ctx.S_ic  # scatterings per photon of bin k per s
        sink += sc_rate
    return emis / sink, a_ssa, sc_rate


def _residual(new, old, weight, floor):
    w = weight
    sel = (w > floor * w.max()) if w.max() > 0 else np.zeros_like(w, bool)
    if not sel.any():
        return 0.0
    a, b = new[sel], old[sel]
    if np.any(b <= 0) or np.any(a <= 0):
        return np.inf
    return float(np.max(np.abs(np.log10(a / b))))


def solve(blob: Blob, *, tol: float = 1e-4, max_iter: int = 300, floor: float = 1e-10,
          grids: Grids | None = None, ctx: Setup | None = None, accel: int = 5) -> SteadyState:
    """Solve the blob to its steady state (see module docstring). Never raises on a physics
    failure: the status says what happened."""
    t0 = time.perf_counter()
    try:
        if ctx is None:
            ctx = setup(blob, grids)
        return _iterate(ctx, tol, max_iter, floor, t0, accel)
    except Exception as exc:  # noqa: BLE001 - reported via status
        g = ctx.grids if ctx is not None else None
        nan = np.full(len(g.x), np.nan) if g is not None else np.array([])
        return SteadyState(nu=g.nu if g is not None else np.array([]), nuLnu=nan,
                           gamma_e=g.gamma if g is not None else np.array([]),
                           n_e=np.full(len(g.gamma), np.nan) if g is not None else np.array([]),
                           iterations=0, residual=float("nan"), converged=False, status="failed",
                           message=f"{type(exc).__name__}: {exc}", energy_balance=float("nan"),
                           energy={}, runtime_s=time.perf_counter() - t0, grids=g)


class _Anderson:
    """Anderson acceleration (type II, depth m; Walker & Ni 2011) of the fixed-point map on the
    photon field, in one of two variables:

    * ``log``: on log n (the default: the nonlinear cascade modes — γγ opacity, SSA, Compton sink
      — are close to power laws, i.e. close to linear in log n, over the large excursions of the
      first iterations);
    * ``linear``: on n itself, the least-squares problem weighted by 1/G(n) per bin (every bin the
      same relative weight, so the 25 decades of n do not matter; to first order near the fixed
      point the same problem as ``log``).  Used after a stagnation of the ``log`` history (see
      ``_iterate``): a LINEAR gain loop n ← g n + s (photons γγ-absorbed, their pairs re-radiating
      at the same energy, g = τ/(1+τ) → 1 when τ_γγ ≫ 1) that sits far above its fixed point is a
      pure translation in log n (log G(n) − log n = log g, constant), which Anderson on log n
      cannot extrapolate and on which it stagnates; on n the map is affine and a depth ≥ 1
      history solves it.

    ``step(y, g, mask)`` takes the current iterate and its image on the bins of ``mask`` (in n)
    and returns the accelerated iterate (in n, unclipped: positivity and the step limit are
    enforced by the caller).  The history restarts whenever the set of bins changes."""

    def __init__(self, m: int):
        self.m = m
        self.mode = "log"
        self.reset()

    def reset(self):
        self.mask = None
        self.ys: list = []
        self.gs: list = []

    def step(self, y: np.ndarray, g: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if self.mask is None or self.mask.shape != mask.shape or not np.array_equal(mask, self.mask):
            self.reset()
            self.mask = mask.copy()
        if self.mode == "log":
            y, g = np.log(y), np.log(g)
        self.ys.append(y)
        self.gs.append(g)
        if len(self.ys) > self.m + 1:
            self.ys.pop(0)
            self.gs.pop(0)
        if len(self.ys) < 2:
            return np.exp(g) if self.mode == "log" else g
        w = 1.0 if self.mode == "log" else 1.0 / g
        f = [(gi - yi) * w for gi, yi in zip(self.gs, self.ys)]
        dF = np.column_stack([f[i + 1] - f[i] for i in range(len(f) - 1)])
        dG = np.column_stack([self.gs[i + 1] - self.gs[i] for i in range(len(f) - 1)])
        coef, *_ = np.linalg.lstsq(dF, f[-1], rcond=1e-10)
        y_new = g - dG @ coef
        if self.mode == "log":
            return np.exp(g + np.clip(y_new - g, -3.0, 3.0))
        return y_new


def _iterate(ctx: Setup, tol, max_iter, floor, t0, accel=5) -> SteadyState:
    g = ctx.grids
    nx = len(ctx.x)
    st = State(n_ph=np.zeros(nx), F=np.zeros(len(ctx.gf)), M=np.zeros(len(g.gamma)),
               Nf=np.zeros(len(ctx.gf)), b=ctx.b_syn.copy())
    omega = 1.0
    last = None
    history = []
    res_prev = np.inf
    res_best = np.inf
    res = np.inf
    converged = False
    aa = _Anderson(accel) if accel > 0 else None
    it = 0
    for it in range(1, max_iter + 1):
        terms = _gather(ctx, st)
        b = terms.pair_loss
        F, M = cooling_sweep(g.gamma, b, terms.pair_source, ctx.t_esc_e)
        Nf = face_particles(F, b, ctx.dE)
        n_new, a_ssa, sc = _photons(ctx, Nf, st.n_ph, terms)
        last = (terms, a_ssa, sc, n_new)
        if it > 1:
            r_ph = _residual(n_new, st.n_ph, n_new * ctx.x**2, floor)
            r_e = _residual(M, st.M, M * g.gamma**2 / ctx.dgamma, floor)
            res = max([r_ph, r_e] + list(terms.residuals.values()))
            history.append(res)
        st.F, st.M, st.Nf, st.b = F, M, Nf, b
        if res < tol:
            st.n_ph = n_new
            converged = True
            break
        flat = history[-(accel + 1):]
        if (aa is not None and aa.mode == "log" and len(flat) > accel
                and max(flat) < 1.05 * min(flat)):
            # stagnation: the residual has stood still (within 5 %) for accel+1 iterations,
            # the signature of a translation mode that Anderson on log n cannot extrapolate
            # (see _Anderson); continue on the weighted linear variable for the rest of the run
            aa.mode = "linear"
            aa.reset()
        worse = res > res_prev
        if worse:
            omega = max(0.5 * omega, 0.05)
        else:
            omega = min(1.0, 1.5 * omega)
        res_prev = res
        if it == 1 or not np.isfinite(res):
            st.n_ph = n_new
            continue
        w_new = n_new * ctx.x**2
        w_old = st.n_ph * ctx.x**2
        wmax = w_new.max()
        mask = (w_new > 1e-25 * wmax) & (w_old > 1e-25 * wmax)
        # the history keeps its set of bins as long as they stay positive: a bin crossing the
        # 1e-25 cut in the far tails must not throw the history away (with a mask that follows
        # the cut, every extrapolating step that pushes a tail bin below it restarted Anderson)
        if (aa is not None and aa.mask is not None and aa.mask.shape == mask.shape
                and np.all(n_new[aa.mask] > 0) and np.all(st.n_ph[aa.mask] > 0)):
            mask = aa.mask
        accelerated = aa is not None and res < 1.5 * res_best and mask.any()
        if accelerated:
            # accelerated step (bins outside the mask take the plain update)
            gm = n_new[mask]
            ya = aa.step(st.n_ph[mask], gm, mask)
            # positivity and step limit: at most a factor e³ beyond the plain step
            ratio = np.where(ya > 0, ya / gm, 0.0)
            upd = n_new.copy()
            upd[mask] = gm * np.clip(ratio, math.exp(-3.0), math.exp(3.0))
            st.n_ph = upd
        elif omega >= 1.0:
            if aa is not None:
                aa.reset()
            st.n_ph = n_new
        else:
            if aa is not None:
                aa.reset()
            both = (n_new > 0) & (st.n_ph > 0)
            upd = n_new.copy()
            upd[both] = np.exp(np.log(st.n_ph[both]) + omega * (np.log(n_new[both]) - np.log(st.n_ph[both])))
            st.n_ph = upd
        res_best = min(res_best, res)
    out = _result(ctx, st, it, res, converged, tol, t0, last)
    out.history = history
    return out


def energy_budget(ctx: Setup, st: State, pieces=None) -> dict:
    """Powers [erg/s] of a state. ``pieces`` = (terms, α_SSA, IC scattering rate, photons) of the
    last iteration (the terms were built on the previous photons, which the pairs saw); without
    it they are recomputed from ``st``."""
    vol = ctx.blob.volume
    mc2 = const.m_e_c2
    if pieces is None:
        terms = _gather(ctx, st)
        n_ph, a_ssa, sc = _photons(ctx, st.Nf, st.n_ph, terms)
    else:
        terms, a_ssa, sc, n_ph = pieces
    g = ctx.grids
    e = {}
    e["injected"] = vol * mc2 * float(np.sum(g.gamma * ctx.q_inj))
    ext_in = terms.power_in.get("gamma_gamma_external", 0.0)
    if sc is not None and ctx.n_ext.any():
        ext_in += mc2 * float(np.sum(ctx.n_ext * ctx.dx * ctx.x * sc))
    e["external_absorbed"] = vol * ext_in
    for k, v in terms.power_in.items():
        if k != "gamma_gamma_external":
            e[k] = vol * v
    e["escaping_photons"] = vol * mc2 * float(np.sum(n_ph * ctx.x * ctx.dx)) * ctx.rate_esc_ph
    e["escaping_pairs"] = vol * mc2 * float(np.sum(g.gamma * st.M)) / ctx.t_esc_e
    e["ssa_absorbed"] = (vol * mc2 * const.c * float(np.sum(n_ph * ctx.x * ctx.dx * a_ssa))
                         if a_ssa is not None else 0.0)
    for k, v in terms.power_out.items():
        e[k] = vol * v
    if terms.gg_rate is not None:
        e["gamma_gamma_absorbed"] = vol * mc2 * float(np.sum(n_ph * ctx.x * ctx.dx * terms.gg_rate))
        e["gamma_gamma_pairs"] = vol * mc2 * float(np.sum(g.gamma * terms.gg_pairs))
    inp = e["injected"] + e["external_absorbed"] + sum(
        vol * v for k, v in terms.power_in.items() if k != "gamma_gamma_external")
    out = e["escaping_photons"] + e["escaping_pairs"] + e["ssa_absorbed"] + sum(
        vol * v for v in terms.power_out.values())
    e["input_total"] = inp
    e["output_total"] = out
    return e


def _result(ctx: Setup, st: State, it, res, converged, tol, t0, pieces=None) -> SteadyState:
    g = ctx.grids
    e = energy_budget(ctx, st, pieces)
    bal = e["output_total"] / e["input_total"] if e["input_total"] > 0 else float("nan")
    vol_rate = ctx.blob.volume * ctx.rate_esc_ph * const.m_e_c2
    nuLnu = vol_rate * ctx.x**2 * st.n_ph
    sink = None
    if pieces is not None:
        terms, a_ssa, sc, _ = pieces
        sink = terms.photon_sink.copy()
        if a_ssa is not None:
            sink += const.c * a_ssa
        if sc is not None:
            sink += sc
    status = "converged" if converged else "not_converged"
    msg = "" if converged else (f"stopped after {it} iterations with residual {res:.3g} "
                                f"(tolerance {tol:g} in max |Δlog10|)")
    return SteadyState(nu=ctx.nu, nuLnu=nuLnu, gamma_e=g.gamma, n_e=st.M / ctx.dgamma,
                       iterations=it, residual=float(res), converged=converged, status=status,
                       message=msg, energy_balance=float(bal), energy=e,
                       runtime_s=time.perf_counter() - t0, x=ctx.x, n_ph=st.n_ph, grids=g,
                       extra=st.extra, face_particles=st.Nf, photon_sink=sink, n_ext=ctx.n_ext)


__all__ = ["Blob", "Injection", "ExternalField", "Processes", "SteadyState", "solve", "setup", "default_grids",
           "cooling_sweep", "face_particles", "energy_budget", "Setup", "State", "Terms",
           "cell_widths"]
