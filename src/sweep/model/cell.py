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


# --------------------------------------------------------------------------------------------
# Options of the radiative model of a sweep (the `model:` section of a grid spec).
# --------------------------------------------------------------------------------------------
from typing import Literal  # noqa: E402

from pydantic import BaseModel, ConfigDict, Field  # noqa: E402


class Processes(BaseModel):
    """Radiative processes switched on (model.md §4)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    synchrotron: bool = True
    ssa: bool = True
    inverse_compton: bool = True
    gamma_gamma: bool = True
    external_fields: bool = True  # disc, BLR, torus as IC/γγ/pγ/BH targets
    proton_synchrotron: bool = True
    bethe_heitler: bool = True
    photopion: bool = True


class ModelOptions(BaseModel):
    """How each cell is solved; stored in the cube as the `model_options` attribute."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    radiation: Literal["leptonic", "leptohadronic"] = "leptohadronic"
    ppd: int = Field(10, ge=4, le=60, description="grid points per decade of the kinetic solve")
    processes: Processes = Processes()
    tolerance: float = Field(1e-4, gt=0, lt=0.1, description="max |Δlog10| for convergence")
    max_iterations: int = Field(400, ge=1, le=100000)
    # fixed output grids of the cube (docs/cube.md)
    frequency_hz: tuple[float, float] = (1e8, 1e30)
    frequency_ppd: int = Field(10, ge=1, le=100)
    neutrino_energy_ev: tuple[float, float] = (1e9, 1e21)
    neutrino_ppd: int = Field(10, ge=1, le=100)
    gamma_e_range: tuple[float, float] = (1.0, 1e9)
    gamma_p_range: tuple[float, float] = (1.0, 1e11)
    particle_ppd: int = Field(10, ge=1, le=100)


def _log_grid(lo: float, hi: float, ppd: int) -> np.ndarray:
    n = int(round(np.log10(hi / lo) * ppd)) + 1
    return np.logspace(np.log10(lo), np.log10(hi), n)


def output_grids(options: ModelOptions) -> dict[str, np.ndarray]:
    """The fixed coordinates of the cube's spectral dimensions for these options."""
    return {
        "frequency": _log_grid(*options.frequency_hz, options.frequency_ppd),
        "neutrino_energy": _log_grid(*options.neutrino_energy_ev, options.neutrino_ppd),
        "gamma_e": _log_grid(*options.gamma_e_range, options.particle_ppd),
        "gamma_p": _log_grid(*options.gamma_p_range, options.particle_ppd),
    }
