"""Protons and neutrinos in ``sweep blob`` (hooks called from ``sweep.blob``; issue 5 req. 7).

YAML (see ``examples/athena_test4.yaml``)::

    escape: {pairs: 1.0, photons: 1.0, protons: 1.0}          # R/c
    processes: {..., proton_synchrotron: true, bethe_heitler: true, photopion: true}
    injection:
      - {species: p, shape: power_law_exp_cutoff, p: 2.01, gamma_min: 1, log10_gamma_max: 6.93,
         log10_luminosity: 46.46}                              # V m_p c² ∫γQ dγ [erg/s]
    reference: {photons: ..., neutrinos: ...}                 # log10(E/m_ec²), log10(εL_ε)

At most one proton injection.  ``--json`` gains ``log_gamma_p``, ``log_n_p`` (protons, comoving,
cm⁻³ per unit γ), ``log_e_nu`` (eV, comoving), ``log_eLe_nu`` (erg/s, comoving, all flavours),
``log_eLe_nu_e``, ``log_eLe_nu_e_bar``, ``log_eLe_nu_mu``, ``log_eLe_nu_mu_bar`` (same energies;
null where zero) and ``neutrino`` (peak energy, peak E L_E and luminosity, comoving and observer
frame); ``--out x.nc`` gains the proton and neutrino spectra; ``--plot`` overlays the
all-flavour neutrinos on the SED (at frequency E/h) and the protons on the particle panel.
"""
from __future__ import annotations

import numpy as np

from sweep.model import constants as const

FLAVOURS = ("nu_e", "nu_e_bar", "nu_mu", "nu_mu_bar")


def proton_extensions(cfg) -> list:
    """``ProtonExtension`` list for the blob of a ``BlobConfig`` (empty without species p)."""
    from sweep.model.hadronic import ProtonExtension

    prot = [ic for ic in cfg.injection if ic.species == "p"]
    if not prot:
        return []
    if len(prot) > 1:
        raise ValueError(f"injection: {len(prot)} entries with species 'p'; allowed: at most one")
    ic = prot[0]
    v = ic.values()
    pr = cfg.processes
    return [ProtonExtension(p=ic.p, p2=ic.p2, gamma_break=ic.gamma_break, shape=ic.shape,
                            gamma_min=v["gamma_min"], gamma_max=v["gamma_max"], luminosity=v["luminosity"],
                            synchrotron=getattr(pr, "proton_synchrotron", True), ssa=pr.ssa,
                            bethe_heitler=getattr(pr, "bethe_heitler", True),
                            photopion=getattr(pr, "photopion", True),
                            t_esc=getattr(cfg.escape, "protons", 1.0))]


def _log(v) -> list:
    v = np.asarray(v, dtype=float)
    with np.errstate(divide="ignore"):
        lv = np.log10(np.where(v > 0, v, 1.0))
    return [round(float(x), 6) if ok else None for x, ok in zip(lv, v > 0)]


def hadronic_summary(res, cfg=None) -> dict:
    """The protons/neutrinos part of the ``--json`` payload ({} for a leptonic run)."""
    extra = getattr(res, "extra", None) or {}
    out: dict = {}
    prot = extra.get("protons")
    if prot is not None:
        n = np.asarray(prot["n"], dtype=float)
        pos = n > 0
        out["log_gamma_p"] = np.log10(np.asarray(prot["gamma"])[pos]).round(6).tolist()
        out["log_n_p"] = np.log10(n[pos]).round(6).tolist()
    neut = extra.get("neutrinos")
    if neut is not None:
        tot = np.asarray(neut["ELE"]["all"], dtype=float)
        pos = tot > 0
        out["log_e_nu"] = np.log10(np.asarray(neut["energy_ev"])[pos]).round(6).tolist()
        out["log_eLe_nu"] = np.log10(tot[pos]).round(6).tolist()
        for fl in FLAVOURS:
            out[f"log_eLe_{fl}"] = _log(np.asarray(neut["ELE"][fl])[pos])
        if pos.any():
            from sweep.model.hadronic import neutrino_summary

            d, z = (cfg.doppler, cfg.redshift) if cfg is not None else (1.0, 0.0)
            out["neutrino"] = {k: float(v) for k, v in neutrino_summary(res, d, z).items()}
            out["neutrino"].update(doppler=float(d), redshift=float(z))
    if "hadronic_power" in extra:
        out["proton_power"] = {k: float(v) for k, v in extra["hadronic_power"].items()}
    return out


def add_to_dataset(ds, cfg, res):
    """Proton and neutrino spectra (comoving and observed) added to the ``--out`` dataset."""
    extra = getattr(res, "extra", None) or {}
    prot, neut = extra.get("protons"), extra.get("neutrinos")
    if prot is not None:
        ds = ds.assign_coords(gamma_p=("gamma_p", np.asarray(prot["gamma"]), {"units": "1", "long_name": "proton Lorentz factor"}))
        ds["n_p"] = ("gamma_p", np.asarray(prot["n"]), {"units": "cm-3", "long_name": "steady-state proton spectrum dN/dgamma dV"})
    if neut is not None:
        from sweep.model.hadronic import neutrinos_observer

        ds = ds.assign_coords(neutrino_energy=("neutrino_energy", np.asarray(neut["energy_ev"]),
                                               {"units": "eV", "long_name": "comoving neutrino energy"}))
        obs = neutrinos_observer(res, cfg.doppler, cfg.redshift)
        ds["E_nu_obs"] = ("neutrino_energy", obs["energy_ev"], {"units": "eV", "long_name": "observed neutrino energy"})
        for fl in FLAVOURS + ("all",):
            ds[f"ELE_{fl}_comoving"] = ("neutrino_energy", np.asarray(neut["ELE"][fl]),
                                        {"units": "erg s-1", "long_name": f"comoving E L_E, {fl} (escape R/c)"})
            ds[f"ELE_{fl}_obs"] = ("neutrino_energy", obs["ELE"][fl],
                                   {"units": "erg s-1", "long_name": f"observed (delta^4) E L_E, {fl}"})
    return ds


def plot_hadronic(ax, axe, cfg, res, base) -> None:
    """Neutrinos (all flavours, at frequency E/h) on the SED axes, protons on the particle axes."""
    extra = getattr(res, "extra", None) or {}
    neut = extra.get("neutrinos")
    if neut is not None:
        e_hz = np.asarray(neut["energy_ev"]) * const.eV / const.h
        y = np.asarray(neut["ELE"]["all"])
        pos = y > 0
        ax.loglog(e_hz[pos], y[pos], "--", label="ν all flavours (at E/h), comoving")
        if cfg.doppler != 1.0 or cfg.redshift != 0.0:
            from sweep.model.hadronic import neutrinos_observer

            obs = neutrinos_observer(res, cfg.doppler, cfg.redshift)
            ax.loglog(obs["energy_ev"][pos] * const.eV / const.h, obs["ELE"]["all"][pos], "--",
                      label="ν all flavours, observed")
        ref_name = getattr(cfg.reference, "neutrinos", None) if cfg.reference else None
        if ref_name:
            from sweep.blob import _resolve

            ref = np.loadtxt(_resolve(ref_name, base))
            ax.loglog(10 ** ref[:, 0] * const.m_e_c2 / const.h, 10 ** ref[:, 1], "r.", ms=3,
                      label="reference ν")
        lo, hi = ax.get_xlim()
        if pos.any():
            ax.set_xlim(lo, max(hi, e_hz[pos].max() * 2))
        ax.legend(fontsize=7)
    prot = extra.get("protons")
    if prot is not None:
        g = np.asarray(prot["gamma"])
        y = g**2 * np.asarray(prot["n"])
        pos = y > 0
        axe.loglog(g[pos], y[pos], label="protons")
        axe.legend(fontsize=8)
        if pos.any():
            bottom, top = axe.get_ylim()
            axe.set_ylim(min(bottom, y[pos].max() * 1e-8), max(top, y[pos].max() * 5))
