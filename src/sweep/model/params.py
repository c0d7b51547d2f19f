"""Parameters of the jet model (model.md §7), with validation and the "invalid cell" check.

``JetParameters`` holds every parameter of model.md §7 (paper Table 2, completed) by name, with
its default and unit; tags [E]/[R-*]/[P] follow model.md §0.2 and are repeated in each Field
description.  Units: cgs unless the name says otherwise (``*_rs`` in Schwarzschild radii,
``*_deg`` / ``theta_obs`` in degrees, ``*_k`` in kelvin, ``*_ev`` / ``*_mev`` in eV / MeV,
``mass_msun`` in solar masses).

Interface for the engine / other modules
----------------------------------------
* ``JetParameters(**kw)``: raises ``pydantic.ValidationError`` for out-of-range values.
  ``format_validation_error(exc)`` turns it into ``"field: value <v> ... allowed <range>"`` lines.
* ``check_cell(params, z_cm) -> CellCheck(ok, reason)``: physically impossible cells
  (σ0 < σ0,min for an explicitly requested Γmax, Γmax ≤ Γ0, z < z0, z ≤ 0 ...) are *not*
  exceptions; store them as status ``invalid`` with ``reason`` as message.

Γmax is derived by default, Γmax = Γ0(1+σ0)/(1+σ_acc) (Eq. 6).  If ``gamma_max`` is given
explicitly, σ beyond z_acc is fixed by Bernoulli instead, σ(z≥z_acc) = Γ0(1+σ0)/Γmax − 1, and a
cell with σ0 < σ0,min = Γmax/Γ0 − 1 (Eq. 7) is invalid.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Optional

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

# Grid axes of a sweep (names are a contract with the engine and the cube, docs/cube.md).
GRID_AXES = ("sigma0", "mdot", "eps_jet", "eta_acc", "theta_obs")


class JetParameters(BaseModel):
    """Every parameter of the jet model (model.md §7).  Frozen; unknown names are rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    # ---- grid parameters (paper Table 2) -------------------------------------------------
    sigma0: float = Field(30.0, gt=0.0, le=1e4,
                          description="initial magnetisation σ0 at z0 [dimensionless] [E] (10, 30, 60)")
    mdot: float = Field(0.01, gt=0.0, le=10.0,
                        description="accretion rate ṁ = L_d/L_Edd [Eddington units] [E] (1e-3, 1e-2, 0.1)")
    eps_jet: float = Field(0.1, gt=0.0, le=100.0,
                           description="ε_jet: jet power / accretion power [dimensionless] [E values; R-med normalisation]")
    eta_acc: float = Field(1e4, ge=1.0, le=1e10,
                           description="acceleration efficiency η_acc, t'_acc = η_acc r_g/c [dimensionless] [P] (1e3, 1e4, 1e5, 1e6)")
    theta_obs: float = Field(3.0, ge=0.0, le=90.0,
                             description="viewing angle θ_obs to the jet axis [deg] [P] (alt. 2, 5)")
    # ---- central engine --------------------------------------------------------------------
    mass_msun: float = Field(1e9, ge=1e5, le=1e11, description="black-hole mass M [M_sun] [P] (alt. 1e8)")
    eta_rad: float = Field(0.1, gt=0.0, le=1.0, description="disc radiative efficiency η_rad [dimensionless] [E]")
    r_in_rs: float = Field(3.0, gt=0.0, le=1e3, description="disc inner radius R_in [R_s] [R-high] (ISCO)")
    r_out_rs: float = Field(1e3, gt=0.0, le=1e7, description="disc outer radius R_out [R_s] [P]")
    # ---- jet dynamics ----------------------------------------------------------------------
    gamma0: float = Field(1.1, gt=1.0, le=100.0, description="initial bulk Lorentz factor Γ0 [dimensionless] [E]")
    gamma_max: Optional[float] = Field(None, gt=1.0, le=1e4,
                                       description="terminal Lorentz factor Γmax [dimensionless]; None = derived Γ0(1+σ0)/(1+σ_acc) (Eq. 6) [R-high]")
    sigma_acc: float = Field(0.1, gt=0.0, le=1e3,
                             description="magnetisation for z ≥ z_acc σ_acc [dimensionless] [R-high]")
    z0_rs: float = Field(10.0, gt=0.0, le=1e6, description="start of acceleration z0 [R_s] [P]")
    z_acc_rs: float = Field(1e3, gt=0.0, le=1e8, description="end of acceleration z_acc [R_s] [P]")
    r0_rs: float = Field(5.0, gt=0.0, le=1e6, description="jet base radius R0 [R_s] [P]")
    theta_app_deg: float = Field(10.75, gt=0.0, lt=90.0,
                                 description="apparent half-opening angle θ_app [deg] [P] (alt. 21.5)")
    acceleration_law: Literal["sqrt", "linear", "log"] = Field(
        "sqrt", description="Γ(z) law between z0 and z_acc: z^1/2 (BHJet), linear in z, linear in ln z [R-med/P]")
    jet_power_norm: Literal["accretion", "disc"] = Field(
        "accretion", description="L_jet = ε_jet Ṁc² ('accretion') or ε_jet L_d ('disc') [R-med]")
    kappa: float = Field(10.0, ge=0.0, le=1e5, description="pair-to-proton number ratio κ [dimensionless] [E]")
    # ---- dissipation and injection ---------------------------------------------------------
    f_rec: float = Field(0.25, gt=0.0, le=1.0,
                         description="fraction of dissipated Poynting energy to particles f_rec [dimensionless] [E]")
    linj_domain: Literal["4pi", "cone"] = Field(
        "4pi", description="solid-angle domain of Eq. 25: full sphere (Eq. 26) or jet cone [P]")
    f_split_pairs: float = Field(0.5, ge=0.0, le=1.0,
                                 description="fraction of L'_inj given to pairs (rest to protons) [dimensionless] [P]")
    mean_gamma: Literal["equal_energy", "electron_proton"] = Field(
        "equal_energy", description="⟨γ⟩ prescription of Eq. 15 for p<2 [P]")
    gamma_min_e: float = Field(1.0, ge=1.0, le=1e6, description="γ_min of pairs for p ≥ 2 [dimensionless] [E-ish]")
    gamma_min_p: float = Field(1.0, ge=1.0, le=1e6, description="γ_min of protons for p ≥ 2 [dimensionless] [E-ish]")
    beta_rec: float = Field(0.1, gt=0.0, le=1.0, description="reconnection rate β_rec, E_rec = β_rec B' [dimensionless] [P]")
    l_rec_over_r: float = Field(1.0, gt=0.0, le=10.0,
                                description="reconnection-layer length ℓ in units of the blob radius R [dimensionless] [P]")
    sigma_p_min: float = Field(0.1, gt=0.0, le=1.0,
                               description="lower edge of the p(σ) fit; p(σ<σ_p_min) = p(σ_p_min) [dimensionless] [P]")
    sigma_p_max: float = Field(1e3, ge=1.0, le=1e6,
                               description="above this σ, p = p_high_sigma (Table 1 clamp) [dimensionless] [P]")
    p_high_sigma: float = Field(1.2, gt=1.0, le=5.0,
                                description="p for σ > σ_p_max (Werner+16 asymptote) [dimensionless] [P]")
    # ---- external fields -------------------------------------------------------------------
    xi_blr: float = Field(0.1, ge=0.0, le=1.0, description="BLR reprocessing fraction ξ_BLR [dimensionless] [E]")
    xi_dt: float = Field(0.1, ge=0.0, le=1.0, description="DT reprocessing fraction ξ_DT [dimensionless] [E]")
    r_blr_1e45_cm: float = Field(1e17, gt=0.0, le=1e20,
                                 description="R_BLR at L_d = 1e45 erg/s, R_BLR ∝ L_d^1/2 [cm] [R-high] (GT09)")
    r_dt_1e45_cm: float = Field(2.5e18, gt=0.0, le=1e21,
                                description="R_DT at L_d = 1e45 erg/s, R_DT ∝ L_d^1/2 [cm] [R-high] (GT09)")
    t_dt_k: float = Field(370.0, gt=0.0, le=2e3, description="dusty-torus temperature T_DT [K] [P] (alt. 1e3)")
    blr_spectrum: Literal["blackbody", "lyman_alpha"] = Field(
        "blackbody", description="BLR spectral shape: blackbody at disc T_max, or Lyα line [P]")
    blr_line_ev: float = Field(10.2, gt=0.0, le=1e3, description="BLR line energy for blr_spectrum='lyman_alpha' [eV] [P]")
    # ---- other ----------------------------------------------------------------------------
    eps_th_mev: float = Field(145.0, gt=0.0, le=1e4,
                              description="photopion threshold ε_th (proton rest frame) [MeV] [P] (Eq. 30)")
    z_red: float = Field(0.0, ge=0.0, le=10.0, description="source redshift z_red [dimensionless] [P] (0: no cosmology)")

    @model_validator(mode="after")
    def _cross_checks(self):
        if self.r_out_rs <= self.r_in_rs:
            raise ValueError(f"r_out_rs: value {self.r_out_rs} must be > r_in_rs = {self.r_in_rs}")
        if self.z_acc_rs <= self.z0_rs:
            raise ValueError(f"z_acc_rs: value {self.z_acc_rs} must be > z0_rs = {self.z0_rs}")
        return self

    # ---- derived quantities (cheap, scalar) ----------------------------------------------
    @property
    def mass_g(self) -> float:
        from .constants import M_sun
        return self.mass_msun * M_sun

    @property
    def gamma_max_eff(self) -> float:
        """Γmax: explicit value, or Γ0(1+σ0)/(1+σ_acc) (Eq. 6)."""
        if self.gamma_max is not None:
            return float(self.gamma_max)
        return self.gamma0 * (1.0 + self.sigma0) / (1.0 + self.sigma_acc)

    @property
    def mu(self) -> float:
        """Energy per unit rest-mass energy μ = Γ0(1+σ0) (Eq. 6)."""
        return self.gamma0 * (1.0 + self.sigma0)

    @property
    def sigma0_min(self) -> float:
        """σ0,min = Γmax/Γ0 − 1 (Eq. 7)."""
        return self.gamma_max_eff / self.gamma0 - 1.0

    @property
    def sigma_terminal(self) -> float:
        """σ(z ≥ z_acc) = μ/Γmax − 1 (= σ_acc when Γmax is derived)."""
        if self.gamma_max is None:
            return self.sigma_acc
        return self.mu / self.gamma_max_eff - 1.0


def _allowed_range(model: type[BaseModel], name: str) -> str:
    info = model.model_fields.get(name)
    if info is None:
        return "a known parameter name (see JetParameters)"
    lo = hi = None
    lo_op = hi_op = ""
    for m in info.metadata:
        for attr, op in (("gt", ">"), ("ge", "≥")):
            if getattr(m, attr, None) is not None:
                lo, lo_op = getattr(m, attr), op
        for attr, op in (("lt", "<"), ("le", "≤")):
            if getattr(m, attr, None) is not None:
                hi, hi_op = getattr(m, attr), op
    ann = str(info.annotation)
    if "Literal" in ann:
        return "one of " + ann.split("Literal[", 1)[1].rstrip("]")
    parts = []
    if lo is not None:
        parts.append(f"{lo_op} {lo:g}")
    if hi is not None:
        parts.append(f"{hi_op} {hi:g}")
    return " and ".join(parts) if parts else "see JetParameters"


def format_validation_error(exc: ValidationError, model: type[BaseModel] = JetParameters) -> str:
    """One line per error: ``field: value <v> is invalid (<pydantic msg>); allowed: <range>``."""
    lines = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err.get("loc", ())) or "parameters"
        msg = err.get("msg", "")
        if err.get("type") == "extra_forbidden":
            lines.append(f"{loc}: unknown parameter (allowed: the fields of {model.__name__})")
            continue
        if not err.get("loc"):  # model-level validator: message already names field and value
            lines.append(msg.replace("Value error, ", ""))
            continue
        lines.append(f"{loc}: value {err.get('input')!r} is invalid ({msg}); allowed: "
                     f"{_allowed_range(model, str(err['loc'][0]))}")
    return "\n".join(lines)


@dataclass(frozen=True)
class CellCheck:
    """Result of :func:`check_cell`: ``ok`` False means status "invalid" with ``reason``."""

    ok: bool
    reason: str = ""

    def __iter__(self):  # allows ``ok, reason = check_cell(...)``
        return iter((self.ok, self.reason))

    def __bool__(self) -> bool:
        return self.ok


def check_cell(params: JetParameters, z_cm) -> CellCheck:
    """Is the cell (params, dissipation distance z [cm]) physically possible?

    Invalid (returns ok=False and the reason) when: Γmax ≤ Γ0 or σ0 < σ0,min (Eq. 7) for an
    explicitly requested Γmax; z ≤ 0 or z < z0 (the model starts at z0; Eq. 1); the BLR radius
    falls inside the disc (R_BLR < R_out would make the geometry of Eq. 36 meaningless is NOT
    required — allowed).  For an array z, the first offending distance is reported.
    """
    from .constants import schwarzschild_radius

    if params.gamma_max is not None:
        if params.gamma_max <= params.gamma0:
            return CellCheck(False, f"gamma_max = {params.gamma_max:g} ≤ gamma0 = {params.gamma0:g}: no acceleration possible")
        if params.sigma0 < params.sigma0_min * (1.0 - 1e-12):
            return CellCheck(False, f"sigma0 = {params.sigma0:g} < sigma0_min = {params.sigma0_min:.4g} "
                                    f"(Eq. 7, gamma_max = {params.gamma_max:g}, gamma0 = {params.gamma0:g})")
    z = np.atleast_1d(np.asarray(z_cm, dtype=float))
    if not np.all(np.isfinite(z)):
        return CellCheck(False, "distance z is not finite")
    rs = schwarzschild_radius(params.mass_g)
    z0 = params.z0_rs * rs
    bad = z <= 0.0
    if np.any(bad):
        return CellCheck(False, f"z = {z[bad][0]:.4g} cm ≤ 0")
    bad = z < z0 * (1.0 - 1e-9)
    if np.any(bad):
        return CellCheck(False, f"z = {z[bad][0] / rs:.4g} R_s < z0 = {params.z0_rs:g} R_s "
                                "(the jet model starts at z0)")
    return CellCheck(True, "")


def sigma_min_for(gamma_max: float, gamma0: float = 1.1) -> float:
    """σ0,min = Γmax/Γ0 − 1 (Eq. 7) for given Γmax, Γ0."""
    return gamma_max / gamma0 - 1.0


