"""Synchrotron emission, losses and self-absorption of pairs in a tangled field (model.md §4).

Single-particle spectrum averaged over an isotropic pitch-angle distribution
(Crusius & Schlickeiser 1986; Ghisellini, Guilbert & Svensson 1988):

    P(ν, γ) = √3 e³ B / (m_e c²) · R(ν/ν_c),       ν_c = 3eBγ²/(4π m_e c)          [erg s⁻¹ Hz⁻¹]
    R(x)    = ½ ∫₀^π sin²α F(x/sin α) dα
            = (x²/2) [K_{4/3}(x/2) K_{1/3}(x/2) − (3/5)(x/2)(K²_{4/3}(x/2) − K²_{1/3}(x/2))]

(the closed form was checked against the pitch-angle integral of F(x) = x∫_x^∞K_{5/3}, to 1e-10;
``tests/test_synchrotron.py``).  ∫₀^∞ R dx = (2/3)·8π/(9√3).  ``kernel="exact"`` evaluates R from
a table of the closed form (scipy Bessel functions, 200 points per decade, log-log linear
interpolation: relative error < 2e-4 for x < 30); ``kernel="approx"`` is the x^{1/3}e^{−x}
approximation used by LeHaMoC (R ≈ 1.8 x^{1/3} e^{−x}, Böttcher et al. 2012);
``kernel="single_pitch"`` is F(x) = x∫_x^∞K_{5/3} for a single pitch angle α = 90° (ν_c as above),
the convention of the ATHEνA reference spectra (Mastichiadis & Kirk 1995): for an injected
γ^{-1.9} power law its optically thin emissivity is 10^{-0.036} of the pitch-angle average, which
is exactly the offset seen against ATHEνA Test 1 with the exact kernel (docs/solver.md).
``r_akp10`` is the Aharonian, Kelner & Prosekin (2010) fit (accuracy ~0.2 %), kept for the tests.

Losses: −dγ/dt = (4/3) σ_T c u_B (γ² − 1)/(m_e c²) (LeHaMoC-V2 writes γ²−1 for β²γ²).

Discrete kernel (used by the solver): rows of P on the photon grid are rescaled so that the power
a particle radiates ON THE GRID, Σ_k P_k Δν_k, equals the exact loss rate above; hence emitted
power and loss power come from the same numbers and energy is conserved to round-off at any ppd.
The scale factors are returned (≈ 1 where the spectrum is resolved; the (γ²−1)/γ² factor makes
them < 1 for trans-relativistic pairs).

Self-absorption (Rybicki & Lightman 6.52, integrated by parts so that no derivative of N is
needed and sharp cut-offs are handled):

    α_ν = −1/(8π m_e ν²) ∫ P γ² ∂/∂γ(N/γ²) dγ = 1/(8π m_e ν²) ∫ N(γ) ∂(γ²P)/∂γ / γ² dγ
        = 1/(4π m_e ν²) ∫ N(γ) (1/γ) √3e³B/(m_ec²) [R(x) − x R'(x)] dγ,      x = ν/ν_c(γ)

with the same kernel (and the same row scale factors) as the emission.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from numba import njit

from .. import constants as const

KERNELS = {"exact": 0, "approx": 1, "single_pitch": 2}

_TAB_LX0 = -10.0  # log10 x of the first table point
_TAB_PPD = 200
_TAB_LX1 = 2.7
# normalisation of P: √3 e³ B/(m_e c²) per unit B
P_NORM = math.sqrt(3.0) * const.e**3 / const.m_e_c2
# ν_c = NU_C_NORM · B γ²
NU_C_NORM = 3.0 * const.e / (4.0 * math.pi * const.m_e * const.c)


def r_exact(x) -> np.ndarray:
    """R(x) from the closed form in modified Bessel functions (scipy); numpy, any shape."""
    from scipy.special import kv

    x = np.asarray(x, dtype=float)
    y = 0.5 * x
    k43 = kv(4.0 / 3.0, y)
    k13 = kv(1.0 / 3.0, y)
    with np.errstate(invalid="ignore", over="ignore"):
        r = 0.5 * x * x * (k43 * k13 - 0.6 * y * (k43 * k43 - k13 * k13))
    return np.where(np.isfinite(r) & (x > 0), r, 0.0)


def f_single(x) -> np.ndarray:
    """F(x) = x ∫_x^∞ K_{5/3}(t) dt (single pitch angle α = 90°), from a fine cumulative
    Simpson integral of t K_{5/3}(t) in ln t (8001 nodes; relative error < 1e-7 on the table range)."""
    from scipy.integrate import cumulative_simpson
    from scipy.special import kv

    x = np.atleast_1d(np.asarray(x, dtype=float))
    lt = np.linspace(math.log(1e-12), math.log(800.0), 8001)
    t = np.exp(lt)
    integrand = t * kv(5.0 / 3.0, t)
    cum = cumulative_simpson(integrand[::-1], x=-lt[::-1], initial=0.0)[::-1]  # ∫_t^tmax
    lx = np.log(np.clip(x, 1e-12, 800.0))
    tail = np.exp(np.interp(lx, lt, np.log(np.maximum(cum, 1e-300))))
    out = x * tail
    out[(x <= 0) | (x >= 800.0)] = 0.0
    return out


@lru_cache(maxsize=1)
def _tables_single() -> tuple[np.ndarray, np.ndarray]:
    """log10 F and log10 (F − xF') = log10 x²K_{5/3}(x) for kernel="single_pitch"."""
    from scipy.special import kv

    n = int(round((_TAB_LX1 - _TAB_LX0) * _TAB_PPD)) + 1
    lx = _TAB_LX0 + np.arange(n) / _TAB_PPD
    x = 10.0**lx
    f = f_single(x)
    g = x * x * kv(5.0 / 3.0, x)
    with np.errstate(divide="ignore", invalid="ignore"):
        lf = np.where(f > 0, np.log10(np.maximum(f, 1e-300)), -300.0)
        lg = np.where(g > 0, np.log10(np.maximum(g, 1e-300)), -300.0)
    return lf, lg


@lru_cache(maxsize=1)
def _tables() -> tuple[np.ndarray, np.ndarray]:
    """log10 R and log10 (R − xR') on the fine table (built once per process, ~10 ms)."""
    n = int(round((_TAB_LX1 - _TAB_LX0) * _TAB_PPD)) + 1
    lx = _TAB_LX0 + np.arange(n) / _TAB_PPD
    x = 10.0**lx
    r = r_exact(x)
    # R − xR' = R (1 − dlnR/dlnx); derivative from the closed form on a ±1e-4 stencil
    eps = 1e-4
    rp, rm = r_exact(x * math.exp(eps)), r_exact(x * math.exp(-eps))
    with np.errstate(divide="ignore", invalid="ignore"):
        dln = (np.log(rp) - np.log(rm)) / (2 * eps)
        g = r * (1.0 - dln)
        lr = np.where(r > 0, np.log10(np.maximum(r, 1e-300)), -300.0)
        lg = np.where(g > 0, np.log10(np.maximum(g, 1e-300)), -300.0)
    return lr, lg


@njit(cache=True)
def _interp_tab(x, tab):
    if x <= 0.0:
        return 0.0
    u = (math.log10(x) - _TAB_LX0) * _TAB_PPD
    if u < 0.0:  # x^{1/3} asymptote below the table
        return 10.0 ** (tab[0] + (u / _TAB_PPD) / 3.0)
    i = int(u)
    if i >= tab.shape[0] - 1:
        return 0.0
    w = u - i
    return 10.0 ** (tab[i] * (1.0 - w) + tab[i + 1] * w)


@njit(cache=True)
def r_akp10(x):
    """Aharonian, Kelner & Prosekin (2010) fit of R(x) (their G(x) for isotropic pitch angles)."""
    x23 = x ** (2.0 / 3.0)
    return (1.808 * x ** (1.0 / 3.0) / math.sqrt(1.0 + 3.4 * x23)
            * (1.0 + 2.21 * x23 + 0.347 * x23 * x23) / (1.0 + 1.353 * x23 + 0.217 * x23 * x23)
            * math.exp(-x))


@njit(cache=True)
def _r_and_g(x, mode, lr, lg):
    """(R(x), R(x) − x R'(x)) for kernel mode 0 (exact table) or 1 (x^{1/3} e^{−x})."""
    if mode == 1:
        r = 1.8 * x ** (1.0 / 3.0) * math.exp(-x) if x < 700.0 else 0.0
        return r, r * (2.0 / 3.0 + x)
    return _interp_tab(x, lr), _interp_tab(x, lg)  # modes 0 and 2: tables passed in


@njit(cache=True)
def _power_matrix(nu, gamma, B, mode, lr, lg, out_p, out_g):
    for j in range(gamma.shape[0]):
        nuc = NU_C_NORM * B * gamma[j] * gamma[j]
        for k in range(nu.shape[0]):
            x = nu[k] / nuc
            r, g = _r_and_g(x, mode, lr, lg)
            if r == 0.0 and g == 0.0 and x > 1.0:
                # past the table's end (or underflow) both fall monotonically: zero from here on
                # (the same zeros the loop would write, without their evaluation)
                for kk in range(k, nu.shape[0]):
                    out_p[j, kk] = 0.0
                    out_g[j, kk] = 0.0
                break
            out_p[j, k] = P_NORM * B * r
            out_g[j, k] = P_NORM * B * g


@njit(cache=True)
def _power_matrix_lattice(nu, gamma, B, mode, lr, lg, out_p, out_g):
    """``_power_matrix`` on a shared geometric lattice (ν_{k+1}/ν_k = γ_{j+1}/γ_j): x = ν_k/ν_c(γ_j)
    depends on d = k − 2j only, so R and R − xR' are evaluated once per d (n_ν + 2n_γ values
    instead of n_ν·n_γ) and every row is a shifted copy.  Identical to ``_power_matrix`` up to
    the round-off of the lattice values (x of one representative (j, k) per d)."""
    nj = gamma.shape[0]
    nk = nu.shape[0]
    d0 = -2 * (nj - 1)
    nd = nk - d0
    vp = np.zeros(nd)
    vg = np.zeros(nd)
    for i in range(nd):
        d = d0 + i
        j = 0 if d >= 0 else (-d + 1) // 2
        k = d + 2 * j
        x = nu[k] / (NU_C_NORM * B * gamma[j] * gamma[j])
        r, g = _r_and_g(x, mode, lr, lg)
        if r == 0.0 and g == 0.0 and x > 1.0:
            break  # both fall monotonically past here: zeros (as _power_matrix writes)
        vp[i] = P_NORM * B * r
        vg[i] = P_NORM * B * g
    for j in range(nj):
        o = -2 * j - d0
        for k in range(nk):
            out_p[j, k] = vp[k + o]
            out_g[j, k] = vg[k + o]


def _on_shared_lattice(nu, gamma) -> bool:
    """ν and γ geometric with one common step (to round-off): the kinetic solver's grids."""
    if nu.size < 2 or gamma.size < 2 or np.any(nu <= 0) or np.any(gamma <= 0):
        return False
    step = math.log(gamma[1] / gamma[0])
    return bool(step > 0 and np.all(np.abs(np.diff(np.log(gamma)) - step) <= 1e-12)
                and np.all(np.abs(np.diff(np.log(nu)) - step) <= 1e-12))


def power_per_hz(nu, gamma, B: float, kernel: str = "exact") -> tuple[np.ndarray, np.ndarray]:
    """(P[j, k], G[j, k]) for particles γ_j and frequencies ν_k [Hz]: P(ν,γ) [erg s⁻¹ Hz⁻¹] and
    the SSA weight √3e³B/(m_ec²)·(R − xR'). Unnormalised (the exact single-particle spectrum)."""
    if kernel not in KERNELS:
        raise ValueError(f"synchrotron_kernel: value {kernel!r} is invalid; allowed: {sorted(KERNELS)}")
    mode = KERNELS[kernel]
    lr, lg = _tables_single() if mode == 2 else _tables()
    nu = np.ascontiguousarray(nu, dtype=float)
    gamma = np.ascontiguousarray(gamma, dtype=float)
    p = np.empty((gamma.size, nu.size))
    g = np.empty((gamma.size, nu.size))
    if _on_shared_lattice(nu, gamma):
        _power_matrix_lattice(nu, gamma, float(B), mode, lr, lg, p, g)
    else:
        _power_matrix(nu, gamma, float(B), mode, lr, lg, p, g)
    return p, g


def loss_rate(gamma, B: float) -> np.ndarray:
    """−dγ/dt [s⁻¹] = (4/3) σ_T c u_B (γ²−1)/(m_e c²)."""
    g = np.asarray(gamma, dtype=float)
    u_b = B * B / (8.0 * math.pi)
    return 4.0 / 3.0 * const.sigma_T * const.c * u_b * np.maximum(g * g - 1.0, 0.0) / const.m_e_c2


def emission_matrix(gamma, x, dx, B: float, kernel: str = "exact"):
    """Discrete, energy-normalised synchrotron kernel on a photon grid.

    Returns ``(K, G, b, scale)``: ``K[j, k]`` photons per unit x per second emitted by one particle
    of Lorentz factor γ_j into bin k; ``G[j, k]`` the SSA weight (same scale) such that
    α_k = Σ_j N(γ_j) Δγ_j G[j,k] / (4π m_e ν_k² γ_j); ``b[j]`` = −dγ/dt [s⁻¹] (exact);
    ``scale[j]`` the row factor Σ-exact/Σ-discrete applied to K and G.
    """
    x = np.asarray(x, dtype=float)
    dx = np.asarray(dx, dtype=float)
    nu = x * const.m_e_c2 / const.h
    p, g = power_per_hz(nu, gamma, B, kernel)
    b = loss_rate(gamma, B)
    dnu = dx * const.m_e_c2 / const.h
    discrete = p @ dnu  # erg/s radiated on the grid
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(discrete > 0, b * const.m_e_c2 / discrete, 0.0)
    p *= scale[:, None]
    g *= scale[:, None]
    # photons per unit x per s: P(ν) dν/dx / (hν) = P / (h x)
    K = p / (const.h * x[None, :])
    return K, g, b, scale


@njit(cache=True)
def ssa_coefficient(Nd, G, gamma, nu):
    """α_ν [cm⁻¹] = Σ_j Nd_j G[j,k] / (4π m_e ν_k² γ_j), Nd_j = N(γ_j)Δγ_j [cm⁻³] (particles in
    the quadrature cell of node j)."""
    nk = nu.shape[0]
    out = np.zeros(nk)
    for j in range(gamma.shape[0]):
        if Nd[j] <= 0.0:
            continue
        w = Nd[j] / gamma[j]
        for k in range(nk):
            out[k] += w * G[j, k]
    for k in range(nk):
        out[k] /= 4.0 * math.pi * const.m_e * nu[k] * nu[k]
    return out


@njit(cache=True)
def emit(Nd, K):
    """Photon emissivity [cm⁻³ s⁻¹ per unit x] = Σ_j Nd_j K[j, k]."""
    out = np.zeros(K.shape[1])
    for j in range(K.shape[0]):
        if Nd[j] <= 0.0:
            continue
        for k in range(K.shape[1]):
            out[k] += Nd[j] * K[j, k]
    return out
