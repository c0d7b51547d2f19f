"""SOPHIA 2.0 photopion yield table (package data ``model/data/sophia_yields.npz``).

Built by ``tools/build_sophia_tables.py`` from the SOPHIA event generator (chromo, model
``Sophia20``; see that file and docs/hadronic.md for the provenance): for ε_r bins from the
threshold 0.1517 GeV to 10 TeV (photon energy in the proton rest frame), events sampled ∝ ε_r σ(ε_r)
inside each bin, every unstable particle decayed (muons with the V–A matrix element), the mean
energy fraction per interaction carried in each log bin of x = E/E_p by γ, e⁺, e⁻, ν_μ, ν̄_μ, ν_e,
ν̄_e, the leading nucleon (proton or neutron) and other baryons; SOPHIA's σ_γp on a fine grid.
Σ over species and x = 1 per bin (per event to round-off).  Above the last bin the yields of the
last bin are used (Feynman scaling).  Reading it needs numpy only (no chromo at run time).
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from importlib import resources

import numpy as np

#: species of the table's energy array (axis 1), in this order
SPECIES = ("gamma", "positron", "electron", "nu_mu", "antinu_mu", "nu_e", "antinu_e",
           "proton", "neutron", "other")
SECONDARIES = SPECIES[:7]
ESCAPING = ("neutron", "other")  # leave the blob (neutral or not followed): neutron luminosity
TABLE_FILE = "sophia_yields.npz"


@dataclass(frozen=True)
class SophiaTable:
    eps_edges_gev: np.ndarray  # (nb+1,) ε_r bin edges [GeV]
    x_edges: np.ndarray  # (nx+1,) x = E/E_p bin edges; energy[:, :, 0] is the underflow x < x_edges[0]
    energy: np.ndarray  # (nb, n_species, nx+1) mean energy fraction per interaction in each x bin
    number: np.ndarray  # (nb, n_species) mean multiplicity
    p_neutron: np.ndarray  # (nb,) probability that the leading nucleon is a neutron
    kappa: np.ndarray  # (nb,) inelasticity 1 − <x_leading nucleon>
    eps_mean_gev: np.ndarray  # (nb,) ε_r σ-weighted mean of the bin
    eps_sigma_gev: np.ndarray  # fine grid of SOPHIA's σ_γp
    sigma_ub: np.ndarray  # σ_γp [μb] on it
    meta: dict
    _cum: tuple | None = field(default=None, repr=False, compare=False)  # fine C(ε), filled lazily

    @property
    def eps_th_gev(self) -> float:
        return float(self.eps_edges_gev[0])

    def species_index(self, name: str) -> int:
        return SPECIES.index(name)

    def fractions(self) -> dict:
        """Energy fraction per interaction of each species per bin (sums to 1 per bin)."""
        e = self.energy.sum(axis=2)
        return {s: e[:, k] for k, s in enumerate(SPECIES)}

    def cumulative_eps_sigma(self, eps_gev):
        """C(ε) = ∫_{th}^{ε} ε' σ(ε') dε' [GeV² μb] (log-log trapezoid on the table's fine grid;
        beyond the grid (1e7 GeV) σ is held at its last value)."""
        return _cum_eps_sigma(self, np.asarray(eps_gev, dtype=float))


def _fine_cumulative(tab):
    """(ε grid, C(ε)) on the table's σ grid sub-sampled 8× in log ε, σ log-linear: converged
    trapezoid (cached on the table)."""
    if tab._cum is None:
        e, s = tab.eps_sigma_gev, tab.sigma_ub
        le = np.log(e)
        t = np.linspace(0, 1, 9)[:-1]
        lf = np.concatenate([(le[:-1, None] + t[None, :] * np.diff(le)[:, None]).ravel(), le[-1:]])
        ef = np.exp(lf)
        f = ef * np.interp(lf, le, s)
        cum = np.concatenate([[0.0], np.cumsum(0.5 * (f[1:] + f[:-1]) * np.diff(ef))])
        object.__setattr__(tab, "_cum", (ef, cum))
    return tab._cum


def _cum_eps_sigma(tab, eps):
    ef, cum = _fine_cumulative(tab)
    out = np.interp(np.log(np.clip(eps, ef[0], ef[-1])), np.log(ef), cum)
    big = eps > ef[-1]
    if np.any(big):
        out = np.where(big, cum[-1] + 0.5 * tab.sigma_ub[-1] * (eps**2 - ef[-1] ** 2), out)
    return np.where(eps <= ef[0], 0.0, out)


@functools.lru_cache(maxsize=1)
def load_table() -> SophiaTable:
    """The shipped table (cached)."""
    with resources.files("sweep.model").joinpath("data", TABLE_FILE).open("rb") as fh:
        z = np.load(fh, allow_pickle=False)
        arrays = {k: np.asarray(z[k]) for k in z.files if k != "meta"}
        meta = json.loads(str(z["meta"]))
    arrays["energy"] = arrays["energy"].astype(float)
    return SophiaTable(meta=meta, **arrays)


def inelasticity(eps_gev, tab: SophiaTable | None = None):
    """κ(ε_r) = 1 − <x_N> from the table (bin values, piecewise constant in each ε_r bin)."""
    tab = tab or load_table()
    e = np.atleast_1d(np.asarray(eps_gev, dtype=float))
    b = np.clip(np.searchsorted(tab.eps_edges_gev, e, side="right") - 1, 0, tab.kappa.size - 1)
    out = np.where(e < tab.eps_th_gev, 0.0, tab.kappa[b])
    return out if np.ndim(eps_gev) else float(out[0])


def loss_fraction(tab: SophiaTable | None = None) -> np.ndarray:
    """Per ε_r bin: energy fraction the proton population loses per interaction when escaping
    neutrons count as lost, 1 − <x_p; leading nucleon is a proton> (the ``sophia`` loss model)."""
    tab = tab or load_table()
    return 1.0 - tab.energy[:, SPECIES.index("proton")].sum(axis=1)


def secondary_fraction(tab: SophiaTable | None = None) -> np.ndarray:
    """Per ε_r bin: energy fraction per interaction that goes into the secondaries γ, e±, ν
    (pion, kaon, hyperon and muon products), i.e. the pion-production inelasticity; used for the
    paper's f_pγ (model.md Eq. 22), which counts the energy given to pions, not the energy of
    protons that turn into escaping neutrons."""
    tab = tab or load_table()
    e = tab.energy.sum(axis=2)
    return sum(e[:, SPECIES.index(s)] for s in SECONDARIES)


def loss_kernel_eta(eta, tab: SophiaTable | None = None, per_bin=None):
    """K(η) = (8c/η²) Σ_b ∫_{bin b, ε̄<η/2} ε̄ σ(ε̄) dε̄ · f_b [cm³ s⁻¹] (ε̄ in m_pc², σ SOPHIA's)
    with f_b = ``per_bin`` (default ``loss_fraction``: the proton loss of the ``sophia`` model;
    pass ``tab.kappa`` for the classic inelasticity-weighted rate).  The last bin's f continues
    above the table (Feynman scaling).  Exact in η (no lattice): used for f_pγ by target."""
    from .. import constants as const

    tab = tab or load_table()
    f = loss_fraction(tab) if per_bin is None else np.asarray(per_bin, dtype=float)
    mp_gev = const.m_p_c2 / const.eV / 1e9
    eta = np.asarray(eta, dtype=float)
    u = (0.5 * eta * mp_gev).ravel()
    edges = tab.eps_edges_gev
    c_lo = tab.cumulative_eps_sigma(edges[:-1])
    hi = np.minimum(u[:, None], edges[None, 1:])
    hi[:, -1] = u
    A = np.clip(tab.cumulative_eps_sigma(np.maximum(hi, edges[None, :-1])) - c_lo[None, :], 0.0, None)
    out = (8.0 * const.c / np.maximum(u / mp_gev * 2.0, 1e-300) ** 2) * 1e-30 / mp_gev**2 * (A @ f)
    return out.reshape(eta.shape)
