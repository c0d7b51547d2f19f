"""Reference numbers of model.md §8.2 (the contract's independent evaluation at the defaults).

One home for the printed table, used by ``tests/test_jet.py``, ``tests/test_fields.py`` and
``benchmarks/jet_reproduction.py``. Keys are ``sweep.model.jet.BlobState`` attribute names;
values are as printed (2–3 significant figures; see the tests for the tolerances this implies).
"""

#: distances of the §8.2 rows [R_s]
Z_RS = (10.0, 30.0, 100.0, 380.0, 1000.0, 3000.0)

#: model.md §8.2, quantities along the jet (cgs; energy densities in erg cm⁻³, L'_inj in erg/s)
SECTION_8_2 = {
    "gamma": [1.10, 3.53, 8.28, 18.3, 31.0, 31.0],
    "doppler": [1.56, 6.70, 13.9, 19.1, 17.1, 17.1],
    "sigma": [30.0, 8.65, 3.12, 0.87, 0.10, 0.10],
    "p": [1.32, 1.70, 2.20, 2.61, 3.91, 3.91],
    "radius": [1.48e15, 1.79e15, 2.08e15, 2.60e15, 3.25e15, 6.82e15],
    "B": [384, 62.6, 20.8, 5.89, 1.23, 0.58],
    "u_B": [5.9e3, 1.6e2, 17.2, 1.38, 6.0e-2, 1.4e-2],
    "u_AD": [1.1e2, 11.5, 1.59, 0.14, 1.3e-2, 5e-5],
    "u_BLR": [2.7e-2, 0.49, 3.20, 4.60, 2.8e-3, 3e-6],
    "u_DT": [5e-5, 5e-4, 2.9e-3, 1.4e-2, 4.1e-2, 4.1e-2],
    "L_inj": [2.4e44, 1.7e43, 2.6e42, 3.3e41, 2.2e40, 2.2e40],
    "gamma_max_e": [6.0e4, 1.5e5, 2.6e5, 4.8e5, 1.1e6, 1.5e6],
    "gamma_max_p": [1.8e7, 3.6e6, 1.4e6, 4.9e5, 1.3e5, 1.3e5],
}

#: significant figures printed in §8.2 for the field energy densities
FIELD_SIGFIGS = {"u_AD": [2, 3, 3, 2, 2, 1], "u_BLR": [2, 2, 3, 3, 2, 1], "u_DT": [1, 1, 2, 2, 2, 2]}
