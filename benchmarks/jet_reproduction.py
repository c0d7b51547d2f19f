"""Print the model.md §8.2 reproduction table (ours vs model.md) as Markdown.

Used to generate the table in docs/jet-model.md:  .venv/bin/python benchmarks/jet_reproduction.py
"""
from __future__ import annotations

import numpy as np

from sweep.model import constants as C
from sweep.model import fields as fl
from sweep.model import injection as inj
from sweep.model import jet
from sweep.validation.jet import SECTION_8_2, Z_RS
from sweep.model.params import JetParameters

LABEL = {"gamma": "Γ", "doppler": "δ", "sigma": "σ", "p": "p", "radius": "R [cm]", "B": "B' [G]",
         "u_B": "u'_B", "u_AD": "u'_AD", "u_BLR": "u'_BLR", "u_DT": "u'_DT", "L_inj": "L'_inj",
         "gamma_max_e": "γmax,e", "gamma_max_p": "γmax,p"}
ZRS = [int(z) for z in Z_RS]


def main() -> None:
    p = JetParameters()
    rs = C.schwarzschild_radius(p.mass_g)
    s = jet.blob_state(p, np.array(ZRS, float) * rs)
    print("| quantity | " + " | ".join(f"z = {z} R_s" for z in ZRS) + " |")
    print("|---|" + "---|" * len(ZRS))
    worst = {}
    for attr, ref in SECTION_8_2.items():
        k = LABEL[attr]
        ours = getattr(s, attr)
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
          % (fl.crossover_analytic(p) / rs, jet.crossover_numerical(p) / rs))
    z = np.geomspace(10, 1000, 4001) * rs
    js = jet.jet_state(p, z)
    y = js.doppler**4 * inj.injection_luminosity(p, js.gamma, js.beta, js.B, js.radius)
    i = int(np.argmax(y))
    print("max δ⁴L'_inj = %.4g erg/s at z = %.4g R_s (Γ = %.4g, δ = %.4g)"
          % (y[i], z[i] / rs, js.gamma[i], js.doppler[i]))


if __name__ == "__main__":
    main()
