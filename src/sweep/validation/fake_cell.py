"""A stand-in cell function for the engine's fault tests (NOT a model).

``fake_cell(params, options)`` returns a CellResult with the shapes of the real model's output on
``output_grids(options)`` (deterministic smooth spectra from the parameters), after optional
faults chosen by environment variables (read at call time, so LocalCluster and SLURM workers,
which inherit the environment, see them):

* ``SWEEP_FAKE_SLEEP``: seconds each cell sleeps (simulated model time).
* ``SWEEP_FAKE_DIE_AT="name=value"``: a cell whose parameter ``name`` equals ``value`` kills its
  worker process with SIGKILL. ``SWEEP_FAKE_DIE_MODE``: ``once`` (default; a marker file in
  ``SWEEP_FAKE_MARKERS`` makes the retry succeed) or ``always``.
* ``SWEEP_FAKE_RAISE_AT="name=value"``: such a cell raises RuntimeError (a model bug).
* ``SWEEP_FAKE_NOCONV_AT="name=value"``: such a cell reports not_converged.
* ``SWEEP_FAKE_LOG``: directory; each computed cell appends one line to ``<dir>/<pid>.log``.

``configured(**cfg)`` returns a picklable ``partial`` with these settings (for clusters whose
workers were started before the test set the environment).

Cells with ``z_diss < z0_rs`` (in R_s) are invalid, like the real model's.
"""
from __future__ import annotations

import hashlib
import os
import signal
import time
from typing import Any, Mapping

import numpy as np

from sweep.model.cell import NEUTRINO_FLAVOURS, CellResult, CellStatus, JET_QUANTITIES, output_grids


def _match(params: Mapping[str, Any], rule: str | None) -> bool:
    if not rule:
        return False
    for part in rule.split(","):
        name, _, value = part.partition("=")
        v = params.get(name.strip())
        if v is None or not np.isclose(float(v), float(value), rtol=1e-9):
            return False
    return True


def _cell_id(params: Mapping[str, Any]) -> str:
    text = repr(sorted((k, v) for k, v in params.items()))
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def fake_cell(params: Mapping[str, Any], options, cfg: Mapping[str, str] | None = None) -> CellResult:
    """The stand-in model; ``cfg`` (same keys as the environment variables) overrides the
    environment, e.g. ``functools.partial(fake_cell, cfg={"SWEEP_FAKE_SLEEP": "0.1"})``."""
    t0 = time.perf_counter()
    env = {**os.environ, **(cfg or {})}
    if env.get("SWEEP_FAKE_LOG"):
        os.makedirs(env["SWEEP_FAKE_LOG"], exist_ok=True)
        with open(os.path.join(env["SWEEP_FAKE_LOG"], f"{os.getpid()}.log"), "a") as f:
            f.write(f"{params['z_diss']} {params.get('sigma0')}\n")
    sleep = float(env.get("SWEEP_FAKE_SLEEP", "0") or 0)
    if sleep:
        time.sleep(sleep)
    if _match(params, env.get("SWEEP_FAKE_DIE_AT")):
        mode = env.get("SWEEP_FAKE_DIE_MODE", "once")
        marker_dir = env.get("SWEEP_FAKE_MARKERS", "/tmp")
        marker = os.path.join(marker_dir, f"died-{_cell_id(params)}")
        if mode == "always" or not os.path.exists(marker):
            os.makedirs(marker_dir, exist_ok=True)
            open(marker, "w").close()
            os.kill(os.getpid(), signal.SIGKILL)
    if _match(params, env.get("SWEEP_FAKE_RAISE_AT")):
        raise RuntimeError(f"fake model error at z_diss={params['z_diss']}")
    if params.get("z_unit", "Rs") == "Rs" and params["z_diss"] < params.get("z0_rs", 10.0):
        return CellResult(CellStatus.INVALID, f"z = {params['z_diss']:g} R_s < z0 = "
                                              f"{params.get('z0_rs', 10.0):g} R_s",
                          runtime_s=time.perf_counter() - t0)
    g = output_grids(options)
    s = float(params.get("sigma0", 1.0))
    z = float(params["z_diss"])
    amp = 1e40 * s / (1.0 + z / 100.0)
    spectra = {
        "nuLnu_obs": amp * np.exp(-((np.log10(g["frequency"]) - 18.0) / 4.0) ** 2),
        "nuLnu_comoving": 0.1 * amp * np.exp(-((np.log10(g["frequency"]) - 17.0) / 4.0) ** 2),
        "ELE_nu_obs": amp * 1e-2 * np.ones((len(NEUTRINO_FLAVOURS), len(g["neutrino_energy"]))),
        "ELE_nu_comoving": amp * 1e-3 * np.ones((len(NEUTRINO_FLAVOURS), len(g["neutrino_energy"]))),
        "n_e": g["gamma_e"] ** -2.0,
        "n_p": g["gamma_p"] ** -2.0,
    }
    jet = {name: float(i + 1) * s for i, name in enumerate(JET_QUANTITIES)}
    jet["z_rs"] = z
    status = CellStatus.DONE
    msg = ""
    if _match(params, env.get("SWEEP_FAKE_NOCONV_AT")):
        status, msg = CellStatus.NOT_CONVERGED, "fake solver stopped after 7 iterations"
    return CellResult(status, msg, iterations=7, runtime_s=time.perf_counter() - t0,
                      energy_balance=1.0, jet=jet, spectra=spectra)


def configured(**cfg: Any):
    """``fake_cell`` with settings, e.g. ``configured(SWEEP_FAKE_SLEEP=0.1)`` (picklable)."""
    import functools

    return functools.partial(fake_cell, cfg={k: str(v) for k, v in cfg.items()})
