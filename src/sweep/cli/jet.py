"""``sweep jet``: jet, injection and external-field quantities at given distances.

Only parses options and calls ``sweep.model.jet.blob_state``; heavy imports inside the command.
"""
from __future__ import annotations

import json
import sys
from typing import List, Optional

import typer

from sweep.cli.common import escape_markup, warn_if_radians

JSON_KEYS = {  # output key -> BlobState attribute
    "z_rs": "z_rs", "gamma": "gamma", "delta": "doppler", "sigma": "sigma", "p": "p",
    "r_cm": "radius", "b_g": "B", "u_b": "u_B", "u_ad": "u_AD", "u_blr": "u_BLR", "u_dt": "u_DT",
    "l_inj": "L_inj", "gamma_max_e": "gamma_max_e", "gamma_max_p": "gamma_max_p",
    "gamma_min_e": "gamma_min_e", "gamma_min_p": "gamma_min_p",
}
_HEADERS = ["z [R_s]", "Γ", "δ", "σ", "p", "R [cm]", "B' [G]", "u'_B", "u'_AD", "u'_BLR", "u'_DT",
            "L'inj [erg/s]", "γmax,e", "γmax,p", "γmin,e", "γmin,p"]


def _fail(msg: str) -> None:
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(code=2)


def build_parameters(overrides: dict, sets: list[str]):
    """JetParameters from explicit options + ``name=value`` strings; exits 2 with a clear message."""
    from pydantic import ValidationError

    from sweep.model.params import JetParameters, format_validation_error

    kw = {k: v for k, v in overrides.items() if v is not None}
    for item in sets or []:
        if "=" not in item:
            _fail(f"--set: value {item!r} is invalid; allowed: name=value with name a JetParameters field")
        name, val = (s.strip() for s in item.split("=", 1))
        if name not in JetParameters.model_fields:
            _fail(f"--set: unknown parameter {name!r}; allowed: {', '.join(JetParameters.model_fields)}")
        kw[name] = None if val.lower() in ("none", "null") else val
    try:
        return JetParameters(**kw)
    except ValidationError as exc:
        _fail(format_validation_error(exc))


def _parse_z(text: str) -> list[float]:
    try:
        vals = [float(v) for v in text.replace(" ", "").split(",") if v]
    except ValueError:
        _fail(f"--z: value {text!r} is invalid; allowed: comma-separated numbers, e.g. 10,30,100")
    if not vals:
        _fail("--z: no distances given")
    return vals


def _plot(params, z_cm, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from sweep.model import constants as const
    from sweep.model.fields import r_blr_cm, r_dt_cm
    from sweep.model.jet import crossover_numerical
    from sweep.model.jet import blob_state

    rs = const.schwarzschild_radius(params.mass_g)
    lo = max(min(z_cm), params.z0_rs * rs)
    hi = max(max(z_cm), lo * 1.0001)
    z = np.geomspace(lo, hi, 300)
    s = blob_state(params, z)
    x = z / rs
    fig, ax = plt.subplots(3, 1, figsize=(7, 10), sharex=True)
    for arr, lab in ((s.u_B, "u'_B"), (s.u_AD, "u'_AD"), (s.u_BLR, "u'_BLR"), (s.u_DT, "u'_DT")):
        ax[0].loglog(x, np.where(arr > 0, arr, np.nan), label=lab)
    ax[0].set_ylabel("comoving energy density [erg cm$^{-3}$]")
    ax[1].loglog(x, s.gamma, label="Γ")
    ax[1].loglog(x, s.sigma, label="σ")
    ax[1].loglog(x, s.doppler, label="δ")
    ax[1].set_ylabel("Γ, σ, δ")
    ax[2].loglog(x, s.L_inj, label="L'_inj")
    ax[2].loglog(x, s.doppler**4 * s.L_inj, label="δ⁴ L'_inj")
    ax[2].set_ylabel("luminosity [erg s$^{-1}$]")
    ax[2].set_xlabel("z [R_s]")
    marks = {"z_acc": params.z_acc_rs, "R_BLR": r_blr_cm(params) / rs, "R_DT": r_dt_cm(params) / rs}
    zx = crossover_numerical(params)
    if zx == zx:
        marks["z_×"] = zx / rs
    for a in ax:
        for name, val in marks.items():
            if x[0] <= val <= x[-1]:
                a.axvline(val, color="0.6", ls=":", lw=1)
                a.text(val, 0.02, name, transform=a.get_xaxis_transform(), fontsize=7, color="0.4")
        a.legend(fontsize=8)
        a.grid(alpha=0.3, which="both", lw=0.3)
    fig.suptitle(f"σ0={params.sigma0:g}, ṁ={params.mdot:g}, ε_jet={params.eps_jet:g}, "
                 f"η_acc={params.eta_acc:g}, θ_obs={params.theta_obs:g}°, M={params.mass_msun:g} M☉",
                 fontsize=9)
    fig.text(0.01, 0.005, "dotted lines: z_acc end of acceleration; R_BLR, R_DT radii of the BLR "
             "and torus; z_× where u'_AD = u'_BLR (disc and BLR fields cross)",
             fontsize=7, color="0.3")
    fig.tight_layout(rect=(0, 0.02, 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)


def jet(
    z: str = typer.Option("10,30,100,380,1000,3000", "--z", help="comma-separated distances"),
    units: str = typer.Option("Rs", "--units", help="units of --z: Rs, cm, pc or rblr (R_BLR)"),
    sigma0: Optional[float] = typer.Option(None, "--sigma0", help="initial magnetisation σ0"),
    mdot: Optional[float] = typer.Option(None, "--mdot", help="accretion rate [Eddington]"),
    eps_jet: Optional[float] = typer.Option(None, "--eps-jet", help="jet power / accretion power"),
    eta_acc: Optional[float] = typer.Option(None, "--eta-acc", help="acceleration efficiency η_acc"),
    theta_obs: Optional[float] = typer.Option(None, "--theta-obs",
                                              help="viewing angle [deg] (degrees, not radians)"),
    mass: Optional[float] = typer.Option(None, "--mass", help="black-hole mass [M_sun]"),
    set_: List[str] = typer.Option([], "--set", help="name=value for any JetParameters field (repeatable)"),
    as_json: bool = typer.Option(False, "--json", help="print a JSON list of objects"),
    plot: Optional[str] = typer.Option(None, "--plot", help="write profile plot to this PNG file"),
) -> None:
    """Jet state, injection and comoving external fields at distances z (model.md §1–§3)."""
    params = build_parameters({"sigma0": sigma0, "mdot": mdot, "eps_jet": eps_jet, "eta_acc": eta_acc,
                               "theta_obs": theta_obs, "mass_msun": mass}, set_)
    warn_if_radians("--theta-obs" if theta_obs is not None else "--set theta_obs",
                    params.theta_obs)
    zvals = _parse_z(z)
    import numpy as np

    from sweep.model.jet import blob_state, distance_to_cm

    try:
        z_cm = np.asarray(distance_to_cm(np.array(zvals), units, params), dtype=float)
    except ValueError as exc:
        _fail(str(exc))
    bad = ~np.isfinite(z_cm) | (z_cm <= 0)
    z_eval = np.where(bad, 1.0, z_cm)  # placeholder; flagged invalid below
    state = blob_state(params, z_eval)
    reasons = list(state.reason)
    for i in np.flatnonzero(bad):
        reasons[i] = f"z = {zvals[i]:g} {units} is not a positive distance"

    if as_json:
        rows = []
        for i in range(len(zvals)):
            row = state.row(i)
            if reasons[i]:
                typer.echo(f"warning: z = {zvals[i]:g} {units}: invalid ({reasons[i]})", err=True)
                rows.append({k: None for k in JSON_KEYS})
            else:
                rows.append({k: row[a] for k, a in JSON_KEYS.items()})
        typer.echo(json.dumps(rows, indent=1))
    else:
        from rich.console import Console
        from rich.table import Table

        tab = Table(title=f"sweep jet  (u' in erg cm⁻³; L_jet = {state.L_jet:.4g} erg/s)")
        for hd in _HEADERS + ["status"]:
            tab.add_column(escape_markup(hd), justify="right")  # keep "[cm]", "[erg/s]"
        for i in range(len(zvals)):
            row = state.row(i)
            if reasons[i]:
                tab.add_row(f"{zvals[i]:g} {units}" if units.lower() not in ("rs", "r_s") else f"{zvals[i]:.4g}",
                            *["–"] * (len(_HEADERS) - 1), f"invalid: {reasons[i]}")
                continue
            vals = [row[a] for a in JSON_KEYS.values()]
            cells = [f"{vals[0]:.4g}", f"{vals[1]:.3f}", f"{vals[2]:.3f}", f"{vals[3]:.3g}", f"{vals[4]:.3f}"]
            cells += [f"{v:.3g}" for v in vals[5:]]
            tab.add_row(*cells, "ok")
        Console(width=max(200, 0), file=sys.stdout).print(tab)

    if plot:
        _plot(params, [v for v, b in zip(z_cm, bad) if not b] or [params.z0_rs], plot)
        if not as_json:
            typer.echo(f"plot written to {plot}")


def register(app: typer.Typer) -> None:
    app.command("jet")(jet)
