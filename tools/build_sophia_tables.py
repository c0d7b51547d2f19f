#!/usr/bin/env python
"""Build the photopion yield tables of ``sweep`` from the SOPHIA 2.0 event generator (chromo).

One command rebuilds the shipped table from nothing (needs the ``tables`` extra)::

    pip install -e '.[tables]'
    python tools/build_sophia_tables.py            # -> src/sweep/model/data/sophia_yields.npz

What is tabulated (proton projectile at rest, photon of energy ε_r along +z)
----------------------------------------------------------------------------
* ``n_bins`` log bins of ε_r from the threshold 0.1517 GeV to ``eps_max`` (default 1e4 GeV).
  In each bin ``events_per_bin`` events are generated, ε_r sampled with density ∝ ε_r σ(ε_r)
  inside the bin (the weight with which an isotropic photon field meets an ultra-relativistic
  proton, model.md §4), σ = SOPHIA's own total cross-section (``crossection(ε, 3, 13)``).
* SOPHIA decays π^±, π⁰, kaons, hyperons, η, … itself; muons are kept stable in SOPHIA and
  decayed here with the V–A matrix element |M|² ∝ (p_μ·p_ν̄)(p_e·p_ν) (unpolarised muons;
  exact three-body kinematics, so energy and momentum are conserved per event).
* Every final particle is described by its light-cone fraction x = (E − p_z)/m_p, which for an
  ultra-relativistic proton in the blob frame is E/E_p (the photon arrives head-on in the proton
  rest frame).  Σx = 1 per event holds exactly when the proton is at rest: chromo's ``Sophia20``
  hands SOPHIA the mean nucleon mass (0.93892 GeV) as the proton energy (the proton then moves and
  Σx ≈ 0.96), so this builder calls SOPHIA's ``eventgen`` directly with SOPHIA's own proton
  mass AM(13) and checks |Σx − 1| < 1e-12 (1 + 10 ε_r/m_p) for every event (SOPHIA's
  double-precision round-off; ≤ 7e-10 at 10 TeV).
* Tabulated per ε_r bin: the mean energy fraction per event carried in each log-x bin
  (``x_per_decade`` bins per decade from ``x_min`` to 1, plus an underflow bin) for γ, e⁺, e⁻,
  ν_μ, ν̄_μ, ν_e, ν̄_e, the leading nucleon when it is a proton ("proton") or a neutron
  ("neutron"), and everything else (antinucleons, extra nucleons of pair production: "other");
  the probability that the leading nucleon is a neutron; the mean number of each species.
  dN/dlog x = energy/(x Δlog x).  Also SOPHIA's σ_γp on a fine grid up to 1e7 GeV.

Deterministic for a given seed: bin b uses the random streams seeded by (seed, b) for the ε_r
sampling, SOPHIA and the muon decays, so any bin can be regenerated alone (``--bins``).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

BUILDER_VERSION = "1.0"
EPS_TH = 0.1517  # GeV, SOPHIA's photopion threshold
SPECIES = ("gamma", "positron", "electron", "nu_mu", "antinu_mu", "nu_e", "antinu_e",
           "proton", "neutron", "other")
NUCLEON_CODE = {"proton": 13, "neutron": 14}
_PDG = {22: 0, -11: 1, 11: 2, 14: 3, -14: 4, 12: 5, -12: 6}
DEFAULT = dict(n_bins=120, eps_max=1e4, events_per_bin=100000, x_min=1e-8, x_per_decade=40, seed=20260409)
OUT = Path(__file__).resolve().parents[1] / "src" / "sweep" / "model" / "data" / "sophia_yields.npz"


def bin_edges(n_bins, eps_max):
    return np.geomspace(EPS_TH, eps_max, n_bins + 1)


class SophiaRunner:
    """SOPHIA 2.0 (chromo) with the nucleon at rest and muons left for ``decay_muons``."""

    _model = None  # chromo allows one SOPHIA instance per process: shared, reseeded per use

    def __init__(self, seed, projectile="proton"):
        from chromo.kinematics import FixedTarget
        from chromo.models import Sophia20

        if SophiaRunner._model is None:
            SophiaRunner._model = Sophia20(FixedTarget(1.0, "gamma", "p"), seed=seed)
        self.m = SophiaRunner._model
        self.lib = self.m._lib
        self.reseed(seed)
        # muons stable (decayed below with V-A); neutrons/antinucleons stable; π, K, hyperons decay
        self.m.final_state_particles = [13, -13, 2112, -2112]
        if projectile not in NUCLEON_CODE:
            raise ValueError(f"projectile: value {projectile!r} is invalid; allowed: {tuple(NUCLEON_CODE)}")
        self.code = NUCLEON_CODE[projectile]  # SOPHIA's L0: 13 proton, 14 neutron
        # SOPHIA's own nucleon mass AM(L0) [GeV]: the nucleon is at rest (chromo passes 0.93892)
        self.mn = float(self.lib.s_mass1.am[self.code - 1])
        self.mmu = float(self.lib.s_mass1.am[3])
        self.lib.initial(self.code)

    def reseed(self, seq):
        rng = np.random.default_rng(seq)
        self.m._rng = rng  # keep the generator alive while SOPHIA draws from it
        self.lib.npy.bitgen = rng.bit_generator.ctypes.bit_generator.value
        self.lib.npy.gen_id = self.m._get_bitgen_id(rng.bit_generator)

    def sigma(self, eps):
        """SOPHIA's total γp cross-section [μb] at photon energy ε_r [GeV] (proton at rest)."""
        return np.array([self.lib.crossection(float(e), 3, self.code) for e in np.atleast_1d(eps)])

    def events(self, eps_list):
        """Final particles of one event per ε in eps_list: (event index, pdg id, E, px, py, pz)."""
        lib = self.lib
        ev, ids, p = [], [], []
        for k, e in enumerate(eps_list):
            lib.eventgen(self.code, self.mn, float(e), 180.0)
            lib.toevt()
            h = lib.hepevt
            n = int(h.nhep)
            fin = h.isthep[:n] == 1
            ids.append(h.idhep[:n][fin].copy())
            p.append(h.phep[[3, 0, 1, 2], :n][:, fin].T.copy())  # HEPEVT (px,py,pz,E) -> (E,px,py,pz)
            ev.append(np.full(int(fin.sum()), k))
        return np.concatenate(ev), np.concatenate(ids), np.concatenate(p)


def decay_muons(pid, p4, mmu, rng):
    """V–A decay of unpolarised muons at rest frame → lab: returns (pids (n,3), p4 (n,3,4)).

    μ⁻ → e⁻ ν̄_e ν_μ with |M|² ∝ (p_μ·p_ν̄e)(p_e·p_νμ); μ⁺ → e⁺ ν_e ν̄_μ with (p_μ·p_νe)(p_e·p_ν̄μ).
    Massless leptons: flat Dalitz phase space, weight m E_a (m² − 2 m E_a)/2 ≤ m⁴/16 (E_a of the
    neutrino paired with p_μ), accept–reject, random orientation, boost with the muon's momentum."""
    n = pid.size
    out = np.zeros((n, 3, 4))
    todo = np.arange(n)
    m = mmu
    while todo.size:
        k = todo.size * 3 + 16
        e1 = rng.uniform(0, m / 2, k)  # electron
        e2 = rng.uniform(0, m / 2, k)  # neutrino paired with the muon (ν̄_e for μ⁻, ν_e for μ⁺)
        e3 = m - e1 - e2
        ok = (e3 > 0) & (e3 < m / 2)
        w = m * e2 * (m * m - 2 * m * e2) / 2 / (m**4 / 16)
        ok &= rng.uniform(0, 1, k) < w
        e1, e2, e3 = e1[ok], e2[ok], e3[ok]
        take = min(todo.size, e1.size)
        e1, e2, e3 = e1[:take], e2[:take], e3[:take]
        # momenta in the decay plane: p1 along x', p2 at angle θ12 (massless: |p| = E)
        c12 = np.clip((e3**2 - e1**2 - e2**2) / (2 * e1 * e2), -1, 1)
        s12 = np.sqrt(1 - c12**2)
        v1 = np.stack([e1, 0 * e1, 0 * e1], 1)
        v2 = np.stack([e2 * c12, e2 * s12, 0 * e2], 1)
        v3 = -(v1 + v2)
        # random rotation (uniform on SO(3) from a normalised random quaternion)
        q = rng.normal(size=(take, 4))
        q /= np.linalg.norm(q, axis=1)[:, None]
        a, b, c, d = q.T
        R = np.stack([np.stack([a*a+b*b-c*c-d*d, 2*(b*c-a*d), 2*(b*d+a*c)], 1),
                      np.stack([2*(b*c+a*d), a*a-b*b+c*c-d*d, 2*(c*d-a*b)], 1),
                      np.stack([2*(b*d-a*c), 2*(c*d+a*b), a*a-b*b-c*c+d*d], 1)], 1)
        idx = todo[:take]
        for j, (v, e) in enumerate(((v1, e1), (v2, e2), (v3, e3))):
            out[idx, j, 1:] = np.einsum("nij,nj->ni", R, v)
            out[idx, j, 0] = np.linalg.norm(out[idx, j, 1:], axis=1)
        todo = todo[take:]
    # boost to the lab with the muon's four-momentum
    E = p4[:, 0]
    pv = p4[:, 1:]
    gam = E / m
    bvec = pv / E[:, None]
    b2 = np.einsum("ni,ni->n", bvec, bvec)
    bp = np.einsum("ni,nki->nk", bvec, out[:, :, 1:])  # (n,3)
    g2 = np.where(b2 > 0, (gam - 1) / np.where(b2 > 0, b2, 1), 0.0)
    new = np.empty_like(out)
    new[:, :, 0] = gam[:, None] * (out[:, :, 0] + bp)
    new[:, :, 1:] = out[:, :, 1:] + (g2[:, None] * bp + gam[:, None] * out[:, :, 0])[:, :, None] * bvec[:, None, :]
    s = np.sign(pid)[:, None]  # pdg 13 = μ⁻
    pids = np.where(s > 0, np.array([[11, -12, 14]]), np.array([[-11, 12, -14]]))
    return pids, new


def sample_eps(runner, lo, hi, n_events, rng):
    """ε_r sampled with density ∝ ε σ(ε) inside [lo, hi] (inverse CDF on 400 log sub-points)."""
    eg = np.geomspace(lo, hi, 401)
    f = eg * runner.sigma(eg)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (f[1:] + f[:-1]) * np.diff(eg))])
    return np.interp(rng.uniform(0, cdf[-1], n_events), cdf, eg)


def final_state(runner, eps, mrng, tol=None):
    """Events at photon energies ``eps`` [GeV], muons decayed: (event index, species index into
    SPECIES, x = (E − p_z)/m_p) per final particle; checks Σx = 1 per event."""
    n_events = eps.size
    ev, pid, p = runner.events(eps)
    mu = np.abs(pid) == 13
    if mu.any():
        dp, d4 = decay_muons(pid[mu], p[mu], runner.mmu, mrng)
        ev = np.concatenate([ev[~mu], np.repeat(ev[mu], 3)])
        pid = np.concatenate([pid[~mu], dp.ravel()])
        p = np.concatenate([p[~mu], d4.reshape(-1, 4)])
    x = (p[:, 0] - p[:, 3]) / runner.mn  # E/E_N of the ultra-relativistic nucleon
    sx = np.bincount(ev, weights=x, minlength=n_events)
    err = float(np.max(np.abs(sx - 1.0)))
    tol = 1e-12 * (1.0 + 10.0 * float(eps.max()) / runner.mn) if tol is None else tol
    if err > tol:  # SOPHIA's double-precision round-off
        raise RuntimeError(f"energy not conserved per event (max |Σx−1| = {err:.3g} > {tol:.3g})")
    # species: leading nucleon (largest x among p, n) -> proton/neutron, other baryons -> other
    sp = np.full(pid.size, 9, dtype=np.int64)
    for code, s in _PDG.items():
        sp[pid == code] = s
    nuc = (pid == 2212) | (pid == 2112)
    order = np.lexsort((-x, ~nuc, ev))  # per event: nucleons first, by decreasing x
    first = np.ones(pid.size, bool)
    first[1:] = ev[order][1:] != ev[order][:-1]
    lead = np.zeros(pid.size, bool)
    lead[order[first & nuc[order]]] = True
    if np.bincount(ev[lead], minlength=n_events).min() != 1:
        raise RuntimeError("an event without a nucleon")
    sp[lead & (pid == 2212)] = 7
    sp[lead & (pid == 2112)] = 8
    return ev, sp, x, err


def run_bin(runner, lo, hi, n_events, seed, b, x_edges):
    """Yields of one ε_r bin: dict of arrays (see module docstring)."""
    rng = np.random.default_rng([seed, b, 0])
    runner.reseed([seed, b, 1])
    mrng = np.random.default_rng([seed, b, 2])
    eps = sample_eps(runner, lo, hi, n_events, rng)
    ev, sp, x, err = final_state(runner, eps, mrng)
    nx = x_edges.size - 1
    k = np.clip(np.searchsorted(x_edges, x, side="right") - 1, -1, nx - 1) + 1  # 0 = underflow
    energy = np.zeros((len(SPECIES), nx + 1))
    np.add.at(energy, (sp, k), x)
    number = np.bincount(sp, minlength=len(SPECIES)).astype(float)
    lead = (sp == 7) | (sp == 8)
    return {"energy": energy / n_events, "number": number / n_events,
            "p_neutron": float(np.mean(sp[lead] == 8)), "kappa": float(1.0 - x[lead].mean()),
            "eps_mean": float(eps.mean()), "max_sum_err": err}


def build(n_bins, eps_max, events_per_bin, x_min, x_per_decade, seed, bins=None, progress=True,
          projectile="proton"):
    runner = SophiaRunner(seed, projectile)
    edges = bin_edges(n_bins, eps_max)
    n_dec = int(round(-np.log10(x_min)))
    x_edges = np.logspace(-n_dec, 0, n_dec * x_per_decade + 1)
    sel = range(n_bins) if bins is None else bins
    res = {}
    t0 = time.time()
    for b in sel:
        res[b] = run_bin(runner, edges[b], edges[b + 1], events_per_bin, seed, b, x_edges)
        if progress:
            print(f"bin {b:3d} ε_r = {edges[b]:.4g}-{edges[b+1]:.4g} GeV  κ = {res[b]['kappa']:.4f}  "
                  f"{time.time() - t0:.0f} s", flush=True)
    eps_sigma = np.geomspace(EPS_TH, 1e7, 3001)
    return {"edges": edges, "x_edges": x_edges, "bins": res, "eps_sigma": eps_sigma,
            "sigma_ub": runner.sigma(eps_sigma), "mp_gev": runner.mn}


def save(tab, path, meta):
    bins = tab["bins"]
    nb = tab["edges"].size - 1
    energy = np.stack([bins[b]["energy"] for b in range(nb)]).astype(np.float32)
    arrays = dict(
        eps_edges_gev=tab["edges"], x_edges=tab["x_edges"], energy=energy,
        number=np.stack([bins[b]["number"] for b in range(nb)]),
        p_neutron=np.array([bins[b]["p_neutron"] for b in range(nb)]),
        kappa=np.array([bins[b]["kappa"] for b in range(nb)]),
        eps_mean_gev=np.array([bins[b]["eps_mean"] for b in range(nb)]),
        eps_sigma_gev=tab["eps_sigma"], sigma_ub=tab["sigma_ub"])
    h = hashlib.sha256()
    for k in sorted(arrays):
        h.update(k.encode())
        h.update(np.ascontiguousarray(arrays[k]).tobytes())
    meta = dict(meta, species=list(SPECIES), sha256=h.hexdigest(), mp_gev=tab["mp_gev"],
                max_event_energy_error=max(bins[b]["max_sum_err"] for b in range(nb)))
    np.savez_compressed(path, meta=np.array(json.dumps(meta, sort_keys=True)), **arrays)
    return meta


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for k, v in DEFAULT.items():
        ap.add_argument("--" + k.replace("_", "-"), type=type(v), default=v)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--projectile", default="proton", choices=tuple(NUCLEON_CODE),
                    help="nucleon at rest (the shipped table: proton; neutron tables build the same way)")
    a = ap.parse_args(argv)
    import chromo

    t0 = time.time()
    tab = build(a.n_bins, a.eps_max, a.events_per_bin, a.x_min, a.x_per_decade, a.seed,
                projectile=a.projectile)
    meta = dict(builder="tools/build_sophia_tables.py", builder_version=BUILDER_VERSION,
                generator="SOPHIA 2.0 via chromo " + chromo.__version__, seed=a.seed,
                events_per_bin=a.events_per_bin, n_bins=a.n_bins, eps_min_gev=EPS_TH,
                eps_max_gev=a.eps_max, x_min=a.x_min, x_per_decade=a.x_per_decade, projectile=a.projectile,
                muon_decay="V-A, unpolarised", build_seconds=round(time.time() - t0, 1))
    meta = save(tab, a.out, meta)
    print(json.dumps(meta, indent=1))
    print(f"wrote {a.out} ({a.out.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    sys.exit(main())
