"""Diagnostic (issue 5, Test 4): why LeHaMoC agrees with ATHEνA's neutrinos and we do not.

Prints, for ATHEνA Test 4 at 20 ppd (pg_loss_model="ka08", i.e. raw KA08 secondaries as in
LeHaMoC): the all-flavour neutrino figures of (1) the solver, (2) a converged direct quadrature of
KA08 Eq. (69) over the solver's own protons and photons, (3) the same quadrature discretised as
the public LeHaMoC v1 code does it (``Qp_g_opt``: 25 log points in η from η₀ to
η_max(ν_top = 1e32 Hz), 50 in γ_p, trapezoids), and the energy ratio (3)/(2) for neutrinos and
π⁰ γ-rays.  See docs/hadronic-solver.md §3 ("LeHaMoC repository files").

Run:  PYTHONPATH=src python benchmarks/test4_lehamoc_quadrature.py
"""
import numpy as np

import _reference  # noqa: F401,E402  (SWEEP_ATHENA_DIR for the reference spectra)
from sweep.validation import hadronic as hv
from sweep.model import constants as const
from sweep.model.kinetics import solve


def main(ppd: int = 20):
    ph, nu = hv.load_reference()
    ss = solve(hv.athena_test4_blob(ppd, pg_loss_model="ka08"))
    fig = hv.figures(ss, ph, nu)
    E = 10 ** nu[:, 0]
    sel = nu[:, 1] > nu[:, 1].max() - 2.0
    x32 = const.h * 1e32 / const.m_e_c2

    def stats(y):
        r = np.log10(np.maximum(y, 1e-300)) - nu[:, 1]
        return np.median(np.abs(r[sel])), np.mean(r[sel])

    print(f"solver (ppd {ppd}, raw KA08): ν median {fig['neutrinos_median']:.3f} dex; photons "
          f"median {fig['photons_median']:.3f}, max {fig['photons_max']:.3f}")
    fine = hv.ka08_secondaries_quadrature(ss, 1e16, E, n_eta=600, n_gamma=200)
    mid = hv.ka08_secondaries_quadrature(ss, 1e16, E, n_eta=300, n_gamma=100)
    print("quadrature 600x200 vs 300x100: max |Δ| %.4f dex (>1e-2 of ATHEνA peak)"
          % np.max(np.abs(np.log10(fine[sel] / mid[sel]))))
    print("converged KA08 quadrature vs ATHEνA: median %.3f, mean %+.3f dex" % stats(fine))
    for ne in (25, 50):
        y = hv.ka08_secondaries_quadrature(ss, 1e16, E, n_eta=ne, n_gamma=50, x_top=x32)
        print(f"LeHaMoC-like quadrature ({ne} η points): median %.3f, mean %+.3f dex" % stats(y))
    Eb = 10 ** np.arange(5.0, 11.6, 0.1)
    for name, sp in (("neutrinos", hv.NU_SPECIES), ("pi0 gamma", (0,))):
        f = hv.ka08_secondaries_quadrature(ss, 1e16, Eb, species=sp, n_eta=600, n_gamma=200)
        c = hv.ka08_secondaries_quadrature(ss, 1e16, Eb, species=sp, n_eta=25, n_gamma=50, x_top=x32)
        print(f"{name}: energy in 10^5-10^11.5 m_ec², LeHaMoC-like / converged = "
              f"{np.trapezoid(c, np.log(Eb)) / np.trapezoid(f, np.log(Eb)):.3f}")


if __name__ == "__main__":
    main()
