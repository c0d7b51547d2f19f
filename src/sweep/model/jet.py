"""Jet dynamics along the jet (model.md §1, Eqs. 1–13) and the full blob state at distance z.

All functions are vectorised over z [cm] (numpy arrays in, arrays out; scalars accepted → (1,)).

Interface for the grid cell / blob runner
-----------------------------------------
* ``blob_state(params, z_cm) -> BlobState``: Γ, β, δ, R, n, σ, B', u'_B, p, L'_inj (total and per
  species), γ_min/γ_max per species (with the γ_max components), bolometric u'_AD/u'_BLR/u'_DT.
  Each field is an array of shape (nz,); ``BlobState.row(i)`` gives a dict for one distance and
  ``BlobState.status`` the per-distance validity (``check_cell``).
* ``external_fields(params, z_cm, nu_prime)`` (in ``fields``) gives the target spectra.
* ``distance_to_cm(value, unit, params)``: 'Rs' ('rs', 'R_s'), 'cm', 'pc', 'rblr' (R_BLR).

Equations (model.md): Γ(z) Eq. 1 (law switch), δ Eq. 2, R Eq. 3 (local Γ multiplies z − z0),
n Eq. 4 with n0 from Eq. 11, σ from Bernoulli Eq. 6 (σ = μ/Γ − 1, μ = Γ0(1+σ0)),
B' Eq. 13 = (2/(RΓ))[σL_jet/((1+σ)βc)]^½ (identical to Eqs. 4+5+6), L_P = σL_jet/(1+σ),
L_kin = L_jet/(1+σ), L_jet = ε_jet Ṁc² ('accretion') or ε_jet L_d ('disc').
For z < z0 the state is that of the base (Γ0, R0, σ0); such distances are flagged invalid.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import numpy as np

from . import constants as const
from .params import JetParameters, check_cell

DISTANCE_UNITS = {"rs": "Rs", "r_s": "Rs", "rs_": "Rs", "cm": "cm", "pc": "pc", "rblr": "rblr",
                  "r_blr": "rblr"}


def distance_to_cm(value, unit: str, params: JetParameters):
    """Convert distances in 'Rs' (also 'rs', 'R_s'), 'cm', 'pc' or 'rblr' (units of R_BLR) to cm."""
    key = unit.strip().lower()
    if key not in DISTANCE_UNITS:
        raise ValueError(f"units: value {unit!r} is invalid; allowed: Rs, cm, pc, rblr")
    v = np.asarray(value, dtype=float)
    u = DISTANCE_UNITS[key]
    if u == "Rs":
        return v * const.schwarzschild_radius(params.mass_g)
    if u == "cm":
        return v * 1.0
    if u == "pc":
        return v * const.pc
    from .fields import r_blr_cm
    return v * r_blr_cm(params)


# ------------------------------------------------------------------------------------------
# global (z-independent) quantities
# ------------------------------------------------------------------------------------------
def schwarzschild_radius(params: JetParameters) -> float:
    return const.schwarzschild_radius(params.mass_g)


def disc_luminosity(params: JetParameters) -> float:
    """L_d = ṁ L_Edd [erg/s]."""
    return params.mdot * const.eddington_luminosity(params.mass_g)


def accretion_rate(params: JetParameters) -> float:
    """Ṁ = L_d/(η_rad c²) [g/s]."""
    return disc_luminosity(params) / (params.eta_rad * const.c**2)


def jet_power(params: JetParameters) -> float:
    """L_jet = ε_jet Ṁc² (default) or ε_jet L_d [erg/s] (Eqs. 8–9)."""
    if params.jet_power_norm == "accretion":
        return params.eps_jet * accretion_rate(params) * const.c**2
    return params.eps_jet * disc_luminosity(params)


def beta_of(gamma):
    g = np.asarray(gamma, dtype=float)
    return np.sqrt(np.clip(1.0 - 1.0 / g**2, 0.0, None))


def base_density(params: JetParameters) -> float:
    """n0 = (1+κ)L_jet/[πR0²Γ0²β0c³(1+σ0)(m_p+κm_e)] [cm⁻³] (Eq. 11)."""
    r0 = params.r0_rs * schwarzschild_radius(params)
    b0 = float(beta_of(params.gamma0))
    return ((1.0 + params.kappa) * jet_power(params)
            / (math.pi * r0**2 * params.gamma0**2 * b0 * const.c**3 * (1.0 + params.sigma0)
               * (const.m_p + params.kappa * const.m_e)))


# ------------------------------------------------------------------------------------------
# profiles
# ------------------------------------------------------------------------------------------
def _z(z_cm):
    return np.atleast_1d(np.asarray(z_cm, dtype=float))


def lorentz_factor(params: JetParameters, z_cm) -> np.ndarray:
    """Γ(z) (Eq. 1) with law 'sqrt' (default), 'linear' or 'log' between z0 and z_acc.
    Same shape as ``z_cm`` (0-d for a scalar)."""
    z = np.asarray(z_cm, dtype=float)
    rs = schwarzschild_radius(params)
    z0, za = params.z0_rs * rs, params.z_acc_rs * rs
    zc = np.clip(z, z0, za)
    if params.acceleration_law == "sqrt":
        f = (np.sqrt(zc) - math.sqrt(z0)) / (math.sqrt(za) - math.sqrt(z0))
    elif params.acceleration_law == "linear":
        f = (zc - z0) / (za - z0)
    else:
        f = np.log(zc / z0) / math.log(za / z0)
    return params.gamma0 + (params.gamma_max_eff - params.gamma0) * f


def doppler_factor(gamma, theta_obs_deg) -> np.ndarray:
    """δ = 1/[Γ(1 − β cos θ_obs)] (Eq. 2)."""
    g = np.asarray(gamma, dtype=float)
    return 1.0 / (g * (1.0 - beta_of(g) * math.cos(math.radians(theta_obs_deg))))


def jet_radius(params: JetParameters, z_cm, gamma) -> np.ndarray:
    """R(z) = R0 + max(z − z0, 0) tan(θ_app/Γ(z)) (Eq. 3)."""
    z = np.asarray(z_cm, dtype=float)
    rs = schwarzschild_radius(params)
    th = math.radians(params.theta_app_deg) / np.asarray(gamma, dtype=float)
    return params.r0_rs * rs + np.clip(z - params.z0_rs * rs, 0.0, None) * np.tan(th)


def magnetisation(params: JetParameters, gamma) -> np.ndarray:
    """σ = μ/Γ − 1 (Eq. 6); equals σ_acc at Γ = Γmax when Γmax is derived."""
    return params.mu / np.asarray(gamma, dtype=float) - 1.0


def number_density(params: JetParameters, gamma, radius) -> np.ndarray:
    """n = n0Γ0β0R0²/(ΓβR²) (Eq. 4), total (pairs + protons) [cm⁻³]."""
    r0 = params.r0_rs * schwarzschild_radius(params)
    b0 = float(beta_of(params.gamma0))
    g = np.asarray(gamma, dtype=float)
    return base_density(params) * params.gamma0 * b0 * r0**2 / (g * beta_of(g) * np.asarray(radius) ** 2)


def magnetic_field(params: JetParameters, sigma, gamma, radius) -> np.ndarray:
    """B' = (2/(RΓ))[σL_jet/((1+σ)βc)]^½ [G] (Eq. 13)."""
    g = np.asarray(gamma, dtype=float)
    s = np.asarray(sigma, dtype=float)
    return 2.0 / (np.asarray(radius) * g) * np.sqrt(s * jet_power(params) / ((1.0 + s) * beta_of(g) * const.c))


def magnetic_field_from_density(params: JetParameters, sigma, n_total) -> np.ndarray:
    """B' = [4πσρc²]^½ with ρ = n_p(m_p+κm_e), n_p = n/(1+κ) (Eq. 5)."""
    rho = np.asarray(n_total) / (1.0 + params.kappa) * (const.m_p + params.kappa * const.m_e)
    return np.sqrt(4.0 * math.pi * np.asarray(sigma) * rho * const.c**2)


@dataclass
class JetState:
    """Jet quantities at distances z (arrays of shape (nz,)); cgs."""

    z_cm: np.ndarray
    z_rs: np.ndarray
    gamma: np.ndarray
    beta: np.ndarray
    doppler: np.ndarray
    radius: np.ndarray
    n: np.ndarray  # total number density (pairs + protons) [cm^-3]
    sigma: np.ndarray
    B: np.ndarray  # comoving field [G]
    u_B: np.ndarray  # B'^2/8π [erg cm^-3]
    theta_j: np.ndarray  # intrinsic half-opening angle θ_app/Γ [rad]
    L_P: np.ndarray  # Poynting power σL_jet/(1+σ) [erg/s]
    L_kin: np.ndarray  # kinetic (incl. rest mass) L_jet/(1+σ) [erg/s]
    L_jet: float
    mu: float
    sigma0_min: float
    gamma_max: float


def jet_state(params: JetParameters, z_cm) -> JetState:
    """Eqs. 1–13 at distances z [cm]."""
    z = _z(z_cm)
    g = lorentz_factor(params, z)
    b = beta_of(g)
    r = jet_radius(params, z, g)
    s = magnetisation(params, g)
    B = magnetic_field(params, s, g, r)
    lj = jet_power(params)
    return JetState(
        z_cm=z, z_rs=z / schwarzschild_radius(params), gamma=g, beta=b,
        doppler=doppler_factor(g, params.theta_obs), radius=r, n=number_density(params, g, r),
        sigma=s, B=B, u_B=B**2 / (8.0 * math.pi), theta_j=math.radians(params.theta_app_deg) / g,
        L_P=s / (1.0 + s) * lj, L_kin=lj / (1.0 + s), L_jet=lj, mu=params.mu,
        sigma0_min=params.sigma0_min, gamma_max=params.gamma_max_eff)


# ------------------------------------------------------------------------------------------
# full blob state
# ------------------------------------------------------------------------------------------
@dataclass
class BlobState:
    """Everything the radiative solver needs at distances z (arrays (nz,)), plus validity."""

    z_cm: np.ndarray
    z_rs: np.ndarray
    gamma: np.ndarray
    beta: np.ndarray
    doppler: np.ndarray
    radius: np.ndarray
    n: np.ndarray
    sigma: np.ndarray
    B: np.ndarray
    u_B: np.ndarray
    p: np.ndarray
    L_inj: np.ndarray  # total comoving injection luminosity [erg/s]
    L_inj_e: np.ndarray  # pairs
    L_inj_p: np.ndarray  # protons
    mean_gamma_e: np.ndarray
    mean_gamma_p: np.ndarray
    gamma_min_e: np.ndarray
    gamma_min_p: np.ndarray
    gamma_max_e: np.ndarray
    gamma_max_p: np.ndarray
    gamma_rec_e: np.ndarray
    gamma_esc_e: np.ndarray
    gamma_rad_e: np.ndarray
    gamma_rec_p: np.ndarray
    gamma_esc_p: np.ndarray
    gamma_rad_p: np.ndarray
    u_AD: np.ndarray
    u_BLR: np.ndarray
    u_DT: np.ndarray
    valid: np.ndarray  # bool
    reason: list  # str per distance ("" when valid)
    L_jet: float = float("nan")

    def row(self, i: int) -> dict:
        """Values at the i-th distance as a dict of Python floats (and 'valid', 'reason')."""
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, np.ndarray):
                out[f.name] = v[i].item()
            elif isinstance(v, list):
                out[f.name] = v[i]
            else:
                out[f.name] = v
        return out

    def as_dict(self) -> dict:
        return asdict(self)

    def cell_quantities(self, i: int = 0) -> dict[str, float]:
        """Values at the i-th distance keyed like ``sweep.model.cell.JET_QUANTITIES``."""
        r = self.row(i)
        return {"z_cm": r["z_cm"], "z_rs": r["z_rs"], "gamma_bulk": r["gamma"], "doppler": r["doppler"],
                "sigma": r["sigma"], "p": r["p"], "radius": r["radius"], "B": r["B"], "u_B": r["u_B"],
                "u_AD": r["u_AD"], "u_BLR": r["u_BLR"], "u_DT": r["u_DT"], "L_inj": r["L_inj"],
                "gamma_min_e": r["gamma_min_e"], "gamma_min_p": r["gamma_min_p"],
                "gamma_max_e": r["gamma_max_e"], "gamma_max_p": r["gamma_max_p"]}


def blob_state(params: JetParameters, z_cm, nu_prime=None) -> BlobState:
    """Full blob state at distances z [cm] (jet + injection + bolometric external fields).

    ``nu_prime``: comoving frequency grid [Hz] for the KN-weighted IC energy density in the pair
    radiation limit (default ``fields.default_nu_grid(params)``, 8 points per decade).
    Invalid distances (z < z0, ...) are computed with the base state and flagged in
    ``valid``/``reason``; a parameter-level invalidity (σ0 < σ0,min) flags all distances.
    """
    from . import fields as fl
    from . import injection as inj

    js = jet_state(params, z_cm)
    g, b, B, R, s = js.gamma, js.beta, js.B, js.radius, js.sigma
    p = inj.p_of_sigma(s, params)
    l_inj = inj.injection_luminosity(params, g, b, B, R)

    nu = fl.default_nu_grid(params) if nu_prime is None else np.asarray(nu_prime, dtype=float)
    spec = fl.external_fields(params, js.z_cm, nu, gamma=g)
    u_nu_tot = spec["disc"] + spec["blr"] + spec["dt"]
    bol = fl.u_bolometric(params, js.z_cm, gamma=g)

    rec_e = inj.gamma_max_reconnection(params, B, R, const.m_e)
    esc_e = inj.gamma_max_escape(params, B, R, const.m_e)
    rad_e = inj.gamma_rad_pairs(params, B, nu, u_nu_tot)
    rec_p = inj.gamma_max_reconnection(params, B, R, const.m_p)
    esc_p = inj.gamma_max_escape(params, B, R, const.m_p)
    rad_p = inj.gamma_rad_protons(params, B)
    gmax_e = np.minimum(np.minimum(rec_e, esc_e), rad_e)
    gmax_p = np.minimum(np.minimum(rec_p, esc_p), rad_p)
    mean_e, mean_p = inj.mean_gamma_targets(params, s)
    gmin_e = inj.gamma_min(params, p, mean_e, gmax_e, params.gamma_min_e)
    gmin_p = inj.gamma_min(params, p, mean_p, gmax_p, params.gamma_min_p)

    reasons = []
    for zi in js.z_cm:  # parameter-level checks (σ0 < σ0,min, ...) come first in check_cell
        chk = check_cell(params, zi)
        reasons.append("" if chk.ok else chk.reason)
    valid = np.array([r == "" for r in reasons])

    return BlobState(
        z_cm=js.z_cm, z_rs=js.z_rs, gamma=g, beta=b, doppler=js.doppler, radius=R, n=js.n,
        sigma=s, B=B, u_B=js.u_B, p=p, L_inj=l_inj, L_inj_e=params.f_split_pairs * l_inj,
        L_inj_p=(1.0 - params.f_split_pairs) * l_inj, mean_gamma_e=mean_e, mean_gamma_p=mean_p,
        gamma_min_e=gmin_e, gamma_min_p=gmin_p, gamma_max_e=gmax_e, gamma_max_p=gmax_p,
        gamma_rec_e=rec_e, gamma_esc_e=esc_e, gamma_rad_e=rad_e, gamma_rec_p=rec_p,
        gamma_esc_p=esc_p, gamma_rad_p=np.broadcast_to(rad_p, g.shape).copy(),
        u_AD=bol["disc"], u_BLR=bol["blr"], u_DT=bol["dt"], valid=valid, reason=reasons,
        L_jet=js.L_jet)


def crossover_numerical(params: JetParameters) -> float:
    """Distance [cm] where u'_AD(z) = u'_BLR(z) along the jet (z0 ≤ z ≤ R_BLR) for the blob's
    Γ(z) of Eq. 1 (``fields.crossover_analytic`` is Eq. 19's estimate); nan if none."""
    from scipy.optimize import brentq

    from .fields import blr_u, disc_u, r_blr_cm

    rs = const.schwarzschild_radius(params.mass_g)

    def f(lnz):
        z = np.array([math.exp(lnz)])
        g = lorentz_factor(params, z)
        return math.log(disc_u(params, z, g)[0] / blr_u(params, z, g)[0])

    a, b = math.log(params.z0_rs * rs), math.log(r_blr_cm(params))
    if f(a) * f(b) > 0:
        return float("nan")
    return math.exp(brentq(f, a, b, xtol=1e-8))
