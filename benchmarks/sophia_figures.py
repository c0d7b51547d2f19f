"""Figures of docs/hadronic.md §7 (issue 9): the SOPHIA table audit and ATHEνA Test 4 with the
SOPHIA table vs KA08 vs the legacy σκ photopion.

    .venv/bin/python benchmarks/sophia_figures.py [--outdir docs/figures]

Writes sophia_audit.png (κ(ε_r) of the table, of the legacy channel-weighted κ and the audit's
direct SOPHIA values; energy partition per species) and sophia_test4.png (Test 4 photons and
all-flavour neutrinos for the three photopion models against ATHEνA, also ATHEνA's neutrinos
divided by the one factor that best aligns them; residuals).  Prints the figures of merit.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import _reference  # noqa: F401,E402  (SWEEP_ATHENA_DIR for the reference spectra)
from sweep.validation.hadronic import athena_test4_blob, figures, load_reference, neutrino_normalisation
from sweep.model import constants as const
from sweep.model.kinetics import solve
from sweep.model.processes import photopion as pg
from sweep.model.processes import sophia_table as stab

AUDIT = ((0.2, 0.149), (0.3, 0.186), (0.5, 0.223), (1.0, 0.324), (3.0, 0.393), (10.0, 0.454))


def audit(out):
    import matplotlib.pyplot as plt

    tab = stab.load_table()
    e = tab.eps_mean_gev
    fig, ax = plt.subplots(1, 2, figsize=(12, 4.5))
    ax[0].semilogx(e, tab.kappa, "-", label="SOPHIA table (1 − ⟨x_N⟩)")
    eg = np.geomspace(0.16, 1e4, 400)
    ax[0].semilogx(eg, pg.inelasticity(eg), "--", label="legacy σκ: channel-weighted κ")
    ax[0].semilogx(*zip(*AUDIT), "ko", label="audit: direct SOPHIA 2.0")
    ax[0].set_xlabel("ε_r [GeV]")
    ax[0].set_ylabel("inelasticity κ")
    ax[0].legend(fontsize=8)
    fr = tab.fractions()
    for s in stab.SPECIES:
        if fr[s].max() > 0.005:
            ax[1].semilogx(e, fr[s], label=s)
    ax[1].set_xlabel("ε_r [GeV]")
    ax[1].set_ylabel("energy fraction per interaction")
    ax[1].legend(fontsize=7, ncol=2)
    m = tab.meta
    fig.suptitle(f"SOPHIA 2.0 table: {m['n_bins']} bins, {m['events_per_bin']} events/bin, seed {m['seed']}",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    for ev, k in AUDIT:
        print(f"κ({ev:g} GeV): table {np.interp(np.log(ev), np.log(e), tab.kappa):.4f}  audit {k:.3f}  "
              f"legacy {pg.inelasticity(ev):.4f}")


def test4(out):
    import matplotlib.pyplot as plt

    rph, rnu = load_reference()
    fig, ax = plt.subplots(2, 2, figsize=(12, 7.5), sharex="col", gridspec_kw={"height_ratios": [2.2, 1]})
    ax[0, 0].plot(rph[:, 0], rph[:, 1], "k.", ms=4, label="ATHEνA")
    ax[0, 1].plot(rnu[:, 0], rnu[:, 1], "k.", ms=4, label="ATHEνA")
    for model, ls in (("sophia", "-"), ("ka08", "--"), ("sigma_kappa", ":")):
        ss = solve(athena_test4_blob(20, pg_loss_model=model))
        f = figures(ss, rph, rnu)
        fac, med = neutrino_normalisation(f, rnu)
        lab = (f"{model}: γ med {f['photons_median']:.3f} / max {f['photons_max']:.3f}; ν med "
               f"{f['neutrinos_median']:.3f}, ATHEνA/model {fac:.3f} → med {med:.3f}")
        print(lab, f"L_ν {ss.extra['hadronic_power']['pg_neutrinos']:.3e} erg/s")
        pos = ss.nuLnu > 0
        ax[0, 0].plot(np.log10(ss.nu[pos]), np.log10(ss.nuLnu[pos]), ls, lw=1.2, label=lab.split(";")[0])
        neut = ss.extra["neutrinos"]
        le = np.log10(neut["energy_ev"] * const.eV / const.m_e_c2)
        y = neut["ELE"]["all"]
        ax[0, 1].plot(le[y > 0], np.log10(y[y > 0]), ls, lw=1.2, label=model + f" (ATHEνA/model = {fac:.3f})")
        ax[1, 0].plot(*f["photon_residuals"], ls, lw=1.2)
        ax[1, 1].plot(*f["neutrino_residuals"], ls, lw=1.2)
        if model == "sophia":
            ax[0, 1].plot(rnu[:, 0], rnu[:, 1] - np.log10(fac), "kx", ms=3,
                          label=f"ATHEνA / {fac:.3f} (shape: med {med:.3f} dex)")
    pk = rph[:, 1].max()
    ax[0, 0].set_ylim(pk - 4.5, pk + 0.5)
    ax[0, 0].set_xlim(8, 31)
    ax[0, 0].set_ylabel("log νL_ν [erg/s] (comoving)")
    ax[0, 0].legend(fontsize=7)
    pn = rnu[:, 1].max()
    ax[0, 1].set_ylim(pn - 4, pn + 0.8)
    ax[0, 1].set_xlim(4, 11.5)
    ax[0, 1].set_ylabel("log εL_ε [erg/s], all flavours")
    ax[0, 1].legend(fontsize=7)
    for axx in ax[1]:
        axx.axhline(0, color="k", lw=0.5)
        axx.set_ylim(-0.4, 0.5)
        axx.set_ylabel("Δ log (model − ATHEνA)")
    ax[1, 0].set_xlabel("log ν [Hz]")
    ax[1, 1].set_xlabel("log E_ν/m_ec²")
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--outdir", default=str(Path(__file__).resolve().parents[1] / "docs" / "figures"))
    a = ap.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    Path(a.outdir).mkdir(parents=True, exist_ok=True)
    audit(Path(a.outdir) / "sophia_audit.png")
    test4(Path(a.outdir) / "sophia_test4.png")
    print("wrote", a.outdir)


if __name__ == "__main__":
    main()
