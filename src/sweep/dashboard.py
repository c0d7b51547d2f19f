"""Interactive explorer of a cube (panel + hvplot/holoviews, bokeh backend).

``build_app(cube_path)`` returns a panel layout with

* one selector per grid axis of the cube (values of that axis);
* the SED (νL_ν) and the all-flavour neutrino spectrum of the selected cell, XRT/LAT bands shaded;
* the two Fermi planes (ν_pk–L_γ, ν_pk–CD) with the catalogue, TXS 0506+056 and the selected cell;
* neutrinos vs hard X-rays over all cells (ART-XC 4–12 keV or BAT 14–195 keV luminosity against
  the neutrino luminosity or the IceCube track rate), selected cell highlighted;
* a text panel with the observables of the selected cell;
* the source placement (redshift, declination) that the observer-frame fluxes and the IceCube
  rate assume, stated in the page header, with inputs to change it (observables recomputed for
  the new placement and cached);
* a second tab, "neutrinos vs hard X-rays": the seeds' view of ``sweep plot neutrinos``
  (:mod:`sweep.seeds`) over all cells, selected cell highlighted.

Legends sit outside the frames, so they never hide the selected cell or catalogue points.

Log axes start at an explicit lower bound, 10⁻⁶ of the largest value shown
(:mod:`sweep.logscale`; zeros in the cube are "no emission", docs/cube.md).

``sweep explore CUBE`` and ``panel serve dashboards/explore.py --args CUBE`` both serve it.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from sweep.model.cell import CellStatus

SED_CSS = "sweep-sed"
INFO_CSS = "sweep-info"
SEEDS_CSS = "sweep-seeds"
HEADER_CSS = "sweep-header"
Z_CSS = "sweep-z-source"
DEC_CSS = "sweep-dec"
#: the neutrino–X-ray panel shows this many dex below its brightest cell; cells further down
#: (e.g. no photopion target: 10 dex below) are drawn on the floor as ▼, not by stretching the
#: axis until the rest is one blob
NUX_RANGE_DEX = 6.0  # = -log10(sweep.logscale.DYNAMIC_RANGE), the figures' common floor


def _fmt(v) -> str:
    try:
        return f"{float(v):.4g}"
    except (TypeError, ValueError):
        return str(v)


def _log10(a):
    a = np.asarray(a, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(a > 0, np.log10(np.where(a > 0, a, 1.0)), np.nan)


def build_app(cube_path, catalog="4lac", catalog_dir=None, obs=None):
    """The dashboard for a cube (a panel ``Column``).

    ``catalog``: "4lac", "3lac", None/"none", or an already loaded catalogue DataFrame;
    ``obs`` may pass precomputed observables (else the companion store or a lazy computation)."""
    import holoviews as hv
    import panel as pn

    import inspect

    from sweep import catalogs, plots
    from sweep import reduce as red

    sig = inspect.signature(red.compute_observables).parameters
    red_defaults = {"z_source": sig["z_source"].default, "dec_deg": sig["dec_deg"].default}
    pn.extension(sizing_mode="fixed")
    hv.extension("bokeh", logo=False)
    cube_path = Path(cube_path)
    ds = red.open_cube(cube_path, want="cube")
    obs = (obs if obs is not None else red.load_observables(cube_path)).compute()
    cat, cat_note = None, ""
    if catalog is not None and not isinstance(catalog, str):  # a catalogue DataFrame
        cat = catalog
    elif catalog and str(catalog).lower() != "none":
        try:
            cat = catalogs.load_catalog(catalog, catalog_dir)
        except FileNotFoundError as exc:
            cat_note = f"catalogue not shown: {exc}"
    axes = [d for d in ds["nuLnu_obs"].dims if d != "frequency"]
    # start on the first cell that has a spectrum (status done)
    start = [0] * len(axes)
    if "status" in obs and (np.asarray(obs["status"].values) == 1).any():
        start = [int(i) for i in np.argwhere(
            np.asarray(obs["status"].transpose(*axes).values) == 1)[0]]
    widgets = {}
    for d in axes:
        vals = ds[d].values
        opts = {(f"{v:g}" if np.issubdtype(vals.dtype, np.number) else str(v)): i
                for i, v in enumerate(vals)}
        if len(opts) < len(vals):  # duplicate labels: fall back to index labels
            opts = {f"{i}: {v}": i for i, v in enumerate(vals)}
        unit = ds[d].attrs.get("units", "")
        widgets[d] = pn.widgets.Select(label=f"{d} [{unit}]" if unit not in ("", "1") else d,
                                       options=opts, value=start[len(widgets)], width=180)
    band = pn.widgets.RadioButtonGroup(label="X-ray band", options=["ART-XC 4-12 keV",
                                                                    "BAT 14-195 keV"],
                                       value="BAT 14-195 keV")
    nu_y = pn.widgets.RadioButtonGroup(label="neutrino", options=["L_nu all", "L_nu >100 TeV",
                                                                  "IceCube tracks/yr"],
                                       value="L_nu all")
    # where the source is placed: observer-frame fluxes and the IceCube rate depend on it
    z0 = float(obs.attrs.get("z_source", red_defaults["z_source"]))
    dec0 = float(obs.attrs.get("dec_deg", red_defaults["dec_deg"]))
    z_w = pn.widgets.FloatInput(label="source redshift z", value=z0, start=1e-3, end=10.0,
                                step=0.05, width=160, css_classes=[Z_CSS])
    dec_w = pn.widgets.FloatInput(label="declination [deg]", value=dec0, start=-90.0, end=90.0,
                                  step=5.0, width=160, css_classes=[DEC_CSS])
    placed = {(round(z0, 6), round(dec0, 6)): obs}

    def obs_at(z, dec):
        """Observables with the source at (z, dec): the loaded ones, else recomputed (cached)."""
        key = (round(float(z), 6), round(float(dec), 6))
        if key not in placed:
            placed[key] = red.compute_observables(ds, z_source=key[0], dec_deg=key[1]).compute()
        return placed[key]

    def _idx(kw):
        return {d: int(kw[d]) for d in axes}

    def sed_view(**kw):
        cell = ds.isel(_idx(kw))
        nu = ds["frequency"].values.astype(float)
        y = np.asarray(cell["nuLnu_obs"].values, float)
        layers = [hv.VSpan(*plots.XRT_HZ).opts(color="orange", alpha=0.15),
                  hv.VSpan(*plots.LAT_HZ).opts(color="purple", alpha=0.15)]
        xd = hv.Dimension("nu", label="ν [Hz] (neutrinos at E/h)")
        yd = hv.Dimension("L", label="νL_ν, E L_E [erg/s]")
        top = 0.0
        ok = np.isfinite(y) & (y > 0)
        if ok.any():
            layers.append(hv.Curve((nu[ok], y[ok]), xd, yd, label="photons").opts(
                color="navy", line_width=2))
            top = y[ok].max()
        if "ELE_nu_obs" in cell:
            e = ds["neutrino_energy"].values.astype(float) * plots.EV_HZ
            yn = np.asarray(cell["ELE_nu_obs"].sum("neutrino_flavour", min_count=1).values, float)
            okn = np.isfinite(yn) & (yn > 0)
            if okn.any():
                layers.append(hv.Curve((e[okn], yn[okn]), xd, yd, label="ν all flavours").opts(
                    color="crimson", line_dash="dashed", line_width=2))
                top = max(top, yn[okn].max())
        from sweep.logscale import DYNAMIC_RANGE

        ylim = (top * DYNAMIC_RANGE, top * 5) if top > 0 else (1e38, 1e48)
        title = "SED of the selected cell" + ("" if top > 0 else " (no spectrum: see status)")
        return hv.Overlay(layers).opts(logx=True, logy=True, width=720, height=380, ylim=ylim,
                                       title=title, xlabel=xd.label, ylabel=yd.label,
                                       show_grid=True, legend_position="right")

    def _selected(kw):
        c = obs.isel(_idx(kw))
        return (float(_log10(c["nu_syn_peak_rest"])), float(_log10(c["L_gamma"])),
                float(_log10(c["compton_dominance"])))

    def planes_view(**kw):
        return plots.planes_holoviews(obs, cat, highlight=_selected(kw))

    def nux_view(band_name, y_name, z, dec, **kw):
        o = obs_at(z, dec)
        xv = "L_artxc" if band_name.startswith("ART") else "L_bat"
        yv = {"L_nu all": "L_nu_all", "L_nu >100 TeV": "L_nu_100TeV",
              "IceCube tracks/yr": "icecube_tracks_per_year"}[y_name]
        if yv not in o:
            return hv.Text(0, 0, "no neutrino spectra in this cube")
        x = _log10(o[xv].values).ravel()
        y = _log10(o[yv].values).ravel()
        ok = np.isfinite(x) & np.isfinite(y)
        xband = "ART-XC 4–12 keV" if xv == "L_artxc" else "BAT 14–195 keV"
        xd = hv.Dimension("x", label=f"log L_X ({xband}) [erg/s]")
        ydl = {"L_nu_all": "log L_ν, all flavours [erg/s]",
               "L_nu_100TeV": "log L_ν(>100 TeV) [erg/s]",
               "icecube_tracks_per_year": "log IceCube tracks per year"}[yv]
        yd = hv.Dimension("y", label=ydl)
        c = o.isel(_idx(kw))
        cx, cy = float(_log10(c[xv])), float(_log10(c[yv]))
        # y-range from the bulk of the cells: a few cells 10 dex below must not squash the rest
        top = float(np.nanmax(y[ok])) if ok.any() else 0.0
        floor = top - NUX_RANGE_DEX
        low = ok & (y < floor)
        layers = [hv.Points((x[ok & ~low], y[ok & ~low]), [xd, yd], label="cells").opts(
            color="gray", size=5, alpha=0.6)]
        if low.any():
            layers.append(hv.Points((x[low], np.full(low.sum(), floor + 0.1)), [xd, yd],
                                    label=f"{int(low.sum())} cells below the frame").opts(
                color="gray", marker="inverted_triangle", size=8, alpha=0.8))
        if np.isfinite(cy):
            layers.append(hv.Points([(cx, max(cy, floor + 0.1))], [xd, yd],
                                    label="selected").opts(color="magenta", marker="diamond",
                                                           size=16, line_color="black"))
        title = f"neutrinos vs hard X-rays (source at z = {z:g}, dec = {dec:g}°)"
        ylim = (floor, top + 0.5) if ok.any() else (None, None)
        return hv.Overlay(layers).opts(width=720, height=380, title=title, show_grid=True,
                                       ylim=ylim, legend_position="right")

    def info_view(z, dec, **kw):
        c = obs_at(z, dec).isel(_idx(kw))
        cell = ds.isel(_idx(kw))
        lines = ["**selected cell**: " + ", ".join(
            f"{d}={_fmt(ds[d].values[int(kw[d])])}" for d in axes)]
        if "status" in cell:
            st = int(cell["status"].values)
            msg = str(cell["message"].values) if "message" in cell else ""
            try:
                name = CellStatus(st).name.lower()
            except ValueError:
                name = str(st)
            lines.append(f"\nstatus: {name} {msg}".rstrip())
        for v, unit in (("nu_syn_peak_rest", "Hz"), ("nuLnu_syn_peak", "erg/s"),
                        ("nu_ic_peak_rest", "Hz"), ("compton_dominance", ""),
                        ("L_gamma", "erg/s"), ("L_xrt", "erg/s"), ("L_artxc", "erg/s"),
                        ("L_bat", "erg/s"), ("L_nu_all", "erg/s"), ("E_nu_peak_rest", "eV"),
                        ("L_nu_over_L_gamma", ""), ("icecube_tracks_per_year", "/yr")):
            if v in c:
                lines.append(f"- {v} = {_fmt(c[v].values)} {unit}")
        lines.append(f"\n(observer-frame values and the IceCube rate: source at z = {z:g}, "
                     f"dec = {dec:g}°)")
        return pn.pane.Markdown("\n".join(lines), width=330, css_classes=[INFO_CSS])

    sed_pane = pn.pane.HoloViews(pn.bind(sed_view, **widgets), css_classes=[SED_CSS],
                                 width=740, height=400)
    planes_pane = pn.pane.HoloViews(pn.bind(planes_view, **widgets), width=1420, height=460)
    nux_pane = pn.pane.HoloViews(pn.bind(nux_view, band, nu_y, z_w, dec_w, **widgets),
                                 width=740, height=400)

    def header_view(z, dec):
        return pn.pane.Markdown(
            f"## sweep explorer: `{cube_path.name}`\n"
            f"{int(obs['L_gamma'].notnull().sum())} of {int(obs['L_gamma'].size)} cells with "
            f"spectra; SEDs are apparent luminosities, planes in the source rest frame. "
            f"**Fluxes and IceCube rates assume the source at redshift z = {z:g}, declination "
            f"{dec:g}°** (change them on the left). {cat_note}", width=1200,
            css_classes=[HEADER_CSS])

    controls = pn.Column("### axes", *widgets.values(), "### source placement", z_w, dec_w,
                         "### neutrinos vs X-rays", band, nu_y,
                         pn.bind(info_view, z_w, dec_w, **widgets), width=350)
    header = pn.bind(header_view, z_w, dec_w)
    main = pn.Column(header, pn.Row(controls, pn.Column(sed_pane, nux_pane)), planes_pane)
    seeds_tab = _seeds_tab(cube_path, obs, widgets, axes)
    if seeds_tab is None:
        return main
    return pn.Tabs(("cells and planes", main), ("neutrinos vs hard X-rays", seeds_tab),
                   dynamic=True)


def _seeds_tab(cube_path, obs, widgets, axes):
    """The seeds' view (sweep.seeds) at the observables' z_source/dec, selected cell highlighted;
    None for a cube without neutrino spectra."""
    import panel as pn

    from sweep import seeds

    if "L_nu_100TeV" not in obs:
        return None
    z = float(obs.attrs.get("z_source", 1.0))
    dec = float(obs.attrs.get("dec_deg", 0.0))
    df = seeds.seeds_table(cube_path, z_source=z, dec_deg=dec, obs=obs)

    def view(**kw):
        hit = df
        for d in axes:
            hit = hit[hit[d] == obs[d].values[int(kw[d])]]
        high = hit.iloc[0].to_dict() if len(hit) else None
        return seeds.seeds_holoviews(df, highlight=high, width=380, height=300)

    note = pn.pane.Markdown(
        f"Neutrinos above 100 TeV and IceCube tracks (source at z={z:g}, dec={dec:g}°) against "
        "the rest-frame ART-XC and BAT luminosities, coloured by log dissipation distance; right: "
        "the photon energy dominating the pγ rate of the protons making the neutrino peak against "
        "paper 001's E_γ ≈ 8.5 keV (δ/10)²(2/(1+z))²(E_ν/200 TeV)⁻¹ (docs/reducer.md).",
        width=1200)
    return pn.Column(note, pn.pane.HoloViews(pn.bind(view, **widgets), width=1250, height=680,
                                             css_classes=[SEEDS_CSS]))


def app_from_args(argv):
    """For ``panel serve dashboards/explore.py --args CUBE [--catalog 4lac] [--catalog-dir D]``."""
    import argparse

    ap = argparse.ArgumentParser(prog="explore.py")
    ap.add_argument("cube")
    ap.add_argument("--catalog", default="4lac")
    ap.add_argument("--catalog-dir", default=None)
    a = ap.parse_args(argv)
    return build_app(a.cube, catalog=a.catalog, catalog_dir=a.catalog_dir)


DEFAULT_PORT = 5006


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True when ``host:port`` cannot be bound (another server listens there)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def choose_port(port: int | None, host: str = "127.0.0.1") -> int:
    """``port`` itself (an ``OSError`` with a one-line reason when it is taken), or, when
    ``None``, :data:`DEFAULT_PORT` if free, else any free port (0)."""
    if port is None:
        return DEFAULT_PORT if not port_in_use(DEFAULT_PORT, host) else 0
    if port and port_in_use(port, host):
        raise OSError(f"port {port} on {host} is in use (another sweep explore or panel "
                      "server?); give another --port, or leave --port out to pick a free one")
    return port


def websocket_origins(port: int, allow_origin: list[str] | tuple = ()) -> list[str]:
    """The websocket origins the server accepts: the host/port it serves (127.0.0.1 and
    localhost, which an ``ssh -L`` tunnel also presents) plus each explicit ``--allow-origin``."""
    return [f"127.0.0.1:{port}", f"localhost:{port}"] + [o for o in allow_origin if o]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(cube_path, port: int | None = None, show: bool = True, catalog="4lac",
          catalog_dir=None, threaded: bool = False, allow_origin: list[str] | tuple = ()):
    """Serve the dashboard with ``panel.serve`` (one app instance per browser session), on
    127.0.0.1 only, accepting websocket connections only from pages served by this server (or
    an origin given with ``allow_origin``, e.g. behind a proxy).

    ``port=None``: 5006, or any free port when 5006 is taken."""
    import panel as pn

    from sweep import catalogs
    from sweep import reduce as red

    cube_path = Path(cube_path)
    if not cube_path.exists():
        raise FileNotFoundError(f"cube not found: {cube_path}")
    if port:  # a taken --port fails before the (possibly long) loading
        choose_port(port)
    # load once per server (fails early on bad input); every session reuses them
    obs = red.load_observables(cube_path).compute()
    cat = (catalogs.load_catalog(catalog, catalog_dir)
           if catalog and str(catalog).lower() != "none" else None)
    build_app(cube_path, cat, catalog_dir, obs=obs)
    asked = port
    port = choose_port(port) or _free_port()  # the origin names the port: choose it now
    if asked is None and port != DEFAULT_PORT:
        print(f"port {DEFAULT_PORT} is in use: serving on http://127.0.0.1:{port}/", flush=True)
    return pn.serve(lambda: build_app(cube_path, cat, catalog_dir, obs=obs), port=port, show=show,
                    title=f"sweep explore {cube_path.name}", threaded=threaded,
                    address="127.0.0.1", websocket_origin=websocket_origins(port, allow_origin))
