"""Inverse Compton scattering of isotropic photons by isotropic pairs, full Klein–Nishina.

Kernel (Jones 1968; Blumenthal & Gould 1970, Eq. 2.48), energies in m_e c² units, γ ≫ 1:

    dN/(dt dx₁) = 2π r_e² c / (γ² x) · n(x) dx · f(Γ, e₁),   Γ = 4γx,  e₁ = x₁/γ,
    f = 2q ln q + (1 + 2q)(1 − q) + (Γq)²(1 − q) / (2(1 + Γq)),   q = e₁ / (Γ(1 − e₁)),
    1/(4γ²) ≤ q ≤ 1.

On the shared lattice of ``sweep.model.grids`` (particle faces γ_f = 10^{(f+½)/ppd}, photons
x_k = 10^{(k0+k)/ppd}) Γ and e₁ depend on two integers only, m = f + k + k0 and l = k0 + i − f,
so the kernel is one small 2-D table per ppd (``ic_table``), averaged over the target bin (photons
uniform in ln x) and over the output bin (rate per unit x₁), built once and cached.  The lower
limit q ≥ 1/(4γ²) becomes x₁ > x (strict up-scattering: i > k), and e₁ < ``Q_CUT``·e₁,max
(Q_CUT = 1e-5) is dropped (it carries < 1e-9 of the scattered power in the Thomson regime and
< 1e-5 in the KN regime).  The table is integrated exactly over each output bin (Gauss–Legendre in
ln q) and the photons of each bin are split between its centre and a neighbour so that both their
number and their energy are exact on the lattice: the discrete loss rate then matches the exact
f_KN to < 0.3 % at 20 ppd for x < γ/10 (worse only for trans-relativistic pairs, where BG70 itself
does not apply).  Rows of a particle face are multiplied by β² = 1 − 1/γ²,
so that the Thomson-limit loss is the exact (4/3)σ_T c γ²β² u (BG70 is derived for γ ≫ 1).

Energy bookkeeping, exact for the discrete kernel: a scattering takes a photon out of bin k
(``scatter_matrix``, target sink) and puts one into bin i; the pair loses x_i − x_k
(``loss_matrix``).  Hence Σ emitted − Σ removed targets = Σ pair losses, to round-off, at any ppd.
The loss matrix equals the exact Klein–Nishina loss rate (4/3)σ_T c γ² β² u f_KN(4γx) to the
quadrature accuracy of the grid (``tests/test_compton.py`` compares it with
``sweep.model.processes.klein_nishina.f_kn``).
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from numba import njit

from .. import constants as const

Q_CUT = 1e-5
NSUB = 6
C0 = 2.0 * math.pi * const.r_e**2 * const.c  # cm³ s⁻¹


@njit(cache=True)
def bg70(Gam, e1):
    """The BG70 bracket f(Γ, e₁) (0 outside 0 < q ≤ 1)."""
    if e1 <= 0.0 or e1 >= 1.0:
        return 0.0
    q = e1 / (Gam * (1.0 - e1))
    if q > 1.0 or q <= 0.0:
        return 0.0
    gq = Gam * q
    return 2.0 * q * math.log(q) + (1.0 + 2.0 * q) * (1.0 - q) + gq * gq * (1.0 - q) / (2.0 * (1.0 + gq))


_GL_X, _GL_W = np.polynomial.legendre.leggauss(8)


@njit(cache=True)
def _bin_integrals(Gam, ea, eb, glx, glw):
    """(∫ f de₁, ∫ e₁ f de₁) over e₁ ∈ [ea, eb], exact up to Gauss–Legendre in ln q."""
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
        f = 2.0 * q * math.log(q) + (1.0 + 2.0 * q) * (1.0 - q) + gq * gq * (1.0 - q) / (2.0 * (1.0 + gq))
        de = Gam / ((1.0 + gq) * (1.0 + gq)) * q  # de₁/dln q
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
        if m < m_first:  # filled by the caller (Thomson rows are shifted copies)
            continue
        Gam0 = 4.0 * 10.0 ** ((m + 0.5) * h)
        emax = Gam0 * 10.0 ** (0.5 * h) / (1.0 + Gam0 * 10.0 ** (0.5 * h))
        emin = qcut * emax * 10.0 ** (-1.0 * h)
        # bin l covers e₁ ∈ [10^{(l-1)h}, 10^{l h}]; centre 10^{(l-½)h}
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
        _to_bin_centres(tab[im], tn, te, l_lo, width, h)
    return tab, lmin


@njit(cache=True)
def _to_bin_centres(row, tn, te, l_lo, width, h):
    """Put the photon numbers ``tn`` (energies ``te``) of the ``width`` bins starting at lattice
    bin ``l_lo`` onto the lattice of bin centres, each bin's photons split between its centre and a
    neighbour so that number AND energy are exact, then turn numbers per bin into the mean rate
    per unit e₁ in the bin (``row`` += ...). Shared by the isotropic and head-on IC tables."""
    r = 10.0 ** h
    for il in range(width):
        if tn[il] <= 0.0:
            continue
        ec = 10.0 ** ((l_lo + il - 0.5) * h)
        em = te[il] / tn[il]
        if em >= ec and il + 1 < width:
            w = (em - ec) / (ec * r - ec)
            row[il] += (1.0 - w) * tn[il]
            row[il + 1] += w * tn[il]
        elif em < ec and il > 0:
            w = (ec - em) / (ec - ec / r)
            row[il] += (1.0 - w) * tn[il]
            row[il - 1] += w * tn[il]
        else:
            row[il] += tn[il]
    for il in range(width):
        ec = 10.0 ** ((l_lo + il - 0.5) * h)
        row[il] /= ec * (10.0 ** (0.5 * h) - 10.0 ** (-0.5 * h))


GAMMA_TH = 1e-4  # rows with Γ ≤ GAMMA_TH use the Thomson-limit row (KN corrections ≤ 1.6e-4)


def thomson_row(ppd: int) -> int:
    """Lattice index m of the last row with Γ_m = 4·10^{(m+½)/ppd} ≤ GAMMA_TH."""
    return int(math.floor(ppd * math.log10(GAMMA_TH / 4.0) - 0.5))


@lru_cache(maxsize=8)
def ic_table(ppd: int, m_lo: int, m_hi: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Bin-averaged BG70 bracket T[m − m_lo, l − lmin[m − m_lo]] for lattice indices m, l, and
    the Thomson row index m_th.  Rows m < m_th are copies of row m_th shifted by one l per m (in
    the Thomson limit T depends on l − m only), which lets ``emit`` treat all Thomson-regime
    (pair, target) couples as one running convolution."""
    width = int(math.ceil(ppd * math.log10(1.0 / Q_CUT))) + 6
    m_th = thomson_row(ppd)
    lo = min(m_lo, m_th)
    hi = max(m_hi, m_th)
    tab, lmin = _build_table(ppd, lo, hi, width, NSUB, Q_CUT, _GL_X, _GL_W, m_th)
    i_th = m_th - lo
    for i in range(i_th):
        tab[i] = tab[i_th]
        lmin[i] = lmin[i_th] - (i_th - i)
    tab = np.ascontiguousarray(tab[m_lo - lo: m_hi - lo + 1])
    lmin = np.ascontiguousarray(lmin[m_lo - lo: m_hi - lo + 1])
    if m_th > m_hi:  # every row is Thomson: keep the row m_th out of range in a 1-row form
        raise ValueError("grid entirely in the Thomson regime beyond the table; widen m_hi")
    tab.setflags(write=False)
    return tab, lmin, m_th


def _table_rows(ppd: int, r0: int, r1: int) -> dict:
    """Rows r0 … r1 of the table (``tables.canonical`` builder; r0 < m_th < r1)."""
    width = int(math.ceil(ppd * math.log10(1.0 / Q_CUT))) + 6
    m_th = thomson_row(ppd)
    tab, lmin = _build_table(ppd, r0, r1, width, NSUB, Q_CUT, _GL_X, _GL_W, m_th)
    i_th = m_th - r0
    for i in range(i_th):
        tab[i] = tab[i_th]
        lmin[i] = lmin[i_th] - (i_th - i)
    return {"tab": tab, "lmin": lmin}


def table_for(ppd: int, n_faces: int, k0: int, n_x: int):
    """The table covering faces 0…n_faces−1 and photons k0…k0+n_x−1; returns
    (T, lmin, m_lo, m_th).  T is the process's canonical table of this ppd
    (``sweep.model.tables``: built once, grown by whole decades when a run needs more rows, cached
    on disk); rows are independent of the range, so every run indexes the same numbers.  It
    always contains the Thomson row m_th."""
    from ..tables import canonical

    m_th = thomson_row(ppd)
    m_lo = min(k0, m_th - 1)
    m_hi = max(n_faces - 1 + n_x - 1 + k0, m_th + 1)
    t = canonical("ic_table", ppd, m_lo, m_hi, lambda r0, r1: _table_rows(ppd, r0, r1))
    return t.arrays["tab"], t.arrays["lmin"], t.row0, m_th


def _ls_rows(ppd: int, n_faces: int, k_lo: int, k_hi: int) -> dict:
    """Canonical L, S (``tables.canonical`` builder): rows = photon lattice index k_lo … k_hi,
    columns = faces 0 … n_faces−1 (transposed storage: a run's photons are a row range)."""
    from ..grids import cell_widths, lattice

    gf = lattice(0, n_faces, ppd, 0.5)
    x = lattice(k_lo, k_hi - k_lo + 1, ppd)
    tab, lmin, m_lo, _ = table_for(ppd, n_faces, k_lo, x.size)
    L = np.zeros((gf.size, x.size))
    S = np.zeros((gf.size, x.size))
    _matrices(gf, x, cell_widths(x, ppd), k_lo, tab, lmin, m_lo, L, S)
    return {"L": np.ascontiguousarray(L.T), "S": np.ascontiguousarray(S.T)}


def canonical_loss_and_scatter(ppd: int, n_faces: int, k0: int, n_x: int):
    """(L, S) of faces 0…n_faces−1 and photons k0…k0+n_x−1, cut from the canonical matrices of
    this ppd (identical to ``loss_and_scatter_matrices``: entry (f, k) depends on the absolute
    lattice indices only; scattered photons never leave a run's grid, x₁ < γ ≤ x_max).  The face
    range is rounded up to whole ``tables.GROW_DEX`` decades (part of the table's key)."""
    from ..tables import GROW_DEX, canonical

    step = GROW_DEX * ppd
    nf_c = int(math.ceil(n_faces / step)) * step
    t = canonical("ic_loss_scatter", ppd, k0, k0 + n_x - 1,
                  lambda r0, r1: _ls_rows(ppd, nf_c, r0, r1), params=(nf_c,))
    i0 = k0 - t.row0
    L = np.ascontiguousarray(t.arrays["L"][i0:i0 + n_x, :n_faces].T)
    S = np.ascontiguousarray(t.arrays["S"][i0:i0 + n_x, :n_faces].T)
    return L, S


@njit(cache=True)
def _matrices(gf, x, dx, k0, tab, lmin, m_lo, L, S):
    nf = gf.shape[0]
    nx = x.shape[0]
    width = tab.shape[1]
    for f in range(nf):
        b2 = 1.0 - 1.0 / (gf[f] * gf[f])
        pref = C0 * b2 / (gf[f] * gf[f])
        for k in range(nx):
            im = f + k + k0 - m_lo
            l0 = lmin[im]
            sl = 0.0
            ss = 0.0
            for il in range(width):
                i = l0 + il - k0 + f
                if i <= k:
                    continue
                if i >= nx:
                    break
                t = tab[im, il]
                ss += t * dx[i]
                sl += t * dx[i] * (x[i] - x[k])
            L[f, k] = pref / x[k] * sl
            S[f, k] = pref / x[k] * ss


def loss_and_scatter_matrices(gamma_faces, x, dx, k0: int, ppd: int):
    """(L[f,k], S[f,k]): −dγ/dt of a pair at face f per unit target density in bin k
    (b_f = Σ_k n_k Δx_k L[f,k]) and its scattering rate of bin-k photons (cm³ s⁻¹)."""
    gf = np.ascontiguousarray(gamma_faces, dtype=float)
    tab, lmin, m_lo, _ = table_for(ppd, gf.size, k0, len(x))
    L = np.zeros((gf.size, len(x)))
    S = np.zeros((gf.size, len(x)))
    _matrices(gf, np.ascontiguousarray(x), np.ascontiguousarray(dx), k0, tab, lmin, m_lo, L, S)
    return L, S


_PADDED: dict = {}


def padded_kn_rows(tab, lmin, m_lo, m_th):
    """The Klein–Nishina rows (m ≥ m_th) of a table in absolute output columns: A[m − m_th, c]
    = T[m, c + L − lmin[m]] (zero elsewhere), L = min lmin over those rows.  For a face f the
    couples of a run of targets k then land on the same output bins, so their sum is one BLAS
    matrix-vector product (``_emit``).  Derived once per table (kept with it, 8 tables)."""
    key = id(tab)
    hit = _PADDED.get(key)
    if hit is not None and hit[0] is tab and hit[1] is lmin:
        return hit[2]
    im_th = max(m_th - m_lo, 0)
    rows = lmin[im_th:]
    width = tab.shape[1]
    if rows.size == 0:
        out = (np.zeros((0, width)), 0, im_th)
    else:
        L = int(rows.min())
        A = np.zeros((rows.size, int((rows + width).max()) - L))
        for r in range(rows.size):
            A[r, rows[r] - L: rows[r] - L + width] = tab[im_th + r]
        A.setflags(write=False)
        out = (A, L, im_th)
    _PADDED[key] = (tab, lmin, out)
    while len(_PADDED) > 8:
        _PADDED.pop(next(iter(_PADDED)))
    return out


def emit(Nf, gf, nt, x, dx, k0, tab, lmin, m_lo, m_th, rel_floor):
    """IC photon emissivity [cm⁻³ s⁻¹ per unit x₁] of Nf[f] pairs (cm⁻³) at faces gf on target
    density nt[k] (per unit x, cm⁻³); see ``_emit``."""
    A, L, im_th = padded_kn_rows(tab, lmin, m_lo, m_th)
    return _emit(Nf, gf, nt, x, dx, k0, tab, lmin, m_lo, m_th, rel_floor, A, L, im_th)


MIN_SEG = 8  # rows of one lmin summed on the table's own columns in ``_emit``
MASK_BLOCK = 32  # consecutive masked targets ``_emit`` sums with one BLAS mat-vec + a triangle
GROUP = 48  # faces whose first KN runs ``_emit`` sums in one BLAS matrix product


@njit(cache=True)
def _emit(Nf, gf, nt, x, dx, k0, tab, lmin, m_lo, m_th, rel_floor, A, L, im_th0):
    """IC photon emissivity [cm⁻³ s⁻¹ per unit x₁] of Nf[f] pairs (cm⁻³) at faces gf on target
    density nt[k] (per unit x, cm⁻³). Contributions below ``rel_floor`` of the largest
    face/target weight are skipped (they change the result by < rel_floor relative).

    Couples (f, k) in the Thomson rows (m = f+k+k0 < m_th) are summed as a running convolution
    C_K[j] = Σ_{k<K} B_k t[j−k] of the target weights with the Thomson row t, extended as K grows
    while f decreases (cost O(n_x·width + n_f·n_x) instead of O(n_f·n_x·width)); the strict
    up-scattering mask (i > k), active only for γ ≲ 160, is subtracted explicitly.  The other
    couples use the table directly.  Identical, up to round-off, to the plain triple sum."""
    nf = gf.shape[0]
    nx = x.shape[0]
    width = tab.shape[1]
    out = np.zeros(nx)
    wt = np.zeros(nx)
    wmax = 0.0
    for k in range(nx):
        e = nt[k] * dx[k] * x[k]
        if e > wmax:
            wmax = e
    emax = 0.0
    for f in range(nf):
        e = Nf[f] * gf[f] * gf[f]
        if e > emax:
            emax = e
    if wmax <= 0.0 or emax <= 0.0:
        return out
    for k in range(nx):
        if nt[k] * dx[k] * x[k] >= rel_floor * wmax:
            wt[k] = nt[k] * dx[k] / x[k]
    knz0 = 0  # wt[k] == 0 outside knz0 ≤ k < knz1
    while knz0 < nx and wt[knz0] == 0.0:
        knz0 += 1
    knz1 = nx
    while knz1 > knz0 and wt[knz1 - 1] == 0.0:
        knz1 -= 1
    # seg_end[im]: end (exclusive) of the run of table rows with the lmin of row im
    nrow = lmin.shape[0]
    seg_end = np.empty(nrow, dtype=np.int64)
    seg_end[nrow - 1] = nrow
    for im in range(nrow - 2, -1, -1):
        seg_end[im] = seg_end[im + 1] if lmin[im + 1] == lmin[im] else im + 1
    run_a = np.zeros(nf, dtype=np.int64)  # first unmasked KN run of each face (ka, kb, weight)
    run_b = np.zeros(nf, dtype=np.int64)
    run_w = np.zeros(nf)
    im_th = m_th - m_lo
    D = m_th - lmin[im_th]
    t = tab[im_th]
    kmax = m_th - k0  # targets k < kmax - f are Thomson couples of face f
    if kmax > nx:
        kmax = nx
    J = (kmax if kmax > 0 else 0) + width
    conv = np.zeros(J)
    kcur = 0
    for f in range(nf - 1, -1, -1):
        if Nf[f] * gf[f] * gf[f] < rel_floor * emax:
            continue
        b2 = 1.0 - 1.0 / (gf[f] * gf[f])
        a = C0 * b2 / (gf[f] * gf[f]) * Nf[f]
        kf = m_th - f - k0
        if kf > nx:
            kf = nx
        # ---- Thomson couples: k < kf -------------------------------------------------
        if kf > 0:
            while kcur < kf:
                w = wt[kcur]
                if w != 0.0:
                    for il in range(width):
                        conv[kcur + il] += w * t[il]
                kcur += 1
            sh = 2 * f - D  # i = j + sh
            i0 = sh if sh > 0 else 0
            i1 = J + sh
            if i1 > nx:
                i1 = nx
            for i in range(i0, i1):
                out[i] += a * conv[i - sh]
            ilm = D - 2 * f + 1  # il < ilm ⇔ i ≤ k: remove
            if ilm > 0:
                if ilm > width:
                    ilm = width
                for k in range(kf):
                    w = wt[k]
                    if w == 0.0:
                        continue
                    for il in range(ilm):
                        i = il + k + sh
                        if 0 <= i < nx:
                            out[i] -= a * w * t[il]
        # ---- Klein–Nishina couples: k ≥ kf ----------------------------------------------
        # a run of targets whose output bins all lie above them (i > k) is summed as one BLAS
        # mat-vec on the padded rows A (same sum as the explicit loop, in another order; 2–6×
        # faster); a target with bins at or below it (γ ≲ 160) takes the explicit masked loop
        kstart = kf if kf > 0 else 0
        base = L - k0 + f
        c0 = -base if base < 0 else 0
        c1 = nx - base
        if c1 > A.shape[1]:
            c1 = A.shape[1]
        k = kstart
        first = True
        while k < nx:
            kr = k
            while k < nx and lmin[f + k + k0 - m_lo] - k0 + f > k:
                k += 1
            # the run's targets with a nonzero weight only (the zero ends add exact zeros)
            ka = kr if kr > knz0 else knz0
            kb = k if k < knz1 else knz1
            if first:
                # the face's first run is summed with its neighbours' in one BLAS matrix
                # product below (GROUP faces at a time)
                first = False
                if kb > ka:
                    run_a[f] = ka
                    run_b[f] = kb
                    run_w[f] = a
                kb = ka
            # a segment of ≥ MIN_SEG rows with one lmin is a mat-vec on the table's own
            # columns (width instead of the padded A's); the rest goes through A
            kk = ka
            while kk < kb:
                ks = kk
                while kk < kb:
                    im = f + kk + k0 - m_lo
                    ke = kk + seg_end[im] - im
                    if ke > kb:
                        ke = kb
                    if ke - kk >= MIN_SEG:
                        break
                    kk = ke
                if kk > ks:
                    r0 = f + ks + k0 - m_lo - im_th0
                    g = np.dot(wt[ks:kk], A[r0:r0 + kk - ks])
                    for c in range(c0, c1):
                        out[base + c] += a * g[c]
                if kk < kb:
                    im = f + kk + k0 - m_lo
                    ke = kk + seg_end[im] - im
                    if ke > kb:
                        ke = kb
                    g = np.dot(wt[kk:ke], tab[im:im + ke - kk])
                    ib = lmin[im] - k0 + f
                    il1 = width
                    if ib + il1 > nx:
                        il1 = nx - ib
                    for il in range(il1):
                        out[ib + il] += a * g[il]
                    kk = ke
            if k < nx:
                # consecutive masked targets on rows of one lmin (one ibase): the columns all
                # of them reach are one BLAS mat-vec, the triangle below them explicit
                im = f + k + k0 - m_lo
                lim = k + seg_end[im] - im
                if lim > knz1:
                    lim = knz1
                if lim > k + MASK_BLOCK:
                    lim = k + MASK_BLOCK
                ke = k + 1
                while ke < lim and lmin[f + ke + k0 - m_lo] - k0 + f <= ke:
                    ke += 1
                if ke - k >= MIN_SEG:
                    ibase = lmin[im] - k0 + f
                    ilf = ke - ibase  # target ke−1 reaches columns ≥ ke − ibase
                    il1 = width
                    if ibase + il1 > nx:
                        il1 = nx - ibase
                    if ilf < il1:
                        g = np.dot(wt[k:ke], tab[im:im + ke - k])
                        for il in range(ilf, il1):
                            out[ibase + il] += a * g[il]
                    top = ilf if ilf < il1 else il1
                    for kk in range(k, ke):
                        if wt[kk] == 0.0:
                            continue
                        w = a * wt[kk]
                        imk = im + kk - k
                        for il in range(kk + 1 - ibase, top):
                            out[ibase + il] += w * tab[imk, il]
                    k = ke
                    continue
                if wt[k] != 0.0:
                    w = a * wt[k]
                    im = f + k + k0 - m_lo
                    ibase = lmin[im] - k0 + f
                    il0 = 0
                    if ibase <= k:
                        il0 = k + 1 - ibase
                    il1 = width
                    if ibase + il1 > nx:
                        il1 = nx - ibase
                    for il in range(il0, il1):
                        out[ibase + il] += w * tab[im, il]
                k += 1
    # ---- the faces' first unmasked KN runs: G = W·A[rows] per group of GROUP faces,
    # W[f, r] = wt[k] on the face's run (r = f + k + k0 − m_lo − im_th0), zero elsewhere: the
    # same sums as one mat-vec per face, in another order (the zeros add exact zeros)
    off = k0 - m_lo - im_th0
    fg = 0
    while fg < nf:
        fe = fg + GROUP if fg + GROUP < nf else nf
        r_lo = A.shape[0]
        r_hi = 0
        for f in range(fg, fe):
            if run_b[f] > run_a[f]:
                if f + run_a[f] + off < r_lo:
                    r_lo = f + run_a[f] + off
                if f + run_b[f] + off > r_hi:
                    r_hi = f + run_b[f] + off
        if r_hi > r_lo:
            Wm = np.zeros((fe - fg, r_hi - r_lo))
            for f in range(fg, fe):
                for k in range(run_a[f], run_b[f]):
                    Wm[f - fg, f + k + off - r_lo] = wt[k]
            G = np.dot(Wm, A[r_lo:r_hi])
            for f in range(fg, fe):
                if run_b[f] <= run_a[f]:
                    continue
                a = run_w[f]
                base = L - k0 + f
                c0 = -base if base < 0 else 0
                c1 = nx - base
                if c1 > A.shape[1]:
                    c1 = A.shape[1]
                for c in range(c0, c1):
                    out[base + c] += a * G[f - fg, c]
        fg = fe
    return out


@njit(cache=True)
def emit_direct(Nf, gf, nt, x, dx, k0, tab, lmin, m_lo):
    """Plain triple sum over (face, target, output) of the table (reference for ``emit``)."""
    nf = gf.shape[0]
    nx = x.shape[0]
    width = tab.shape[1]
    out = np.zeros(nx)
    for f in range(nf):
        if Nf[f] == 0.0:
            continue
        b2 = 1.0 - 1.0 / (gf[f] * gf[f])
        a = C0 * b2 / (gf[f] * gf[f]) * Nf[f]
        for k in range(nx):
            w = a * nt[k] * dx[k] / x[k]
            if w == 0.0:
                continue
            im = f + k + k0 - m_lo
            for il in range(width):
                i = lmin[im] + il - k0 + f
                if i > k and i < nx:
                    out[i] += w * tab[im, il]
    return out
