"""Energy grids shared by every process of one kinetic run (model.md §4, "logarithmic grids").

All grids live on ONE global logarithmic lattice with ``ppd`` points per decade:

    pairs   γ_c = 10^{c/ppd},             c = 0 … C−1      (cell centres; γ_0 = 1)
    faces   γ_f = 10^{(f+½)/ppd},         f = 0 … C−2      (between cells f and f+1)
    photons x_k = 10^{(k0+k)/ppd},        k = 0 … K−1      (x = hν / m_e c², cell centres)

Because γ and x sit on the same lattice, the Klein–Nishina kernel, which depends on (γ, x, x₁)
only through Γ = 4γx and e₁ = x₁/γ, becomes a function of two integer offsets (see
``processes.compton``), and the γγ rate R(x x') a function of k + k' (``processes.pairs``); both
are tabulated once per ``ppd`` and reused by every run (no interpolation between grids inside the
solve).  Cells are log-centred: the edges of cell i are at 10^{(i ± ½)/ppd}.

Ranges follow the injected spectra (``make_grids``):
* γ from 1 (particles cool to rest; the (γ²−1) losses vanish there) to
  max(γ_max,inj · 10^{margin}, x_max), so that the pairs produced by γγ, with
  γ = (x + x')/2 ≤ x_max, always land on the grid, and IC photons (x₁ < γ) too;
* x from 5·10⁻³ x_c(γ=1) (below it < 10⁻³ of the synchrotron power of the slowest pair is
  emitted) or the lowest external-field frequency, to max(γ_top, 50 x_c(γ_top), external max).
* both ends are rounded outwards to half decades, so that runs with similar parameters share the
  lattice-only kernel matrices cached in ``sweep.model.kinetics``.
The hadronic extension adds ``gamma_p`` (proton Lorentz factors) and ``x_nu`` (neutrino energies
in m_e c² units) on the same lattice; callers may widen any range with the keyword overrides
(e.g. Bethe–Heitler pairs need γ up to ~γ_p m_p/m_e).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from . import constants as const


def lattice(i0: int, n: int, ppd: int, offset: float = 0.0) -> np.ndarray:
    """10^{(i0 + i + offset)/ppd} for i = 0 … n−1."""
    return 10.0 ** ((i0 + np.arange(n) + offset) / ppd)


def cell_widths(centres: np.ndarray, ppd: int) -> np.ndarray:
    """Widths of log-centred cells: c (10^{½/ppd} − 10^{−½/ppd})."""
    h = 0.5 / ppd
    return centres * (10.0**h - 10.0**(-h))


def log_grid_params(grid, name: str) -> tuple[float, int, float]:
    """(first value, size, points per decade) of a log-uniform grid; ValueError naming ``name``
    if the grid is not 1-D, positive and log-uniform (the kernels index by lattice offsets)."""
    grid = np.asarray(grid, dtype=float)
    if grid.ndim != 1 or grid.size < 2 or np.any(grid <= 0):
        raise ValueError(f"{name}: need a 1-D positive grid with ≥ 2 points")
    dl = np.diff(np.log10(grid))
    if not np.allclose(dl, dl[0], rtol=1e-6, atol=1e-12):
        raise ValueError(f"{name}: grid must be log-uniform")
    return float(grid[0]), grid.size, 1.0 / dl[0]


def log_bin_widths(grid) -> np.ndarray:
    """Widths of log-uniform bins centred (geometrically) on the grid points: g(√r − 1/√r)."""
    grid = np.asarray(grid, dtype=float)
    r = grid[1] / grid[0]
    return grid * (np.sqrt(r) - 1.0 / np.sqrt(r))


@dataclass(frozen=True)
class Grids:
    """The grids of one run. Arrays are read-only by convention; see module docstring."""

    ppd: int
    gamma: np.ndarray  # pair cell centres (γ_0 = 1)
    x: np.ndarray  # photon cell centres, x = hν/m_e c²
    k0: int  # lattice index of x[0]: x_k = 10^{(k0+k)/ppd}
    gamma_p: np.ndarray | None = None  # proton cell centres (hadronic extension)
    p0: int = 0  # lattice index of gamma_p[0]
    x_nu: np.ndarray | None = None  # neutrino energies / m_e c² (hadronic extension)
    n0: int = 0  # lattice index of x_nu[0]
    extras: dict = field(default_factory=dict)

    # --- pairs -------------------------------------------------------------------------
    @property
    def dgamma(self) -> np.ndarray:
        return cell_widths(self.gamma, self.ppd)

    @property
    def gamma_faces(self) -> np.ndarray:
        return lattice(0, len(self.gamma) - 1, self.ppd, 0.5)

    @property
    def dE_faces(self) -> np.ndarray:
        """γ_{f+1} − γ_f: energy lost by a particle crossing face f (between cell centres)."""
        return np.diff(self.gamma)

    # --- photons -----------------------------------------------------------------------
    @property
    def dx(self) -> np.ndarray:
        return cell_widths(self.x, self.ppd)

    @property
    def nu(self) -> np.ndarray:
        """Photon frequencies [Hz]."""
        return self.x * const.m_e_c2 / const.h

    @property
    def x_edges(self) -> np.ndarray:
        return lattice(self.k0, len(self.x) + 1, self.ppd, -0.5)


def x_crit(gamma, B: float) -> np.ndarray:
    """Synchrotron characteristic energy x_c = hν_c/m_ec², ν_c = 3eBγ²/(4π m_e c)."""
    nu_c = 3.0 * const.e * B * np.asarray(gamma, dtype=float) ** 2 / (4.0 * math.pi * const.m_e * const.c)
    return const.h * nu_c / const.m_e_c2


def _round_out(log10_value: float, ppd: int, up: bool) -> int:
    """Lattice index of log10_value rounded outwards to a multiple of half a decade."""
    half = 0.5 * ppd
    q = log10_value * ppd / half
    n = math.ceil(q - 1e-9) if up else math.floor(q + 1e-9)
    return int(round(n * half)) if float(half).is_integer() else int(math.ceil(n * half) if up else math.floor(n * half))


def make_grids(ppd: int, B: float, gamma_max_inj: float, *, margin_dex: float = 0.2,
               x_min: float | None = None, x_max: float | None = None,
               gamma_max: float | None = None, gamma_p_range: tuple[float, float] | None = None,
               x_nu_range: tuple[float, float] | None = None) -> Grids:
    """Grids for a run with field ``B`` [G] and injected pairs up to ``gamma_max_inj``.

    ``x_min``/``x_max`` (e.g. from external fields) only widen the default photon range;
    ``gamma_max`` only widens the pair range.
    """
    if ppd < 4 or ppd > 200:
        raise ValueError(f"ppd: value {ppd} is invalid; allowed: 4 … 200")
    g_top = gamma_max_inj * 10.0**margin_dex
    if gamma_max is not None:
        g_top = max(g_top, gamma_max)
    xc_top = float(x_crit(g_top, B)) if B > 0 else 0.0
    x_hi = max(g_top, 50.0 * xc_top)
    if x_max is not None:
        x_hi = max(x_hi, x_max)
    x_lo = 5e-3 * float(x_crit(1.0, B)) if B > 0 else 1e-12
    if x_min is not None:
        x_lo = min(x_lo, x_min)
    g_top = max(g_top, x_hi)  # γγ pairs have γ = (x+x')/2 ≤ x_hi
    x_hi = max(x_hi, g_top)
    # ends rounded outwards to half decades: runs with similar parameters then share the
    # lattice-only kernel matrices cached by sweep.model.kinetics
    c_hi = _round_out(math.log10(g_top), ppd, up=True)
    k0 = _round_out(math.log10(x_lo), ppd, up=False)
    k1 = _round_out(math.log10(x_hi), ppd, up=True)
    k1 = max(k1, c_hi)
    gamma = lattice(0, c_hi + 1, ppd)
    x = lattice(k0, k1 - k0 + 1, ppd)
    kw = {}
    if gamma_p_range is not None:
        p0 = int(math.floor(math.log10(max(gamma_p_range[0], 1.0)) * ppd))
        p1 = int(math.ceil(math.log10(gamma_p_range[1]) * ppd))
        kw.update(gamma_p=lattice(p0, p1 - p0 + 1, ppd), p0=p0)
    if x_nu_range is not None:
        n0 = int(math.floor(math.log10(x_nu_range[0]) * ppd))
        n1 = int(math.ceil(math.log10(x_nu_range[1]) * ppd))
        kw.update(x_nu=lattice(n0, n1 - n0 + 1, ppd), n0=n0)
    return Grids(ppd=ppd, gamma=gamma, x=x, k0=k0, **kw)
