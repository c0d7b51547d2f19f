"""One-zone blob runs from a YAML file (``sweep blob CONFIG.yaml``): schema, run, outputs.

Example (``examples/athena_test1.yaml``)::

    R: 1.0e15                 # blob radius [cm]
    B: 1.0                    # magnetic field [G]
    ppd: 20                   # grid points per decade of the kinetic solve
    doppler: 1.0              # Doppler factor for the observer frame
    redshift: 0.0
    escape: {pairs: 1.0, photons: 1.0}        # escape times in R/c
    processes: {synchrotron: true, ssa: true, inverse_compton: true, gamma_gamma: true,
                synchrotron_kernel: single_pitch}   # exact | single_pitch | approx
    injection:
      - {species: e, shape: power_law, p: 1.9, gamma_min: 1, log10_gamma_max: 6.1,
         log10_luminosity: 40.4997}
      # protons (species p; at most one entry) switch on the hadronic part: proton synchrotron,
      # Bethe–Heitler, photopion, neutrinos (examples/athena_test4.yaml)
    external_fields:          # targets only (never in the SED)
      - {type: black_body, temperature: 1.0e4, energy_density: 1.0e-2}   # grey if u is given
      - {type: table, file: field.txt}   # two columns: ν [Hz], u_ν [erg cm⁻³ Hz⁻¹]
    solver: {tolerance: 1.0e-4, max_iterations: 300}
    reference: {photons: ../../shared/data/athena/ATHEvA_test1_photons.txt}

Unknown keys are errors that name the key.  Relative file paths are resolved against the YAML
file's folder first, then the current directory.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sweep.model import constants as const


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InjectionConfig(_Strict):
    species: Literal["e", "p"] = "e"
    shape: Literal["power_law", "broken_power_law", "power_law_exp_cutoff"] = "power_law"
    p: float = 2.0
    p2: float | None = None
    gamma_min: float | None = Field(None, ge=1.0)
    log10_gamma_min: float | None = Field(None, ge=0.0)
    gamma_max: float | None = Field(None, gt=1.0, description="upper cut-off (or e-folding γ)")
    log10_gamma_max: float | None = Field(None, gt=0.0)
    gamma_break: float | None = Field(None, gt=1.0)
    luminosity: float | None = Field(None, gt=0, description="V m c² ∫γQ dγ [erg/s]")
    log10_luminosity: float | None = None

    @model_validator(mode="after")
    def _one_of(self):
        for a, b in (("gamma_min", "log10_gamma_min"), ("gamma_max", "log10_gamma_max"),
                     ("luminosity", "log10_luminosity")):
            if (getattr(self, a) is None) == (getattr(self, b) is None) and not (
                    a == "gamma_min" and getattr(self, a) is None and getattr(self, b) is None):
                raise ValueError(f"injection: give exactly one of {a} or {b}")
        if self.shape == "broken_power_law" and (self.p2 is None or self.gamma_break is None):
            raise ValueError("injection: shape broken_power_law needs p2 and gamma_break")
        return self

    def values(self) -> dict:
        gmin = self.gamma_min if self.gamma_min is not None else (
            10**self.log10_gamma_min if self.log10_gamma_min is not None else 1.0)
        gmax = self.gamma_max if self.gamma_max is not None else 10**self.log10_gamma_max
        lum = self.luminosity if self.luminosity is not None else 10**self.log10_luminosity
        if gmax <= gmin:
            raise ValueError(f"injection.gamma_max: value {gmax:g} is invalid; allowed: > gamma_min ({gmin:g})")
        return dict(gamma_min=gmin, gamma_max=gmax, luminosity=lum)


class FieldConfig(_Strict):
    type: Literal["black_body", "grey_body", "table"]
    name: str = "external"
    temperature: float | None = Field(None, gt=0, description="[K]")
    energy_density: float | None = Field(None, gt=0, description="[erg cm⁻³] (grey body)")
    file: str | None = None

    @model_validator(mode="after")
    def _check(self):
        if self.type in ("black_body", "grey_body") and self.temperature is None:
            raise ValueError(f"external_fields: type {self.type} needs temperature")
        if self.type == "grey_body" and self.energy_density is None:
            raise ValueError("external_fields: type grey_body needs energy_density")
        if self.type == "table" and not self.file:
            raise ValueError("external_fields: type table needs file")
        return self


class ProcessConfig(_Strict):
    synchrotron: bool = True
    ssa: bool = True
    inverse_compton: bool = True
    gamma_gamma: bool = True
    synchrotron_kernel: Literal["exact", "single_pitch", "approx"] = "exact"
    # hadronic processes (used when a species-p injection is given)
    proton_synchrotron: bool = True
    bethe_heitler: bool = True
    photopion: bool = True


class EscapeConfig(_Strict):
    pairs: float = Field(1.0, gt=0)
    photons: float = Field(1.0, gt=0)
    protons: float = Field(1.0, gt=0)


class SolverConfig(_Strict):
    tolerance: float = Field(1e-4, gt=0, lt=0.1)
    max_iterations: int = Field(300, ge=1, le=100000)


class ReferenceConfig(_Strict):
    photons: str | None = None
    pairs: str | None = None
    neutrinos: str | None = None  # log10(E/m_ec²), log10(εL_ε) (ATHEνA convention)


class BlobConfig(_Strict):
    R: float = Field(gt=0, description="blob radius [cm]")
    B: float = Field(ge=0, description="magnetic field [G]")
    ppd: int = Field(20, ge=4, le=60)
    doppler: float = Field(1.0, gt=0)
    redshift: float = Field(0.0, ge=0)
    escape: EscapeConfig = EscapeConfig()
    processes: ProcessConfig = ProcessConfig()
    injection: list[InjectionConfig] = Field(min_length=1)
    external_fields: list[FieldConfig] = []
    solver: SolverConfig = SolverConfig()
    reference: ReferenceConfig | None = None

    @model_validator(mode="after")
    def _species(self):
        if sum(i.species == "e" for i in self.injection) < 1:
            raise ValueError("injection: needs at least one pair (species e) injection")
        if sum(i.species == "p" for i in self.injection) > 1:
            raise ValueError("injection: at most one proton (species p) injection")
        return self

    @property
    def hadronic(self) -> bool:
        return any(i.species == "p" for i in self.injection)


def format_error(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err.get("loc", ())) or "config"
        if err.get("type") == "extra_forbidden":
            lines.append(f"{loc}: unknown key (not part of the blob configuration schema)")
        elif err.get("type") == "missing":
            lines.append(f"{loc}: required key is missing")
        else:
            msg = err.get("msg", "").replace("Value error, ", "")
            lines.append(f"{loc}: value {err.get('input')!r} is invalid ({msg})")
    return "\n".join(lines)


def load_config(path: str | Path) -> tuple[BlobConfig, Path]:
    """Parse a YAML file; raises ValueError with a message naming the key on bad input."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"CONFIG: file {str(path)!r} does not exist")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ValueError(f"CONFIG: {path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"CONFIG: {path} must hold a mapping of keys (R, B, injection, ...)")
    try:
        cfg = BlobConfig(**data)
        for inj in cfg.injection:
            inj.values()
    except ValidationError as exc:
        raise ValueError(format_error(exc)) from None
    return cfg, path.resolve().parent


def _resolve(name: str, base: Path) -> Path:
    p = Path(name)
    for cand in ([p] if p.is_absolute() else [base / p, Path.cwd() / p]):
        if cand.is_file():
            return cand
    raise ValueError(f"file {name!r} not found (looked in {base} and {Path.cwd()})")


def field_spectrum(fc: FieldConfig, base: Path) -> tuple[np.ndarray, np.ndarray]:
    """(ν [Hz], u_ν [erg cm⁻³ Hz⁻¹]) of one external field."""
    if fc.type == "table":
        arr = np.loadtxt(_resolve(fc.file, base), ndmin=2)
        if arr.shape[1] < 2:
            raise ValueError(f"external_fields.file: {fc.file} needs two columns (ν [Hz], u_ν)")
        return arr[:, 0], arr[:, 1]
    t = fc.temperature
    nu_pk = const.k_B * t / const.h
    nu = np.logspace(math.log10(1e-3 * nu_pk), math.log10(60 * nu_pk), 300)
    with np.errstate(over="ignore"):
        u_nu = 8 * math.pi * const.h / const.c**3 * nu**3 / np.expm1(const.h * nu / (const.k_B * t))
    if fc.type == "grey_body":
        u_nu *= fc.energy_density / (const.a_rad * t**4)
    return nu, u_nu


def to_blob(cfg: BlobConfig, base: Path):
    from sweep.model.kinetics import Blob, ExternalField, Injection, Processes

    pr = cfg.processes
    injs, extensions = [], []
    for ic in cfg.injection:
        v = ic.values()
        if ic.species == "p":
            from sweep.model.hadronic import ProtonExtension

            extensions.append(ProtonExtension(
                p=ic.p, p2=ic.p2, gamma_break=ic.gamma_break, shape=ic.shape, **v,
                synchrotron=pr.proton_synchrotron, bethe_heitler=pr.bethe_heitler,
                photopion=pr.photopion, t_esc=cfg.escape.protons))
            continue
        injs.append(Injection(species=ic.species, shape=ic.shape, p=ic.p, p2=ic.p2,
                              gamma_break=ic.gamma_break, **v))
    fields = [ExternalField(*field_spectrum(fc, base), name=fc.name) for fc in cfg.external_fields]
    return Blob(R=cfg.R, B=cfg.B, injections=injs, external_fields=fields, ppd=cfg.ppd,
                extensions=extensions,
                processes=Processes(synchrotron=pr.synchrotron, ssa=pr.ssa,
                                    inverse_compton=pr.inverse_compton, gamma_gamma=pr.gamma_gamma,
                                    synchrotron_kernel=pr.synchrotron_kernel),
                t_esc_pairs=cfg.escape.pairs, t_esc_photons=cfg.escape.photons)


def run(cfg: BlobConfig, base: Path):
    """Solve the blob; returns the SteadyState."""
    from sweep.model.kinetics import solve

    return solve(to_blob(cfg, base), tol=cfg.solver.tolerance, max_iter=cfg.solver.max_iterations)


def observed(cfg: BlobConfig, res) -> tuple[np.ndarray, np.ndarray]:
    from sweep.model.observer import to_observer

    return to_observer(res.nu, res.nuLnu, cfg.doppler, cfg.redshift)


def _log_pairs(x, y) -> tuple[list, list]:
    """log10 of (x, y) where y > 0, rounded for JSON."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    pos = y > 0
    return np.log10(x[pos]).round(6).tolist(), np.log10(y[pos]).round(6).tolist()


def hadronic_summary(res) -> dict:
    """Protons and neutrinos of a leptohadronic run (comoving), for ``--json``: L_neutron (power
    leaving the blob in photopion neutrons [erg/s]), log_gamma_p, log_n_p, log_e_nu [eV], log_eLe_nu [erg/s, all flavours] and log_eLe_<flavour> per flavour
    (on the same log_e_nu abscissa; -inf-free: zero bins are left out of each pair of arrays,
    so per-flavour arrays come with their own log_e_<flavour> abscissae)."""
    out = {}
    prot = res.extra.get("protons")
    if prot is not None:
        out["log_gamma_p"], out["log_n_p"] = _log_pairs(prot["gamma"], prot["n"])
    hp = res.extra.get("hadronic_power")
    if hp is not None:  # comoving escaping neutron (+ other baryon) luminosity of photopion [erg/s]
        out["L_neutron"] = float(hp.get("pg_neutrons", 0.0))
    neut = res.extra.get("neutrinos")
    if neut is not None:
        e = neut["energy_ev"]
        out["log_e_nu"], out["log_eLe_nu"] = _log_pairs(e, neut["ELE"]["all"])
        for fl, y in neut["ELE"].items():
            if fl != "all":
                out[f"log_e_{fl}"], out[f"log_eLe_{fl}"] = _log_pairs(e, y)
    return out


def summary(res) -> dict:
    """The ``--json`` payload (comoving quantities)."""
    with np.errstate(divide="ignore"):
        pos = res.nuLnu > 0
        pe = res.n_e > 0
        return {
            "log_nu": np.log10(res.nu[pos]).round(6).tolist(),
            "log_nuLnu": np.log10(res.nuLnu[pos]).round(6).tolist(),
            "log_gamma_e": np.log10(res.gamma_e[pe]).round(6).tolist(),
            "log_n_e": np.log10(res.n_e[pe]).round(6).tolist(),
            "iterations": int(res.iterations),
            "converged": bool(res.converged),
            "status": res.status,
            "residual": float(res.residual),
            "energy_balance": float(res.energy_balance),
            "energy": {k: float(v) for k, v in res.energy.items()},
            "runtime_s": float(res.runtime_s),
            **hadronic_summary(res),
        }


def to_dataset(cfg: BlobConfig, res):
    import xarray as xr

    nu_obs, nuLnu_obs = observed(cfg, res)
    ds = xr.Dataset(
        {
            "nuLnu_comoving": ("frequency", res.nuLnu, {"units": "erg s-1", "long_name": "comoving escaping-photon nuLnu = (4pi/3) R^2 c h nu^2 n(nu)"}),
            "nu_obs": ("frequency", nu_obs, {"units": "Hz", "long_name": "observed frequency"}),
            "nuLnu_obs": ("frequency", nuLnu_obs, {"units": "erg s-1", "long_name": "observed (delta^4) nuLnu"}),
            "n_e": ("gamma_e", res.n_e, {"units": "cm-3", "long_name": "steady-state pair spectrum dN/dgamma dV"}),
        },
        coords={"frequency": ("frequency", res.nu, {"units": "Hz", "long_name": "comoving frequency"}),
                "gamma_e": ("gamma_e", res.gamma_e, {"units": "1", "long_name": "pair Lorentz factor"})},
        attrs={"status": res.status, "message": res.message, "iterations": int(res.iterations),
               "residual": float(res.residual), "converged": int(res.converged),
               "energy_balance": float(res.energy_balance), "runtime_s": float(res.runtime_s),
               "energy_json": json.dumps({k: float(v) for k, v in res.energy.items()}),
               "config_json": cfg.model_dump_json(), "doppler": cfg.doppler, "redshift": cfg.redshift},
    )
    prot = res.extra.get("protons")
    if prot is not None:
        ds["n_p"] = xr.DataArray(prot["n"], dims="gamma_p",
                                 coords={"gamma_p": ("gamma_p", prot["gamma"], {"units": "1", "long_name": "proton Lorentz factor"})},
                                 attrs={"units": "cm-3", "long_name": "steady-state proton spectrum dN/dgamma dV"})
    neut = res.extra.get("neutrinos")
    if neut is not None:
        from sweep.model.hadronic import neutrinos_observer

        flav = [f for f in neut["ELE"] if f != "all"] + ["all"]
        e_obs = neutrinos_observer(res, cfg.doppler, cfg.redshift)
        coords = {"neutrino_energy": ("neutrino_energy", neut["energy_ev"], {"units": "eV", "long_name": "comoving neutrino energy"}),
                  "neutrino_flavour": ("neutrino_flavour", flav, {"long_name": "neutrino flavour at the source ('all' = sum)"})}
        ds["ELE_nu_comoving"] = xr.DataArray(np.array([neut["ELE"][f] for f in flav]),
                                             dims=("neutrino_flavour", "neutrino_energy"), coords=coords,
                                             attrs={"units": "erg s-1", "long_name": "comoving neutrino E L_E"})
        ds["ELE_nu_obs"] = xr.DataArray(np.array([e_obs["ELE"][f] for f in flav]),
                                        dims=("neutrino_flavour", "neutrino_energy"), coords=coords,
                                        attrs={"units": "erg s-1", "long_name": "observed (delta^4) neutrino E L_E"})
        ds["neutrino_energy_obs"] = xr.DataArray(e_obs["energy_ev"], dims="neutrino_energy",
                                                 attrs={"units": "eV", "long_name": "observed neutrino energy"})
    return ds


def write(cfg: BlobConfig, res, path: str | Path) -> None:
    path = Path(path)
    if path.suffix == ".nc":
        try:  # netCDF4 via h5netcdf needs h5py; netCDF3 (scipy) otherwise
            import h5py  # noqa: F401

            engine = "h5netcdf"
        except ImportError:
            engine = "scipy"
        to_dataset(cfg, res).to_netcdf(path, engine=engine)
    elif path.suffix == ".csv":
        nu_obs, nuLnu_obs = observed(cfg, res)
        hdr = (f"status={res.status} iterations={res.iterations} energy_balance={res.energy_balance:.8f}\n"
               "nu_comoving_Hz,nuLnu_comoving_erg_s,nu_obs_Hz,nuLnu_obs_erg_s")
        np.savetxt(path, np.column_stack([res.nu, res.nuLnu, nu_obs, nuLnu_obs]), delimiter=",",
                   header=hdr, fmt="%.8e")
    else:
        raise ValueError(f"--out: suffix {path.suffix!r} is invalid; allowed: .nc or .csv")


def plot(cfg: BlobConfig, res, path: str | Path, base: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    nu_obs, nuLnu_obs = observed(cfg, res)
    fig, (ax, axe) = plt.subplots(1, 2, figsize=(11, 4.2))
    pos = res.nuLnu > 0
    ax.loglog(res.nu[pos], res.nuLnu[pos], label="comoving")
    if cfg.doppler != 1.0 or cfg.redshift != 0.0:
        ax.loglog(nu_obs[pos], nuLnu_obs[pos], label=f"observed (δ={cfg.doppler:g}, z={cfg.redshift:g})")
    if cfg.reference and cfg.reference.photons:
        ref = np.loadtxt(_resolve(cfg.reference.photons, base))
        ax.loglog(10 ** ref[:, 0], 10 ** ref[:, 1], "k.", ms=3, label="reference")
    neut = res.extra.get("neutrinos")
    if neut is not None:  # neutrinos at ν = E/h, dashed, on the same luminosity axis
        e_hz = np.asarray(neut["energy_ev"]) * const.eV / const.h
        yn = np.asarray(neut["ELE"]["all"])
        pn = yn > 0
        ax.loglog(e_hz[pn], yn[pn], "--", color="C3", label="neutrinos, all flavours (at E/h)")
        if cfg.reference and cfg.reference.neutrinos:
            ref = np.loadtxt(_resolve(cfg.reference.neutrinos, base))
            ax.loglog(10 ** ref[:, 0] * const.m_e_c2 / const.h, 10 ** ref[:, 1], "x", color="C3", ms=3,
                      label="reference neutrinos")
            if cfg.reference.photons:  # the comparison figures of docs/hadronic.md §7
                from sweep.hadronic_validation import figures, neutrino_normalisation

                f = figures(res, np.loadtxt(_resolve(cfg.reference.photons, base)), ref)
                fac, med = neutrino_normalisation(f, ref)
                ax.loglog(10 ** ref[:, 0] * const.m_e_c2 / const.h, 10 ** ref[:, 1] / fac, "+", color="C4",
                          ms=3, label=f"reference neutrinos / {fac:.3f} (best factor)")
                ax.text(0.98, 0.97, f"photons: median {f['photons_median']:.3f}, max {f['photons_max']:.3f} dex\n"
                        f"ν: median {f['neutrinos_median']:.3f} dex; ×{1 / fac:.3f} → median {med:.3f} dex",
                        transform=ax.transAxes, fontsize=7, va="top", ha="right")
    top = res.nuLnu[pos].max() if pos.any() else 1.0
    ax.set_ylim(top * 1e-6, top * 5)
    ax.set_xlabel("ν [Hz]")
    ax.set_ylabel("νL_ν [erg/s]")
    ax.set_title(f"{res.status}, {res.iterations} it., balance {res.energy_balance:.5f}")
    ax.legend(fontsize=8)
    y = res.gamma_e**2 * res.n_e
    pe = y > 0
    axe.loglog(res.gamma_e[pe], y[pe], label="pairs")
    prot = res.extra.get("protons")
    if prot is not None:
        yp = np.asarray(prot["gamma"]) ** 2 * np.asarray(prot["n"])
        pp = yp > 0
        axe.loglog(np.asarray(prot["gamma"])[pp], yp[pp], label="protons")
        y = np.concatenate([y[pe], yp[pp]])
        pe = y > 0
    if cfg.reference and cfg.reference.pairs:
        ref = np.loadtxt(_resolve(cfg.reference.pairs, base))
        axe.loglog(10 ** ref[:, 0], 10 ** ref[:, 1], "k.", ms=3, label="reference")
    if pe.any():
        axe.set_ylim(y[pe].max() * 1e-8, y[pe].max() * 5)
    axe.set_xlabel("γ")
    axe.set_ylabel("γ² n(γ) [cm⁻³]")
    axe.set_xlabel("γ (pairs, protons)")
    axe.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


#: a reference point counts in the agreement when it lies within this many dex of the
#: reference's peak (median) -- the part of a spectrum a fit or a figure is judged on; the
#: maximum is over the top 2 dex, where steep cut-offs do not dominate (ATHEνA README)
AGREEMENT_MEDIAN_DEX = 3.0
AGREEMENT_MAX_DEX = 2.0


def _agreement(x_ref, y_ref, lx, ly) -> dict | None:
    """|model − reference| [dex] at the reference abscissae (model interpolated in log–log)."""
    ok = np.isfinite(ly)
    if ok.sum() < 2:
        return None
    inside = (x_ref >= lx[ok].min()) & (x_ref <= lx[ok].max())
    model = np.interp(x_ref, lx[ok], ly[ok])
    d = np.abs(model - y_ref)
    pk = y_ref.max()
    s3 = inside & (y_ref > pk - AGREEMENT_MEDIAN_DEX)
    s2 = inside & (y_ref > pk - AGREEMENT_MAX_DEX)
    if not s3.any():
        return None
    return {"median_dex": float(np.median(d[s3])), "max_dex": float(d[s2].max()) if s2.any()
            else float("nan"), "n": int(s3.sum())}


def reference_agreement(cfg: BlobConfig, res, base: Path) -> dict:
    """Agreement with the reference spectra the YAML names (``reference:``), comoving frame as
    the ATHEνA files are: {"photons"|"pairs"|"neutrinos": {"median_dex", "max_dex", "n"}}."""
    out: dict = {}
    if not cfg.reference:
        return out

    def logpos(y):
        y = np.asarray(y, float)
        with np.errstate(divide="ignore"):
            return np.where(y > 0, np.log10(np.where(y > 0, y, 1.0)), np.nan)

    if cfg.reference.photons:
        ref = np.loadtxt(_resolve(cfg.reference.photons, base))
        out["photons"] = _agreement(ref[:, 0], ref[:, 1], np.log10(res.nu), logpos(res.nuLnu))
    if cfg.reference.pairs:
        ref = np.loadtxt(_resolve(cfg.reference.pairs, base))
        out["pairs"] = _agreement(ref[:, 0], ref[:, 1], np.log10(res.gamma_e),
                                  logpos(res.gamma_e**2 * res.n_e))
    neut = res.extra.get("neutrinos")
    if cfg.reference.neutrinos and neut is not None:
        ref = np.loadtxt(_resolve(cfg.reference.neutrinos, base))
        le = np.log10(np.asarray(neut["energy_ev"]) * const.eV / const.m_e_c2)
        out["neutrinos"] = _agreement(ref[:, 0], ref[:, 1], le, logpos(neut["ELE"]["all"]))
    return {k: v for k, v in out.items() if v is not None}


def format_agreement(agr: dict) -> str:
    parts = [f"{k} median {v['median_dex']:.3f} dex, max {v['max_dex']:.3f} dex ({v['n']} points)"
             for k, v in agr.items()]
    return (f"agreement with the reference (|Δ log10|, comoving; median over the top "
            f"{AGREEMENT_MEDIAN_DEX:g} dex, max over the top {AGREEMENT_MAX_DEX:g} dex): "
            + "; ".join(parts))
