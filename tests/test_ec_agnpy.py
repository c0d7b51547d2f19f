"""External Compton toward the observer against agnpy (full angular treatment; issue 11).

(Disc: see ``_agnpy_disc``; agnpy's Shakura–Sunyaev disc at 100 and 300 R_g, δ = Γ, δ > Γ, δ < Γ.)

Blobs with GIVEN electron spectra (FSRQ-like: broken power law, γ 10–1e5; BL Lac-like: power
law, γ 100–1e6) on agnpy's targets rebuilt with ``sweep.model.external_rays``: a thin spherical
shell BLR emitting Lyα isotropically (``SphericalShellBLR`` ↔ ``shell_rays``), and a ring torus
(``RingDustTorus`` ↔ ``ring_rays``, line at 2.7 kT_DT).  Blob inside (0.3 R), at (0.9 R; a thin
shell's u diverges at z = R exactly) and outside (3 R) the BLR, and beyond the torus (2 R_DT),
with δ = Γ, δ > Γ and δ < Γ.

agnpy is run with converged quadrature: its γ integral over the support of N_e only
([γ_min δ, γ_max δ], 400 log nodes: agnpy's default grid puts the N_e jump at γ_min inside a
trapezoid cell, an error up to 0.2 dex for the BL Lac blob), and a μ grid graded toward the shell
point closest to the blob (its default linear grid misses the 1/x² peak at 0.9 R by 0.05 dex).
Tolerance (issue 11): |Δ log νF_ν| median ≤ 0.05 dex and max ≤ 0.15 dex over the frequencies
above 1e-3 of the peak, excluding the last 0.5 dex below the high-energy cut-off.
"""
import math
import warnings

import numpy as np
import pytest

agnpy = pytest.importorskip("agnpy", reason="agnpy is a test dependency (pip install '.[test]')")

import astropy.units as u  # noqa: E402
from agnpy.compton import ExternalCompton  # noqa: E402
from agnpy.spectra import BrokenPowerLaw, PowerLaw  # noqa: E402
from agnpy.targets import RingDustTorus, SphericalShellBLR  # noqa: E402
from astropy.coordinates import Distance  # noqa: E402

from sweep.model import constants as const  # noqa: E402
from sweep.model import external_rays as er  # noqa: E402
from sweep.model import sed  # noqa: E402

Z_RED = 0.1
R_B = 1e16
XI = 0.1
NU = np.logspace(15, 28, 40)


def _blob(kind):
    if kind == "fsrq":
        return 1e46, BrokenPowerLaw(k=1e-2 * u.Unit("cm-3"), p1=2.0, p2=3.5, gamma_b=1e3,
                                    gamma_min=10, gamma_max=1e5)
    return 1e44, PowerLaw(k=1e-1 * u.Unit("cm-3"), p=2.3, gamma_min=100, gamma_max=1e6)


def _agnpy(kind, target, zf, gam_b, delta):
    l_d, n_e = _blob(kind)
    d_l = Distance(z=Z_RED).cgs
    beta = math.sqrt(1 - 1 / gam_b**2)
    mu_s = (1 - 1 / (gam_b * delta)) / beta
    gam = np.logspace(math.log10(n_e.gamma_min * delta), math.log10(n_e.gamma_max * delta), 400)
    phi = np.linspace(0, 2 * np.pi, 64)
    args = dict(integrator=np.trapezoid if hasattr(np, "trapezoid") else np.trapz, gamma=gam, phi=phi)
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if target == "blr":
            tg = SphericalShellBLR(l_d * u.Unit("erg s-1"), XI, "Lyalpha", 1e17 * math.sqrt(l_d / 1e45) * u.cm)
            r = zf * tg.R_line
            a = (tg.R_line - r) ** 2 / (2 * tg.R_line * r)
            mu = np.unique(np.concatenate([np.linspace(-1, 0.5, 40),
                                           1 - np.geomspace(0.5, max(1e-3 * a.to_value(""), 1e-7), 100), [1.0]]))
            for nu in NU:
                out.append(ExternalCompton.evaluate_sed_flux_blr(
                    [nu] * u.Hz, Z_RED, d_l, delta, mu_s, R_B * u.cm, tg.L_disk, tg.xi_line,
                    tg.epsilon_line, tg.R_line, r, n_e, *n_e.parameters, mu=mu, **args)[0])
            nu0 = tg.epsilon_line * const.m_e_c2 / const.h
            rays = er.shell_rays(XI * l_d, tg.R_line.to_value("cm"), r.to_value("cm"), nu0=nu0)
        else:
            tg = RingDustTorus(l_d * u.Unit("erg s-1"), XI, 1000 * u.K,
                               R_dt=2.5e18 * math.sqrt(l_d / 1e45) * u.cm)
            r = zf * tg.R_dt
            for nu in NU:
                out.append(ExternalCompton.evaluate_sed_flux_dt(
                    [nu] * u.Hz, Z_RED, d_l, delta, mu_s, R_B * u.cm, tg.L_disk, tg.xi_dt,
                    tg.epsilon_dt, tg.R_dt, r, n_e, *n_e.parameters, **args)[0])
            nu0 = tg.epsilon_dt * const.m_e_c2 / const.h
            rays = er.ring_rays(XI * l_d, tg.R_dt.to_value("cm"), r.to_value("cm"), nu0=nu0)
    ref = np.array([o.to_value("erg cm-2 s-1") for o in out])
    g = np.logspace(0, 7, 1401)
    em = sed.Emitter(gamma=g, n_e=n_e(g).to_value("cm-3"), R=R_B, B=0.1)
    ours = sed.external_compton_beamed(NU, em, rays, gamma_bulk=gam_b, doppler=delta, z=Z_RED,
                                       flux=True, ppd=20)
    return ref, ours


CASES = [  # (blob, target, z / R, Γ, δ)
    ("fsrq", "blr", 0.3, 15, 15), ("fsrq", "blr", 0.9, 15, 25), ("fsrq", "blr", 3.0, 15, 6),
    ("fsrq", "dt", 2.0, 15, 15), ("fsrq", "dt", 2.0, 15, 25), ("fsrq", "dt", 2.0, 15, 6),
    ("bllac", "blr", 0.3, 10, 5), ("bllac", "blr", 0.9, 10, 10), ("bllac", "blr", 3.0, 10, 18),
    ("bllac", "dt", 2.0, 10, 18),
]


@pytest.mark.slow
@pytest.mark.parametrize("kind,target,zf,gam_b,delta", CASES)
def test_ec_matches_agnpy(kind, target, zf, gam_b, delta):
    ref, ours = _agnpy(kind, target, zf, gam_b, delta)
    sel = (ref > 1e-3 * ref.max()) & (ours > 0)
    top = NU[sel].max()
    sel &= NU < top / 10**0.5
    assert sel.sum() >= 15
    d = np.abs(np.log10(ours[sel] / ref[sel]))
    assert np.median(d) <= 0.05, d
    assert d.max() <= 0.15, d


def _agnpy_disc(zf_rg, gam_b, delta, mu_size=240):
    """FSRQ-like blob over agnpy's ``SSDisk`` (M = 1e9 M_sun, L_d = 1e46, η = 1/12,
    R_in = 6 R_g, R_out = 200 R_g).  agnpy's disc (Dermer & Menon 2009) differs from model.md's:
    its intensity is the Planck one × 1/(2μ), and every annulus emits a line at
    ε = 2.7e-4 (l_Edd/(M_8 η))^¼ R̃^{-3/4}; the rays below are built with those conventions
    from ``ss_disc_rays`` (same annuli), so what is compared is the EC machinery."""
    from agnpy.targets import SSDisk

    from sweep.model.constants import M_sun

    # agnpy's disc μ grid is linear between the cosines of R_out and R_in: 240 nodes converge it
    # to ≲ 0.01 dex here (120: 0.02; at 1000 R_g and δ < Γ it needs ~1000, hence 300 R_g)

    l_d, n_e = _blob("fsrq")
    m_bh = 1e9 * M_sun
    eta = 1 / 12
    disk = SSDisk(m_bh * u.g, l_d * u.Unit("erg s-1"), eta, 6, 200, R_g_units=True)
    r_g = disk.R_g.to_value("cm")
    r = zf_rg * r_g
    d_l = Distance(z=Z_RED).cgs
    beta = math.sqrt(1 - 1 / gam_b**2)
    mu_s = (1 - 1 / (gam_b * delta)) / beta
    gam = np.logspace(math.log10(n_e.gamma_min * delta), math.log10(n_e.gamma_max * delta), 400)
    phi = np.linspace(0, 2 * np.pi, 64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = np.array([ExternalCompton.evaluate_sed_flux_ss_disk(
            [nu] * u.Hz, Z_RED, d_l, delta, mu_s, R_B * u.cm, disk.M_BH, disk.L_disk, eta,
            disk.R_in, disk.R_out, r * u.cm, n_e, *n_e.parameters,
            integrator=np.trapezoid if hasattr(np, "trapezoid") else np.trapz,
            gamma=gam, mu_size=mu_size, phi=phi[::2])[0].to_value("erg cm-2 s-1") for nu in NU])
    base = er.ss_disc_rays(m_bh, l_d, eta, 6 * r_g, 200 * r_g, r, n=200)
    r_tilde = r * np.sqrt(base.mu**-2 - 1) / r_g
    eps = SSDisk.evaluate_epsilon(disk.L_disk, disk.M_BH, eta, r_tilde)
    rays = er.LabRays(mu=base.mu, du=base.du / (2 * base.mu), kind="line",
                      nu0=eps * const.m_e_c2 / const.h)
    g = np.logspace(0, 7, 1401)
    em = sed.Emitter(gamma=g, n_e=n_e(g).to_value("cm-3"), R=R_B, B=0.1)
    ours = sed.external_compton_beamed(NU, em, rays, gamma_bulk=gam_b, doppler=delta, z=Z_RED,
                                       flux=True, ppd=20)
    return ref, ours


@pytest.mark.slow
@pytest.mark.parametrize("zf_rg,gam_b,delta", [(100, 10, 10), (300, 10, 18), (300, 10, 5)])
def test_disc_ec_matches_agnpy(zf_rg, gam_b, delta):
    ref, ours = _agnpy_disc(zf_rg, gam_b, delta)
    sel = (ref > 1e-3 * ref.max()) & (ours > 0)
    top = NU[sel].max()
    sel &= NU < top / 10**0.5
    assert sel.sum() >= 15
    d = np.abs(np.log10(ours[sel] / ref[sel]))
    assert np.median(d) <= 0.05, d
    assert d.max() <= 0.15, d
