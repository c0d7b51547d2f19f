"""Timing of the hadronic kernels (Bethe–Heitler, photopion) for an ATHEνA-Test-4-like setup.

R = 1e16 cm, B = 0.1 G; protons n_p ∝ γ^-2.01 exp(−γ/10^6.93); target photons: a synchrotron-like
n(x) ∝ x^-1.5 exp(−x/x_c) with x_c = 4e-4 (≈ ν_c of γ = 10^5.5 electrons in 0.1 G) and an
x^{1/3}… x^2 low-energy turnover.  Grids (all log-uniform, same ppd): photons 10^8–10^30 Hz,
protons γ = 1–10^9, pairs γ = 1–10^13, neutrinos E/m_ec² = 10^2–10^15.
Prints precomputation time and per-evaluation times (minimum of repeats) at 10/20/30 ppd.

    .venv/bin/python benchmarks/bench_hadronic.py
"""
from __future__ import annotations

import time

import numpy as np

from sweep.model import constants as C
from sweep.model.processes import bethe_heitler as bh
from sweep.model.processes import photopion as pp


def grid(lo, hi, ppd):
    n = int(round((np.log10(hi) - np.log10(lo)) * ppd)) + 1
    return 10.0 ** (np.log10(lo) + np.arange(n) / ppd)


def best(f, n=7):
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return min(ts)


def main():
    print(f"{'ppd':>4} {'Nx':>4} {'Np':>4} {'Ne':>4} {'Nnu':>4} | {'pre pγ':>8} {'pre BH':>8} | "
          f"{'loss pγ+BH':>10} {'inj pγ':>8} {'inj BH':>8} {'G build':>8} {'G apply':>8}  [ms]")
    t0 = time.perf_counter()
    bh.m_table()
    print(f"(BH Blumenthal-W table M(u, κ), once per process: {time.perf_counter() - t0:.2f} s incl. compile)")
    warm = True
    for ppd in (10, 20, 30):
        x = grid(1e8 * C.h / C.m_e_c2, 1e30 * C.h / C.m_e_c2, ppd)
        gp = grid(1.0, 1e9, ppd)
        ge = grid(1.0, 1e13, ppd)
        en = grid(1e2, 1e15, ppd)
        xc = 4e-4
        nx = 1e12 * x**-1.5 * np.exp(-x / xc) * (1 - np.exp(-(x / 1e-9) ** 2))
        n_p = gp**-2.01 * np.exp(-gp / 10**6.93)
        if warm:  # compile / load numba caches outside the timings
            pp.build_photopion_kernels(x, gp, ge, en)
            bh.build_bethe_heitler_kernels(x, gp, ge)
            warm = False
        t0 = time.perf_counter()
        kp = pp.build_photopion_kernels(x, gp, ge, en)
        t_pre_pg = time.perf_counter() - t0
        t0 = time.perf_counter()
        kb = bh.build_bethe_heitler_kernels(x, gp, ge)
        t_pre_bh = time.perf_counter() - t0
        pp.photopion_injection(kp, nx, n_p)
        bh.bh_pair_injection(kb, nx, n_p)
        t_loss = best(lambda: (pp.photopion_loss_rate(kp, nx), bh.bh_loss_rate(kb, nx)))
        t_inj = best(lambda: pp.photopion_injection(kp, nx, n_p))
        t_bh = best(lambda: bh.bh_pair_injection(kb, nx, n_p))
        t_g = best(lambda: pp.PhotopionLinearMap(kp, nx))
        lm = pp.PhotopionLinearMap(kp, nx)
        t_a = best(lambda: lm.apply(n_p))
        print(f"{ppd:>4} {x.size:>4} {gp.size:>4} {ge.size:>4} {en.size:>4} | {t_pre_pg*1e3:8.0f} {t_pre_bh*1e3:8.0f} | "
              f"{t_loss*1e3:10.3f} {t_inj*1e3:8.3f} {t_bh*1e3:8.3f} {t_g*1e3:8.3f} {t_a*1e3:8.3f}")
        # energy bookkeeping on this setup (fraction of the proton loss power found in secondaries)
        q = pp.photopion_injection(kp, nx, n_p)
        p_lost = np.sum(n_p * kp.dgamma_p * pp.photopion_loss_rate(kp, nx)) * C.m_p_c2
        p_sec = (np.sum(q["photons"] * x * kp.photons.dy) + np.sum(q["pairs"] * ge * kp.pairs.dy)
                 + np.sum(q["neutrinos"] * en * kp.neutrinos.dy)) * C.m_e_c2
        qb = bh.bh_pair_injection(kb, nx, n_p)
        pb = np.sum(n_p * kb.dgamma_p * bh.bh_loss_rate(kb, nx)) * C.m_p_c2
        pe = np.sum(qb * ge * kb.dgamma_e) * C.m_e_c2
        print(f"      bookkeeping: pγ secondaries/loss = {p_sec/p_lost:.5f}, BH pairs/loss = {pe/pb:.5f}"
              f"  (pγ share lost above the 1e30 Hz photon-grid top: π⁰ γ-rays)")
    # same at 20 ppd with the photon grid extended to 1e33 Hz: bookkeeping exact
    ppd = 20
    x = grid(1e8 * C.h / C.m_e_c2, 1e33 * C.h / C.m_e_c2, ppd)
    gp, ge, en = grid(1.0, 1e9, ppd), grid(1.0, 1e13, ppd), grid(1e2, 1e15, ppd)
    nx = 1e12 * x**-1.5 * np.exp(-x / 4e-4) * (1 - np.exp(-(x / 1e-9) ** 2))
    n_p = gp**-2.01 * np.exp(-gp / 10**6.93)
    kp = pp.build_photopion_kernels(x, gp, ge, en)
    q = pp.photopion_injection(kp, nx, n_p)
    p_lost = np.sum(n_p * kp.dgamma_p * pp.photopion_loss_rate(kp, nx)) * C.m_p_c2
    parts = np.array([np.sum(q["photons"] * x * kp.photons.dy), np.sum(q["pairs"] * ge * kp.pairs.dy),
                      np.sum(q["neutrinos"] * en * kp.neutrinos.dy)]) * C.m_e_c2 / p_lost
    print(f"20 ppd, photons to 1e33 Hz: pγ secondaries/loss = {parts.sum():.6f} "
          f"(γ {parts[0]:.3f}, e± {parts[1]:.3f}, ν {parts[2]:.3f})")


if __name__ == "__main__":
    main()
