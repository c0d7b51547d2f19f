"""Exact Klein–Nishina correction of inverse-Compton energy losses, isotropic photons.

    f_KN(b) = Ṗ_IC,exact / Ṗ_IC,Thomson,   b = 4γε,  ε = hν/(m_e c²)

for an ultra-relativistic electron (γ ≫ 1) in an isotropic, monochromatic photon field.  Closed
form (Jones 1965; Blumenthal & Gould 1970, Eq. 2.48 integrated; Moderski et al. 2005, Eq. 17):

    f_KN(b) = (9/b³) [ (b/2 + 6 + 6/b) ln(1+b) − (11b³/12 + 6b² + 9b + 4)/(1+b)² − 2 + 2 Li₂(−b) ]

For b < 0.02 the closed form loses digits to cancellation; there the exact Taylor series of the
BG70 kernel is used, f = 1 − (63/40) b + 2.205 b² − (909/315) b³ + (2115/588) b⁴ (terms derived from
the moments ∫q^k F(q) dq of the kernel; next term < 1e-8 at b = 0.02).  Limits: f → 1 (Thomson),
f ≈ (9/2b²)(ln b − 11/6) for b ≫ 1.

IC energy loss of an electron on a field of spectral energy density u_ν:
    −dγ/dt = (4/3) σ_T c γ² / (m_e c²) ∫ u_ν f_KN(4γ hν/m_e c²) dν.

Usage: ``f_kn(b)`` (scalar, njit-callable from other kernels) and ``f_kn_array(b)`` (any shape).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

_PI2_6 = math.pi ** 2 / 6.0


@njit(cache=True)
def _li2_landen(b: float) -> float:
    """Li₂(−b) for 0 ≤ b ≤ 1 via Landen: Li₂(x) = −Li₂(x/(x−1)) − ½ln²(1−x), y = b/(1+b) ≤ ½."""
    y = b / (1.0 + b)
    s = 0.0
    term = 1.0
    for k in range(1, 80):
        term *= y
        add = term / (k * k)
        s += add
        if add < 1e-17 * s:
            break
    l1 = math.log1p(b)
    return -s - 0.5 * l1 * l1


@njit(cache=True)
def _li2_neg(b: float) -> float:
    """Dilogarithm Li₂(−b) for b ≥ 0 (inversion formula for b > 1)."""
    if b <= 0.0:
        return 0.0
    if b > 1.0:
        lb = math.log(b)
        return -_PI2_6 - 0.5 * lb * lb - _li2_landen(1.0 / b)
    return _li2_landen(b)


@njit(cache=True)
def f_kn(b: float) -> float:
    """Exact isotropic Klein–Nishina loss correction f_KN(b), b = 4γε ≥ 0."""
    if b <= 0.0:
        return 1.0
    if b < 0.02:
        return 1.0 + b * (-1.575 + b * (2.205 + b * (-909.0 / 315.0 + b * (2115.0 / 588.0))))
    lb = math.log1p(b)
    bracket = ((0.5 * b + 6.0 + 6.0 / b) * lb
               - (11.0 / 12.0 * b ** 3 + 6.0 * b * b + 9.0 * b + 4.0) / (1.0 + b) ** 2
               - 2.0 + 2.0 * _li2_neg(b))
    return 9.0 / b ** 3 * bracket


@njit(cache=True)
def _f_kn_flat(b, out):
    for i in range(b.size):
        out[i] = f_kn(b[i])


def f_kn_array(b) -> np.ndarray:
    """Vectorised f_KN over an array of b (any shape); returns float64 array.  (A plain njit loop:
    a numba ``@vectorize`` ufunc is rebuilt at every import, ≈ 1 s of a worker's cold start.)"""
    a = np.ascontiguousarray(b, dtype=np.float64)
    out = np.empty(a.shape)
    _f_kn_flat(a.reshape(-1), out.reshape(-1))
    return out
