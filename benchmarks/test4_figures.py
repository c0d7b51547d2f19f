"""Validation figure for docs/hadronic-solver.md: ATHEνA Test 4 photons and neutrinos, residuals,
process decomposition (BH off / pγ off), at 10/20/30 ppd.

    .venv/bin/python benchmarks/test4_figures.py [--out docs/figures/hadronic_test4.png]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import _reference  # noqa: F401,E402  (SWEEP_ATHENA_DIR for the reference spectra)
from sweep.validation.hadronic import athena_test4_blob, figures, load_reference
from sweep.model import constants as const
from sweep.model.kinetics import solve


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs" / "figures" / "hadronic_test4.png"))
    a = ap.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rph, rnu = load_reference()
    fig, ax = plt.subplots(2, 2, figsize=(12, 7.5), sharex="col", gridspec_kw={"height_ratios": [2.2, 1]})
    ax[0, 0].plot(rph[:, 0], rph[:, 1], "k.", ms=4, label="ATHEνA")
    ax[0, 1].plot(rnu[:, 0], rnu[:, 1], "k.", ms=4, label="ATHEνA")
    for ppd, ls in ((10, ":"), (20, "-"), (30, "--")):
        ss = solve(athena_test4_blob(ppd))
        f = figures(ss, rph, rnu)
        pos = ss.nuLnu > 0
        lab = (f"{ppd} ppd: γ med {f['photons_median']:.3f} / max {f['photons_max']:.3f}, "
               f"ν med {f['neutrinos_median']:.3f}")
        print(lab)
        ax[0, 0].plot(np.log10(ss.nu[pos]), np.log10(ss.nuLnu[pos]), ls, lw=1.2, label=lab)
        neut = ss.extra["neutrinos"]
        le = np.log10(neut["energy_ev"] * const.eV / const.m_e_c2)
        y = neut["ELE"]["all"]
        ax[0, 1].plot(le[y > 0], np.log10(y[y > 0]), ls, lw=1.2, label=f"{ppd} ppd")
        ax[1, 0].plot(*f["photon_residuals"], ls, lw=1.2)
        ax[1, 1].plot(*f["neutrino_residuals"], ls, lw=1.2)
        if ppd == 20:
            for kw, name in (({"bethe_heitler": False}, "20 ppd, no BH"), ({"photopion": False}, "20 ppd, no pγ"),
                             ({"pg_loss_model": "ka08"}, "20 ppd, pγ loss = KA08 energy")):
                s2 = solve(athena_test4_blob(20, **kw))
                p2 = s2.nuLnu > 0
                ax[0, 0].plot(np.log10(s2.nu[p2]), np.log10(s2.nuLnu[p2]), lw=0.8, alpha=0.7, label=name)
                if "pg_loss_model" in kw:
                    y2 = s2.extra["neutrinos"]["ELE"]["all"]
                    ax[0, 1].plot(le[y2 > 0], np.log10(y2[y2 > 0]), lw=0.8, alpha=0.7, label=name)
                    f2 = figures(s2, rph, rnu)
                    ax[1, 1].plot(*f2["neutrino_residuals"], lw=0.8, alpha=0.7)
                    print(f"{name}: γ med {f2['photons_median']:.3f} / max {f2['photons_max']:.3f}, "
                          f"ν med {f2['neutrinos_median']:.3f}")
    pk = rph[:, 1].max()
    ax[0, 0].set_ylim(pk - 4.5, pk + 0.5)
    ax[0, 0].set_xlim(8, 31)
    ax[0, 0].axvspan(26, 31, color="0.9")
    ax[0, 0].set_ylabel("log νL_ν [erg/s] (comoving)")
    ax[0, 0].legend(fontsize=7)
    pn = rnu[:, 1].max()
    ax[0, 1].set_ylim(pn - 4, pn + 0.5)
    ax[0, 1].set_xlim(4, 11.5)
    ax[0, 1].set_ylabel("log εL_ε [erg/s], all flavours")
    ax[0, 1].legend(fontsize=7)
    for axx in ax[1]:
        axx.axhline(0, color="k", lw=0.5)
        axx.set_ylim(-0.4, 0.4)
        axx.set_ylabel("Δ log (model − ATHEνA)")
    ax[1, 0].set_xlabel("log ν [Hz]")
    ax[1, 1].set_xlabel("log E_ν/m_ec²")
    fig.tight_layout()
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(a.out, dpi=110)
    print("wrote", a.out)


if __name__ == "__main__":
    main()
