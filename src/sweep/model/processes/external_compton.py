"""Inverse Compton scattering of a DIRECTED (anisotropic) target field by isotropic pairs, full
Klein–Nishina, toward one observer direction.

Kernel: the head-on approximation (valid to O(1/γ²); Dermer & Schlickeiser 1993, Dermer & Menon
2009 §6.3; equivalent for γ ≫ 1 to Aharonian & Atoyan 1981).  A pair of Lorentz factor γ moving
along Ω_s scatters photons of energy ε arriving at an angle ψ to Ω_s (cos ψ between the photon's
propagation direction and Ω_s) into photons of energy ε_s along Ω_s at the rate

    dN/(dt dε_s dΩ_s) = (N(γ)/4π) · π r_e² c ∮dΩ ∫dε n(ε, Ω) Ξ / (γ² ε),
    Ξ = y + 1/y − 2e₁/(ε̄ y) + (e₁/(ε̄ y))²,   y = 1 − e₁,  e₁ = ε_s/γ,  ε̄ = γ ε (1 − cos ψ).

Ξ depends on ε and ψ only through ε̄: a photon at angle ψ acts as a HEAD-ON photon (ψ = π) of
energy κε, κ = (1 − cos ψ)/2 ∈ [0, 1], weighted by κ (its collision rate).  With
Γ = 4γ(κε) and q = e₁/(Γ(1 − e₁)) the head-on bracket is
    H(Γ, e₁) = ½ Ξ = ½ [1/(1 + Γq) + 1 + Γq − 4q + 4q²],      0 < q ≤ 1,
and averaging over isotropic photon directions (κ uniform on [0, 1]) gives back, exactly,
the isotropic Jones / Blumenthal & Gould bracket of ``processes.compton``:
    ∫₀¹ dκ H(κΓ, e₁) = f_BG70(Γ, e₁)
(``tests/test_external_compton.py`` checks the identity by quadrature).  Hence the emission
toward Ω_s of any target field is the HEAD-ON kernel applied to an *effective* target spectrum:
every photon of the field moved to energy κε with weight κ, κ set by its angle to Ω_s.

Discretisation (on the shared lattice of ``sweep.model.grids``):
* ``head_on_table(ppd, m_lo, m_hi)``: H tabulated exactly like the isotropic table of
  ``processes.compton`` (same indices m = f + k + k0, l = k0 + i − f, same bin averages, same
  redistribution of each output bin's photons to conserve number and energy), so
  ``compton.emit`` evaluates the emissivity with it unchanged.
* ``effective_targets``: the κ distribution of a ray (direction μ′) seen from the observer
  direction μ′_o is that of κ = a − b cos φ, φ uniform (a = (1 − μ′μ′_o)/2,
  b = √(1−μ′²)√(1−μ′_o²)/2); its κ-weighted mass and energy in every lattice bin of log κ are
  computed in closed form (arccos and its moments) on NSPLIT sub-bins per lattice step, and each
  sub-bin's photons are split between the two neighbouring lattice shifts so that both are
  exact.  ``isotropic_targets`` does the same for κ uniform on [0, 1], the average of the former
  over all observer directions: the sub-bin moments average to the isotropic ones exactly; the
  split (nonlinear in them) adds < 3e-3 per output bin and < 1e-4 in the total, so the angular
  factor R = j[n_eff(Ω_s)]/j[n_eff,iso] averages to one over the sphere to that accuracy
  (``tests/test_external_compton.py``).
* The observer-direction EC emissivity is the isotropic one of the kinetic solve (which sets
  cooling, γγ and the energy balance) times R(x₁): the angle-integrated EC emission is the
  isotropic one (to the accuracy above), i.e. the EC cooling power of the discrete solve.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from numba import njit

from . import compton

KAPPA_MIN = 1e-7  # effective-energy factors below this carry < 1e-14 of the κ²-weighted power


@njit(cache=True)
def head_on_bracket(Gam, e1):
    """½Ξ of the head-on kernel at Γ = 4γε̃, e₁ = ε_s/γ (0 outside 0 < q ≤ 1)."""
    if e1 <= 0.0 or e1 >= 1.0:
        return 0.0
    q = e1 / (Gam * (1.0 - e1))
    if q > 1.0 or q <= 0.0:
        return 0.0
    gq = Gam * q
    return 0.5 * (1.0 / (1.0 + gq) + 1.0 + gq - 4.0 * q + 4.0 * q * q)


@njit(cache=True)
def _bin_integrals(Gam, ea, eb, glx, glw):
    """(∫ H de₁, ∫ e₁ H de₁) over e₁ ∈ [ea, eb] (Gauss–Legendre in ln q)."""
    emax = Gam / (1.0 + Gam)
    if eb > emax:
        eb = emax
    if ea >= eb:
        return 0.0, 0.0
    qa = ea / (Gam * (1.0 - ea))
    qb = eb / (Gam * (1.0 - eb)) if eb < 1.0 else 1.0
    if qb > 1.0:
        qb = 1.0
    la = math.log(qa)
    lb = math.log(qb)
    half = 0.5 * (lb - la)
    mid = 0.5 * (lb + la)
    sn = 0.0
    se = 0.0
    for j in range(glx.shape[0]):
        q = math.exp(mid + half * glx[j])
        gq = Gam * q
        f = 0.5 * (1.0 / (1.0 + gq) + 1.0 + gq - 4.0 * q + 4.0 * q * q)
        de = Gam / ((1.0 + gq) * (1.0 + gq)) * q
        w = glw[j] * half * f * de
        sn += w
        se += w * gq / (1.0 + gq)
    return sn, se


@njit(cache=True)
def _build_table(ppd, m_lo, m_hi, width, nsub, qcut, glx, glw, m_first):
    nm = m_hi - m_lo + 1
    tab = np.zeros((nm, width))
    lmin = np.zeros(nm, dtype=np.int64)
    h = 1.0 / ppd
    r = 10.0 ** h
    tn = np.zeros(width + 2)
    te = np.zeros(width + 2)
    for im in range(nm):
        m = m_lo + im
        if m < m_first:
            continue
        Gam0 = 4.0 * 10.0 ** ((m + 0.5) * h)
        emax = Gam0 * 10.0 ** (0.5 * h) / (1.0 + Gam0 * 10.0 ** (0.5 * h))
        emin = qcut * emax * 10.0 ** (-1.0 * h)
        l_hi = int(math.ceil(math.log10(emax) * ppd)) + 1
        l_lo = int(math.floor(math.log10(emin) * ppd))
        if l_hi - l_lo + 1 > width:
            l_lo = l_hi - width + 1
        lmin[im] = l_lo
        tn[:] = 0.0
        te[:] = 0.0
        for a in range(nsub):
            u = ((a + 0.5) / nsub - 0.5) * h
            Gam = Gam0 * 10.0 ** u
            wu = 10.0 ** (-u) / nsub
            for il in range(width):
                l = l_lo + il
                ea = 10.0 ** ((l - 1) * h)
                eb = ea * r
                sn, se = _bin_integrals(Gam, ea, eb, glx, glw)
                tn[il] += wu * sn
                te[il] += wu * se
        compton._to_bin_centres(tab[im], tn, te, l_lo, width, h)
    return tab, lmin


@lru_cache(maxsize=8)
def head_on_table(ppd: int, m_lo: int, m_hi: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Bin-averaged head-on bracket H on the lattice, in the layout of ``compton.ic_table``
    (rows below the Thomson row are shifted copies), usable by ``compton.emit``."""
    width = int(math.ceil(ppd * math.log10(1.0 / compton.Q_CUT))) + 6
    m_th = compton.thomson_row(ppd)
    lo = min(m_lo, m_th)
    hi = max(m_hi, m_th)
    tab, lmin = _build_table(ppd, lo, hi, width, compton.NSUB, compton.Q_CUT, compton._GL_X,
                             compton._GL_W, m_th)
    i_th = m_th - lo
    for i in range(i_th):
        tab[i] = tab[i_th]
        lmin[i] = lmin[i_th] - (i_th - i)
    tab = np.ascontiguousarray(tab[m_lo - lo: m_hi - lo + 1])
    lmin = np.ascontiguousarray(lmin[m_lo - lo: m_hi - lo + 1])
    tab.setflags(write=False)
    return tab, lmin, m_th


def _head_on_rows(ppd: int, r0: int, r1: int) -> dict:
    """Rows r0 … r1 of the head-on table (each row independent of the range; r0 < m_th < r1)."""
    width = int(math.ceil(ppd * math.log10(1.0 / compton.Q_CUT))) + 6
    m_th = compton.thomson_row(ppd)
    tab, lmin = _build_table(ppd, r0, r1, width, compton.NSUB, compton.Q_CUT, compton._GL_X,
                             compton._GL_W, m_th)
    i_th = m_th - r0
    for i in range(i_th):
        tab[i] = tab[i_th]
        lmin[i] = lmin[i_th] - (i_th - i)
    return {"tab": tab, "lmin": lmin}


def head_on_table_for(ppd: int, n_faces: int, k0: int, n_x: int):
    """(H, lmin, m_lo, m_th) covering faces 0…n_faces−1 and photons k0…k0+n_x−1.  With the
    canonical per-ppd tables of ``sweep.model.tables`` (issue 10) the table is built once per
    ppd (and cached on disk) like the isotropic one; otherwise ranges are rounded outwards to
    4 decades as ``compton.table_for`` did, cached per process."""
    try:
        from ..tables import canonical
    except ImportError:  # pragma: no cover - before the canonical tables
        canonical = None
    m_th = compton.thomson_row(ppd)
    if canonical is not None:
        m_lo = min(k0, m_th - 1)
        m_hi = max(n_faces - 1 + n_x - 1 + k0, m_th + 1)
        t = canonical("ec_head_on_table", ppd, m_lo, m_hi, lambda r0, r1: _head_on_rows(ppd, r0, r1))
        return t.arrays["tab"], t.arrays["lmin"], t.row0, m_th
    m_lo = k0
    m_hi = n_faces - 1 + n_x - 1 + k0
    step = 4 * ppd
    m_lo_r = int(math.floor(m_lo / step)) * step
    m_hi_r = int(math.ceil((m_hi + 1) / step)) * step
    m_hi_r = max(m_hi_r, m_th + 1)
    m_lo_r = min(m_lo_r, m_th - 1)
    tab, lmin, m_th = head_on_table(ppd, m_lo_r, m_hi_r)
    return tab, lmin, m_lo_r, m_th


# ------------------------------------------------------------------------------------------
# effective head-on target spectra
# ------------------------------------------------------------------------------------------
@njit(cache=True)
def _arc_moments(a, b, kap):
    """(P, M1, M2)(κ < kap) for κ = a − b cos φ, φ uniform on [0, π]: the fraction of φ and
    the mean of κ and κ² over it, restricted to κ < kap."""
    if b <= 1e-14:
        if kap > a:
            return 1.0, a, a * a
        return 0.0, 0.0, 0.0
    c = (a - kap) / b
    if c >= 1.0:
        return 0.0, 0.0, 0.0
    if c <= -1.0:
        phi = math.pi
    else:
        phi = math.acos(c)
    s = math.sin(phi)
    m1 = a * phi - b * s
    m2 = a * a * phi - 2.0 * a * b * s + b * b * (0.5 * phi + 0.25 * math.sin(2.0 * phi))
    return phi / math.pi, m1 / math.pi, m2 / math.pi


NSPLIT = 8  # sub-bins of log κ per lattice step (the split to lattice shifts is done per sub-bin)


@njit(cache=True)
def _subbin_edges(ppd, smin, nsplit):
    """The lattice constants of ``_effective``, computed once per call (each with the expression
    the per-sub-bin code used, so the results are bit-identical): upper edges of the sub-bins
    (``_shift_weights``), their bounds for the clamp, and 10^{s/ppd} for shifts s = smin−1 … 0."""
    n = (-smin + 1) * nsplit
    h = 1.0 / ppd
    his = np.empty(n)
    klo = np.empty(n)
    khi = np.empty(n)
    for j in range(n):
        hi = 10.0 ** ((smin - 0.5 + (j + 1.0) / nsplit) * h)
        if j == n - 1 or hi > 1.0:
            hi = 1.0
        his[j] = hi
        klo[j] = 10.0 ** ((smin - 0.5 + j / nsplit) / ppd)
        khi[j] = min(1.0, 10.0 ** ((smin - 0.5 + (j + 1.0) / nsplit) / ppd))
    lat = np.empty(-smin + 2)
    for i in range(lat.shape[0]):
        lat[i] = 10.0 ** ((i + smin - 1) / ppd)
    return his, klo, khi, lat


@njit(cache=True)
def _shift_weights(a, b, his, iso):
    """κ-weighted mass W[j] and κ²-weighted mass E[j] of the sub-bins of log κ (nsplit per
    lattice step), sub-bin j covering κ ∈ [10^{t_j}, 10^{t_{j+1}}] ∩ (0, 1],
    t_j = (smin − ½ + j/nsplit)/ppd, upper edges ``his`` (``_subbin_edges``); the last sub-bin
    ends at κ = 1.  ``iso``: κ uniform on [0, 1] instead of a − b cos φ, φ uniform."""
    n = his.shape[0]
    W = np.zeros(n)
    E = np.zeros(n)
    prev1 = 0.0
    prev2 = 0.0
    for j in range(n):
        hi = his[j]
        if iso:
            m1 = 0.5 * hi * hi
            m2 = hi * hi * hi / 3.0
        else:
            _, m1, m2 = _arc_moments(a, b, hi * (1.0 + 1e-15) if j == n - 1 else hi)
        W[j] = m1 - prev1
        E[j] = m2 - prev2
        prev1 = m1
        prev2 = m2
    return W, E


@njit(cache=True)
def _shift_weights_range(a, b, his, W, E):
    """``_shift_weights(a, b, his, False)`` on the sub-bins where it is not zero: fills W[j0:j1],
    E[j0:j1] with the same numbers and returns (j0, j1).  Below j0 the ray has no κ (the arc
    moments are 0: W = E = 0); from the first sub-bin above the ray's largest κ on, the moments
    are the full ones, the same numbers each time, so W = E = 0 beyond it.  j0 is found by
    bisection on the same test ``_arc_moments`` makes (monotone in the edge)."""
    n = his.shape[0]

    def kap_of(j):
        return his[j] * (1.0 + 1e-15) if j == n - 1 else his[j]

    lo = 0
    hi = n  # first j whose moments are not zero, in [lo, hi]
    while lo < hi:
        mid = (lo + hi) // 2
        kap = kap_of(mid)
        if b <= 1e-14:
            zero = not (kap > a)
        else:
            zero = (a - kap) / b >= 1.0
        if zero:
            lo = mid + 1
        else:
            hi = mid
    j0 = lo
    prev1 = 0.0
    prev2 = 0.0
    j = j0
    while j < n:
        kap = kap_of(j)
        _, m1, m2 = _arc_moments(a, b, kap)
        W[j] = m1 - prev1
        E[j] = m2 - prev2
        prev1 = m1
        prev2 = m2
        j += 1
        if b <= 1e-14:
            if kap > a:
                break
        elif (a - kap) / b <= -1.0:
            break
    return j0, j


@njit(cache=True)
def _effective(mu_rays, N, mu_o, ppd, smin, iso, nsplit):
    """Σ over rays of the κ-weighted, κ-shifted photon numbers per lattice bin (cm⁻³)."""
    nray, nx = N.shape
    out = np.zeros(nx)
    r = 10.0 ** (1.0 / ppd)
    so = math.sqrt(max(0.0, 1.0 - mu_o * mu_o))
    n = (-smin + 1) * nsplit
    his, klo, khi, lat = _subbin_edges(ppd, smin, nsplit)
    js0, js1 = 0, n
    if iso:
        W, E = _shift_weights(0.0, 0.0, his, True)
    else:
        W = np.zeros(n)
        E = np.zeros(n)
    for j in range(nray):
        # the ray's photons sit in bins n0 ≤ k < n1 (the zeros outside add nothing)
        n0 = 0
        while n0 < nx and N[j, n0] == 0.0:
            n0 += 1
        if n0 == nx:
            continue
        n1 = nx
        while N[j, n1 - 1] == 0.0:
            n1 -= 1
        if not iso:
            mu = mu_rays[j]
            a = 0.5 * (1.0 - mu * mu_o)
            b = 0.5 * math.sqrt(max(0.0, 1.0 - mu * mu)) * so
            js0, js1 = _shift_weights_range(a, b, his, W, E)
        # each sub-bin's photons go to the lattice shifts around their mean (energy-weighted) κ,
        # split so that number and energy are exact; K[s − smin] collects the shift kernel
        K = np.zeros(-smin + 2)
        for js in range(js0, js1):
            w = W[js]
            if w <= 0.0:
                continue
            # the energy-weighted mean κ of a sub-bin lies inside it; where its mass w is a
            # difference of nearly equal moments (a ray grazing the sub-bin) round-off can push
            # E/w outside, even to 0: clamp to the sub-bin's own bounds
            em = min(max(E[js] / w, klo[js]), khi[js])
            sb = int(math.floor(math.log10(em) * ppd))
            il = sb - smin + 1
            p = lat[il] if 0 <= il < lat.shape[0] else 10.0 ** (sb / ppd)
            f = (em / p - 1.0) / (r - 1.0)
            f = min(1.0, max(0.0, f))
            i = sb - smin
            if 0 <= i < K.shape[0]:
                K[i] += (1.0 - f) * w
            if 0 <= i + 1 < K.shape[0]:
                K[i + 1] += f * w
        for i in range(K.shape[0]):
            w = K[i]
            if w == 0.0:
                continue
            sb = i + smin
            k_lo = -sb if sb < 0 else 0
            k_hi = nx - sb if sb > 0 else nx
            if k_lo < n0:
                k_lo = n0
            if k_hi > n1:
                k_hi = n1
            for k in range(k_lo, k_hi):
                out[k + sb] += w * N[j, k]
    return out


def _smin(ppd: int) -> int:
    return int(math.floor(ppd * math.log10(KAPPA_MIN)))


def effective_targets(mu_rays, N, mu_obs: float, ppd: int) -> np.ndarray:
    """Effective head-on target numbers per lattice bin (cm⁻³) of rays with comoving
    propagation cosines ``mu_rays`` (nray,) and photon numbers per bin ``N`` (nray, nx),
    for emission toward comoving direction cosine ``mu_obs``."""
    return _effective(np.ascontiguousarray(mu_rays, dtype=float),
                      np.ascontiguousarray(N, dtype=float), float(mu_obs), int(ppd), _smin(ppd), False, NSPLIT)


def isotropic_targets(N, ppd: int) -> np.ndarray:
    """The average of ``effective_targets`` over all observer directions (κ uniform on [0,1])."""
    N = np.asarray(N, dtype=float)
    if N.ndim == 2:  # the κ distribution is the same for every ray: sum them first
        N = N.sum(axis=0)
    N = np.ascontiguousarray(N[None, :])
    return _effective(np.zeros(N.shape[0]), N, 0.0, int(ppd), _smin(ppd), True, NSPLIT)


def angular_factor(Nf, gf, x, dx, k0, ppd, mu_rays, N, mu_obs: float) -> np.ndarray:
    """R(x₁) = j_EC(x₁, Ω_obs)/⟨j_EC(x₁, Ω)⟩_Ω of pairs on faces ``gf`` (numbers ``Nf``) and
    the rays (mu_rays, N): the factor that turns the isotropic EC emissivity into the one toward
    the observer.  1 where the isotropic emissivity vanishes."""
    tab = head_on_table_for(ppd, len(gf), k0, len(x))
    gf = np.ascontiguousarray(gf, dtype=float)
    Nf = np.ascontiguousarray(Nf, dtype=float)
    ne = effective_targets(mu_rays, N, mu_obs, ppd) / dx
    ni = isotropic_targets(N, ppd) / dx
    num = compton.emit(Nf, gf, ne, x, dx, k0, *tab, 1e-14)
    den = compton.emit(Nf, gf, ni, x, dx, k0, *tab, 1e-14)
    out = np.ones_like(x)
    ok = den > 1e-300
    out[ok] = num[ok] / den[ok]
    return out


def directed_emission(Nf, gf, x, dx, k0, ppd, mu_rays, N, mu_obs: float) -> np.ndarray:
    """Emissivity toward ``mu_obs`` times 4π [cm⁻³ s⁻¹ per unit x₁] of the rays directly (the
    head-on kernel on the effective targets), i.e. what isotropic pairs would emit in all
    directions if every direction looked like this one."""
    tab = head_on_table_for(ppd, len(gf), k0, len(x))
    ne = effective_targets(mu_rays, N, mu_obs, ppd) / dx
    return compton.emit(np.ascontiguousarray(Nf, dtype=float), np.ascontiguousarray(gf, dtype=float),
                        ne, x, dx, k0, *tab, 1e-14)


def comoving_cos(cos_obs: float, beta: float) -> float:
    """Comoving cosine of the line of sight: (cos θ − β)/(1 − β cos θ)."""
    return (cos_obs - beta) / (1.0 - beta * cos_obs)


def toward_observer(nuLnu, x, dx, k0, ppd, gf, Nf, n_ext, sink, lum_per_n, mu_rays, N,
                    mu_obs: float) -> np.ndarray:
    """Comoving νL_ν toward the observer (4π × the intensity at comoving cosine ``mu_obs``) of a
    steady state whose external Compton part was computed for isotropic targets.

    ``nuLnu``: the isotropic νL_ν of the solve on the photon lattice; ``Nf``/``gf``: pairs at
    the faces; ``n_ext``: the solver's external targets per unit x; ``sink``: the photon loss
    rate per bin (escape, absorption, scattering) [s⁻¹]; ``lum_per_n``: νL_ν per unit (x² n)
    (V·(c/R)·m_e c²); (``mu_rays``, ``N``): the comoving rays of the same fields.  The EC
    emissivity ε̇_EC(x₁) of the solve is replaced by ε̇_EC R(x₁) (``angular_factor``); the
    photons it adds or removes see the same losses as the rest of the bin."""
    gf = np.ascontiguousarray(gf, dtype=float)
    Nf = np.ascontiguousarray(Nf, dtype=float)
    x = np.ascontiguousarray(x, dtype=float)
    dx = np.ascontiguousarray(dx, dtype=float)
    if N.shape[0] == 0 or not np.any(n_ext > 0) or not np.any(Nf > 0):
        return np.array(nuLnu, dtype=float)
    tab = compton.table_for(ppd, len(gf), k0, len(x))
    iso = compton.emit(Nf, gf, np.ascontiguousarray(n_ext, dtype=float), x, dx, k0, *tab, 1e-14)
    R = angular_factor(Nf, gf, x, dx, k0, ppd, mu_rays, N, mu_obs)
    with np.errstate(divide="ignore", invalid="ignore"):
        dn = np.where(sink > 0, iso * (R - 1.0) / sink, 0.0)
    out = np.asarray(nuLnu, dtype=float) + lum_per_n * x**2 * dn
    return np.clip(out, 0.0, None)
