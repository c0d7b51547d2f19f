"""Exact isotropic KN loss correction f_KN(b) vs direct quadrature of the Blumenthal & Gould 1970 kernel."""
import math

import numpy as np
import pytest
from scipy.integrate import quad

from sweep.model.processes.klein_nishina import f_kn, f_kn_array


def _f_kn_quadrature(b: float) -> float:
    """Energy-loss rate ∫E₁ dN/dE₁ of BG70 Eq. 2.48 (E₁ = Γ_e q/(1+Γ_e q), Γ_e = b) over its
    Thomson limit Γ_e² ∫ q F₀(q) dq = Γ_e²/9."""
    def F(q):
        return 2 * q * math.log(q) + (1 + 2 * q) * (1 - q) + (b * q) ** 2 * (1 - q) / (2 * (1 + b * q))

    num = quad(lambda q: F(q) * b * q / (1 + b * q) * b / (1 + b * q) ** 2, 0.0, 1.0, limit=200,
               epsabs=0, epsrel=1e-12)[0]
    return num / (b * b / 9.0)


@pytest.mark.parametrize("b", [1e-4, 1e-3, 0.0199, 0.0201, 0.1, 1.0, 3.0, 10.0, 100.0, 1e3, 1e5])
def test_f_kn_against_bg70_quadrature(b):
    """quad reaches ~1e-12 relative; the closed form in float64 loses ≲1e-9 near b = 0.02 (the
    switch to the series), the series truncation is < 1e-8 there → 1e-7."""
    assert f_kn(b) == pytest.approx(_f_kn_quadrature(b), rel=1e-7)


def test_f_kn_limits_and_array():
    """Thomson limit 1 − 63b/40 (next term 2.2b²: 2e-12 at b = 1e-6); KN limit
    (9/2b²)(ln b − 11/6) with O(ln b/b) corrections (~1e-6 at b = 1e7 → 1e-5)."""
    assert f_kn(1e-6) == pytest.approx(1 - 63 / 40 * 1e-6, rel=1e-11)
    b = 1e7
    assert f_kn(b) == pytest.approx(4.5 / b**2 * (math.log(b) - 11 / 6), rel=1e-5)
    arr = np.array([[0.0, 0.5], [5.0, 50.0]])
    out = f_kn_array(arr)
    assert out.shape == (2, 2)
    np.testing.assert_array_equal(out, np.vectorize(f_kn)(arr))
    assert np.all(np.diff(f_kn_array(np.geomspace(1e-4, 1e8, 300))) < 0)  # strictly decreasing
