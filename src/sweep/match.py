"""Inverse lookup: which cells of a cube reproduce a source (or a catalogue) on the Fermi planes.

Observable space (all log10): ``log_nu_peak`` (synchrotron peak, source rest frame by default),
``log_L_gamma`` (0.1–100 GeV, rest-frame band) and ``log_CD`` (Compton dominance). A cell's
distance to a target is χ² = Σ_k ((m_k − t_k)/σ_k)² over the observables the target has; a
Compton dominance that is only a lower limit (4LAC estimate) counts only when the model is below
it. Default uncertainties (dex): ν_pk 0.3, L_γ 0.2, CD 0.3 — typical scatter of SED-fitted peak
frequencies and of the variable γ-ray luminosity; override them per call.

Coverage: a source is *reproduced* when some cell lies within ``n_sigma`` σ on every observable
the source has.
"""
from __future__ import annotations

import numpy as np

OBSERVABLES = ("log_nu_peak", "log_L_gamma", "log_CD")
DEFAULT_SIGMA = {"log_nu_peak": 0.3, "log_L_gamma": 0.2, "log_CD": 0.3}
#: plausible log10 ranges of a blazar target: synchrotron peaks from radio to MeV (the Fermi
#: samples span 10^11.5–10^18.5 Hz), L_γ(0.1–100 GeV) of nearby BL Lacs to the brightest FSRQs
#: (10^41–10^50 erg/s in 4LAC), Compton dominance 10^-3–10^4. A value outside is refused; a
#: positive value whose log10 falls inside was given linearly.
LOG_RANGES = {"log_nu_peak": (8.0, 24.0), "log_L_gamma": (38.0, 52.0), "log_CD": (-4.0, 5.0)}


def _log10(a):
    a = np.asarray(a, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(a > 0, np.log10(np.where(a > 0, a, 1.0)), np.nan)


def model_table(obs, frame: str = "rest", only_done: bool = True):
    """Flat ``pandas.DataFrame`` of cells: axis coordinates (and 1-D coords of zipped dims),
    ``z_cm`` when present, and the three log observables; cells not done or without a finite
    ν_pk and L_γ are dropped."""
    import pandas as pd

    if frame not in ("rest", "obs"):
        raise ValueError(f"frame must be 'rest' or 'obs', got {frame!r}")
    dims = [d for d in obs["L_gamma"].dims]
    shape = [obs.sizes[d] for d in dims]
    idx = np.meshgrid(*[np.arange(n) for n in shape], indexing="ij")
    cols = {}
    for d, ix in zip(dims, idx):
        for name, coord in obs.coords.items():
            if coord.dims == (d,):
                cols[name] = np.asarray(coord.values)[ix.ravel()]
    need = ["nu_syn_peak_rest" if frame == "rest" else "nu_syn_peak_obs", "L_gamma",
            "compton_dominance"]
    extra = [v for v in ("z_cm", "status", "L_bat", "L_nu_all", "icecube_tracks_per_year")
             if v in obs]
    import xarray as xr

    sub = xr.Dataset({v: obs[v] for v in need + extra}).transpose(*dims).compute()
    cols["log_nu_peak"] = _log10(sub[need[0]].values).ravel()
    cols["log_L_gamma"] = _log10(sub["L_gamma"].values).ravel()
    cols["log_CD"] = _log10(sub["compton_dominance"].values).ravel()
    for v in extra:
        cols[v] = np.asarray(sub[v].values).ravel()
    df = pd.DataFrame(cols)
    ok = np.isfinite(df["log_nu_peak"]) & np.isfinite(df["log_L_gamma"])
    if only_done and "status" in df:
        ok &= df["status"] == 1
    df = df[ok].reset_index(drop=True)
    df.attrs["axes"] = [c for c in cols if c in obs.coords]
    return df


def check_target(target: dict, options: dict | None = None) -> None:
    """Refuse a target value outside :data:`LOG_RANGES` with a one-line hint. ``options`` maps
    the observable to the name the user typed (``{"log_nu_peak": "--nu-peak"}``)."""
    for k, v in target.items():
        if v is None or k not in LOG_RANGES:
            continue
        name = (options or {}).get(k, k)
        lo, hi = LOG_RANGES[k]
        if not np.isfinite(v):
            raise ValueError(f"{name}={v} is not a finite number")
        if lo <= v <= hi:
            continue
        if v > 0 and lo <= np.log10(v) <= hi:
            raise ValueError(f"{name}={v:g} looks linear: did you mean {name} {np.log10(v):.3g}? "
                             f"(it takes log10; allowed {lo:g} to {hi:g})")
        raise ValueError(f"{name}={v:g} is outside the range of blazars, {lo:g} to {hi:g} "
                         "(log10)")


def verdict(model, target: dict, sigma: dict | None = None, n_sigma: float = 1.0,
            lower_limit_cd: bool = False) -> dict:
    """Is any cell a match? A cell matches when every observable the target has lies within
    ``n_sigma`` σ. Returns ``n_within`` (cells that match), ``n_cells``, ``best_max_dev`` (the
    smallest largest-|deviation| over cells, σ), ``best_worst`` (the observable where the
    best-χ² cell deviates most and its signed deviation) and ``match`` (bool)."""
    sig = dict(DEFAULT_SIGMA)
    sig.update({k: v for k, v in (sigma or {}).items() if v is not None})
    used = [k for k in OBSERVABLES if target.get(k) is not None and np.isfinite(target[k])]
    dev = _deviations(model, target, sig, lower_limit_cd)[:, [OBSERVABLES.index(k) for k in used]]
    maxdev = np.where(np.isfinite(dev).all(axis=1), np.abs(dev).max(axis=1), np.inf)
    chi2 = np.where(np.isfinite(maxdev), (dev**2).sum(axis=1), np.inf)
    n_within = int((maxdev <= n_sigma).sum())
    out = {"n_within": n_within, "n_cells": int(len(model)), "n_sigma": float(n_sigma),
           "match": n_within > 0, "best_max_dev": float(maxdev.min()) if len(model) else np.inf,
           "best_worst": None}
    if len(model) and np.isfinite(chi2).any():
        i = int(np.argmin(chi2))
        j = int(np.nanargmax(np.abs(dev[i])))
        out["best_worst"] = (used[j], float(dev[i, j]))
    return out


def format_verdict(v: dict) -> str:
    n = v["n_sigma"]
    if v["match"]:
        return (f"verdict: MATCH: {v['n_within']} of {v['n_cells']} cells lie within {n:g} σ on "
                "every observable")
    txt = f"verdict: NO MATCH: no cell of {v['n_cells']} lies within {n:g} σ on every observable"
    if np.isfinite(v["best_max_dev"]):
        txt += f" (every cell is ≥ {v['best_max_dev']:.1f} σ off on some observable)"
    if v["best_worst"]:
        k, d = v["best_worst"]
        txt += f"; best-χ² cell: {k} {abs(d):.1f} σ {'above' if d > 0 else 'below'} the target"
    return txt


def _deviations(model, target, sigma, lower_limit_cd=False):
    """(n_cells, n_obs) standardised deviations (NaN where the target lacks that observable)."""
    dev = np.full((len(model), len(OBSERVABLES)), np.nan)
    for k, name in enumerate(OBSERVABLES):
        t = target.get(name)
        if t is None or not np.isfinite(t):
            continue
        d = (model[name].to_numpy(float) - t) / sigma[name]
        if name == "log_CD" and lower_limit_cd:
            d = np.minimum(d, 0.0)
        dev[:, k] = d
    return dev


def match_target(model, target: dict, sigma: dict | None = None, top: int = 10,
                 lower_limit_cd: bool = False):
    """Rank cells of ``model`` (from :func:`model_table`) by χ² to ``target``.

    ``target``: {observable: value} (log10 values, missing or NaN = not used). Returns the ``top``
    best rows with ``chi2``, ``n_used`` and ``max_dev`` (largest |deviation| in σ) added.
    """
    sig = dict(DEFAULT_SIGMA)
    sig.update({k: v for k, v in (sigma or {}).items() if v is not None})
    for k, v in sig.items():
        if not v > 0:
            raise ValueError(f"uncertainty of {k} must be > 0, got {v}")
    used = [k for k in OBSERVABLES if target.get(k) is not None and np.isfinite(target[k])]
    if not used:
        raise ValueError("the target has none of " + ", ".join(OBSERVABLES))
    dev = _deviations(model, target, sig, lower_limit_cd)
    out = model.copy()
    cols = [OBSERVABLES.index(k) for k in used]
    du = dev[:, cols]
    out["chi2"] = (du**2).sum(axis=1)
    out["max_dev"] = np.abs(du).max(axis=1)
    # a cell lacking an observable the target has (e.g. no IC hump: NaN) ranks last
    missing = ~np.isfinite(du).all(axis=1)
    out.loc[missing, ["chi2", "max_dev"]] = np.inf
    out["n_used"] = len(used)
    return out.sort_values("chi2", kind="stable").head(top).reset_index(drop=True)


def target_from_source(row, frame: str = "rest") -> tuple[dict, bool]:
    """(target dict, CD is lower limit) of a catalogue row (:mod:`sweep.catalogs`)."""
    nu = row["log_nu_peak_rest"] if frame == "rest" else row["log_nu_peak_obs"]
    tgt = {"log_nu_peak": float(nu), "log_L_gamma": float(row["log_L_gamma"]),
           "log_CD": float(row["log_CD"])}
    return tgt, bool(row.get("cd_lower_limit", False))


def coverage(model, catalog, n_sigma: float = 1.0, sigma: dict | None = None,
             frame: str = "rest", block: int = 20000):
    """Fraction of catalogue sources per class reproduced by some cell within ``n_sigma`` σ on
    every observable they have, and the parameter values of the reproducing cells.

    Returns a dict: ``classes`` {cls: {"n": N, "reproduced": k, "fraction": k/N}},
    ``parameters`` {cls: {axis: {value: n_sources}}} (sources reproduced by some cell having that
    axis value), ``ranges`` {cls: {axis: (min, max)}}, ``n_cells``.
    """
    sig = dict(DEFAULT_SIGMA)
    sig.update({k: v for k, v in (sigma or {}).items() if v is not None})
    nu_col = "log_nu_peak_rest" if frame == "rest" else "log_nu_peak_obs"
    cat = catalog[np.isfinite(catalog[nu_col].to_numpy(float))
                  & np.isfinite(catalog["log_L_gamma"].to_numpy(float))].reset_index(drop=True)
    t = np.stack([cat[nu_col].to_numpy(float), cat["log_L_gamma"].to_numpy(float),
                  cat["log_CD"].to_numpy(float)], axis=1)  # (S, 3)
    lower = cat["cd_lower_limit"].to_numpy(bool) if "cd_lower_limit" in cat else np.zeros(len(cat),
                                                                                          bool)
    m = np.stack([model[k].to_numpy(float) for k in OBSERVABLES], axis=1)  # (C, 3)
    s = np.array([sig[k] for k in OBSERVABLES])
    axes = [a for a in model.attrs.get("axes", []) if a in model]
    ax_vals = {a: model[a].to_numpy() for a in axes}
    ax_uniq = {a: np.unique(v) for a, v in ax_vals.items()}
    hit_any = np.zeros(len(cat), bool)
    hit_val = {a: np.zeros((len(cat), len(u)), bool) for a, u in ax_uniq.items()}
    for c0 in range(0, len(model), block):
        mb = m[c0:c0 + block]
        d = (mb[None, :, :] - t[:, None, :]) / s  # (S, C, 3)
        d[:, :, 2] = np.where(lower[:, None], np.minimum(d[:, :, 2], 0.0), d[:, :, 2])
        has = np.isfinite(t)[:, None, :]
        within = np.where(has, np.abs(d) <= n_sigma, True)  # NaN model vs present target: False
        ok = within.all(axis=2)
        hit_any |= ok.any(axis=1)
        for a, u in ax_uniq.items():
            codes = np.searchsorted(u, ax_vals[a][c0:c0 + block])
            for j in range(len(u)):
                sel = codes == j
                if sel.any():
                    hit_val[a][:, j] |= ok[:, sel].any(axis=1)
    res = {"classes": {}, "parameters": {}, "ranges": {}, "n_cells": int(len(model)),
           "n_sigma": n_sigma, "sigma": sig, "frame": frame}
    for cls in ("FSRQ", "BL Lac", "BCU"):
        sel = (cat["cls"] == cls).to_numpy()
        n = int(sel.sum())
        k = int((hit_any & sel).sum())
        res["classes"][cls] = {"n": n, "reproduced": k, "fraction": (k / n) if n else float("nan")}
        res["parameters"][cls] = {
            a: {float(u): int(hit_val[a][sel, j].sum()) for j, u in enumerate(ax_uniq[a])
                if hit_val[a][sel, j].any()} for a in axes}
        res["ranges"][cls] = {a: (min(v), max(v)) for a, v in res["parameters"][cls].items() if v}
    return res


def format_coverage(res) -> str:
    lines = [f"coverage: {res['n_cells']} cells, within {res['n_sigma']} sigma "
             f"(sigma: " + ", ".join(f"{k} {v}" for k, v in res["sigma"].items()) + ")"]
    for cls, c in res["classes"].items():
        lines.append(f"{cls:7s} {c['reproduced']:5d} / {c['n']:5d} = {c['fraction']:.3f}")
        for a, vals in res["parameters"][cls].items():
            if not vals:
                continue
            lo, hi = res["ranges"][cls][a]
            detail = ", ".join(f"{v:g}: {n}" for v, n in vals.items())
            lines.append(f"    {a}: {lo:g} .. {hi:g}   (value: sources) {detail}")
    return "\n".join(lines)
