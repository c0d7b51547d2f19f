"""Regenerate the figures and tables of docs/solver.md (run from the repository root):

    .venv/bin/python docs/solver_figures.py

Writes docs/figures/solver_test1.png and docs/figures/solver_convergence.png and prints the
validation table (ATHEνA Test 1 at 10/20/30 ppd, both synchrotron kernels) as Markdown.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sweep.model.kinetics import Blob, ExternalField, Injection, Processes, solve  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ATH = ROOT / ".." / "shared" / "data" / "athena"
OUT = ROOT / "docs" / "figures"


def test1(ppd, kernel):
    return Blob(R=1e15, B=1.0, ppd=ppd, processes=Processes(synchrotron_kernel=kernel),
                injections=[Injection("e", "power_law", p=1.9, gamma_min=1.0, gamma_max=10**6.1,
                                      luminosity=10**40.4997)])


def figures(r, ph, pa):
    pos = r.nuLnu > 0
    ours = np.interp(ph[:, 0], np.log10(r.nu[pos]), np.log10(r.nuLnu[pos]))
    d = ours - ph[:, 1]
    band = (ph[:, 0] >= 8) & (ph[:, 0] <= 24)
    peak = ph[band, 1].max()
    s3, s2 = band & (ph[:, 1] > peak - 3), band & (ph[:, 1] > peak - 2)
    y = r.gamma_e**2 * r.n_e
    pe = y > 0
    dp = np.interp(pa[:, 0], np.log10(r.gamma_e[pe]), np.log10(y[pe])) - pa[:, 1]
    sp = pa[:, 1] > pa[:, 1].max() - 3
    return d, np.median(np.abs(d[s3])), np.max(np.abs(d[s2])), np.median(np.abs(dp[sp])), dp


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    ph = np.loadtxt(ATH / "ATHEvA_test1_photons.txt")
    pa = np.loadtxt(ATH / "ATHEvA_test1_pairs.txt")
    fig, ax = plt.subplots(2, 2, figsize=(12, 7), sharex="col",
                           gridspec_kw={"height_ratios": [3, 1.3]})
    rows = ["| ppd | kernel | photons median dex | photons max dex | pairs median dex | iterations | energy balance − 1 | residual |",
            "|---|---|---|---|---|---|---|---|"]
    for ppd, ls in ((10, ":"), (20, "-"), (30, "--")):
        for kern, col in (("single_pitch", "C0"), ("exact", "C3")):
            r = solve(test1(ppd, kern))
            solve(test1(ppd, kern))
            d, med, mx, medp, dp = figures(r, ph, pa)
            rows.append(f"| {ppd} | {kern} | {med:.3f} | {mx:.3f} | {medp:.3f} | {r.iterations} | "
                        f"{r.energy_balance - 1:.1e} | {r.residual:.1e} |")
            lab = f"{kern}, {ppd} ppd"
            pos = r.nuLnu > 0
            ax[0, 0].loglog(r.nu[pos], r.nuLnu[pos], ls=ls, color=col, lw=1, label=lab)
            ax[1, 0].semilogx(10 ** ph[:, 0], d, ls=ls, color=col, lw=1)
            y = r.gamma_e**2 * r.n_e
            ax[0, 1].loglog(r.gamma_e[y > 0], y[y > 0], ls=ls, color=col, lw=1, label=lab)
            ax[1, 1].semilogx(10 ** pa[:, 0], dp, ls=ls, color=col, lw=1)
    ax[0, 0].loglog(10 ** ph[:, 0], 10 ** ph[:, 1], "k.", ms=3, label="ATHEνA")
    ax[0, 1].loglog(10 ** pa[:, 0], 10 ** pa[:, 1], "k.", ms=3, label="ATHEνA")
    ax[0, 0].set_ylim(1e33, 3e39)
    ax[0, 0].set_xlim(1e7, 1e27)
    ax[0, 1].set_ylim(1e1, 1e5)
    ax[0, 1].set_xlim(1, 3e6)
    ax[1, 0].set_ylim(-0.2, 0.2)
    ax[1, 1].set_ylim(-0.05, 0.05)
    ax[1, 1].set_xlim(1, 3e6)
    for a in ax[1]:
        a.axhline(0, color="k", lw=0.5)
        a.set_ylabel("Δlog (ours − ATHEνA)")
    ax[1, 0].axvspan(1e8, 1e24, color="0.9", zorder=-1)
    ax[0, 0].set_ylabel("νL_ν [erg/s] (comoving)")
    ax[1, 0].set_xlabel("ν [Hz]")
    ax[0, 1].set_ylabel("γ² n(γ) [cm⁻³]")
    ax[1, 1].set_xlabel("γ")
    ax[0, 0].legend(fontsize=7, ncol=2)
    ax[0, 0].set_title("ATHEνA Test 1: photons")
    ax[0, 1].set_title("ATHEνA Test 1: pairs")
    fig.tight_layout()
    fig.savefig(OUT / "solver_test1.png", dpi=110)
    plt.close(fig)
    print("\n".join(rows))

    # convergence histories
    nu = np.logspace(13, 17, 200)
    u = 1e-2 * (nu / 1e15) ** 3 / np.expm1(nu / 1.5e15)
    u *= 1.0 / np.trapezoid(u, nu)  # 1 erg/cm³ comoving grey body
    cases = {
        "Test 1 (SSC, ℓ≈1e-4)": test1(20, "single_pitch"),
        "SSC, L=1e44, R=1e15": Blob(R=1e15, B=1.0, ppd=20, injections=[Injection(
            "e", "power_law", p=2.0, gamma_min=1.0, gamma_max=1e6, luminosity=1e44)]),
        "SSC, L=1e45, B=0.1 (γγ 65 %)": Blob(R=1e15, B=0.1, ppd=20, injections=[Injection(
            "e", "power_law", p=2.0, gamma_min=1.0, gamma_max=1e6, luminosity=1e45)]),
        "EC, u_ext=1 erg/cm³": Blob(R=1e16, B=0.5, ppd=20, external_fields=[ExternalField(nu, u)],
                                     injections=[Injection("e", "power_law", p=2.2, gamma_min=100,
                                                           gamma_max=1e5, luminosity=1e43)]),
        "compact cascade, B=1e4, γ≤1e10 (10 ppd)": Blob(R=1e15, B=1e4, ppd=10, injections=[Injection(
            "e", "power_law", p=2.0, gamma_min=10, gamma_max=1e10, luminosity=1e45)]),
    }
    fig, a = plt.subplots(figsize=(6, 4))
    print("\n| case | status | iterations | energy balance − 1 |\n|---|---|---|---|")
    for name, blob in cases.items():
        r = solve(blob)
        h = [v for v in r.history if np.isfinite(v)]
        a.semilogy(range(3, 3 + len(h)), h, "o-", ms=3, label=name)
        print(f"| {name} | {r.status} | {r.iterations} | {r.energy_balance - 1:.1e} |")
    a.axhline(1e-4, color="k", ls=":", lw=0.8)
    a.set_xlabel("iteration")
    a.set_ylabel("fixed-point residual max |Δlog10|")
    a.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(OUT / "solver_convergence.png", dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
