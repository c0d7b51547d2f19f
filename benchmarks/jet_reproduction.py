"""Print the model.md §8.2 reproduction table (ours vs model.md) as Markdown.

Used to generate the table in docs/jet-model.md:  .venv/bin/python benchmarks/jet_reproduction.py
"""
from __future__ import annotations

import numpy as np

from sweep.model import constants as C
from sweep.model import fields as fl
from sweep.model import injection as inj
from sweep.model import jet
from sweep.model.params import JetParameters

REF = {  # model.md §8.2
    "Γ": [1.10, 3.53, 8.28, 18.3, 31.0, 31.0],
    "δ": [1.56, 6.70, 13.9, 19.1, 17.1, 17.1],
    "σ": [30.0, 8.65, 3.12, 0.87, 0.10, 0.10],
    "p": [1.32, 1.70, 2.20, 2.61, 3.91, 3.91],
    "R [cm]": [1.48e15, 1.79e15, 2.08e15, 2.60e15, 3.25e15, 6.82e15],
    "B' [G]": [384, 62.6, 20.8, 5.89, 1.23, 0.58],
    "u'_B": [5.9e3, 1.6e2, 17.2, 1.38, 6.0e-2, 1.4e-2],
    "u'_AD": [1.1e2, 11.5, 1.59, 0.14, 1.3e-2, 5e-5],
    "u'_BLR": [2.7e-2, 0.49, 3.20, 4.60, 2.8e-3, 3e-6],
    "u'_DT": [5e-5, 5e-4, 2.9e-3, 1.4e-2, 4.1e-2, 4.1e-2],
    "L'_inj": [2.4e44, 1.7e43, 2.6e42, 3.3e41, 2.2e40, 2.2e40],
    "γmax,e": [6.0e4, 1.5e5, 2.6e5, 4.8e5, 1.1e6, 1.5e6],
    "γmax,p": [1.8e7, 3.6e6, 1.4e6, 4.9e5, 1.3e5, 1.3e5],
}
ATTR = {"Γ": "gamma", "δ": "doppler", "σ": "sigma", "p": "p", "R [cm]": "radius", "B' [G]": "B",
        "u'_B": "u_B", "u'_AD": "u_AD", "u'_BLR": "u_BLR", "u'_DT": "u_DT", "L'_inj": "L_inj",
        "γmax,e": "gamma_max_e", "γmax,p": "gamma_max_p"}
ZRS = [10, 30, 100, 380, 1000, 3000]


def main() -> None:
    p = JetParameters()
    rs = C.schwarzschild_radius(p.mass_g)
    s = jet.blob_state(p, np.array(ZRS, float) * rs)
    print("| quantity | " + " | ".join(f"z = {z} R_s" for z in ZRS) + " |")
    print("|---|" + "---|" * len(ZRS))
    worst = {}
    for k, ref in REF.items():
        ours = getattr(s, ATTR[k])
        cells = [f"{o:.3g} ({r:g})" for o, r in zip(ours, ref)]
        worst[k] = max(abs(o / r - 1) for o, r in zip(ours, ref))
        print(f"| {k} | " + " | ".join(cells) + " |")
    print("\nours (model.md §8.2 printed value); largest relative difference per row:")
    print(", ".join(f"{k}: {100 * v:.1f} %" for k, v in worst.items()))
    g_syn = inj.gamma_rad_pairs(p, s.B)
    print("γmax,e synchrotron-only / with KN-IC: " + ", ".join(f"{x:.4f}" for x in g_syn / s.gamma_rad_e))
    print("\nglobals: R_s = %.4g cm, L_Edd = %.4g, L_d = %.4g, L_jet = %.4g erg/s, Ṁ = %.4g g/s"
          % (rs, C.eddington_luminosity(p.mass_g), jet.disc_luminosity(p), jet.jet_power(p), jet.accretion_rate(p)))
    print("Γmax = %.4g, μ = %.4g, σ0,min = %.4g, β0 = %.4g, n0 = %.4g cm^-3, B0 = %.4g G"
          % (p.gamma_max_eff, p.mu, p.sigma0_min, float(jet.beta_of(p.gamma0)), jet.base_density(p),
             float(jet.magnetic_field(p, p.sigma0, p.gamma0, p.r0_rs * rs))))
    print("R_BLR = %.4g cm = %.4g R_s; R_DT = %.4g cm = %.3g pc; T_max = %.4g K"
          % (fl.r_blr_cm(p), fl.r_blr_cm(p) / rs, fl.r_dt_cm(p), fl.r_dt_cm(p) / C.pc, fl.disc_t_max(p)))
    print("z_x (Eq. 19) = %.4g R_s; numerical u'_AD = u'_BLR crossover = %.4g R_s"
          % (fl.crossover_analytic(p) / rs, fl.crossover_numerical(p) / rs))
    z = np.geomspace(10, 1000, 4001) * rs
    js = jet.jet_state(p, z)
    y = js.doppler**4 * inj.injection_luminosity(p, js.gamma, js.beta, js.B, js.radius)
    i = int(np.argmax(y))
    print("max δ⁴L'_inj = %.4g erg/s at z = %.4g R_s (Γ = %.4g, δ = %.4g)"
          % (y[i], z[i] / rs, js.gamma[i], js.doppler[i]))


if __name__ == "__main__":
    main()
