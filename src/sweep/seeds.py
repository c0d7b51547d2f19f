"""The seeds' view (papers 000/001): high-energy neutrinos against hard X-rays over a cube.

Papers 000/001 find neutrinos above 200 TeV associated with X-ray-bright blazars and argue that
the pγ targets are hard X-ray photons in the jet frame:

    E_γ ≈ 8.5 keV (δ/10)² (2/(1+z))² (E_ν/200 TeV)⁻¹            (paper 001, Eq. 4.2)

This module computes, per cell,

* from the reducer: the all-flavour L_ν above 100 TeV, the IceCube track rate for a source at
  ``z_source``, and the rest-frame ART-XC (4–12 keV) and BAT (14–195 keV) luminosities;
* ``E_target_obs``: the photon energy that dominates the pγ energy-loss rate of the protons that
  make the neutrino peak, seen by the observer. The comoving all-flavour E L_E peak E'_ν,pk
  (``ELE_nu_comoving``) is made by protons of E'_p = E'_ν,pk / ξ_ν with ξ_ν = 0.05 (a neutrino
  carries ≈ 1/4 of the pion energy, the pion ≈ 0.2 of the proton's; KA08). The pγ loss rate of
  such a proton is  −dγ_p/dt = γ_p ∫ d ln ν' [u'_ν(ν')/h] K(η),  η = 4 hν' E'_p/(m_p c²)²,
  with K(η) the model's own σκ kernel (``model.processes.photopion.loss_kernel_eta``); its
  integrand per ln ν' is maximal at the dominant target energy hν'_*. Targets are the blob's own
  photons, u'_ν = νL'_ν/(ν (4π/3)R² c) from the cube's ``nuLnu_comoving`` and ``radius`` (as
  ``model.hadronic.target_from_steady_state``), and — when the cube's model had
  ``external_fields`` — the disc, BLR and torus fields of the jet model at the cell's z and Γ
  (``model.fields.external_fields``, the same fields the solver used). Observed:
  E_γ = hν'_* δ/(1+z_source). ``target_origin`` names the field that wins.
* ``E_target_relation``: Eq. 4.2 evaluated with the cell's δ, ``z_source`` and the observed
  neutrino peak energy E_ν,pk δ/(1+z_source).

The ratio of the two tests the paper's estimate cell by cell (it assumes the Δ-resonance-like
kinematics and ξ_ν of its Eq. 1.1; our ε'E'_p at the maximum of u K depends on the target spectrum).
"""
from __future__ import annotations

import json

import numpy as np
import xarray as xr

from sweep.model import constants as const

XI_NU = 0.05
ORIGINS = ("internal", "disc", "blr", "dt")
RELATION_KEV = 8.5


def relation_kev(delta, z, e_nu_ev):
    """Paper 001 Eq. (4.2): observed target photon energy [keV]."""
    return RELATION_KEV * (np.asarray(delta) / 10.0) ** 2 * (2.0 / (1.0 + np.asarray(z))) ** 2 / (
        np.asarray(e_nu_ev) / 200e12)


def dominant_target(nu_hz, u_nu, e_p_erg):
    """(hν'_* [eV], weight) maximising u'_ν K(η) over ln ν' for a proton of energy E'_p."""
    from sweep.model.processes.photopion import loss_kernel_eta

    nu_hz = np.asarray(nu_hz, float)
    eta = 4.0 * const.h * nu_hz * e_p_erg / const.m_p_c2**2
    w = np.where(np.isfinite(u_nu) & (u_nu > 0), u_nu, 0.0) / const.h * loss_kernel_eta(eta)
    if not (w > 0).any():
        return np.nan, 0.0
    i = int(np.argmax(w))
    return const.h * nu_hz[i] / const.eV, float(w[i])


def _cell_parameters(ds, cell) -> dict:
    """Model parameters of one cell from the cube's ``sweep_science`` attribute and coordinates."""
    sci = json.loads(ds.attrs["sweep_science"])
    params = dict(sci.get("fixed", {}))
    for dim in sci["dims"]:
        for name in dim["coords"]:
            if name in cell.coords:
                params[name] = float(cell[name].values)
    params.pop("z_diss", None)
    params.pop("z_unit", None)
    return params


def _external(ds) -> bool:
    try:
        sci = json.loads(ds.attrs["sweep_science"])
        return bool(sci["model"]["processes"].get("external_fields", True))
    except (KeyError, ValueError, TypeError):
        return False


def target_energies(ds, z_source: float = 1.0) -> xr.Dataset:
    """Per cell: E_nu_peak_comoving, E_p_parent_comoving, E_target_comoving, E_target_obs,
    E_nu_peak_obs, E_target_relation [eV] and target_origin (index into ORIGINS)."""
    from sweep.model.cell import _EXT_NU
    from sweep.model.fields import external_fields
    from sweep.model.params import JetParameters

    axes = [d for d in ds["nuLnu_obs"].dims if d != "frequency"]
    shape = tuple(ds.sizes[d] for d in axes)
    names = ["E_nu_peak_comoving", "E_p_parent_comoving", "E_target_comoving", "E_target_obs",
             "E_nu_peak_obs", "E_target_relation", "target_origin"]
    out = {n: np.full(shape, np.nan) for n in names}
    have = all(v in ds for v in ("ELE_nu_comoving", "nuLnu_comoving", "radius", "doppler"))
    if have:
        sub = ds[["ELE_nu_comoving", "nuLnu_comoving", "radius", "doppler"]
                 + [v for v in ("status", "gamma_bulk", "z_cm") if v in ds]].compute()
        nu = np.asarray(ds["frequency"].values, float)
        e_nu = np.asarray(ds["neutrino_energy"].values, float)
        ext = _external(ds) and "sweep_science" in ds.attrs and "z_cm" in ds
        for idx in np.ndindex(*shape):
            cell = sub.isel(dict(zip(axes, idx)))
            if "status" in cell and int(cell["status"].values) != 1:
                continue
            ele = np.asarray(cell["ELE_nu_comoving"].sum("neutrino_flavour").values, float)
            if not (np.isfinite(ele) & (ele > 0)).any():
                continue
            e_pk = e_nu[int(np.nanargmax(ele))]
            e_p = e_pk / XI_NU * const.eV
            R = float(cell["radius"].values)
            u_int = np.asarray(cell["nuLnu_comoving"].values, float) / (
                nu * (4.0 * np.pi / 3.0) * R**2 * const.c)
            best = (*dominant_target(nu, u_int, e_p), 0)
            if ext:
                try:
                    jp = JetParameters(**_cell_parameters(ds, cell))
                    fields = external_fields(jp, np.atleast_1d(float(cell["z_cm"].values)),
                                             _EXT_NU,
                                             gamma=np.atleast_1d(float(cell["gamma_bulk"].values)))
                    for k, name in enumerate(ORIGINS[1:], start=1):
                        e, w = dominant_target(_EXT_NU, np.asarray(fields[name][0], float), e_p)
                        if w > best[1]:
                            best = (e, w, k)
                except Exception:  # parameters not reconstructible: internal photons only
                    pass
            delta = float(cell["doppler"].values)
            e_nu_obs = e_pk * delta / (1.0 + z_source)
            vals = dict(E_nu_peak_comoving=e_pk, E_p_parent_comoving=e_p / const.eV,
                        E_target_comoving=best[0],
                        E_target_obs=best[0] * delta / (1.0 + z_source),
                        E_nu_peak_obs=e_nu_obs,
                        E_target_relation=1e3 * relation_kev(delta, z_source, e_nu_obs),
                        target_origin=best[2])
            for n, v in vals.items():
                out[n][idx] = v
    coords = {d: ds[d] for d in axes}
    res = xr.Dataset(coords=coords)
    units = {"target_origin": "1"}
    longs = {
        "E_nu_peak_comoving": "peak of the comoving all-flavour E L_E",
        "E_p_parent_comoving": f"comoving energy of the parent protons (E_nu_peak / {XI_NU})",
        "E_target_comoving": "comoving photon energy dominating their p-gamma loss rate",
        "E_target_obs": "that photon energy seen by the observer (source at z_source)",
        "E_nu_peak_obs": "observed neutrino peak energy (source at z_source)",
        "E_target_relation": "paper 001 Eq. 4.2: 8.5 keV (delta/10)^2 (2/(1+z))^2 (E_nu/200 TeV)^-1",
        "target_origin": "dominant target field: " + ", ".join(
            f"{k}={v}" for k, v in enumerate(ORIGINS)),
    }
    for n in names:
        res[n] = (axes, out[n], {"units": units.get(n, "eV"), "long_name": longs[n]})
    res.attrs.update(z_source=float(z_source), xi_nu=XI_NU)
    return res


def seeds_table(cube_path, z_source: float = 1.0, dec_deg: float = 0.0, sel=None,
                effective_area=None, obs=None):
    """pandas DataFrame, one row per done cell: axes, log_z_cm, L_nu_100TeV, icecube tracks,
    L_artxc, L_bat, and the target-energy columns of ``target_energies``. ``obs``: observables
    already computed for this cube at this z_source/dec (the explorer's), else computed here."""
    import pandas as pd

    from sweep import reduce as red
    from sweep.plots import apply_selection

    ds = apply_selection(red.open_cube(cube_path), sel or {})
    if "ELE_nu_obs" not in ds:
        raise ValueError(f"{cube_path} has no neutrino spectra (ELE_nu_obs): a leptonic cube?")
    if obs is None or sel or not (np.isclose(obs.attrs.get("z_source", -1), z_source)
                                  and np.isclose(obs.attrs.get("dec_deg", -999), dec_deg)):
        obs = red.compute_observables(ds, z_source=z_source, dec_deg=dec_deg,
                                      effective_area=effective_area)
    keep = ["L_nu_100TeV", "icecube_tracks_per_year", "L_artxc", "L_bat", "L_nu_all"] + [
        v for v in ("z_cm", "status", "doppler") if v in obs]
    obs = obs[keep].compute()
    tg = target_energies(ds, z_source)
    merged = xr.merge([obs, tg], compat="override")
    df = merged.to_dataframe().reset_index()
    if "status" in df:
        df = df[df["status"] == 1]
    df = df.copy()
    if "z_cm" in df:
        df["log_z_cm"] = np.log10(df["z_cm"].astype(float))
    df = pd.DataFrame(df).reset_index(drop=True)
    df.attrs.update(z_source=float(z_source), dec_deg=float(dec_deg),
                    axes=[d for d in ds["nuLnu_obs"].dims if d != "frequency"])
    return df


# --------------------------------------------------------------------------------------------
# Figures (PNG with matplotlib; holoviews for HTML and the explorer tab)
# --------------------------------------------------------------------------------------------
X_BANDS = (("L_artxc", "L(4–12 keV, ART-XC) [erg/s]"), ("L_bat", "L(14–195 keV, BAT) [erg/s]"))
Y_NU = (("L_nu_100TeV", "L_ν(>100 TeV, all flavours) [erg/s]"),
        ("icecube_tracks_per_year", "IceCube tracks / yr"))


def _floored(df, col):
    from sweep.logscale import floor_values, log_limits

    a = df[col].to_numpy(float)
    lim = log_limits(a)
    if lim is None:
        return np.full(len(df), np.nan), np.zeros(len(df), bool), None
    v, low = floor_values(a, lim[0])
    lo = lim[0] if low.any() else float(np.nanmin(v[np.isfinite(v)]))
    return v, low, (lo, lim[1])


def seeds_png(df, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(15, 8.5), constrained_layout=True)
    gs = fig.add_gridspec(2, 3, width_ratios=[1, 1, 1.15])
    c = df["log_z_cm"].to_numpy(float) if "log_z_cm" in df else np.zeros(len(df))
    norm = plt.Normalize(np.nanmin(c), np.nanmax(c) if np.nanmax(c) > np.nanmin(c) else
                         np.nanmin(c) + 1)
    sc = None
    for i, (yv, ylab) in enumerate(Y_NU):
        y, ylow, ylim = _floored(df, yv)
        for j, (xv, xlab) in enumerate(X_BANDS):
            ax = fig.add_subplot(gs[i, j])
            x, xlow, xlim = _floored(df, xv)
            ok = np.isfinite(x) & np.isfinite(y)
            det = ok & ~ylow & ~xlow
            sc = ax.scatter(x[det], y[det], c=c[det], cmap="viridis", norm=norm, s=28,
                            edgecolor="k", lw=0.3)
            if (ok & (ylow | xlow)).any():
                ax.scatter(x[ok & (ylow | xlow)], y[ok & (ylow | xlow)],
                           c=c[ok & (ylow | xlow)], cmap="viridis", norm=norm, marker="v", s=30,
                           label="≤ 10⁻⁶ of max (incl. 0), at the floor")
                ax.legend(fontsize=7, loc="lower right")
            ax.set(xscale="log", yscale="log", xlabel=xlab, ylabel=ylab)
            if xlim:
                ax.set_xlim(xlim[0] / 2, xlim[1])
            if ylim:
                ax.set_ylim(ylim[0] / 2, ylim[1])
            ax.grid(alpha=0.3, which="both", lw=0.4)
    ax = fig.add_subplot(gs[:, 2])
    xr_ = df["E_target_relation"].to_numpy(float) / 1e3
    yr_ = df["E_target_obs"].to_numpy(float) / 1e3
    ok = np.isfinite(xr_) & np.isfinite(yr_) & (xr_ > 0) & (yr_ > 0)
    markers = {0: "o", 1: "s", 2: "D", 3: "P"}
    org = df["target_origin"].to_numpy(float)
    for k, m in markers.items():
        sel = ok & (org == k)
        if sel.any():
            ax.scatter(xr_[sel], yr_[sel], c=c[sel], cmap="viridis", norm=norm, marker=m, s=40,
                       edgecolor="k", lw=0.3, label=f"target: {ORIGINS[k]}")
    if ok.any():
        lo = min(xr_[ok].min(), yr_[ok].min()) / 3
        hi = max(xr_[ok].max(), yr_[ok].max()) * 3
        ax.plot([lo, hi], [lo, hi], "k--", lw=1, label="Eq. 4.2 of paper 001 (1:1)")
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
    ax.axhspan(4, 12, color="tab:orange", alpha=0.15, label="ART-XC 4–12 keV")
    ax.axhspan(14, 195, color="tab:purple", alpha=0.12, label="BAT 14–195 keV")
    ax.set(xscale="log", yscale="log",
           xlabel="E_γ from Eq. 4.2: 8.5 keV (δ/10)² (2/(1+z))² (E_ν,pk/200 TeV)⁻¹ [keV]",
           ylabel="E_γ dominating the pγ rate of the ν-peak protons (observed) [keV]")
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3, which="both", lw=0.4)
    if sc is not None:
        fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap="viridis"), ax=ax,
                     label="log10 dissipation distance z [cm]")
    z = df.attrs.get("z_source", np.nan)
    fig.suptitle(f"neutrinos vs hard X-rays over the grid ({int(ok.sum())} done cells; rest-frame "
                 f"bands; tracks and energies for a source at z={z:g}, "
                 f"dec={df.attrs.get('dec_deg', 0):g}°)")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    from pathlib import Path

    return Path(path)


def seeds_holoviews(df, highlight=None, width=420, height=330):
    """holoviews Layout of the same five panels (HTML output and the explorer tab).

    ``highlight``: optional dict of one cell's columns (drawn as a magenta diamond)."""
    import holoviews as hv

    hv.extension("bokeh", logo=False)
    panels = []
    c = df["log_z_cm"].to_numpy(float) if "log_z_cm" in df else np.zeros(len(df))
    for yv, ylab in Y_NU:
        y, _, ylim = _floored(df, yv)
        for xv, xlab in X_BANDS:
            x, _, xlim = _floored(df, xv)
            d = {"x": x, "y": y, "log_z_cm": c}
            pts = hv.Points(d, [hv.Dimension("x", label=xlab), hv.Dimension("y", label=ylab)],
                            ["log_z_cm"]).opts(color="log_z_cm", cmap="viridis", size=7,
                                               colorbar=True, tools=["hover"])
            lay = pts
            if highlight is not None and np.isfinite([highlight.get(xv, np.nan),
                                                      highlight.get(yv, np.nan)]).all():
                hx = max(highlight[xv], xlim[0]) if xlim else highlight[xv]
                hy = max(highlight[yv], ylim[0]) if ylim else highlight[yv]
                lay = lay * hv.Points([(hx, hy)], ["x", "y"]).opts(
                    color="magenta", marker="diamond", size=16, line_color="black")
            opts = dict(logx=True, logy=True, width=width, height=height, show_grid=True,
                        xlabel=xlab, ylabel=ylab)
            if xlim:
                opts["xlim"] = (xlim[0] / 2, xlim[1])
            if ylim:
                opts["ylim"] = (ylim[0] / 2, ylim[1])
            panels.append(lay.opts(**opts) if isinstance(lay, hv.Overlay) else lay.opts(**opts))
    xr_ = df["E_target_relation"].to_numpy(float) / 1e3
    yr_ = df["E_target_obs"].to_numpy(float) / 1e3
    ok = np.isfinite(xr_) & np.isfinite(yr_) & (xr_ > 0) & (yr_ > 0)
    xd = hv.Dimension("E_rel", label="E_γ from Eq. 4.2 [keV]")
    yd = hv.Dimension("E_dom", label="E_γ dominating pγ (observed) [keV]")
    layers = [hv.HSpan(4, 12).opts(color="orange", alpha=0.15),
              hv.HSpan(14, 195).opts(color="purple", alpha=0.12)]
    if ok.any():
        lo = min(xr_[ok].min(), yr_[ok].min()) / 3
        hi = max(xr_[ok].max(), yr_[ok].max()) * 3
        layers.append(hv.Curve([(lo, lo), (hi, hi)], xd, yd, label="Eq. 4.2 (1:1)").opts(
            color="black", line_dash="dashed"))
        layers.append(hv.Points({"E_rel": xr_[ok], "E_dom": yr_[ok], "log_z_cm": c[ok]},
                                [xd, yd], ["log_z_cm"]).opts(color="log_z_cm", cmap="viridis",
                                                             size=8, tools=["hover"]))
        if highlight is not None and np.isfinite(highlight.get("E_target_obs", np.nan)):
            layers.append(hv.Points([(highlight["E_target_relation"] / 1e3,
                                      highlight["E_target_obs"] / 1e3)], [xd, yd]).opts(
                color="magenta", marker="diamond", size=16, line_color="black"))
        lim = dict(xlim=(lo, hi), ylim=(lo, hi))
    else:
        lim = {}
    panels.append(hv.Overlay(layers).opts(logx=True, logy=True, width=width, height=height,
                                          show_grid=True, title="pγ target energy vs paper 001",
                                          **lim))
    return hv.Layout(panels).opts(shared_axes=False).cols(3)


def plot_seeds(cube_path, out, z_source: float = 1.0, dec_deg: float = 0.0, sel=None,
               effective_area=None):
    """Write the seeds' view of a cube to ``out`` (.png or .html); returns (path, table)."""
    from pathlib import Path

    out = Path(out)
    suf = out.suffix.lower()
    if suf not in (".png", ".html", ".htm"):
        raise ValueError(f"--out must end in .png or .html, got {out.name!r}")
    df = seeds_table(cube_path, z_source, dec_deg, sel, effective_area)
    if suf == ".png":
        return seeds_png(df, out), df
    import hvplot

    hvplot.save(seeds_holoviews(df), str(out), resources="inline")
    return out, df
