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

Injected pairs: Kelner & Aharonian 2008 (PRD 78, 034013) Eq. (62), i.e. the Blumenthal (1970)
differential cross-section W = dσ/(dE₋ dcosθ₋) in the proton rest frame (Bethe–Heitler, Born
approximation, Z = 1, no screening) transformed to the lab and integrated over photon angles.
With u = E_e/(γ_p m_ec²) the electron spectrum per proton and per target photon of lab energy x
depends on κ = 2γ_p x and u only:

    dN_e/du = (2c/κ²) M(u, κ),   M(u, κ) = ∫_{k_min(u)}^{κ} dk k ∫_{E_min(u)}^{k−1} dE₋ W(k, E₋, cosθ₋)/p₋
    k_min = (1+u)²/(2u),  E_min = (1+u²)/(2u),  cosθ₋ = (E₋ − u)/p₋

M is tabulated once per process on a (ln u, ln(κ−2)) lattice (Gauss–Legendre in E₋, trapezoid in
ln k).  Checks (tests/test_bethe_heitler.py): ∫ u M du = φ(κ)/2 (electron half of Blumenthal's
energy loss) to ≤ 0.3 % and ∫ M du = ψ(κ) = ∫ kσ_BH dk (Maximon 1968 total cross-section) to
≤ 0.2 % for 2.5 ≤ κ ≤ 10⁶: two independent formulae confirm W.  Positrons have the same spectrum
(Born level, Furry symmetry): leptons = 2 × electrons.  Per (proton bin, photon bin) the table is
renormalised to the exact φ loss (a ≤ 0.3 % correction) so that pair energy = proton BH loss to
round-off.  Above κ = 10⁸ (outside the table) the MEAN-ENERGY δ approximation is used: each lepton
gets γ̄_e = γ_p α_f r_e² φ(κ)/(2ψ(κ)) with the pair rate 2c n Δx ψ(κ)/κ² (number and energy exact),
deposited on the two neighbouring pair bins with number- and energy-conserving weights
(``pair_spectrum="mean"`` uses it everywhere, for comparison).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from .. import constants as const
from ..grids import log_bin_widths, log_grid_params
from .lattice import lattice_loss_rate

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


@njit(cache=True)
def w_blumenthal(k, em, u):
    """dσ/(dE₋ dcosθ₋) / (α_f r_e²) of Bethe–Heitler pair production on a proton at rest
    (Blumenthal 1970 Eq. 10; KA08 Eqs. 59–61), photon energy k, electron energy E₋ (m_ec²),
    with cosθ₋ = (E₋ − u)/p₋ fixed by the lab electron energy u γ_p; then D = E₋ − p₋cosθ₋ = u."""
    pm2 = em * em - 1.0
    ep = k - em
    pp2 = ep * ep - 1.0
    if pm2 <= 0.0 or pp2 <= 0.0:
        return 0.0
    pm = np.sqrt(pm2)
    pp = np.sqrt(pp2)
    # sin²θ₋ and T² = |k − p₋|² in cancellation-free form: 1 − cos²θ₋ = (2E₋u − 1 − u²)/p₋²,
    # T² = p₊² + 2ku (both exact given cosθ₋ = (E₋ − u)/p₋)
    s2 = (2.0 * em * u - 1.0 - u * u) / pm2
    if s2 < 0.0:
        return 0.0
    d = u
    t2 = pp2 + 2.0 * k * u
    t = np.sqrt(t2)
    yy = 2.0 / pm2 * np.log((ep * em + pp * pm + 1.0) / k)
    yp = 2.0 * np.log(ep + pp) / pp  # ln((E₊+p₊)/(E₊−p₊)), (E₊+p₊)(E₊−p₊) = 1
    dt = np.log((t + pp) ** 2 / (2.0 * k * u))  # ln((T+p₊)/(T−p₊)), T² − p₊² = 2ku exactly
    a = (-4.0 * s2 * (2.0 * em * em + 1.0) / (pm2 * d**4) + (5.0 * em * em - 2.0 * ep * em + 3.0) / (pm2 * d * d)
         + (pm2 - k * k) / (t2 * d * d) + 2.0 * ep / (pm2 * d))
    b = yy / (pm * pp) * (2.0 * em * s2 * (3.0 * k + pm2 * ep) / d**4
                          + (2.0 * em * em * (em * em + ep * ep) - 7.0 * em * em - 3.0 * ep * em - ep * ep + 1.0) / (d * d)
                          + k * (em * em - em * ep - 1.0) / d)
    c = -dt / (pp * t) * (2.0 / (d * d) - 3.0 * k / d - k * (pm2 - k * k) / (t2 * d))
    return pp * pm / (2.0 * k**3) * (a + b + c - 2.0 * yp / d)


@njit(cache=True)
def _inner_e(u, k, glx, glw):
    """∫_{E_min}^{k−1} dE₋ W/p₋ (Gauss–Legendre in t, E₋ = E_min + L t²(3−2t): smooth at both ends)."""
    emin = (1.0 + u * u) / (2.0 * u)
    emax = k - 1.0
    if emax <= emin:
        return 0.0
    span = emax - emin
    acc = 0.0
    for q in range(glx.size):
        t = 0.5 * (glx[q] + 1.0)
        em = emin + span * t * t * (3.0 - 2.0 * t)
        jac = span * 6.0 * t * (1.0 - t) * 0.5 * glw[q]
        pm = np.sqrt(max(em * em - 1.0, 1e-300))
        acc += jac * w_blumenthal(k, em, u) / pm
    return acc


@njit(cache=True)
def _m_table(lu, lk, glx, glw):
    """M(u_a, κ_b) on the lattice (lk = ln κ), cumulative trapezoid of k² I d ln k."""
    nu, nk = lu.size, lk.size
    m = np.zeros((nu, nk))
    for a in range(nu):
        u = np.exp(lu[a])
        f0 = 0.0
        for b in range(nk):
            kk = np.exp(lk[b])
            f1 = kk * kk * _inner_e(u, kk, glx, glw)
            if b > 0:
                m[a, b] = m[a, b - 1] + 0.5 * (f0 + f1) * (lk[b] - lk[b - 1])
            f0 = f1
    return m


_M_CACHE = {}
KAPPA_TAB_MAX = 1e8


def m_table():
    """(ln u grid, ln κ grid, M[u, κ]) — computed once per process (≈ 1 s)."""
    if "m" not in _M_CACHE:
        lu = np.log(np.logspace(-9.0, 9.0, 18 * 30 + 1))
        lk = np.log(2.0 + np.logspace(-3.0, np.log10(KAPPA_TAB_MAX), 11 * 30 + 1))
        glx, glw = np.polynomial.legendre.leggauss(40)
        _M_CACHE["m"] = (lu, lk, _m_table(lu, lk, glx, glw))
    return _M_CACHE["m"]


@njit(cache=True)
def _interp_m(lu, lk, m, x_lu, x_lk):
    """Bilinear interpolation of M in (ln u, ln κ); 0 outside."""
    nu, nk = lu.size, lk.size
    if x_lu <= lu[0] or x_lu >= lu[nu - 1] or x_lk <= lk[0] or x_lk >= lk[nk - 1]:
        return 0.0
    du = (lu[nu - 1] - lu[0]) / (nu - 1)
    ia = int((x_lu - lu[0]) / du)
    if ia > nu - 2:
        ia = nu - 2
    ib = 0
    lo, hi = 0, nk - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if lk[mid] <= x_lk:
            lo = mid
        else:
            hi = mid
    ib = lo
    tu = (x_lu - lu[ia]) / (lu[ia + 1] - lu[ia])
    tk = (x_lk - lk[ib]) / (lk[ib + 1] - lk[ib])
    return ((1 - tu) * (1 - tk) * m[ia, ib] + tu * (1 - tk) * m[ia + 1, ib]
            + (1 - tu) * tk * m[ia, ib + 1] + tu * tk * m[ia + 1, ib + 1])


@njit(cache=True)
def _pair_table(kap_sub, wsub, u_edges, nsub_u, lu, lk, m):
    """E[h, c] = (1/u_c) ∫_{bin c} u (2 M(u,κ)/κ²) du  (bin- and photon-bin-averaged; per c).

    Returned without the factor c (speed of light): electrons per proton per target photon per s
    per cm³ of photons = c · E[h, c] in u-bin c."""
    nh, nq = kap_sub.shape
    nc = u_edges.size - 1
    out = np.zeros((nh, nc))
    for h in range(nh):
        for q in range(nq):
            kap = kap_sub[h, q]
            if kap <= 2.0:
                continue
            lkq = np.log(kap)
            umax = 2.0 * kap  # u_+ < 2κ
            umin = 1.0 / (2.0 * kap)
            for cc in range(nc):
                lo = u_edges[cc]
                hi = u_edges[cc + 1]
                if hi < umin or lo > umax:
                    continue
                llo = np.log(lo)
                dl = (np.log(hi) - llo) / nsub_u
                uc = np.sqrt(lo * hi)
                acc = 0.0
                for t in range(nsub_u):
                    lu_t = llo + (t + 0.5) * dl
                    uu = np.exp(lu_t)
                    acc += uu * uu * _interp_m(lu, lk, m, lu_t, lkq) * dl
                out[h, cc] += wsub[h, q] * 2.0 * acc / (kap * kap) / uc
    return out


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
    # KA08 Eq. 62 table (rows with κ ≤ KAPPA_TAB_MAX): leptons per bin, m = k − j
    T: np.ndarray  # (n_tab_rows, n_m) [cm³ s⁻¹]: e⁺+e⁻ per proton per target photon, in bin m
    m_lo: int
    m_start: np.ndarray  # first nonzero column per row
    m_stop: np.ndarray  # one past the last nonzero column per row
    ka08_over_phi: np.ndarray  # raw table energy / exact φ loss per table row (≈ 1)
    # mean-energy δ approximation for rows beyond the table (or everywhere if pair_spectrum="mean")
    pair_rate: np.ndarray  # pairs per proton per s per (photon per cm³) [cm³ s⁻¹]; 0 on table rows
    k_shift: np.ndarray
    w_hi: np.ndarray


def build_bethe_heitler_kernels(x, gamma_p, gamma_e, nsub=16, nsub_u=4, pair_spectrum="ka08",
                                rel_cut=1e-7) -> BetheHeitlerKernels:
    """Precompute BH loss and pair-injection kernels once per grid (same ppd for all grids).

    pair_spectrum: "ka08" (Eq. 62 with Blumenthal's W; default) or "mean" (δ at the mean energy).
    rel_cut: table columns whose energy is < rel_cut × the row's largest column are dropped (their
    energy is restored by the per-row renormalisation; speeds up the injection sum).
    """
    if pair_spectrum not in ("ka08", "mean"):
        raise ValueError(f"pair_spectrum must be 'ka08' or 'mean', got {pair_spectrum!r}")
    x0, nx, ppd = log_grid_params(x, "x")
    g0, npr, p2 = log_grid_params(gamma_p, "gamma_p")
    ge0, nge, p3 = log_grid_params(gamma_e, "gamma_e")
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
    wsub = np.broadcast_to(w, ks.shape).copy()
    phi = (phi_bh_vec(ks) / ks**2 * w).sum(axis=1)  # <φ/κ²>
    psi = (psi_bh(ks) / ks**2 * w).sum(axis=1)  # <ψ̃/κ²>
    K = _KBH_PREF * phi
    pair_rate = 2.0 * const.c * const.alpha_f * const.r_e**2 * psi
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(psi > 0, phi / (2.0 * psi), 0.0)  # γ̄_e / γ_p
    pos = np.where(frac > 0, np.log(np.where(frac > 0, frac, 1.0) * g0 / ge0) / np.log(r), 0.0)
    k_shift = np.floor(pos).astype(np.int64)
    lo = r ** (k_shift.astype(float))
    w_hi = (r**pos - lo) / (lo * r - lo)

    # KA08 table rows: all sub-samples inside the M table
    n_tab = 0 if pair_spectrum == "mean" else int(np.sum(np.all(ks < 0.999 * KAPPA_TAB_MAX, axis=1)))
    u00 = ge0 / g0  # u of pair bin k for proton bin j: u00 r^(k−j)
    m_all = np.arange(-(npr - 1), nge)
    if n_tab > 0:
        lu, lk, mt = m_table()
        u_c = u00 * r ** m_all.astype(float)
        keep = (u_c * np.sqrt(r) > np.exp(lu[0])) & (u_c / np.sqrt(r) < np.exp(lu[-1]))
        msel = m_all[keep]
        m_lo = int(msel[0])
        edges = u00 * r ** (np.arange(m_lo, msel[-1] + 2) - 0.5)
        # electrons per proton per target photon per bin, divided by c (M is in units of α_f r_e²)
        raw = _pair_table(ks[:n_tab], wsub[:n_tab], edges, nsub_u, lu, lk, mt) * const.alpha_f * const.r_e**2
        uc = u00 * r ** np.arange(m_lo, msel[-1] + 1).astype(float)
        raw = np.where(raw * uc[None, :] >= rel_cut * (raw * uc[None, :]).max(axis=1, initial=0.0)[:, None], raw, 0.0)
        # exact energy per row: leptons carry φ loss: Σ_c u_c 2 c raw = (m_p/m_e) K / γ_p-units
        exact = K[:n_tab] * (const.m_p / const.m_e)  # energy per proton per photon / (γ_p m_ec²)
        have = 2.0 * const.c * (raw * uc[None, :]).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(exact > 0, have / exact, 0.0)
            scale = np.where(have > 0, exact / have, 0.0)
        T = 2.0 * const.c * raw * scale[:, None]
        nz = T > 0
        m_start = np.where(nz.any(axis=1), np.argmax(nz, axis=1), 0).astype(np.int64)
        m_stop = np.where(nz.any(axis=1), T.shape[1] - np.argmax(nz[:, ::-1], axis=1), 0).astype(np.int64)
        # rows where the table is empty but the loss is not (sub-threshold rounding): use δ
        empty = (have <= 0) & (K[:n_tab] > 0)
        pair_rate = pair_rate.copy()
        pair_rate[:n_tab] = np.where(empty, pair_rate[:n_tab], 0.0)
    else:
        T = np.zeros((0, 1))
        m_lo = 0
        m_start = m_stop = np.zeros(0, dtype=np.int64)
        ratio = np.zeros(0)
    return BetheHeitlerKernels(ppd=ppd, x=np.asarray(x, float), dx=log_bin_widths(x),
                               gamma_p=np.asarray(gamma_p, float), dgamma_p=log_bin_widths(gamma_p),
                               gamma_e=np.asarray(gamma_e, float), dgamma_e=log_bin_widths(gamma_e),
                               h_lo=h_lo, kappa=kap, K=K, T=np.ascontiguousarray(T), m_lo=m_lo,
                               m_start=m_start, m_stop=m_stop, ka08_over_phi=ratio,
                               pair_rate=pair_rate, k_shift=k_shift, w_hi=w_hi)


_bh_loss = lattice_loss_rate  # −dγ/dt of the rows (processes/lattice.py)


@njit(cache=True)
def _bh_pairs_mean(nph_dx, np_dg, rate, k_shift, w_hi, h_lo, nge):
    """Leptons (e⁺ + e⁻) per cm³ per s in each pair bin, δ approximation (rows with rate > 0)."""
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


BLOCK = 64  # columns per block of the KA08 table in ``_bh_pairs_blocks``
_BLOCKS: dict = {}


def _column_blocks(T: np.ndarray) -> np.ndarray:
    """T split into contiguous blocks of BLOCK columns, Tb[b] = T[:, b·BLOCK : (b+1)·BLOCK] (the
    last one zero-padded), derived once per table (kept with it, 8 tables)."""
    key = id(T)
    hit = _BLOCKS.get(key)
    if hit is not None and hit[0] is T:
        return hit[1]
    nh, nm = T.shape
    nb = max(1, -(-nm // BLOCK))
    Tb = np.zeros((nb, nh, BLOCK))
    for b in range(nb):
        w = min(BLOCK, nm - b * BLOCK)
        if w > 0:
            Tb[b, :, :w] = T[:, b * BLOCK: b * BLOCK + w]
    _BLOCKS[key] = (T, Tb)
    while len(_BLOCKS) > 8:
        _BLOCKS.pop(next(iter(_BLOCKS)))
    return Tb


def _bh_pairs_table(nph_dx, np_dg, T, m_start, m_stop, m_lo, h_lo, nge):
    """Leptons per cm³ per s per pair bin from the KA08 table: G[j, m] = Σ_i nΔx T[i+j, m] then
    Σ_j NΔγ G[j, k−j] (``_bh_pairs_blocks`` on the table's column blocks)."""
    return _bh_pairs_blocks(nph_dx, np_dg, _column_blocks(T), T.shape[1], m_start, m_stop, m_lo,
                            h_lo, nge)


@njit(cache=True)
def _bh_pairs_blocks(nph_dx, np_dg, Tb, nm, m_start, m_stop, m_lo, h_lo, nge):
    """``_bh_pairs_table`` with the table in column blocks Tb[b] (``_column_blocks``): for each
    proton face, G[j, :] = Σ_i nΔx_i T[i+j−h_lo, :] as BLAS matrix-vector products over the
    contiguous row block, only on the column blocks that hold a column both filled by some row
    and landing on the pair grid (the others would be added as zeros or dropped): the same sums,
    in another order."""
    nb, nh, bw = Tb.shape
    nx = nph_dx.size
    npr = np_dg.size
    out = np.zeros(nge)
    for j in range(npr):
        wj = np_dg[j]
        if wj == 0.0:
            continue
        i0 = max(h_lo - j, 0)
        i1 = min(nx, nh + h_lo - j)  # rows hh = i + j − h_lo < nh
        if i1 <= i0:
            continue
        hh0 = i0 + j - h_lo
        lo_m = nm
        hi_m = 0
        for hh in range(hh0, hh0 + i1 - i0):
            if m_stop[hh] > m_start[hh]:
                if m_start[hh] < lo_m:
                    lo_m = m_start[hh]
                if m_stop[hh] > hi_m:
                    hi_m = m_stop[hh]
        k0 = j + m_lo
        if lo_m < -k0:
            lo_m = -k0
        if hi_m > nge - k0:
            hi_m = nge - k0
        if hi_m <= lo_m:
            continue
        for b in range(lo_m // bw, (hi_m - 1) // bw + 1):
            g = np.dot(nph_dx[i0:i1], Tb[b, hh0:hh0 + i1 - i0])
            c0 = b * bw
            ca = lo_m if lo_m > c0 else c0
            cb = hi_m if hi_m < c0 + bw else c0 + bw
            for mm in range(ca, cb):
                out[k0 + mm] += wj * g[mm - c0]
    return out


def bh_loss_rate(k: BetheHeitlerKernels, n_x):
    """−dγ_p/dt [s⁻¹] on the proton grid; n_x photon density per unit x [cm⁻³]."""
    return _bh_loss(np.ascontiguousarray(n_x * k.dx), k.K, k.h_lo, k.gamma_p)


def bh_pair_injection(k: BetheHeitlerKernels, n_x, n_p):
    """Injected e⁺ + e⁻ [cm⁻³ s⁻¹ per unit γ_e] on k.gamma_e for photons n_x [cm⁻³ per unit x] and
    protons n_p [cm⁻³ per unit γ_p]."""
    nd = np.ascontiguousarray(n_x * k.dx)
    pd = np.ascontiguousarray(n_p * k.dgamma_p)
    out = _bh_pairs_mean(nd, pd, k.pair_rate, k.k_shift, k.w_hi, k.h_lo, k.gamma_e.size)
    if k.T.shape[0] > 0:
        out += _bh_pairs_table(nd, pd, k.T, k.m_start, k.m_stop, k.m_lo, k.h_lo, k.gamma_e.size)
    return out / k.dgamma_e


def bh_loss_time_direct(gamma_p, n_of_x, x_lo=1e-12, x_hi=1e8):
    """Reference: −dγ_p/dt by scipy quad of Blumenthal's integral over dκ (tests/diagnostics)."""
    from scipy.integrate import quad
    pref = const.alpha_f * const.r_e**2 * const.c * const.m_e / const.m_p

    def integrand(lk):
        kap = np.exp(lk)
        return n_of_x(kap / (2.0 * gamma_p)) * phi_bh(kap) / kap**2 * kap

    lo = np.log(2.0)
    hi = np.log(max(2.0 * gamma_p * x_hi, 2.0000001))
    val, _ = quad(integrand, lo, hi, limit=400)
    return pref * val
