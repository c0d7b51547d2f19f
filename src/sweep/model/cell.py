"""Run one grid cell: jet parameters in, arrays + status out (no Dask, no Zarr).

This module is the contract between the physics (``sweep.model``) and the engine/store:
``run_cell(params, options) -> CellResult`` with every spectrum on the fixed output grids of
``output_grids(options)`` (see docs/cube.md).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Mapping

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

#: per-cell scalar outputs of the blob solve (beyond the jet state): name -> (units, long_name)
BLOB_QUANTITIES: dict[str, tuple[str, str]] = {
    "L_neutron": ("erg s-1", "comoving luminosity escaping in photopion neutrons (and other baryons)"),
}


@dataclass
class CellResult:
    status: CellStatus
    message: str = ""
    iterations: int = 0
    runtime_s: float = 0.0
    energy_balance: float = float("nan")
    jet: dict[str, float] = field(default_factory=dict)  # keys of JET_QUANTITIES
    blob: dict[str, float] = field(default_factory=dict)  # keys of BLOB_QUANTITIES
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
    # external Compton toward the observer: "exact" = angle-resolved (the comoving external
    # fields are beamed; issue 11, docs/jet-model.md), "isotropic" = the paper's approximation
    ec_angles: Literal["exact", "isotropic"] = "exact"
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


# --------------------------------------------------------------------------------------------
# The grid cell: jet model -> blob -> steady-state kinetics -> observer frame -> output grids
# --------------------------------------------------------------------------------------------
NON_JET_KEYS = ("z_diss", "z_unit")

#: comoving frequency grid of the external target fields handed to the solver [Hz]:
#: 1e9–1e20 Hz covers the torus (T'=ΓT_DT ≲ 1.2e4 K), the boosted disc (≲ 2Γ·T_max) and the BLR.
_EXT_NU = np.logspace(9.0, 20.0, 221)


def _loglog_onto(x_new: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Log-log interpolation of a positive spectrum onto ``x_new``; zero outside its support.

    Zeros of ``y`` stay zero (a bin with no emission has νL_ν = 0, not NaN)."""
    out = np.zeros(len(x_new))
    y = np.asarray(y, dtype=float)
    pos = np.isfinite(y) & (y > 0)
    if pos.sum() < 2:
        return out
    lx, ly = np.log(np.asarray(x, dtype=float)[pos]), np.log(y[pos])
    lxn = np.log(x_new)
    inside = (lxn >= lx[0]) & (lxn <= lx[-1])
    out[inside] = np.exp(np.interp(lxn[inside], lx, ly))
    # bins between two positive samples separated by zeros: interpolation above would bridge
    # them; keep zeros where the nearest original sample on the grid is zero
    xs = np.asarray(x, dtype=float)
    nearest = np.clip(np.searchsorted(xs, x_new), 0, len(xs) - 1)
    out[inside & ~(y[nearest] > 0) & ~(y[np.clip(nearest - 1, 0, len(xs) - 1)] > 0)] = 0.0
    return out


def jet_parameters(params: Mapping[str, Any]):
    """``JetParameters`` from a cell's parameter mapping (ignores ``z_diss``/``z_unit``)."""
    from .params import JetParameters

    return JetParameters(**{k: v for k, v in params.items() if k not in NON_JET_KEYS})


def build_blob(jp, state, options: ModelOptions, i: int = 0):
    """The one-zone blob of a cell: R, B', injected pairs (and protons), external targets."""
    from . import fields, kinetics

    pr = options.processes
    r = state.row(i)
    injections = [kinetics.Injection(species="e", shape="power_law", p=r["p"],
                                     gamma_min=r["gamma_min_e"], gamma_max=r["gamma_max_e"],
                                     luminosity=r["L_inj_e"])]
    ext = []
    if pr.external_fields:
        spec = fields.external_fields(jp, np.atleast_1d(r["z_cm"]), _EXT_NU,
                                      gamma=np.atleast_1d(r["gamma"]))
        for name, u in spec.items():
            u = np.asarray(u[0], dtype=float)
            if np.any(u > 0):
                ext.append(kinetics.ExternalField(nu=_EXT_NU, u_nu=u, name=name))
    processes = kinetics.Processes(synchrotron=pr.synchrotron, ssa=pr.ssa,
                                   inverse_compton=pr.inverse_compton, gamma_gamma=pr.gamma_gamma)
    extensions = []
    if options.radiation == "leptohadronic":
        extensions = _hadronic_extensions(jp, r, options)
    return kinetics.Blob(R=r["radius"], B=r["B"], injections=injections, external_fields=ext,
                         processes=processes, ppd=options.ppd, extensions=extensions)


def _hadronic_extensions(jp, row: dict, options: ModelOptions) -> list:
    """Protons (injection, synchrotron, Bethe–Heitler, photopion) and neutrinos for the solver."""
    from . import hadronic

    pr = options.processes
    return [hadronic.ProtonExtension(
        p=row["p"], gamma_min=row["gamma_min_p"], gamma_max=row["gamma_max_p"],
        luminosity=row["L_inj_p"], synchrotron=pr.proton_synchrotron,
        bethe_heitler=pr.bethe_heitler, photopion=pr.photopion)]


def ec_toward_observer(jp, row: dict, blob, ss, mu_obs: float | None = None) -> np.ndarray:
    """Comoving νL_ν toward the observer (4π × intensity at θ′_obs) with the external Compton
    part angle-resolved (``processes.external_compton``): the rays of the disc, BLR and torus
    (``external_rays.jet_rays``), each scaled to the bolometric u′ the solver used.
    ``mu_obs``: comoving cosine of the line of sight (default: from θ_obs and Γ)."""
    import math

    from . import constants as const
    from .external_rays import comoving_on_lattice, jet_rays
    from .processes.external_compton import comoving_cos, toward_observer

    g = ss.grids
    if (not blob.external_fields or ss.face_particles is None or ss.photon_sink is None
            or not blob.processes.inverse_compton):
        return ss.nuLnu
    gam = float(row["gamma"])
    beta = math.sqrt(max(0.0, 1.0 - 1.0 / gam**2))
    rays = jet_rays(jp, float(row["z_cm"]))
    mus, Ns = [], []
    for fld in blob.external_fields:
        mu, N = comoving_on_lattice(rays[fld.name], gam, g.x, g.dx, g.ppd, target_u=fld.u_total())
        mus.append(mu)
        Ns.append(N)
    mu = np.concatenate(mus)
    N = np.vstack(Ns)
    if mu_obs is None:
        mu_obs = comoving_cos(math.cos(math.radians(jp.theta_obs)), beta)
    lum_per_n = blob.volume * const.c / (blob.R * blob.t_esc_photons) * const.m_e_c2
    return toward_observer(ss.nuLnu, g.x, g.dx, g.k0, g.ppd, g.gamma_faces, ss.face_particles,
                           ss.n_ext, ss.photon_sink, lum_per_n, mu, N, mu_obs)


def _spectra(ss, doppler: float, z_red: float, options: ModelOptions,
             nuLnu_toward: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Spectra on the output grids.  ``nuLnu_comoving`` is the angle-averaged comoving νL_ν of
    the solve; ``nuLnu_obs`` is δ⁴ × ``nuLnu_toward`` (comoving, toward the observer) when given
    (angle-resolved external Compton), else δ⁴ × the angle average."""
    from .observer import to_observer

    grids = output_grids(options)
    nu_out = grids["frequency"]
    out = {"nuLnu_comoving": _loglog_onto(nu_out, ss.nu, ss.nuLnu)}
    nu_obs, nuLnu_obs = to_observer(ss.nu, ss.nuLnu if nuLnu_toward is None else nuLnu_toward,
                                    doppler, z_red)
    out["nuLnu_obs"] = _loglog_onto(nu_out, nu_obs, nuLnu_obs)
    out["n_e"] = _loglog_onto(grids["gamma_e"], ss.gamma_e, ss.n_e)
    e_out = grids["neutrino_energy"]
    nfl = len(NEUTRINO_FLAVOURS)
    nu_com = np.zeros((nfl, len(e_out)))
    nu_obs_arr = np.zeros((nfl, len(e_out)))
    n_p = np.full(len(grids["gamma_p"]), np.nan)
    neut = ss.extra.get("neutrinos") if ss.extra else None
    if neut is not None:  # {"energy_ev": E, "ELE": {flavour: E L_E comoving}}
        e_ev = np.asarray(neut["energy_ev"], dtype=float)
        for k, fl in enumerate(NEUTRINO_FLAVOURS):
            y = np.asarray(neut["ELE"][fl], dtype=float)
            nu_com[k] = _loglog_onto(e_out, e_ev, y)
            e_obs, y_obs = to_observer(e_ev, y, doppler, z_red)
            nu_obs_arr[k] = _loglog_onto(e_out, e_obs, y_obs)
    prot = ss.extra.get("protons") if ss.extra else None
    if prot is not None:  # {"gamma": γ_p, "n": dN/dγ dV}
        n_p = _loglog_onto(grids["gamma_p"], prot["gamma"], prot["n"])
    out["ELE_nu_comoving"] = nu_com
    out["ELE_nu_obs"] = nu_obs_arr
    out["n_p"] = n_p
    return out


def _protons_escape_only(row: dict, gamma_p: np.ndarray) -> np.ndarray:
    """Leptonic mode neglects every proton process, so the steady proton spectrum is the
    escape-only one, N_p = Q'_p(γ) R/c (documented in docs/model-choices.md)."""
    from . import constants as const
    from .injection import injection_spectrum

    q = injection_spectrum(gamma_p, row["L_inj_p"], row["radius"], const.m_p, "power_law",
                           p=row["p"], gamma_min=row["gamma_min_p"], gamma_max=row["gamma_max_p"])
    return q * row["radius"] / const.c


def run_cell(params: Mapping[str, Any], options: ModelOptions | None = None) -> CellResult:
    """Solve one grid cell. Never raises: impossible cells are ``INVALID``, solver trouble is
    ``NOT_CONVERGED``/``FAILED``, each with a message.

    ``params``: every ``JetParameters`` field to set (others default) plus ``z_diss`` (float)
    and ``z_unit`` ('Rs', 'cm', 'pc' or 'rblr'; default 'Rs').
    """
    import time
    import traceback

    from pydantic import ValidationError

    from .jet import blob_state, distance_to_cm
    from .kinetics import solve
    from .params import check_cell, format_validation_error

    options = options or ModelOptions()
    t0 = time.perf_counter()

    def done(status, message="", **kw):
        return CellResult(status=status, message=message[:500], runtime_s=time.perf_counter() - t0, **kw)

    try:
        jp = jet_parameters(params)
    except ValidationError as exc:
        return done(CellStatus.INVALID, "invalid parameters: " + format_validation_error(exc))
    try:
        if "z_diss" not in params:
            raise KeyError("z_diss: missing; a cell needs a dissipation distance")
        z_cm = float(distance_to_cm(float(params["z_diss"]), str(params.get("z_unit", "Rs")), jp))
        state = blob_state(jp, np.atleast_1d(z_cm))
        jet = {k: float(v) for k, v in state.cell_quantities(0).items()}
        ok, reason = check_cell(jp, z_cm)
        if not ok or not bool(state.valid[0]):
            return done(CellStatus.INVALID, reason or state.reason[0], jet=jet)
        blob = build_blob(jp, state, options)
        ss = solve(blob, tol=options.tolerance, max_iter=options.max_iterations)
        if ss.status == "failed":
            return done(CellStatus.FAILED, "solver failed: " + ss.message, jet=jet,
                        iterations=ss.iterations)
        toward = None
        if options.ec_angles == "exact":
            toward = ec_toward_observer(jp, state.row(0), blob, ss)
        spectra = _spectra(ss, jet["doppler"], jp.z_red, options, toward)
        if options.radiation == "leptonic":
            spectra["n_p"] = _protons_escape_only(state.row(0), output_grids(options)["gamma_p"])
        status = CellStatus.DONE if ss.converged else CellStatus.NOT_CONVERGED
        hp = (ss.extra or {}).get("hadronic_power") or {}
        blob_q = {"L_neutron": float(hp.get("pg_neutrons", 0.0))}
        return done(status, "" if ss.converged else ss.message, jet=jet, spectra=spectra, blob=blob_q,
                    iterations=int(ss.iterations), energy_balance=float(ss.energy_balance))
    except Exception as exc:  # noqa: BLE001 - a cell reports, it never takes the sweep down
        tb = traceback.extract_tb(exc.__traceback__)[-1]
        return done(CellStatus.FAILED, f"{type(exc).__name__}: {exc} "
                    f"({tb.filename.rsplit('/', 1)[-1]}:{tb.lineno})",
                    jet=locals().get("jet", {}))


def cell_photopion_efficiency(params, options=None) -> dict:
    """f_pγ per target (synchrotron, disc, BLR, DT) for one jet-model cell (paper Figs. 13–14).

    ``params`` as for ``cell.run_cell`` (jet parameters + ``z_diss``/``z_unit``); the cell's blob
    is solved (leptohadronic) and f_pγ(γ_p) = (R/c)/t_pγ evaluated per target on the proton grid.
    Returns {"gamma_p", "synchrotron", "disc", "blr", "dt" (those present), "solver_total" (the
    solver's own f_pγ on all targets together), "gamma_max_p", "at_gamma_max_p": {target:
    f_pγ(γ'_p,max)}, "z_cm", "status"}."""
    from . import constants as const
    from .hadronic import photopion_efficiency_from_run
    from .jet import blob_state, distance_to_cm
    from .kinetics import solve

    options = options or ModelOptions()
    jp = jet_parameters(params)
    z_cm = float(distance_to_cm(float(params["z_diss"]), str(params.get("z_unit", "Rs")), jp))
    state = blob_state(jp, np.atleast_1d(z_cm))
    if options.radiation != "leptohadronic":
        options = options.model_copy(update={"radiation": "leptohadronic"})
    blob = build_blob(jp, state, options)
    ss = solve(blob, tol=options.tolerance, max_iter=options.max_iterations)
    out = photopion_efficiency_from_run(ss, blob)
    pr = ss.extra["protons"]
    # all targets, solver's grid; energy given to pions (f_pγ's definition: neutrons not counted)
    out["solver_total"] = (pr["b_pg"] - pr["b_pg_neutron"]) / pr["gamma"] * blob.R / const.c
    g_max = float(state.row(0)["gamma_max_p"])
    lg = np.log(out["gamma_p"])
    at = {}
    for k, v in out.items():
        if k != "gamma_p":
            pos = v > 0
            at[k] = float(np.exp(np.interp(np.log(g_max), lg[pos], np.log(v[pos])))) if pos.sum() > 1 else 0.0
    out.update(gamma_max_p=g_max, at_gamma_max_p=at, z_cm=z_cm, status=ss.status)
    return out
