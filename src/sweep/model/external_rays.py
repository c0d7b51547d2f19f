"""Angular structure of the external photon fields: lab-frame rays and their exact comoving
transformation onto the photon lattice (model.md §3; issue 11).

A field at the blob (on the jet axis at distance z) is a set of lab-frame RAYS, each an
axisymmetric bundle of photons propagating at cosine μ to the jet axis (+z), carrying a
bolometric energy density dU [erg cm⁻³] with a normalised spectral shape: a black body of
temperature T (``kind="blackbody"``) or a line at frequency ν₀ (``kind="line"``).

Transformation to the blob frame (bulk Lorentz factor Γ, β along +z): a ray's photons are
Doppler shifted by D = Γ(1 − βμ) (ν′ = Dν), turn to μ′ = (μ − β)/(1 − βμ), and, by the
invariance of I_ν/ν³ and dΩ′ = dΩ/D², carry u′_ν′ = D u_ν(ν′/D), i.e. a bolometric D² dU.
This is exactly the integrand of model.md Eqs. 32 and 34–35, so for the disc and the BLR the
rays of ``disc_rays``/``blr_rays`` reproduce ``fields.disc_u``/``fields.blr_u`` node for node.

Geometries
----------
* ``disc_rays``: Shakura–Sunyaev annuli, Planck intensity B_ν(T(R)) (model.md Eq. 32; the
  quadrature nodes of ``fields``).
* ``blr_rays``: the hemispherical cos θ_i shell of model.md Eqs. 33–36 (both root branches,
  inside and outside R_BLR); black body at T_max or the Lyα line.
* ``torus_rays``: model.md's torus: isotropic in the lab inside R_DT (u_DT = ξ_DT L_d/4πR_DT²c),
  nothing beyond (the contract drops it there), black body at T_DT.
* ``ring_rays``: a thin ring of radius R in the disc plane re-emitting ξL_d isotropically (the
  geometry of agnpy's ``RingDustTorus``; Finke 2016), valid at any z, line or black body.
* ``shell_rays``: a thin spherical shell of radius R re-emitting ξL_d isotropically (agnpy's
  ``SphericalShellBLR``; Finke 2016), at any z.
* ``point_source_rays``: a point source at the black hole (agnpy's ``PointSourceBehindJet``).
* ``ss_disc_rays``: an SS disc given by (M, L_d, η, R_in, R_out), Planck intensity.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import constants as const

_XG, _WG = np.polynomial.legendre.leggauss(48)


@dataclass
class LabRays:
    """Lab-frame rays at the blob: propagation cosines ``mu`` (n,), bolometric energy densities
    ``du`` (n,) [erg cm⁻³], spectral ``kind`` ('blackbody' | 'line') with ``t`` [K] or ``nu0``
    [Hz] per ray (n,)."""

    mu: np.ndarray
    du: np.ndarray
    kind: str
    t: np.ndarray | None = None
    nu0: np.ndarray | None = None
    name: str = "external"

    def __post_init__(self):
        self.mu = np.atleast_1d(np.asarray(self.mu, dtype=float)).ravel()
        self.du = np.broadcast_to(np.asarray(self.du, dtype=float), self.mu.shape).copy()
        if self.kind not in ("blackbody", "line"):
            raise ValueError(f"kind: value {self.kind!r} is invalid; allowed: 'blackbody', 'line'")
        if self.kind == "blackbody":
            self.t = np.broadcast_to(np.asarray(self.t, dtype=float), self.mu.shape).copy()
        else:
            self.nu0 = np.broadcast_to(np.asarray(self.nu0, dtype=float), self.mu.shape).copy()

    def comoving_u(self, gamma: float) -> float:
        """Bolometric comoving energy density Σ D² dU [erg cm⁻³]."""
        b = math.sqrt(max(0.0, 1.0 - 1.0 / gamma**2))
        d = gamma * (1.0 - b * self.mu)
        return float(np.sum(d**2 * self.du))

    def __add__(self, other: "LabRays") -> "RaySet":
        return RaySet([self, other])


@dataclass
class RaySet:
    parts: list

    def __add__(self, other):
        return RaySet(self.parts + (other.parts if isinstance(other, RaySet) else [other]))


def as_parts(rays) -> list:
    if isinstance(rays, LabRays):
        return [rays]
    if isinstance(rays, RaySet):
        return list(rays.parts)
    return [r for item in rays for r in as_parts(item)]


# ------------------------------------------------------------------------------------------
# comoving rays on the photon lattice
# ------------------------------------------------------------------------------------------
def _planck_number_shape(x, theta):
    """Photon number per unit x of a black body of temperature θ = kT/m_e c², up to a constant
    (x² /(e^{x/θ} − 1)); safe for large x/θ."""
    x, theta = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(theta, dtype=float))
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        a = x / theta
        ok = a < 700.0
        out = np.zeros(a.shape)
        # evaluated where it is not zero only (most of a wide lattice lies in the Wien cut-off)
        out[ok] = x[ok] ** 2 / np.expm1(a[ok])
    return out


def comoving_on_lattice(rays, gamma: float, x: np.ndarray, dx: np.ndarray, ppd: int,
                        target_u: float | None = None):
    """(μ′ (n,), N (n, nx)): comoving propagation cosines and photon numbers per lattice bin
    [cm⁻³] of every ray; each ray's energy Σ_k N x m_e c² is its exact D² dU (black bodies:
    the Planck shape sampled at the bin centres, renormalised; lines: split between the two
    bins around Dx₀ conserving number and energy).  ``target_u`` rescales the whole set to that
    bolometric comoving energy density (None: as given)."""
    parts = as_parts(rays)
    b = math.sqrt(max(0.0, 1.0 - 1.0 / gamma**2))
    mus, rows = [], []
    x = np.asarray(x, dtype=float)
    nx = x.size
    lx0 = math.log10(x[0])
    r = 10.0 ** (1.0 / ppd)
    for p in parts:
        d = gamma * (1.0 - b * p.mu)
        mup = (p.mu - b) / (1.0 - b * p.mu)
        e = d**2 * p.du / const.m_e_c2  # comoving energy per ray in m_e c² cm⁻³
        if p.kind == "blackbody":
            theta = (const.k_B * p.t * d / const.m_e_c2)[:, None]
            shape = _planck_number_shape(x[None, :], theta) * dx[None, :]
            norm = np.sum(shape * x[None, :], axis=1)
            N = np.where(norm[:, None] > 0, shape * (e / np.where(norm > 0, norm, 1.0))[:, None], 0.0)
        else:
            N = np.zeros((p.mu.size, nx))
            xl = d * p.nu0 * const.h / const.m_e_c2
            pos = (np.log10(xl) - lx0) * ppd
            kb = np.floor(pos).astype(int)
            ratio = xl / (x[0] * r ** kb)
            f = np.clip((ratio - 1.0) / (r - 1.0), 0.0, 1.0)
            n_tot = e / xl
            rows_i = np.arange(p.mu.size)
            for kk, w in ((kb, 1.0 - f), (kb + 1, f)):
                ok = (kk >= 0) & (kk < nx)
                N[rows_i[ok], kk[ok]] += (w * n_tot)[ok]
        keep = p.du > 0
        mus.append(mup[keep])
        rows.append(N[keep])
    mu = np.concatenate(mus) if mus else np.zeros(0)
    N = np.vstack(rows) if rows else np.zeros((0, nx))
    if target_u is not None:
        tot = float(np.sum(N * x[None, :])) * const.m_e_c2
        if tot > 0:
            N = N * (target_u / tot)
    return mu, N


# ------------------------------------------------------------------------------------------
# geometries of the jet model (model.md §3)
# ------------------------------------------------------------------------------------------
def disc_rays(params, z_cm: float) -> LabRays:
    """Shakura–Sunyaev disc annuli (model.md Eq. 32; the nodes of ``fields``)."""
    from . import fields

    mu, dmu, t = fields._disc_nodes(params, np.atleast_1d(float(z_cm)))
    du = 2.0 * math.pi / const.c * dmu[0] * const.sigma_SB * t[0] ** 4 / math.pi
    return LabRays(mu=mu[0], du=du, kind="blackbody", t=t[0], name="disc")


def blr_rays(params, z_cm: float) -> LabRays:
    """The model.md BLR shell (Eqs. 33–36), both root branches; black body at T_max or Lyα."""
    from . import fields

    z = np.atleast_1d(float(z_cm))
    mus, dus = [], []
    for mu, w, inten in fields._blr_nodes(params, z):
        mus.append(mu[0])
        dus.append(2.0 * math.pi / const.c * w[0] * inten[0])
    mu = np.concatenate(mus)
    du = np.concatenate(dus)
    if params.blr_spectrum == "blackbody":
        return LabRays(mu=mu, du=du, kind="blackbody", t=fields.disc_t_max(params), name="blr")
    nu0 = params.blr_line_ev * const.eV / const.h
    return LabRays(mu=mu, du=du, kind="line", nu0=nu0, name="blr")


def lab_isotropic_rays(u: float, t_k: float, n: int = 48, name: str = "dt") -> LabRays:
    """A field isotropic in the lab with energy density u [erg cm⁻³], black body at t_k."""
    xg, wg = (_XG, _WG) if n == _XG.size else np.polynomial.legendre.leggauss(n)
    return LabRays(mu=xg, du=0.5 * wg * u, kind="blackbody", t=t_k, name=name)


def torus_rays(params, z_cm: float) -> LabRays:
    """model.md's torus: lab-isotropic u_DT = ξ_DT L_d/(4πR_DT²c) inside R_DT, none beyond."""
    from . import fields

    u = params.xi_dt * fields.disc_luminosity(params) / (4.0 * math.pi * fields.r_dt_cm(params) ** 2 * const.c)
    if float(z_cm) >= fields.r_dt_cm(params):
        u = 0.0
    return lab_isotropic_rays(u, params.t_dt_k, name="dt")


def jet_rays(params, z_cm: float) -> dict[str, LabRays]:
    """{'disc','blr','dt'} → lab rays of the jet model's fields at z (model.md geometries)."""
    return {"disc": disc_rays(params, z_cm), "blr": blr_rays(params, z_cm),
            "dt": torus_rays(params, z_cm)}


# ------------------------------------------------------------------------------------------
# generic geometries (agnpy / Finke 2016 targets)
# ------------------------------------------------------------------------------------------
def point_source_rays(l_disk: float, z_cm: float, *, nu0: float | None = None,
                      t_k: float | None = None) -> LabRays:
    """A point source of luminosity L at the black hole: u = L/(4πz²c), all photons along +z."""
    u = l_disk / (4.0 * math.pi * z_cm**2 * const.c)
    if nu0 is not None:
        return LabRays(mu=[1.0], du=[u], kind="line", nu0=nu0, name="point")
    return LabRays(mu=[1.0], du=[u], kind="blackbody", t=t_k, name="point")


def ring_rays(xi_l: float, r_ring: float, z_cm: float, *, nu0: float | None = None,
              t_k: float | None = None) -> LabRays:
    """A thin ring of radius R in the disc plane re-emitting ξL isotropically: every photon
    reaches the blob from distance √(R²+z²) at μ = z/√(R²+z²); u = ξL/(4π(R²+z²)c)."""
    d2 = r_ring**2 + z_cm**2
    mu = z_cm / math.sqrt(d2)
    u = xi_l / (4.0 * math.pi * d2 * const.c)
    if nu0 is not None:
        return LabRays(mu=[mu], du=[u], kind="line", nu0=nu0, name="ring")
    return LabRays(mu=[mu], du=[u], kind="blackbody", t=t_k, name="ring")


def shell_rays(xi_l: float, r_shell: float, z_cm: float, *, nu0: float | None = None,
               t_k: float | None = None, n: int = 96) -> LabRays:
    """A thin spherical shell of radius R re-emitting ξL isotropically (surface brightness
    ξL/(16π²R²) per sr), seen from z on the axis: a point at zenith cosine μ_re is at distance
    x, x² = R² + z² − 2Rzμ_re, and sends photons along μ* = (z − Rμ_re)/x with
    du = ξL dμ_re/(8π x² c).  Quadrature in s = ln(1 + u/a), u = 1 − μ_re, a = (R−z)²/(2Rz),
    which makes the 1/x² peak flat (Gauss–Legendre, n nodes).  At z = R exactly u diverges
    (logarithmically) for a thin shell; z must differ from R."""
    if z_cm <= 0 or abs(z_cm - r_shell) < 1e-9 * r_shell:
        raise ValueError(f"z_cm: value {z_cm!r} is invalid; allowed: > 0 and ≠ R ({r_shell:g})")
    a = (r_shell - z_cm) ** 2 / (2.0 * r_shell * z_cm)
    smax = math.log1p(2.0 / a)
    xg, wg = np.polynomial.legendre.leggauss(n)
    s = 0.5 * smax * (xg + 1.0)
    u = a * np.expm1(s)
    w = 0.5 * smax * wg * a * np.exp(s)  # du
    m = 1.0 - u
    x2 = r_shell**2 + z_cm**2 - 2.0 * r_shell * z_cm * m
    mu = np.clip((z_cm - r_shell * m) / np.sqrt(x2), -1.0, 1.0)
    du = xi_l * w / (8.0 * math.pi * x2 * const.c)
    if nu0 is not None:
        return LabRays(mu=mu, du=du, kind="line", nu0=nu0, name="shell")
    return LabRays(mu=mu, du=du, kind="blackbody", t=t_k, name="shell")


def ss_disc_rays(mass_g: float, l_disk: float, eta: float, r_in: float, r_out: float,
                 z_cm: float, *, n: int = 96) -> LabRays:
    """A Shakura–Sunyaev disc (M, L_d, η, R_in, R_out) seen from z on its axis: annuli in ln R
    (Gauss–Legendre), each a black body of the local T(R) with Planck intensity σT⁴/π
    (model.md Eqs. 31–32)."""
    mdot = l_disk / (eta * const.c**2)
    xg, wg = np.polynomial.legendre.leggauss(n)
    lo, hi = math.log(r_in), math.log(r_out)
    lnr = 0.5 * (hi - lo) * xg + 0.5 * (hi + lo)
    r = np.exp(lnr)
    dr = 0.5 * (hi - lo) * wg * r
    phi = np.clip(1.0 - np.sqrt(r_in / r), 0.0, None)
    flux = 3.0 * const.G * mass_g * mdot * phi / (8.0 * math.pi * r**3)  # σT⁴ of one face
    t = (flux / const.sigma_SB) ** 0.25
    d2 = z_cm**2 + r**2
    mu = z_cm / np.sqrt(d2)
    dmu = dr * z_cm * r / d2**1.5
    du = 2.0 * math.pi / const.c * dmu * flux / math.pi
    return LabRays(mu=mu, du=du, kind="blackbody", t=t, name="disc")
