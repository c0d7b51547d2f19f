"""Figures: the two Fermi planes with model tracks over catalogue points, and SEDs with neutrinos.

* Planes: log ν_syn,pk (rest frame) vs log L_γ(0.1–100 GeV), and log CD vs log ν_syn,pk. One model
  track per combination of the non-distance axes (after a selection), drawn along the dissipation
  distance and coloured by log10 z_diss (``z_cm`` when the axis is absent); catalogue FSRQs as
  circles, BL Lacs as triangles, TXS 0506+056 as a star. PNG with matplotlib, HTML with
  hvplot/holoviews (bokeh); above ``RASTERIZE_ABOVE`` model points the model cloud is rasterised
  with datashader instead of drawn point by point.
* SED: νL_ν of the selected cells with the all-flavour neutrino E L_E (E/h on the same axis),
  Swift-XRT (0.3–10 keV) and Fermi-LAT (0.1–100 GeV) bands shaded.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from sweep.logscale import DYNAMIC_RANGE
from sweep.reduce import GEV_HZ, KEV_HZ

RASTERIZE_ABOVE = 100_000
TRACK_DIMS = ("z_diss", "z_cm", "z_rs", "z")
XRT_HZ = (0.3 * KEV_HZ, 10.0 * KEV_HZ)
LAT_HZ = (0.1 * GEV_HZ, 100.0 * GEV_HZ)
EV_HZ = KEV_HZ * 1e-3


# --------------------------------------------------------------------------------------------
# selections
# --------------------------------------------------------------------------------------------
def parse_selection(items) -> dict[str, str]:
    """['sigma0=30', 'mdot=0.01'] or ['sigma0=30 mdot=0.01'] -> {'sigma0': '30', 'mdot': '0.01'}."""
    out: dict[str, str] = {}
    for item in items or []:
        for tok in str(item).replace(",", " ").split():
            if "=" not in tok:
                raise ValueError(f"selection {tok!r} must look like NAME=VALUE (e.g. sigma0=30)")
            k, v = tok.split("=", 1)
            out[k.strip()] = v.strip()
    return out


def apply_selection(ds, sel: dict):
    """Select coordinate values (nearest; must be within 1e-6 relative of a grid value).

    Keys may be dims or 1-D coordinates on a dim (zipped axes). Errors name the field, the value
    and the allowed values."""
    for name, raw in (sel or {}).items():
        if name not in ds.coords:
            axes = [d for d in ds.dims if d in ds.coords and ds[d].ndim == 1]
            raise ValueError(f"--sel: unknown axis {name!r}; axes of this cube: {axes}")
        coord = ds.coords[name]
        if coord.ndim != 1:
            raise ValueError(f"--sel: {name!r} is not a 1-D axis coordinate")
        vals = np.asarray(coord.values)
        try:
            v = float(raw)
            num = np.asarray(vals, dtype=float)
            j = int(np.argmin(np.abs(num - v)))
            ok = abs(num[j] - v) <= 1e-6 * max(abs(v), abs(num[j]), 1e-300)
        except (TypeError, ValueError):
            hits = np.nonzero(vals.astype(str) == str(raw))[0]
            ok, j = len(hits) > 0, int(hits[0]) if len(hits) else 0
        if not ok:
            raise ValueError(f"--sel: {name}={raw} is not on the grid; allowed values: "
                             f"{[str(x) for x in vals]}")
        ds = ds.isel({coord.dims[0]: [j]})
    return ds


def track_dim(ds) -> str | None:
    for d in TRACK_DIMS:
        if d in ds.dims and ds.sizes[d] > 1:
            return d
    return None


def _log10(a):
    a = np.asarray(a, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(a > 0, np.log10(np.where(a > 0, a, 1.0)), np.nan)


def plane_tracks(obs, sel=None, frame: str = "rest"):
    """List of tracks (dict: label, x = log ν_pk, L = log L_γ, cd = log CD, c = log distance)."""
    obs = apply_selection(obs, sel or {})
    nu = "nu_syn_peak_rest" if frame == "rest" else "nu_syn_peak_obs"
    td = track_dim(obs)
    dist_var = next((v for v in ("z_rs", "z_cm") if v in obs), None)
    vars_ = [nu, "L_gamma", "compton_dominance"] + ([dist_var] if dist_var else [])
    if "status" in obs:
        vars_.append("status")
    sub = obs[vars_].compute()
    others = [d for d in sub[nu].dims if d != td]
    sub = sub.transpose(*others, *([td] if td else []))
    # colour: log10 of the distance in the grid's own unit (R_s) where the cube has it
    if dist_var == "z_rs":
        cval, cname = _log10(sub["z_rs"].values), "log10 z_diss [R_s]"
    elif td and str(obs[td].attrs.get("units", "")) in ("R_s", "Rs"):
        cval = np.broadcast_to(_log10(sub[td].values.astype(float)), sub[nu].shape)
        cname = "log10 z_diss [R_s]"
    elif dist_var == "z_cm":
        cval, cname = _log10(sub["z_cm"].values), "log10 z [cm]"
    elif td:
        cval = np.broadcast_to(_log10(sub[td].values.astype(float)), sub[nu].shape)
        cname = f"log10 {td} [{obs[td].attrs.get('units', '')}]"
    else:
        cval, cname = np.zeros(sub[nu].shape), "log10 z"
    x = _log10(sub[nu].values)
    L = _log10(sub["L_gamma"].values)
    cd = _log10(sub["compton_dominance"].values)
    cval = np.broadcast_to(cval, x.shape)
    if "status" in sub:
        bad = sub["status"].values != 1
        x = np.where(bad, np.nan, x)
    shape = [sub.sizes[d] for d in others]
    tracks = []
    for idx in np.ndindex(*shape) if shape else [()]:
        label = " ".join(f"{d}={sub[d].values[i]:g}" if np.issubdtype(sub[d].dtype, np.number)
                         else f"{d}={sub[d].values[i]}" for d, i in zip(others, idx))
        varying = [(d, i) for d, i in zip(others, idx) if sub.sizes[d] > 1] or list(
            zip(others, idx))
        legend = ", ".join(axis_value_label(obs, d, sub[d].values[i]) for d, i in varying)
        xs, Ls, cds, cs = x[idx], L[idx], cd[idx], cval[idx]
        if not td:
            xs, Ls, cds, cs = (np.atleast_1d(a) for a in (xs, Ls, cds, cs))
        tracks.append(dict(label=label or "all", legend=legend or "model", x=xs, L=Ls, cd=cds,
                           c=np.asarray(cs, float)))
    return tracks, cname


# --------------------------------------------------------------------------------------------
# catalogue layers
# --------------------------------------------------------------------------------------------
def _catalog_points(catalog, frame):
    nu_col = "log_nu_peak_rest" if frame == "rest" else "log_nu_peak_obs"
    out = {}
    for cls in ("FSRQ", "BL Lac"):
        d = catalog[(catalog["cls"] == cls)]
        out[cls] = (d[nu_col].to_numpy(float), d["log_L_gamma"].to_numpy(float),
                    d["log_CD"].to_numpy(float))
    return out


def _txs_point(catalog, frame):
    from sweep import catalogs as cat

    try:
        r = cat.find_source(catalog, "TXS 0506+056")
    except KeyError:
        return None
    if not np.isfinite(r["log_L_gamma"]) or catalog["catalog"].iloc[0] != "4LAC-DR2":
        # 3LAC lists no redshift for TXS 0506+056: take the 4LAC-DR2 values when we can
        try:
            r = cat.find_source(cat.load_4lac(), cat.TXS_0506)
        except (FileNotFoundError, KeyError):
            return None
    nu_col = "log_nu_peak_rest" if frame == "rest" else "log_nu_peak_obs"
    return float(r[nu_col]), float(r["log_L_gamma"]), float(r["log_CD"])


# --------------------------------------------------------------------------------------------
# planes
# --------------------------------------------------------------------------------------------
def _frame_label(frame):
    return "rest frame" if frame == "rest" else "observer frame"


#: adjacent distances whose synchrotron peaks differ by more than this are not one continuous
#: track: on a flat (p ≈ 2) synchrotron SED the highest point moves from one end of the hump to
#: the other (or to a second hump) between neighbouring cells. The smooth evolution along the
#: jet (ν_pk ∝ B γ_pk² δ, every factor a power of z) moves it < 1 dex per factor 3 in z on the
#: shipped grids, so 1.5 dex separates the two cases.
JUMP_DEX = 1.5
#: the frame extends this far beyond the catalogue (dex) to take in model points; points farther
#: out are drawn on the frame edge with an arrow marker, not silently cut
FRAME_BEYOND_CATALOG_DEX = 3.0
TRACK_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h")
BOKEH_MARKERS = ("circle", "square", "triangle", "inverted_triangle", "hex", "plus",
                 "square_pin", "triangle_pin", "circle_cross", "square_x")


def track_segments(x, y):
    """(continuous, jumps): index pairs (i, i+1) of adjacent finite points along a track,
    split by |Δ log ν_pk| > :data:`JUMP_DEX`. Gaps (cells not done, NaN) break the track."""
    ok = np.isfinite(x) & np.isfinite(y)
    cont, jump = [], []
    for i in range(len(x) - 1):
        if ok[i] and ok[i + 1]:
            (jump if abs(x[i + 1] - x[i]) > JUMP_DEX else cont).append((i, i + 1))
    return cont, jump


def _frame(model_vals, cat_vals, pad=0.3):
    """Axis limits: catalogue ∪ model, the model taken in up to FRAME_BEYOND_CATALOG_DEX beyond
    the catalogue's range."""
    m = np.asarray(model_vals, float)
    m = m[np.isfinite(m)]
    c = np.asarray(cat_vals, float)
    c = c[np.isfinite(c)]
    if not c.size and not m.size:
        return 0.0, 1.0
    if not c.size:
        return m.min() - pad, m.max() + pad
    lo, hi = c.min(), c.max()
    if m.size:
        lo = min(lo, max(m.min(), lo - FRAME_BEYOND_CATALOG_DEX))
        hi = max(hi, min(m.max(), hi + FRAME_BEYOND_CATALOG_DEX))
    return lo - pad, hi + pad


def planes_png(obs, path, catalog=None, sel=None, frame: str = "rest", max_tracks: int = 400):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    tracks, cname = plane_tracks(obs, sel, frame)
    fig, axes = plt.subplots(1, 2, figsize=(14, 5.6), constrained_layout=True)
    pts = _catalog_points(catalog, frame) if catalog is not None else None
    txs = _txs_point(catalog, frame) if catalog is not None else None
    cat_x = np.concatenate([pts[c][0] for c in pts]) if pts else np.array([])
    cat_y = {"L": np.concatenate([pts[c][1] for c in pts]) if pts else np.array([]),
             "cd": np.concatenate([pts[c][2] for c in pts]) if pts else np.array([])}
    if pts:
        for cls, marker in (("FSRQ", "o"), ("BL Lac", "^")):
            xs, L, cd = pts[cls]
            axes[0].scatter(xs, L, marker=marker, s=12, facecolor="none", edgecolor="0.65",
                            lw=0.7, label=f"{cls} ({catalog['catalog'].iloc[0]})")
            axes[1].scatter(xs, cd, marker=marker, s=12, facecolor="none", edgecolor="0.65",
                            lw=0.7)
        if txs:
            axes[0].scatter(txs[0], txs[1], marker="*", s=260, c="red", edgecolor="k",
                            zorder=6, label="TXS 0506+056")
            axes[1].scatter(txs[0], txs[2], marker="*", s=260, c="red", edgecolor="k", zorder=6)
    allc = (np.concatenate([t["c"][np.isfinite(t["x"])] for t in tracks]) if tracks
            else np.array([0.0]))
    finite = allc[np.isfinite(allc)]
    norm = plt.Normalize(*(finite.min(), finite.max()) if finite.size else (0, 1))
    npts = sum(np.isfinite(t["x"]).sum() for t in tracks)
    step = max(1, len(tracks) // max_tracks)
    shown = tracks[::step]
    own_markers = len(shown) <= len(TRACK_MARKERS)
    mx = np.concatenate([t["x"] for t in tracks]) if tracks else np.array([])
    xlim = _frame(mx, cat_x)
    handles = []
    n_jumps = n_clipped = 0
    for ax, key in ((axes[0], "L"), (axes[1], "cd")):
        my = np.concatenate([t[key] for t in tracks]) if tracks else np.array([])
        ylim = _frame(my, cat_y[key])
        if npts > RASTERIZE_ABOVE:
            ok = np.isfinite(mx) & np.isfinite(my)
            ax.hexbin(mx[ok], my[ok], gridsize=150, bins="log", cmap="viridis", mincnt=1)
        else:
            for k, t in enumerate(shown):
                x, c = t["x"], t["c"]
                y = t[key]
                # points beyond the frame: on its edge, as arrows
                xc, yc = np.clip(x, *xlim), np.clip(y, *ylim)
                clipped = np.isfinite(x) & np.isfinite(y) & ((xc != x) | (yc != y))
                cont, jump = track_segments(x, y)
                if cont:
                    seg = np.array([[(xc[i], yc[i]), (xc[j], yc[j])] for i, j in cont])
                    lc = LineCollection(seg, cmap="viridis", norm=norm, lw=1.5, alpha=0.9)
                    lc.set_array(np.array([0.5 * (c[i] + c[j]) for i, j in cont]))
                    ax.add_collection(lc)
                for i, j in jump:  # no pretended continuity: dotted, with a mark midway
                    ax.plot([xc[i], xc[j]], [yc[i], yc[j]], ls=":", color="0.35", lw=1.0)
                    ax.plot(0.5 * (xc[i] + xc[j]), 0.5 * (yc[i] + yc[j]), marker="$↯$",
                            color="crimson", ms=11, ls="none", zorder=5)
                n_jumps += len(jump) if key == "L" else 0
                mk = TRACK_MARKERS[k % len(TRACK_MARKERS)] if own_markers else "o"
                inside = np.isfinite(x) & np.isfinite(y) & ~clipped
                ax.scatter(xc[inside], yc[inside], c=c[inside], cmap="viridis", norm=norm,
                           s=26, marker=mk, edgecolor="k", lw=0.4, zorder=4)
                if clipped.any():
                    n_clipped += int(clipped.sum())
                    arrow = np.where(yc[clipped] < y[clipped], "v", "^")
                    for xx, yy, a, cc in zip(xc[clipped], yc[clipped], arrow, c[clipped]):
                        ax.scatter([xx], [yy], marker=a, s=60, color=plt.cm.viridis(norm(cc)),
                                   edgecolor="crimson", lw=1.0, zorder=5, clip_on=False)
                if key == "L" and own_markers:
                    handles.append(Line2D([], [], marker=mk, color="0.3", mfc="0.85", ls="-",
                                          label=t["legend"]))
        ax.set_xlim(*xlim)
        ax.set_ylim(*ylim)
    if not own_markers and tracks:
        handles.append(Line2D([], [], marker="o", color="0.3", mfc="0.85", ls="-",
                              label=f"{len(shown)} model tracks" + (
                                  f" (every {step}th of {len(tracks)})" if step > 1 else "")))
    if n_jumps:
        handles.append(Line2D([], [], color="0.35", ls=":", marker="$↯$", mec="crimson",
                              mfc="crimson", ms=10,
                              label=f"ν_pk jumps > {JUMP_DEX:g} dex between humps (flat SED)"))
    if n_clipped:
        handles.append(Line2D([], [], marker="v", color="w", mec="crimson", mfc="0.7", ms=8,
                              label="beyond the frame (drawn on its edge)"))
    sm = plt.cm.ScalarMappable(norm=norm, cmap="viridis")
    cb = fig.colorbar(sm, ax=axes, shrink=0.85)
    if cname.startswith("log10 "):  # ticks in the distance itself (10, 30, 100 R_s), log scale
        lo, hi = norm.vmin, norm.vmax
        nice = [m * 10.0**e for e in range(int(np.floor(lo)) - 1, int(np.ceil(hi)) + 1)
                for m in (1, 2, 5)]
        nice = [v for v in nice if lo - 1e-9 <= np.log10(v) <= hi + 1e-9]
        if len(nice) >= 2:
            cb.set_ticks(np.log10(nice))
            cb.set_ticklabels([f"{v:g}" for v in nice])
        cb.set_label(cname[len("log10 "):] + " (log scale)")
    else:
        cb.set_label(cname)
    lab = _frame_label(frame)
    axes[0].set(xlabel=f"log ν_syn,pk [Hz] ({lab})", ylabel="log L_γ (0.1–100 GeV) [erg/s]")
    axes[1].set(xlabel=f"log ν_syn,pk [Hz] ({lab})", ylabel="log Compton dominance")
    cat_handles, _ = axes[0].get_legend_handles_labels()
    axes[0].legend(handles=cat_handles, loc="upper right", fontsize=8, framealpha=0.8)
    if handles:
        axes[1].legend(handles=handles, loc="upper right", fontsize=8, framealpha=0.85,
                       title="model tracks along z_diss", title_fontsize=8)
    sel_txt = ", ".join(f"{k}={v}" for k, v in (sel or {}).items())
    fig.suptitle(f"model tracks ({len(tracks)} tracks, {npts} cells"
                 + (f", selection {sel_txt}" if sel_txt else "") + ") over Fermi blazars")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def planes_holoviews(obs, catalog=None, sel=None, frame: str = "rest", highlight=None):
    """A holoviews Layout of the two planes (used by the HTML output and the dashboard).

    ``highlight``: optional (log ν_pk, log L_γ, log CD) of a selected cell, drawn as a big marker.
    """
    import holoviews as hv
    import hvplot.pandas  # noqa: F401
    import pandas as pd

    hv.extension("bokeh", logo=False)
    tracks, cname = plane_tracks(obs, sel, frame)
    lab = _frame_label(frame)
    xdim = hv.Dimension("log_nu_pk", label=f"log ν_syn,pk [Hz] ({lab})")
    ldim = hv.Dimension("log_L_gamma", label="log L_γ (0.1–100 GeV) [erg/s]")
    cdim = hv.Dimension("log_CD", label="log Compton dominance")
    zdim = hv.Dimension("log_z", label=cname)
    rows = []
    for t in tracks:
        for i in range(len(t["x"])):
            rows.append((t["x"][i], t["L"][i], t["cd"][i], t["c"][i], t["label"]))
    df = pd.DataFrame(rows, columns=["log_nu_pk", "log_L_gamma", "log_CD", "log_z", "track"])
    df = df[np.isfinite(df["log_nu_pk"])]
    panels = []
    for ydim, key in ((ldim, "log_L_gamma"), (cdim, "log_CD")):
        layers = []
        if catalog is not None:
            pts = _catalog_points(catalog, frame)
            for cls, marker in (("FSRQ", "circle"), ("BL Lac", "triangle")):
                xs, L, cd = pts[cls]
                ys = L if key == "log_L_gamma" else cd
                cdf = pd.DataFrame({"log_nu_pk": xs, key: ys}).dropna()
                layers.append(hv.Scatter(cdf, xdim, ydim, label=cls).opts(
                    marker=marker, fill_alpha=0, line_color="gray", size=5, muted_alpha=0.05))
        d = df[np.isfinite(df[key])]
        if len(d) > RASTERIZE_ABOVE:
            from holoviews.operation.datashader import rasterize

            layers.append(rasterize(hv.Points(d, [xdim, ydim])).opts(cmap="viridis",
                                                                    cnorm="log"))
        else:
            yk = "L" if key == "log_L_gamma" else "cd"
            cont, jumps = [], []
            for t in tracks:
                c_, j_ = track_segments(t["x"], t[yk])
                cont += [[(t["x"][i], t[yk][i]), (t["x"][j], t[yk][j])] for i, j in c_]
                jumps += [[(t["x"][i], t[yk][i]), (t["x"][j], t[yk][j])] for i, j in j_]
            if cont:  # gaps (cells not done) break a track
                layers.append(hv.Path(cont, [xdim, ydim]).opts(color="lightsteelblue",
                                                               line_width=1.5))
            if jumps:  # the peak pick jumps between humps: dotted, its own legend entry
                layers.append(hv.Path(jumps, [xdim, ydim],
                                      label=f"ν_pk jump > {JUMP_DEX:g} dex (flat SED)").opts(
                    color="crimson", line_dash="dotted", line_width=1.2))
            own = len(tracks) <= len(BOKEH_MARKERS)
            groups = ([(t["legend"], d[d["track"] == t["label"]]) for t in tracks] if own
                      else [("model", d)])
            for k, (name, g) in enumerate(groups):
                layers.append(hv.Points(g, [xdim, ydim], [zdim, "track"], label=name).opts(
                    color="log_z", cmap="viridis", colorbar=(k == 0), size=7,
                    marker=BOKEH_MARKERS[k % len(BOKEH_MARKERS)], line_color="black",
                    line_width=0.3, tools=["hover"],
                    clim=(float(df["log_z"].min()), float(df["log_z"].max()))
                    if len(df) else (0, 1)))
        if catalog is not None:
            txs = _txs_point(catalog, frame)
            if txs:
                ty = txs[1] if key == "log_L_gamma" else txs[2]
                layers.append(hv.Scatter([(txs[0], ty)], xdim, ydim, label="TXS 0506+056").opts(
                    marker="star", color="red", size=18, line_color="black"))
        if highlight is not None:
            hy = highlight[1] if key == "log_L_gamma" else highlight[2]
            layers.append(hv.Scatter([(highlight[0], hy)], xdim, ydim, label="selected").opts(
                marker="diamond", color="magenta", size=16, line_color="black"))
        import functools
        import operator

        if len(layers) == 1:  # keep it an Overlay so the options below apply
            layers.append(hv.Scatter([], xdim, ydim))
        # legend outside the frame: it never hides the selected cell or catalogue points
        panels.append(functools.reduce(operator.mul, layers).opts(hv.opts.Overlay(
            width=700, height=420, legend_position="right", show_grid=True)))
    return (panels[0] + panels[1]).opts(shared_axes=False).cols(2)


def planes_html(obs, path, catalog=None, sel=None, frame: str = "rest"):
    import hvplot

    lay = planes_holoviews(obs, catalog, sel, frame)
    hvplot.save(lay, str(path), resources="inline")
    return Path(path)


def plot_planes(obs, out, catalog=None, sel=None, frame: str = "rest"):
    """Write the planes to ``out`` (.png or .html)."""
    out = Path(out)
    suf = out.suffix.lower()
    if suf == ".png":
        return planes_png(obs, out, catalog, sel, frame)
    if suf in (".html", ".htm"):
        return planes_html(obs, out, catalog, sel, frame)
    raise ValueError(f"--out must end in .png or .html, got {out.name!r}")


# --------------------------------------------------------------------------------------------
# SEDs
# --------------------------------------------------------------------------------------------
SYMBOLS = {"sigma0": "σ0", "mdot": "ṁ", "eps_jet": "ε_jet", "eta_acc": "η_acc",
           "theta_obs": "θ_obs", "z_diss": "z_diss", "mass_msun": "M", "z_red": "z"}
_UNIT_TEXT = {"R_s": "R_s", "Rs": "R_s", "deg": "°", "degree": "°", "degrees": "°",
              "cm": "cm", "pc": "pc", "M_sun": "M☉", "Msun": "M☉"}


def axis_value_label(ds, name: str, value) -> str:
    """``z_diss = 15 R_s``, ``θ_obs = 3°``, ``σ0 = 30``: an axis value with its unit."""
    sym = SYMBOLS.get(name, name)
    try:
        txt = f"{float(value):g}"
    except (TypeError, ValueError):
        return f"{sym} = {value}"
    unit = str(ds[name].attrs.get("units", "")) if name in ds.coords else ""
    if unit in ("", "1"):
        return f"{sym} = {txt}"
    u = _UNIT_TEXT.get(unit, unit)
    return f"{sym} = {txt}{u}" if u == "°" else f"{sym} = {txt} {u}"


def sed_selection(cube, sel=None, max_lines: int = 12) -> dict:
    """Which cells an SED figure draws, and why.

    After ``sel``, only cells whose status is done (or, without a status, that have a spectrum)
    are eligible; invalid, failed and pending cells are never drawn. When more than ``max_lines``
    are eligible, ``max_lines`` are taken evenly spaced in grid order. Returns ``ds`` (the
    selection), ``cells`` (list of isel dicts), ``axes``, ``varying`` (axes that differ between
    the drawn cells: the legend), ``fixed`` (axis labels common to all: the title), ``note``
    (one sentence for the user) and ``title``."""
    ds = apply_selection(cube, sel or {})
    axes = [d for d in ds["nuLnu_obs"].dims if d != "frequency"]
    shape = [ds.sizes[d] for d in axes]
    n = int(np.prod(shape)) if axes else 1
    if "status" in ds:
        st = np.asarray(ds["status"].transpose(*axes).values).reshape(-1)
        ok = st == 1
        why = "done"
    else:
        y = ds["nuLnu_obs"].transpose(*axes, "frequency").values.reshape(n, -1)
        ok = (np.isfinite(y) & (y > 0)).any(axis=1)
        why = "with a spectrum"
    eligible = np.flatnonzero(ok)
    if len(eligible) > max_lines:
        pick = eligible[np.unique(np.linspace(0, len(eligible) - 1, max_lines).round().astype(int))]
    else:
        pick = eligible
    cells = [dict(zip(axes, (int(i) for i in np.unravel_index(f, shape)))) if shape else {}
             for f in pick]
    varying = [d for d in axes if len({c[d] for c in cells}) > 1]
    fixed = [axis_value_label(ds, d, ds[d].values[cells[0][d]]) for d in axes
             if d not in varying and cells]
    selected = ", ".join(f"{k}={v}" for k, v in (sel or {}).items())
    skipped = n - len(eligible)
    note = (f"{len(pick)} of {n} cells drawn"
            + (f" (selection {selected})" if selected else " (no --sel: the whole cube)")
            + f"; {len(eligible)} are {why}"
            + (f", {skipped} not drawn (invalid, failed or pending)" if skipped else "")
            + (f"; {len(pick)} taken evenly spaced in grid order (--max-lines {max_lines}; "
               "narrow with --sel)" if len(eligible) > len(pick) else ""))
    title = ", ".join(fixed) if fixed else "all cells"
    if selected and not fixed:
        title = selected
    return dict(ds=ds, cells=cells, axes=axes, varying=varying, fixed=fixed, note=note,
                title=title, n_cells=n, n_eligible=int(len(eligible)))


def sed_curves(cube, sel=None, max_lines: int = 12, selection: dict | None = None):
    """(list of (label, ν [Hz], νL_ν, E/h [Hz], E L_E all flavours)) for the cells of
    :func:`sed_selection` (labels: the axes that vary between them, with units)."""
    pick = selection or sed_selection(cube, sel, max_lines)
    ds = pick["ds"]
    nu = ds["frequency"].values.astype(float)
    has_nu = "ELE_nu_obs" in ds
    en = ds["neutrino_energy"].values.astype(float) if has_nu else None
    out = []
    for isel in pick["cells"]:
        cell = ds.isel(isel)
        shown = pick["varying"] or pick["axes"]
        label = ", ".join(axis_value_label(ds, d, cell[d].values.item()) for d in shown)
        y = np.asarray(cell["nuLnu_obs"].values, float)
        ye = (np.asarray(cell["ELE_nu_obs"].sum("neutrino_flavour", min_count=1).values, float)
              if has_nu else None)
        out.append((label, nu, y, en * EV_HZ if has_nu else None, ye))
    return out


def sed_png(cube, path, sel=None, max_lines: int = 12):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pick = sed_selection(cube, sel, max_lines)
    curves = sed_curves(cube, selection=pick)
    fig, ax = plt.subplots(figsize=(11, 5.5), constrained_layout=True)
    ax.axvspan(*XRT_HZ, color="tab:orange", alpha=0.15, label="Swift-XRT 0.3–10 keV")
    ax.axvspan(*LAT_HZ, color="tab:purple", alpha=0.15, label="Fermi-LAT 0.1–100 GeV")
    top = 0.0
    cmap = plt.get_cmap("viridis")
    for k, (label, nu, y, nu_n, yn) in enumerate(curves):
        col = cmap(k / max(1, len(curves) - 1))
        ok = np.isfinite(y) & (y > 0)
        if not ok.any():  # done but empty spectrum: nothing to draw
            continue
        ax.loglog(nu[ok], y[ok], color=col, lw=1.6, label=label)
        top = max(top, np.nanmax(np.where(ok, y, 0)))
        if yn is not None:
            okn = np.isfinite(yn) & (yn > 0)
            ax.loglog(nu_n[okn], yn[okn], color=col, lw=1.2, ls="--")
            top = max(top, np.nanmax(np.where(okn, yn, 0)))
    if top > 0:
        ax.set_ylim(top * DYNAMIC_RANGE, top * 5)  # zeros: docs/cube.md
    if not curves:
        ax.text(0.5, 0.5, "no done cell in this selection", transform=ax.transAxes,
                ha="center", va="center", fontsize=12, color="0.4")
    ax.plot([], [], color="0.3", lw=1.6, label="photons νL_ν (solid)")
    ax.plot([], [], color="0.3", lw=1.2, ls="--", label="neutrinos E L_E (dashed)")
    ax.set(xlabel="ν [Hz]   (neutrinos at E/h)", ylabel="νL_ν, E L_E (all flavours) [erg/s]")
    n, ne = pick["n_cells"], pick["n_eligible"]
    fig.suptitle(f"apparent SEDs and neutrino spectra: {pick['title']}\n"
                 f"{len(curves)} of {n} cells drawn"
                 + (f"; {n - ne} not done (invalid, failed, pending) left out" if n > ne else "")
                 + (f"; {ne - len(curves)} done cells left out (--max-lines)"
                    if ne > len(curves) else ""), fontsize=10)
    sec = ax.secondary_xaxis("top", functions=(lambda x: x / EV_HZ, lambda e: e * EV_HZ))
    sec.set_xlabel("E [eV]")
    ax.grid(alpha=0.3, which="major", lw=0.4)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0,
              frameon=False)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def sed_holoviews(cube, sel=None, max_lines: int = 12, width=700, height=420):
    import holoviews as hv

    hv.extension("bokeh", logo=False)
    pick = sed_selection(cube, sel, max_lines)
    curves = sed_curves(cube, selection=pick)
    xd = hv.Dimension("nu", label="ν [Hz] (neutrinos at E/h)")
    yd = hv.Dimension("nuLnu", label="νL_ν, E L_E [erg/s]")
    layers = [hv.VSpan(*XRT_HZ).opts(color="orange", alpha=0.15),
              hv.VSpan(*LAT_HZ).opts(color="purple", alpha=0.15)]
    top = 0.0
    for label, nu, y, nu_n, yn in curves:
        ok = np.isfinite(y) & (y > 0)
        if ok.any():
            layers.append(hv.Curve((nu[ok], y[ok]), xd, yd, label=f"γ {label}"))
            top = max(top, y[ok].max())
        if yn is not None:
            okn = np.isfinite(yn) & (yn > 0)
            if okn.any():
                layers.append(hv.Curve((nu_n[okn], yn[okn]), xd, yd, label=f"ν {label}").opts(
                    line_dash="dashed"))
                top = max(top, yn[okn].max())
    ylim = (top * DYNAMIC_RANGE, top * 5) if top > 0 else (1e30, 1e50)
    return hv.Overlay(layers).opts(hv.opts.Curve(logx=True, logy=True, tools=["hover"]),
                                   hv.opts.Overlay(logx=True, logy=True, width=width,
                                                   height=height, ylim=ylim, xlabel=xd.label,
                                                   title=f"SEDs (solid) and neutrinos (dashed): "
                                                         f"{pick['title']}",
                                                   ylabel=yd.label,
                                                   legend_position="right", show_grid=True))


def plot_sed(cube, out, sel=None, max_lines: int = 12):
    out = Path(out)
    suf = out.suffix.lower()
    if suf == ".png":
        return sed_png(cube, out, sel, max_lines)
    if suf in (".html", ".htm"):
        import hvplot

        hvplot.save(sed_holoviews(cube, sel, max_lines), str(out), resources="inline")
        return out
    raise ValueError(f"--out must end in .png or .html, got {out.name!r}")
