"""Kernels shared by the hadronic processes on the common logarithmic lattice.

On log-uniform grids with equal points per decade, the interaction variable of a proton in bin
j with a target photon in bin i (κ = 2γ_p x for Bethe–Heitler, η ∝ γ_p x for photopion) depends
only on the lattice index sum i + j, so a kernel tabulated once on that sum serves every bin pair.
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def lattice_loss_rate(nph_dx, K, h_lo, gamma):
    """−dγ_j/dt = γ_j Σ_i n_iΔx_i K[i + j − h_lo]  [s⁻¹].

    ``nph_dx``: target photons per bin (n(x)Δx, cm⁻³); ``K``: the process's loss kernel on the
    index sum, starting at ``h_lo``; ``gamma``: proton Lorentz factors of the rows."""
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
