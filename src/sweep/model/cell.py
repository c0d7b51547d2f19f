"""Run one grid cell: jet parameters in, arrays + status out (no Dask, no Zarr).

This module is the contract between the physics (``sweep.model``) and the engine/store:
``run_cell(params, options) -> CellResult`` with every spectrum on the fixed output grids of
``output_grids(options)`` (see docs/cube.md).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np


class CellStatus(enum.IntEnum):
    """Stored per cell as int8 (CF flag_values/flag_meanings)."""

    PENDING = 0
    DONE = 1
    INVALID = 2  # physically impossible cell (e.g. sigma0 < sigma0_min, z < z0)
    NOT_CONVERGED = 3  # solver stopped without meeting its convergence test
    FAILED = 4  # exception or repeated worker death

    @classmethod
    def flag_meanings(cls) -> str:
        return " ".join(s.name.lower() for s in cls)


JET_QUANTITIES: dict[str, tuple[str, str]] = {
    # name: (units, long_name)
    "z_cm": ("cm", "dissipation distance from the black hole"),
    "z_rs": ("1", "dissipation distance in Schwarzschild radii"),
    "gamma_bulk": ("1", "bulk Lorentz factor of the jet at the dissipation distance"),
    "doppler": ("1", "Doppler factor"),
    "sigma": ("1", "magnetisation of the unreconnected plasma"),
    "p": ("1", "power-law index of injected particles"),
    "radius": ("cm", "comoving blob radius"),
    "B": ("G", "comoving magnetic field"),
    "u_B": ("erg cm-3", "comoving magnetic energy density"),
    "u_AD": ("erg cm-3", "comoving accretion-disc photon energy density"),
    "u_BLR": ("erg cm-3", "comoving broad-line-region photon energy density"),
    "u_DT": ("erg cm-3", "comoving dusty-torus photon energy density"),
    "L_inj": ("erg s-1", "comoving injection luminosity (pairs + protons)"),
    "gamma_min_e": ("1", "minimum Lorentz factor of injected pairs"),
    "gamma_min_p": ("1", "minimum Lorentz factor of injected protons"),
    "gamma_max_e": ("1", "maximum Lorentz factor of injected pairs"),
    "gamma_max_p": ("1", "maximum Lorentz factor of injected protons"),
}

NEUTRINO_FLAVOURS = ("nu_e", "nu_e_bar", "nu_mu", "nu_mu_bar")


@dataclass
class CellResult:
    status: CellStatus
    message: str = ""
    iterations: int = 0
    runtime_s: float = 0.0
    energy_balance: float = float("nan")
    jet: dict[str, float] = field(default_factory=dict)  # keys of JET_QUANTITIES
    # keys: nuLnu_obs, nuLnu_comoving (frequency); ELE_nu_obs, ELE_nu_comoving
    # (flavour, neutrino_energy); n_e (gamma_e); n_p (gamma_p)
    spectra: dict[str, np.ndarray] = field(default_factory=dict)
