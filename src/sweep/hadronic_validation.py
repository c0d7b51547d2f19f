"""ATHEνA Test 4 (leptohadronic) set-up and comparison figures (``../shared/data/athena/README.md``).

Used by ``tests/test_hadronic_solver.py``, ``benchmarks/bench_test4.py`` and
``benchmarks/test4_figures.py``; the YAML twin is ``examples/athena_test4.yaml``.

Test 4: sphere R = 1e16 cm, B = 0.1 G; electrons Q ∝ γ^-2.01 e^{−γ/10^5.5}, γ ≥ 1,
L_e = 10^40.6 erg/s; protons Q ∝ γ^-2.01 e^{−γ/10^6.93}, γ ≥ 1, L_p = 10^46.46 erg/s; escape R/c
for every species; electron and proton synchrotron, SSA, IC, γγ, Bethe–Heitler, photopion,
neutrinos; no pp, no adiabatic losses, no external photons; steady state, comoving.
The synchrotron kernel is ATHEνA's single-pitch-angle F(x) (see processes/synchrotron.py).

Figures (issue 5): over 10^8–10^26 Hz, photons: median |Δ log νL_ν| where νL_ν > 1e-3 of the peak
and max where > 1e-2 of the peak; all-flavour neutrinos: median |Δ log εL_ε| where > 1e-2 of the
peak (reference abscissa log10(E/m_ec²)).  Δ is the model interpolated (linear in log-log) onto
the reference abscissae; "peak" is the reference's.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from sweep.model import constants as const

L_E = 10**40.6
L_P = 10**46.46
DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "athena"


def athena_test4_blob(ppd: int = 20, kernel: str = "single_pitch", **proton_kw):
    """The ATHEνA Test 4 blob (kinetics.Blob with a hadronic.ProtonExtension)."""
    from sweep.model.hadronic import ProtonExtension
    from sweep.model.kinetics import Blob, Injection, Processes

    ext = ProtonExtension(p=2.01, gamma_min=1.0, gamma_max=10**6.93, luminosity=L_P,
                          shape="power_law_exp_cutoff", **proton_kw)
    return Blob(R=1e16, B=0.1, ppd=ppd, processes=Processes(synchrotron_kernel=kernel),
                injections=[Injection("e", "power_law_exp_cutoff", p=2.01, gamma_min=1.0,
                                      gamma_max=10**5.5, luminosity=L_E)],
                extensions=[ext])


def load_reference(data_dir: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    d = Path(data_dir) if data_dir else DATA
    return (np.loadtxt(d / "ATHEvA_test4_photons.txt"), np.loadtxt(d / "ATHEvA_test4_neutrinos.txt"))


def _interp_log(x_ref, x, y):
    pos = y > 0
    return np.interp(x_ref, np.log10(x[pos]), np.log10(y[pos]), left=-300.0, right=-300.0)


def figures(ss, ref_photons: np.ndarray, ref_neutrinos: np.ndarray) -> dict:
    """The issue-5 comparison figures [dex] of a solved Test 4 (see module docstring)."""
    lx, ly = ref_photons[:, 0], ref_photons[:, 1]
    model = _interp_log(lx, ss.nu, ss.nuLnu)
    d = np.abs(model - ly)
    band = (lx >= 8.0) & (lx <= 26.0)
    pk = ly.max()
    s3 = band & (ly > pk - 3.0)
    s2 = band & (ly > pk - 2.0)
    neut = ss.extra["neutrinos"]
    le = np.log10(np.asarray(neut["energy_ev"]) * const.eV / const.m_e_c2)
    yn = np.asarray(neut["ELE"]["all"])
    pos = yn > 0
    mn = np.interp(ref_neutrinos[:, 0], le[pos], np.log10(yn[pos]), left=-300.0, right=-300.0)
    dn = np.abs(mn - ref_neutrinos[:, 1])
    sn = ref_neutrinos[:, 1] > ref_neutrinos[:, 1].max() - 2.0
    return {"photons_median": float(np.median(d[s3])), "photons_max": float(np.max(d[s2])),
            "neutrinos_median": float(np.median(dn[sn])), "neutrinos_max": float(np.max(dn[sn])),
            "photon_residuals": (lx, model - ly), "neutrino_residuals": (ref_neutrinos[:, 0], mn - ref_neutrinos[:, 1])}
