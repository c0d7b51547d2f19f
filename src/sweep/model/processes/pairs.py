"""γγ pair production on isotropic photons: absorption and injection of the pairs (model.md §4).

Angle-averaged rate (Gould & Schréder 1967), photons of energies x, x' (units m_e c²), y = x x':

    R(y) = ⟨c (1 − μ) σ_γγ⟩ = c · (2/y²) ∫₁^y t σ_BW(t) dt      [cm³ s⁻¹],   R = 0 for y ≤ 1,
    σ_BW = (3/16) σ_T (1−β²) [(3−β⁴) ln((1+β)/(1−β)) − 2β(2−β²)],   β = √(1 − 1/t)

(t = E_cm²/(2m_ec²)²).  We evaluate the integral exactly (composite Gauss–Legendre, relative
error < 1e-10; ``gg_rate``), not the Coppi & Blandford (1990) fit R ≈ 0.652 σ_T c (y²−1)/y³ ln y
quoted in model.md, which deviates from the exact rate by up to ~10 % near threshold (the test
prints the comparison).  The absorption rate of a photon x is c α_γγ(x) = ∫ n(x') R(x x') dx'.

On the shared lattice y = x_k x_k' depends on k + k' only, so the rate is one 1-D table per ppd
(``rate_table``), averaged over both bins (photons uniform in ln x).

Pair injection, exact energy bookkeeping: every absorption event removes BOTH photons and creates
an e± pair sharing their energy, each particle with γ = (x + x')/2 (the standard "each member gets
half the energy" approximation of Mastichiadis & Kirk 1995, Eq. 57, which model.md quotes as
Q(γ) = 4 c α(2γ) n(2γ) in the limit x' ≪ x; here the soft photon's energy is kept as well).
Particles are split between the two neighbouring γ cells so that their number and energy are
exact.  Counting ordered pairs of bins (k, k') of internal photons, each ordered event yields one
particle (the pair counted twice); with an external target photon (which is not itself evolved:
external fields are targets only) it yields two, and its energy x' is reported as external input.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from .. import constants as const

_GX, _GW = np.polynomial.legendre.leggauss(12)
NSUB = 6


@njit(cache=True)
def sigma_bw(t):
    """Breit–Wheeler cross-section [cm²] at t = E_cm²/(2m_ec²)² (threshold t = 1)."""
    if t <= 1.0:
        return 0.0
    b2 = 1.0 - 1.0 / t
    b = math.sqrt(b2)
    # (1+b)/(1-b) = (1+b)² t exactly: stable for t ≳ 1e16, where 1 − b rounds to 0
    return (3.0 / 16.0 * const.sigma_T / t
            * ((3.0 - b2 * b2) * math.log((1.0 + b) * (1.0 + b) * t) - 2.0 * b * (2.0 - b2)))


@njit(cache=True)
def _int_t_sigma(y, gx, gw):
    """∫₁^y t σ_BW(t) dt (β-substitution on [1, 2], ln t segments of width ≤ 1 above)."""
    s = 0.0
    t1 = y if y < 2.0 else 2.0
    bmax = math.sqrt(1.0 - 1.0 / t1)
    half = 0.5 * bmax
    for j in range(gx.shape[0]):
        b = half * (gx[j] + 1.0)
        omb = 1.0 - b * b
        t = 1.0 / omb
        s += gw[j] * half * t * sigma_bw(t) * 2.0 * b / (omb * omb)
    if y > 2.0:
        la = math.log(2.0)
        lb = math.log(y)
        nseg = int(math.ceil(lb - la))
        w = (lb - la) / nseg
        for i in range(nseg):
            a = la + i * w
            for j in range(gx.shape[0]):
                lt = a + 0.5 * w * (gx[j] + 1.0)
                t = math.exp(lt)
                s += gw[j] * 0.5 * w * t * t * sigma_bw(t)
    return s


@njit(cache=True)
def gg_rate(y):
    """Exact angle-averaged R(y) [cm³ s⁻¹] (see module docstring)."""
    if y <= 1.0:
        return 0.0
    return const.c * 2.0 / (y * y) * _int_t_sigma(y, _GX, _GW)


def gg_rate_cb90(y):
    """Coppi & Blandford (1990) approximation 0.652 σ_T c (y²−1)/y³ ln y (for comparison only)."""
    y = np.asarray(y, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = 0.652 * const.sigma_T * const.c * (y * y - 1.0) / y**3 * np.log(y)
    return np.where(y > 1.0, r, 0.0)


@njit(cache=True)
def _build_rate_table(ppd, s_lo, s_hi, nsub):
    n = s_hi - s_lo + 1
    out = np.zeros(n)
    h = 1.0 / ppd
    for i in range(n):
        acc = 0.0
        for a in range(nsub):
            u = ((a + 0.5) / nsub - 0.5) * h
            for b in range(nsub):
                v = ((b + 0.5) / nsub - 0.5) * h
                acc += gg_rate(10.0 ** ((s_lo + i) * h + u + v))
        out[i] = acc / (nsub * nsub)
    return out


def rate_table(ppd: int, s_lo: int, s_hi: int) -> np.ndarray:
    """Bin-averaged R for y = 10^{s/ppd}, s = s_lo … s_hi (read-only): a slice of the process's
    canonical table of this ppd (``sweep.model.tables``: built once, grown by whole decades,
    cached on disk; each entry is independent of the range, so the slice is exact)."""
    from ..tables import canonical

    t = canonical("gg_rate", ppd, s_lo, s_hi,
                  lambda r0, r1: {"R": _build_rate_table(ppd, r0, r1, NSUB)})
    return t.arrays["R"][s_lo - t.row0: s_hi - t.row0 + 1]


@njit(cache=True)
def _deposit(x, gamma, ppd, idx, wgt):
    nx = x.shape[0]
    nc = gamma.shape[0]
    for k in range(nx):
        for kk in range(nx):
            g = 0.5 * (x[k] + x[kk])
            c = int(math.floor(math.log10(g) * ppd + 1e-9))
            if c < 0:
                c = 0
                w = 0.0
            elif c >= nc - 1:
                c = nc - 2
                w = 1.0
            else:
                w = (g - gamma[c]) / (gamma[c + 1] - gamma[c])
                if w < 0.0:
                    w = 0.0
                if w > 1.0:
                    w = 1.0
            idx[k, kk] = c
            wgt[k, kk] = w


class GammaGamma:
    """Precomputed γγ matrices for one set of grids (built once per run)."""

    def __init__(self, grids):
        self.ppd = grids.ppd
        nx = len(grids.x)
        s_lo = 2 * grids.k0
        self.s_lo = s_lo
        # only sums with y ≳ 1 matter; the table is exact zero below threshold
        self.table = np.ascontiguousarray(rate_table(grids.ppd, s_lo, s_lo + 2 * (nx - 1)))
        # views into the canonical maps (no per-run copy of 2 × n_x² entries): the run's top
        # cell is clamped inside ``pair_injection``
        self.idx, self.wgt = deposit_maps(grids.ppd, grids.k0, nx, None)


def _deposit_rows(ppd: int, r0: int, r1: int) -> dict:
    """Canonical deposit maps over photon lattice indices r0 … r1 (both axes), pair cells on
    γ_c = 10^{c/ppd} up to the top photon (so no clamp below it)."""
    from ..grids import lattice

    n = r1 - r0 + 1
    x = lattice(r0, n, ppd)
    gamma = lattice(0, max(r1 + 2, 2), ppd)
    idx = np.zeros((n, n), dtype=np.int64)
    wgt = np.zeros((n, n))
    _deposit(x, gamma, ppd, idx, wgt)
    return {"idx": idx, "wgt": wgt}


def deposit_maps(ppd: int, k0: int, nx: int, n_cells: int | None):
    """(cell index, weight of the upper cell) of the pair made by photons k, k' of a run's grid
    (x_k = 10^{(k0+k)/ppd}, n_cells pair cells): a slice of the process's canonical maps (the
    entries depend on the absolute lattice indices only), with the run's top cell clamped as
    ``_deposit`` does (a pair at or beyond the last cell centre goes into it).  ``n_cells=None``:
    read-only views, not clamped (``pair_injection`` clamps)."""
    from ..tables import canonical

    t = canonical("gg_deposit", ppd, k0, k0 + nx - 1, lambda r0, r1: _deposit_rows(ppd, r0, r1),
                  persist=False)
    i0 = k0 - t.row0
    if n_cells is None:
        return t.arrays["idx"][i0:i0 + nx, i0:i0 + nx], t.arrays["wgt"][i0:i0 + nx, i0:i0 + nx]
    idx = t.arrays["idx"][i0:i0 + nx, i0:i0 + nx].copy()
    wgt = t.arrays["wgt"][i0:i0 + nx, i0:i0 + nx].copy()
    top = idx >= n_cells - 1
    idx[top] = n_cells - 2
    wgt[top] = 1.0
    return idx, wgt


@njit(cache=True)
def absorption_rate(nt, dx, table):
    """Absorption rate [s⁻¹] of a photon in bin k, Σ_k' nt_k' Δx_k' R̄[k+k'] (nt per unit x)."""
    nx = nt.shape[0]
    out = np.zeros(nx)
    for kk in range(nx):
        w = nt[kk] * dx[kk]
        if w <= 0.0:
            continue
        for k in range(nx):
            r = table[k + kk]
            if r > 0.0:
                out[k] += w * r
    return out


@njit(cache=True)
def pair_injection(n_int, n_ext, x, dx, table, idx, wgt, n_cells):
    """(Q[c] pairs cm⁻³ s⁻¹ injected into cell c, external photon power absorbed [m_ec² cm⁻³ s⁻¹])."""
    nx = x.shape[0]
    q = np.zeros(n_cells)
    e_ext = 0.0
    s0 = 0  # first k + k' above threshold: the couples below it have r = 0 (skipped anyway)
    while s0 < table.shape[0] and table[s0] <= 0.0:
        s0 += 1
    for k in range(nx):
        a = n_int[k] * dx[k]
        if a <= 0.0:
            continue
        for kk in range(max(s0 - k, 0), nx):
            r = table[k + kk]
            if r <= 0.0:
                continue
            ev = a * dx[kk] * r
            num = ev * (n_int[kk] + 2.0 * n_ext[kk])
            if num <= 0.0:
                continue
            e_ext += ev * n_ext[kk] * x[kk]
            c = idx[k, kk]
            w = wgt[k, kk]
            if c >= n_cells - 1:  # at or beyond the run's last cell centre (unclamped maps)
                c = n_cells - 2
                w = 1.0
            q[c] += num * (1.0 - w)
            q[c + 1] += num * w
    return q, e_ext
