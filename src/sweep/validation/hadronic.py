"""ATHEνA Test 4 (leptohadronic) set-up and comparison figures (``../shared/data/athena/README.md``).

Used by ``tests/test_hadronic_solver.py``, ``benchmarks/bench_test4.py`` and
``benchmarks/test4_figures.py``; the YAML twin is ``examples/athena_test4.yaml``.

Test 4: sphere R = 1e16 cm, B = 0.1 G; electrons Q ∝ γ^-2.01 e^{−γ/10^5.5}, γ ≥ 1,
L_e = 10^40.6 erg/s; protons Q ∝ γ^-2.01 e^{−γ/10^6.93}, γ ≥ 1, L_p = 10^46.46 erg/s; escape R/c
for every species; electron and proton synchrotron, SSA, IC, γγ, Bethe–Heitler, photopion,
neutrinos; no pp, no adiabatic losses, no external photons; steady state, comoving.
The synchrotron kernel is ATHEνA's single-pitch-angle F(x) (see processes/synchrotron.py).

Figures (issue 5): over 10^8–10^26 Hz, photons: median |Δ log νL_ν| where νL_ν > 1e-3 of the peak
and max where > 1e-2 of the peak; all-flavour neutrinos: median |Δ log εL_ε| where > 1e-2 of the
peak (reference abscissa log10(E/m_ec²)).  Δ is the model interpolated (linear in log-log) onto
the reference abscissae; "peak" is the reference's.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from sweep.model import constants as const

L_E = 10**40.6
L_P = 10**46.46
#: environment variable naming the folder of the ATHEνA reference spectra (test-only data, never
#: shipped with the package; the tests and benchmarks point it at the repository's reference shelf)
ATHENA_DIR_ENV = "SWEEP_ATHENA_DIR"


def athena_test4_blob(ppd: int = 20, kernel: str = "single_pitch", **proton_kw):
    """The ATHEνA Test 4 blob (kinetics.Blob with a hadronic.ProtonExtension)."""
    from sweep.model.hadronic import ProtonExtension
    from sweep.model.kinetics import Blob, Injection, Processes

    ext = ProtonExtension(p=2.01, gamma_min=1.0, gamma_max=10**6.93, luminosity=L_P,
                          shape="power_law_exp_cutoff", **proton_kw)
    return Blob(R=1e16, B=0.1, ppd=ppd, processes=Processes(synchrotron_kernel=kernel),
                injections=[Injection("e", "power_law_exp_cutoff", p=2.01, gamma_min=1.0,
                                      gamma_max=10**5.5, luminosity=L_E)],
                extensions=[ext])


def load_reference(data_dir: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """ATHEνA Test 4 reference (photons, neutrinos) from ``data_dir``, else ``$SWEEP_ATHENA_DIR``."""
    d = data_dir or os.environ.get(ATHENA_DIR_ENV)
    if not d:
        raise FileNotFoundError(f"ATHEνA reference spectra: pass data_dir or set {ATHENA_DIR_ENV} "
                                "to the folder holding ATHEvA_test4_photons.txt")
    d = Path(d)
    return (np.loadtxt(d / "ATHEvA_test4_photons.txt"), np.loadtxt(d / "ATHEvA_test4_neutrinos.txt"))


def _interp_log(x_ref, x, y):
    pos = y > 0
    return np.interp(x_ref, np.log10(x[pos]), np.log10(y[pos]), left=-300.0, right=-300.0)


def figures(ss, ref_photons: np.ndarray, ref_neutrinos: np.ndarray) -> dict:
    """The issue-5 comparison figures [dex] of a solved Test 4 (see module docstring)."""
    lx, ly = ref_photons[:, 0], ref_photons[:, 1]
    model = _interp_log(lx, ss.nu, ss.nuLnu)
    d = np.abs(model - ly)
    band = (lx >= 8.0) & (lx <= 26.0)
    pk = ly.max()
    s3 = band & (ly > pk - 3.0)
    s2 = band & (ly > pk - 2.0)
    neut = ss.extra["neutrinos"]
    le = np.log10(np.asarray(neut["energy_ev"]) * const.eV / const.m_e_c2)
    yn = np.asarray(neut["ELE"]["all"])
    pos = yn > 0
    mn = np.interp(ref_neutrinos[:, 0], le[pos], np.log10(yn[pos]), left=-300.0, right=-300.0)
    dn = np.abs(mn - ref_neutrinos[:, 1])
    sn = ref_neutrinos[:, 1] > ref_neutrinos[:, 1].max() - 2.0
    return {"photons_median": float(np.median(d[s3])), "photons_max": float(np.max(d[s2])),
            "neutrinos_median": float(np.median(dn[sn])), "neutrinos_max": float(np.max(dn[sn])),
            "photon_residuals": (lx, model - ly), "neutrino_residuals": (ref_neutrinos[:, 0], mn - ref_neutrinos[:, 1])}


# ------------------------------------------------------------------------------------------
# Independent check of the solver's photopion secondaries: direct quadrature of KA08 Eq. (69)
# ------------------------------------------------------------------------------------------
NU_SPECIES = (3, 4, 5, 6)  # indices of nu_mu, antinu_mu, nu_e, antinu_e in photopion.SPECIES


def _make_ka08_quadrature():
    from numba import njit

    from sweep.model.processes.photopion import KA_ETA0, ka08_phi

    @njit(cache=True)
    def _q(E, species, lg, lng, lx, lnx, n_eta, n_g, x_top, g_top, mp_over_me):
        """dN/(dV dt dE) per unit E (E, x in m_ec², γ_p dimensionless) = ∫ dlnγ_p N_p(γ_p)/(m_p/m_e)
        ∫ dx n_x(x) Σ_s Φ_s(η, E/(γ_p m_p/m_e)), η = 4 x γ_p m_e/m_p (KA08 Eq. 69 in m_ec² units);
        trapezoid rules on n_eta log points in η (η₀ … η_max(x_top)) and n_g log points in γ_p,
        densities log-log interpolated (zero outside their grids)."""
        out = np.zeros(E.size)
        g_lo = max(KA_ETA0 * mp_over_me / (4.0 * x_top), 1.0)
        if g_lo >= g_top:
            return out
        lgs = np.linspace(np.log(g_lo), np.log(g_top), n_g)
        inner = np.zeros(n_g)
        f_eta = np.zeros(n_eta)
        for k in range(E.size):
            for j in range(n_g):
                gj = np.exp(lgs[j])
                eta_max = 4.0 * x_top * gj / mp_over_me
                inner[j] = 0.0
                if eta_max <= KA_ETA0:
                    continue
                xi = E[k] / (gj * mp_over_me)
                if xi >= 1.0:
                    continue
                le0 = np.log(KA_ETA0)
                dle = (np.log(eta_max) - le0) / (n_eta - 1)
                for i in range(n_eta):
                    eta = np.exp(le0 + i * dle)
                    xt = eta * mp_over_me / (4.0 * gj)
                    lxt = np.log(xt)
                    if lxt < lx[0] or lxt > lx[-1]:
                        f_eta[i] = 0.0
                        continue
                    nx = np.exp(np.interp(lxt, lx, lnx))
                    phi = 0.0
                    for s in species:
                        phi += ka08_phi(s, eta, xi)
                    f_eta[i] = nx * xt * phi  # integrand of d ln x (= d ln η at fixed γ_p)
                acc = 0.0
                for i in range(n_eta - 1):
                    acc += 0.5 * (f_eta[i] + f_eta[i + 1]) * dle
                inner[j] = acc
            acc = 0.0
            dlg = lgs[1] - lgs[0]
            for j in range(n_g):
                lgj = lgs[j]
                if lgj < lg[0] or lgj > lg[-1]:
                    continue
                w = 0.5 if (j == 0 or j == n_g - 1) else 1.0
                acc += w * np.exp(np.interp(lgj, lg, lng)) / mp_over_me * inner[j] * dlg
            out[k] = acc
        return out

    return _q


_KA08_QUAD = None


def ka08_secondaries_quadrature(ss, R, E, species=NU_SPECIES, n_eta=600, n_gamma=200, x_top=None):
    """E L_E [erg/s] (comoving, blob radius ``R`` [cm], escaping on R/c: E L_E = V E² q(E) m_ec²) of the photopion
    secondaries ``species`` (indices of ``photopion.SPECIES``) at energies ``E`` [m_ec²],
    computed by a direct quadrature of KA08 Eq. (69) from the solved run's protons
    (``ss.extra["protons"]``) and photons (``ss.nu``, ``ss.nuLnu``), with no table, binning or
    face lattice of the solver: an independent check of the solver's secondaries in
    ``pg_loss_model="ka08"`` (raw KA08 Φ).  ``n_eta``/``n_gamma``: log points of the trapezoid
    rules in η and γ_p; ``x_top``: highest target photon energy [m_ec²] (default: top of the
    run's photon grid).  With n_eta = 25 and x_top = h·1e32 Hz/m_ec² this reproduces the
    discretisation of the public LeHaMoC v1 code (``Qp_g_opt``), see docs/hadronic-solver.md §3."""
    global _KA08_QUAD
    if _KA08_QUAD is None:
        _KA08_QUAD = _make_ka08_quadrature()
    vol = 4.0 * np.pi / 3.0 * R**3
    me2 = const.m_e_c2
    pr = ss.extra["protons"]
    g = np.asarray(pr["gamma"], dtype=float)
    n = np.asarray(pr["n"], dtype=float)
    pos = n > 0
    x = const.h * np.asarray(ss.nu, dtype=float) / me2
    nuL = np.asarray(ss.nuLnu, dtype=float)
    nx = nuL / ((4.0 * np.pi / 3.0) * R**2 * const.c * me2 * x**2)  # cm⁻³ per unit x
    px = nx > 0
    E = np.asarray(E, dtype=float)
    q = _KA08_QUAD(E, np.asarray(species, dtype=np.int64), np.log(g[pos]), np.log(n[pos]),
                   np.log(x[px]), np.log(nx[px]), int(n_eta), int(n_gamma),
                   float(x[-1] if x_top is None else x_top), float(g[-1]), const.m_p / const.m_e)
    return vol * E**2 * q * me2


# ------------------------------------------------------------------------------------------
# Independent check of the solver's default (SOPHIA-table) photopion secondaries
# ------------------------------------------------------------------------------------------
NU_NAMES = ("nu_mu", "antinu_mu", "nu_e", "antinu_e")


def sophia_secondaries_fold(ss, R, species=NU_NAMES, per_decade=40, x_top=None):
    """(E [m_ec²], E L_E [erg/s]) of the photopion secondaries ``species`` (names of
    ``sophia_table.SPECIES``) of a solved run, folded directly from the SOPHIA table with the
    run's protons (``ss.extra["protons"]``) and photons (``ss.nu``, ``ss.nuLnu``; escape R/c):

        q(E) dE = Σ_{γ_p} N_p Δγ_p Σ_x n_x Δx (8c/η²) Σ_b A_b(η) dN_b(E/E_p),

    on fine log grids of γ_p and x (``per_decade`` points, log-log interpolated densities), the
    ε̄ integral A_b(η) = ∫_{bin b, ε̄<η/2} ε̄σ dε̄ exact per (γ_p, x) pair, and the table's own x
    bins (40/decade) mapped to E = x γ_p m_pc² without any lattice: none of the solver's face
    lattice, photon-bin sub-sampling, ξ rebinning or frozen rows is used.  Comoving E L_E =
    V E² q(E) m_ec² (escape on R/c).  The output E grid is the table's x grid times the proton
    grid, histogrammed onto ``per_decade`` bins per decade."""
    from sweep.model.processes import sophia_table as stab

    tab = stab.load_table()
    me2 = const.m_e_c2
    mp_gev = const.m_p_c2 / const.eV / 1e9
    pr = ss.extra["protons"]
    g = np.asarray(pr["gamma"], dtype=float)
    n = np.asarray(pr["n"], dtype=float)
    pos = n > 0
    x = const.h * np.asarray(ss.nu, dtype=float) / me2
    nuL = np.asarray(ss.nuLnu, dtype=float)
    nx = nuL / ((4.0 * np.pi / 3.0) * R**2 * const.c * me2 * x**2)
    px = nx > 0
    d = 1.0 / per_decade
    lg = np.arange(np.log10(g[pos][0]), np.log10(g[pos][-1]) + 1e-9, d)
    lx = np.arange(np.log10(x[px][0]), np.log10(x_top or x[px][-1]) + 1e-9, d)
    Ng = 10 ** np.interp(lg, np.log10(g[pos]), np.log10(n[pos])) * 10**lg * np.log(10) * d  # per cm³
    Nx = 10 ** np.interp(lx, np.log10(x[px]), np.log10(nx[px]), right=-300) * 10**lx * np.log(10) * d
    eta = 4.0 * (const.m_e / const.m_p) * 10 ** (lg[:, None] + lx[None, :])  # (ng, nx)
    u = 0.5 * eta * mp_gev  # ε̄_max [GeV]
    edges = tab.eps_edges_gev
    c_lo = tab.cumulative_eps_sigma(edges[:-1])
    nb = edges.size - 1
    W = np.zeros((lg.size, nb))
    sel = u > edges[0]
    for b in range(nb):
        hi = np.minimum(u, edges[b + 1]) if b < nb - 1 else u
        A = np.where(sel & (u > edges[b]), tab.cumulative_eps_sigma(np.maximum(hi, edges[b])) - c_lo[b], 0.0)
        W[:, b] = ((8.0 * const.c / eta**2) * 1e-30 / mp_gev**2 * A * Nx[None, :]).sum(axis=1)
    idx = [stab.SPECIES.index(s) for s in species]
    Y = tab.energy[:, idx, 1:].sum(axis=1)  # (nb, nx_table): energy fraction per table x bin
    xt = np.sqrt(tab.x_edges[1:] * tab.x_edges[:-1])
    rate = (Ng[:, None] * W) @ Y  # (ng, nx_table): energy fraction rate [s⁻¹ cm⁻³] per bin
    # E of each (γ_p, table bin) [m_ec²] and its energy [m_ec²]: histogram onto the output grid
    E = (10 ** lg[:, None] * (const.m_p / const.m_e)) * xt[None, :]
    en = rate * 10 ** lg[:, None] * (const.m_p / const.m_e)
    le = np.log10(E).ravel()
    lo = np.floor(le.min() * per_decade) / per_decade
    out_edges = np.arange(lo, le.max() + 2 * d, d)
    Eo = 10 ** (0.5 * (out_edges[1:] + out_edges[:-1]))
    power = np.histogram(le, bins=out_edges, weights=en.ravel())[0]  # m_ec² cm⁻³ s⁻¹ per bin
    vol = 4.0 * np.pi / 3.0 * R**3
    ELE = vol * me2 * power / (np.log(10) * d)  # per d ln E
    return Eo, ELE


def neutrino_normalisation(fig: dict, ref_neutrinos: np.ndarray) -> tuple[float, float]:
    """(factor, median): the one factor f that best aligns the reference's all-flavour neutrinos
    with the model's (f = reference/model; minimises the median |Δ log εL_ε| over the top 2 dex
    of the reference, scanned in 1e-4 dex) and that median after it (the shape agreement)."""
    _, r = fig["neutrino_residuals"]
    sn = ref_neutrinos[:, 1] > ref_neutrinos[:, 1].max() - 2.0
    cs = np.linspace(-1.0, 1.0, 20001)
    med = np.array([np.median(np.abs(r[sn] - c)) for c in cs])
    i = int(np.argmin(med))
    return float(10 ** -cs[i]), float(med[i])
