"""Bethe–Heitler pair production p γ → p e⁺ e⁻: proton losses and injected pairs (model.md §4).

Loss rate (Blumenthal 1970, Phys. Rev. D 1, 1596, Eq. 14; Chodorowski, Zdziarski & Sikora 1992,
ApJ 400, 181, Eq. 3.11):

    −dγ_p/dt = α_f r_e² c (m_e/m_p) ∫₂^∞ dκ n(κ/2γ_p) φ(κ)/κ²

with n(x) the isotropic photon density per unit x = hν/m_ec² [cm⁻³] and the integral over dκ in
NATURAL units (a widely used public code integrates over log10 κ instead of ln κ and is low by
ln 10 ≈ 2.3; not done here).  φ(κ): the fit of Chodorowski et al. 1992 (Eqs. 3.14–3.18), accurate
to ≲ 1.5 % against Blumenthal's exact double integral:
  2 ≤ κ < 25:  φ = (π/12)(κ−2)⁴ / (1 + Σ_{i=1}^4 c_i (κ−2)^i),
  κ ≥ 25:      φ = κ Σ_{i=0}^3 d_i ln^i κ / (1 − Σ_{i=1}^3 f_i κ^{−i}).

On log grids κ = 2γ_p x depends on h = i + j only, so the loss is
−dγ_j/dt = γ_j Σ_i n_iΔx_i K_BH[i+j],  K_BH(κ) = 2 α_f r_e² c (m_e/m_p) φ(κ)/κ²  [cm³ s⁻¹]
(bin-averaged over the photon bin, uniform in x inside it, which resolves the (κ−2)⁴ threshold).

Injected pairs: MEAN-ENERGY (δ-function) approximation with exact energy and pair-number
bookkeeping.  For each (γ_p, photon bin) the pair-production rate per proton is
  Ṅ_pair = 2c n Δx ψ(κ)/κ²,   ψ(κ) = ∫₂^κ k σ_BH(k) dk
(the same angle average that gives φ, with σ_BH the total Bethe–Heitler cross-section: Maximon
1968 (J. Res. NBS 72B, 79) near-threshold series for k < 4 and its high-energy expansion for
k ≥ 4, both Born approximation without screening), and each lepton receives the mean Lorentz
factor  γ̄_e = γ_p α_f r_e² φ(κ) / (2 ψ(κ)),  so that 2 γ̄_e m_e c² Ṅ_pair = m_p c² |dγ_p/dt|
exactly.  γ̄_e is deposited on the pair grid by splitting between the two neighbouring bins with
weights that conserve both number and energy.  What this does NOT reproduce is the width of the
pair spectrum at fixed (γ_p, κ) (≈ 1–2 decades in KA08 Fig. 10); after the convolution with a
broad photon field and proton spectrum the shape error of the summed injection is ≲ 0.2 dex
near its peak (not measured against KA08 Eq. 62 here: listed as open work in docs/hadronic.md).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from .. import constants as const

_C = np.array([0.8048, 0.1459, 1.137e-3, -3.879e-6])
_D = np.array([-86.07, 50.96, -14.45, 8.0 / 3.0])
_F = np.array([2.910, 78.35, 1837.0])


@njit(cache=True)
def phi_bh(kappa):
    """Blumenthal's φ(κ) (Chodorowski et al. 1992 fit); κ = photon energy in the proton frame
    (units m_ec², maximal head-on value 2γ_p x)."""
    if kappa <= 2.0:
        return 0.0
    if kappa < 25.0:
        u = kappa - 2.0
        den = 1.0 + _C[0] * u + _C[1] * u**2 + _C[2] * u**3 + _C[3] * u**4
        return np.pi / 12.0 * u**4 / den
    lk = np.log(kappa)
    num = _D[0] + _D[1] * lk + _D[2] * lk**2 + _D[3] * lk**3
    den = 1.0 - _F[0] / kappa - _F[1] / kappa**2 - _F[2] / kappa**3
    return kappa * num / den


@njit(cache=True)
def sigma_bh_tilde(k):
    """Total Bethe–Heitler cross-section / (α_f r_e²) for photon energy k [m_ec²] in the nucleus
    (proton) frame, Z = 1, no screening (Maximon 1968)."""
    if k <= 2.0:
        return 0.0
    if k < 4.0:
        e = (2.0 * k - 4.0) / (2.0 + k + 2.0 * np.sqrt(2.0 * k))
        return 2.0 * np.pi / 3.0 * ((k - 2.0) / k) ** 3 * (
            1.0 + 0.5 * e + 23.0 / 40.0 * e**2 + 11.0 / 60.0 * e**3 + 29.0 / 960.0 * e**4)
    l2k = np.log(2.0 * k)
    z3 = 1.2020569031595942
    pi2 = np.pi**2
    t = 2.0 / k
    return (28.0 / 9.0 * l2k - 218.0 / 27.0
            + t**2 * (6.0 * l2k - 3.5 + 2.0 / 3.0 * l2k**3 - l2k**2 - pi2 / 3.0 * l2k + 2.0 * z3 + pi2 / 6.0)
            - t**4 * (3.0 / 16.0 * l2k + 0.125)
            - t**6 * (29.0 / 2304.0 * l2k - 77.0 / 13824.0))


def _psi_table():
    """ψ(κ)/(α r_e²) = ∫₂^κ k σ̃(k) dk on a fine log grid of (κ − 2)."""
    u = np.logspace(-6, 12, 20001)  # κ − 2
    kap = 2.0 + u
    f = np.array([kk * sigma_bh_tilde(kk) for kk in kap])
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (f[1:] + f[:-1]) * np.diff(kap))])
    return kap, cum


_KAP_TAB, _PSI_TAB = _psi_table()


def psi_bh(kappa):
    """ψ̃(κ) = ∫₂^κ k σ_BH(k)/(α_f r_e²) dk."""
    kappa = np.asarray(kappa, dtype=float)
    out = np.interp(np.log(np.clip(kappa - 2.0, 1e-6, None)), np.log(_KAP_TAB - 2.0), _PSI_TAB)
    return np.where(kappa <= 2.0, 0.0, out)


def phi_bh_vec(kappa):
    k = np.atleast_1d(np.asarray(kappa, dtype=float))
    out = np.array([phi_bh(v) for v in k.ravel()]).reshape(k.shape)
    return out if np.ndim(kappa) else float(out.ravel()[0])


_KBH_PREF = 2.0 * const.alpha_f * const.r_e**2 * const.c * const.m_e / const.m_p  # cm³ s⁻¹


def _log_grid(grid, name):
    grid = np.asarray(grid, dtype=float)
    if grid.ndim != 1 or grid.size < 2 or np.any(grid <= 0):
        raise ValueError(f"{name}: need a 1-D positive grid with ≥ 2 points")
    dl = np.diff(np.log10(grid))
    if not np.allclose(dl, dl[0], rtol=1e-6, atol=1e-12):
        raise ValueError(f"{name}: grid must be log-uniform")
    return float(grid[0]), grid.size, 1.0 / dl[0]


def log_bin_widths(grid):
    grid = np.asarray(grid, dtype=float)
    r = grid[1] / grid[0]
    return grid * (np.sqrt(r) - 1.0 / np.sqrt(r))


@dataclass(frozen=True)
class BetheHeitlerKernels:
    """Precomputed BH kernels (h = i + j indexes κ_h = 2 x_0 γ_0 r^h; rows start at h_lo)."""
    ppd: float
    x: np.ndarray
    dx: np.ndarray
    gamma_p: np.ndarray
    dgamma_p: np.ndarray
    gamma_e: np.ndarray
    dgamma_e: np.ndarray
    h_lo: int
    kappa: np.ndarray  # κ at row centres
    K: np.ndarray  # loss kernel [cm³ s⁻¹] per row
    pair_rate: np.ndarray  # R[h]: pairs per proton per s per (photon per cm³) [cm³ s⁻¹]
    k_shift: np.ndarray  # int: lower pair-bin offset (k = j + k_shift[h])
    w_hi: np.ndarray  # weight of bin k+1 (1 − w_hi for bin k): conserves number and energy


def build_bethe_heitler_kernels(x, gamma_p, gamma_e, nsub=16) -> BetheHeitlerKernels:
    """Precompute BH loss and pair-injection kernels once per grid (same ppd for all grids)."""
    x0, nx, ppd = _log_grid(x, "x")
    g0, npr, p2 = _log_grid(gamma_p, "gamma_p")
    ge0, nge, p3 = _log_grid(gamma_e, "gamma_e")
    if abs(p2 - ppd) > 1e-6 * ppd or abs(p3 - ppd) > 1e-6 * ppd:
        raise ValueError(f"x, gamma_p, gamma_e must share points per decade (got {ppd:.6g}, {p2:.6g}, {p3:.6g})")
    r = 10.0 ** (1.0 / ppd)
    h_all = np.arange(nx + npr - 1)
    kap_all = 2.0 * x0 * g0 * r**h_all
    above = kap_all * np.sqrt(r) > 2.0
    h_lo = int(np.argmax(above)) if np.any(above) else nx + npr - 1
    kap = kap_all[h_lo:]
    t = (np.arange(nsub) + 0.5) / nsub - 0.5
    f = r**t
    w = f / f.sum()  # uniform in x inside the photon bin
    ks = kap[:, None] * f[None, :]
    phi = (phi_bh_vec(ks) / ks**2 * w).sum(axis=1)  # <φ/κ²>
    psi = (psi_bh(ks) / ks**2 * w).sum(axis=1)  # <ψ̃/κ²>
    K = _KBH_PREF * phi
    pair_rate = 2.0 * const.c * const.alpha_f * const.r_e**2 * psi
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(psi > 0, phi / (2.0 * psi), 0.0)  # γ̄_e / γ_p
    # position on the pair grid: log_r(γ̄_e/ge0) = j + log_r(frac g0/ge0)
    pos = np.where(frac > 0, np.log(np.where(frac > 0, frac, 1.0) * g0 / ge0) / np.log(r), 0.0)
    k_shift = np.floor(pos).astype(np.int64)
    # linear-in-γ split between bins k and k+1 conserves number and energy exactly
    lo = r ** (k_shift.astype(float))
    target = r**pos
    w_hi = (target - lo) / (lo * r - lo)
    return BetheHeitlerKernels(ppd=ppd, x=np.asarray(x, float), dx=log_bin_widths(x),
                               gamma_p=np.asarray(gamma_p, float), dgamma_p=log_bin_widths(gamma_p),
                               gamma_e=np.asarray(gamma_e, float), dgamma_e=log_bin_widths(gamma_e),
                               h_lo=h_lo, kappa=kap, K=K, pair_rate=pair_rate, k_shift=k_shift, w_hi=w_hi)


@njit(cache=True)
def _bh_loss(nph_dx, K, h_lo, gamma):
    npr = gamma.size
    nx = nph_dx.size
    nh = K.size
    out = np.zeros(npr)
    for j in range(npr):
        i0 = max(h_lo - j, 0)
        acc = 0.0
        for i in range(i0, nx):
            hh = i + j - h_lo
            if hh >= nh:
                break
            acc += nph_dx[i] * K[hh]
        out[j] = gamma[j] * acc
    return out


@njit(cache=True)
def _bh_pairs(nph_dx, np_dg, rate, k_shift, w_hi, h_lo, nge):
    """Leptons (e⁺ + e⁻) per cm³ per s in each pair bin."""
    out = np.zeros(nge)
    nx = nph_dx.size
    npr = np_dg.size
    nh = rate.size
    for j in range(npr):
        wj = np_dg[j]
        if wj == 0.0:
            continue
        for i in range(max(h_lo - j, 0), nx):
            hh = i + j - h_lo
            if hh >= nh:
                break
            nl = 2.0 * wj * nph_dx[i] * rate[hh]
            if nl == 0.0:
                continue
            k = j + k_shift[hh]
            if 0 <= k < nge:
                out[k] += nl * (1.0 - w_hi[hh])
            if 0 <= k + 1 < nge:
                out[k + 1] += nl * w_hi[hh]
    return out


def bh_loss_rate(k: BetheHeitlerKernels, n_x):
    """−dγ_p/dt [s⁻¹] on the proton grid; n_x photon density per unit x [cm⁻³]."""
    return _bh_loss(np.ascontiguousarray(n_x * k.dx), k.K, k.h_lo, k.gamma_p)


def bh_pair_injection(k: BetheHeitlerKernels, n_x, n_p):
    """Injected e⁺ + e⁻ [cm⁻³ s⁻¹ per unit γ_e] on k.gamma_e for protons n_p [cm⁻³ per unit γ_p]."""
    out = _bh_pairs(np.ascontiguousarray(n_x * k.dx), np.ascontiguousarray(n_p * k.dgamma_p),
                    k.pair_rate, k.k_shift, k.w_hi, k.h_lo, k.gamma_e.size)
    return out / k.dgamma_e


def bh_loss_time_direct(gamma_p, n_of_x, x_lo=1e-12, x_hi=1e8):
    """Reference: −dγ_p/dt by scipy quad of Blumenthal's integral (for tests/diagnostics)."""
    from scipy.integrate import quad
    pref = const.alpha_f * const.r_e**2 * const.c * const.m_e / const.m_p

    def integrand(lk):
        kap = np.exp(lk)
        return n_of_x(kap / (2.0 * gamma_p)) * phi_bh(kap) / kap**2 * kap

    lo = np.log(2.0)
    hi = np.log(max(2.0 * gamma_p * x_hi, 2.0000001))
    val, _ = quad(integrand, lo, hi, limit=400, points=None)
    return pref * val
