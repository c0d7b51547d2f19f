"""The zero-floor convention for log axes (docs/cube.md, "Zeros in spectra").

The cube stores 0 where a component emits nothing (outside its support: below the synchrotron
self-absorption turnover, above a cut-off, no neutrinos in a leptonic cell); NaN only where a
cell is not done. Log axes cannot show 0, so every figure of ``sweep`` (``sweep plot``,
``sweep explore``) draws log quantities down to an explicit lower bound,
``DYNAMIC_RANGE`` (10⁻⁶) times the largest finite positive value shown, and marks values at or
below it as such (clipped to the floor, drawn as downward triangles in scatter plots). The same
bound makes ``ds.hvplot(..., logy=True, ylim=log_limits(ds[v]))`` render cleanly.
"""
from __future__ import annotations

import numpy as np

DYNAMIC_RANGE = 1e-6


def log_limits(values, dynamic_range: float = DYNAMIC_RANGE, headroom: float = 5.0):
    """(lower, upper) for a log axis: (max·dynamic_range, max·headroom) of the finite positive
    values; None when there is none (nothing to draw)."""
    a = np.asarray(values, dtype=float).ravel()
    a = a[np.isfinite(a) & (a > 0)]
    if a.size == 0:
        return None
    top = float(a.max())
    return top * dynamic_range, top * headroom


def floor_values(values, lower: float):
    """(values with everything ≤ ``lower`` (zeros included) set to ``lower``, mask of those
    floored). NaN (cell not done) stays NaN and is not in the mask."""
    a = np.asarray(values, dtype=float)
    low = np.isfinite(a) & (a <= lower)
    return np.where(low, lower, a), low
