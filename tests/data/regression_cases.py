"""The cases of the results-unchanged regression (issue 10, requirement 4), shared by
``tests/data/make_reference.py`` (which wrote ``tests/data/reference_issue10.npz`` from commit
f8af988, before the per-cell-cost rework) and ``tests/test_regression_reference.py``.

Physics options are pinned to the values of f8af988, not to today's defaults, so that later
changes of a default (issue 9: photopion loss model ``sophia``; issue 11: ``ec_angles: exact``)
do not read as a regression of the solver's numerics:
* photopion proton losses ``pg_loss_model = "sigma_kappa"`` (Mücke σ × κ);
* external Compton angles ``ec_angles = "isotropic"`` (where ``ModelOptions`` has the field).

Cases: every cell of ``grids/smoke.yaml`` through ``run_cell`` (the cube's content: observed and
comoving νL_ν, neutrino spectra, pair and proton spectra, energy balance, status, iterations);
ATHEνA Test 1 and Test 4 at 20 ppd through ``kinetics.solve`` (spectra, energy balance and the
validation figures against the ATHEνA curves).
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
SMOKE = REPO / "grids" / "smoke.yaml"
PINNED_PG_LOSS_MODEL = "sigma_kappa"
PINNED_EC_ANGLES = "isotropic"


def pinned_options(model_options):
    """``ModelOptions`` of the smoke grid with the physics options of f8af988 set explicitly."""
    fields = type(model_options).model_fields
    upd = {}
    if "pg_loss_model" in fields:
        upd["pg_loss_model"] = PINNED_PG_LOSS_MODEL
    if "ec_angles" in fields:
        upd["ec_angles"] = PINNED_EC_ANGLES
    return model_options.model_copy(update=upd)


@contextlib.contextmanager
def pinned_proton_extension():
    """Where ``ModelOptions`` has no ``pg_loss_model`` field, the cell's proton extension takes the
    dataclass default: pin it to ``sigma_kappa`` for the duration (restored afterwards)."""
    from sweep.model import hadronic

    orig = hadronic.ProtonExtension
    names = {f.name for f in dataclasses.fields(orig)}
    if "pg_loss_model" in names:
        hadronic.ProtonExtension = functools.partial(orig, pg_loss_model=PINNED_PG_LOSS_MODEL)
    try:
        yield
    finally:
        hadronic.ProtonExtension = orig


def smoke_cells() -> dict[str, np.ndarray]:
    """Every cell of grids/smoke.yaml: stacked arrays (cell index first)."""
    from sweep.model.cell import run_cell
    from sweep.spec import iter_cells, load_spec

    spec = load_spec(SMOKE).spec
    opts = pinned_options(spec.model)
    out: dict[str, list] = {}
    with pinned_proton_extension():
        for idx, params in iter_cells(spec):
            r = run_cell(params, opts)
            out.setdefault("smoke_status", []).append(int(r.status))
            out.setdefault("smoke_iterations", []).append(r.iterations)
            out.setdefault("smoke_energy_balance", []).append(r.energy_balance)
            for k in ("nuLnu_obs", "nuLnu_comoving", "ELE_nu_obs", "ELE_nu_comoving", "n_e", "n_p"):
                v = r.spectra.get(k)
                out.setdefault("smoke_" + k, []).append(v if v is not None else None)
    res = {}
    for k, v in out.items():
        if any(x is None for x in v):  # invalid cells have no spectra: NaN rows of the right shape
            shape = next(np.shape(x) for x in v if x is not None)
            v = [np.full(shape, np.nan) if x is None else x for x in v]
        res[k] = np.asarray(v, dtype=float)
    return res


def athena_cases() -> dict[str, np.ndarray]:
    """ATHEνA Test 1 (SSC) and Test 4 (leptohadronic) at 20 ppd: spectra, balance, figures."""
    from sweep.validation.hadronic import athena_test4_blob, figures, load_reference
    from sweep.model.kinetics import Blob, Injection, Processes, solve

    t1 = solve(Blob(R=1e15, B=1.0, ppd=20, processes=Processes(synchrotron_kernel="single_pitch"),
                    injections=[Injection("e", "power_law", p=1.9, gamma_min=1.0,
                                          gamma_max=10**6.1, luminosity=10**40.4997)]))
    t4 = solve(athena_test4_blob(20, pg_loss_model=PINNED_PG_LOSS_MODEL))
    f4 = figures(t4, *load_reference())
    neut = t4.extra["neutrinos"]
    return {
        "test1_nu": t1.nu, "test1_nuLnu": t1.nuLnu, "test1_gamma": t1.gamma_e, "test1_n_e": t1.n_e,
        "test1_energy_balance": np.array(t1.energy_balance), "test1_iterations": np.array(t1.iterations),
        "test4_nu": t4.nu, "test4_nuLnu": t4.nuLnu, "test4_n_e": t4.n_e,
        "test4_n_p": np.asarray(t4.extra["protons"]["n"], dtype=float),
        "test4_nu_energy_ev": np.asarray(neut["energy_ev"], dtype=float),
        "test4_ELE_all": np.asarray(neut["ELE"]["all"], dtype=float),
        "test4_energy_balance": np.array(t4.energy_balance), "test4_iterations": np.array(t4.iterations),
        "test4_figures": np.array([f4["photons_median"], f4["photons_max"],
                                   f4["neutrinos_median"], f4["neutrinos_max"]]),
    }


def all_cases() -> dict[str, np.ndarray]:
    return {**smoke_cells(), **athena_cases()}
