"""``sweep reduce``, ``sweep plot planes|sed``, ``sweep match``, ``sweep explore``.

Parsing only: the work is done by :mod:`sweep.reduce`, :mod:`sweep.catalogs`, :mod:`sweep.match`,
:mod:`sweep.plots` and :mod:`sweep.dashboard` (imported inside the commands).
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

CATALOG_HELP = ("Fermi catalogue: 4lac (4LAC-DR2) or 3lac (3LAC + 3FGL), packaged; a fetched "
                "release such as 4lac-dr3 (sweep data fetch); 'none' for no catalogue.")
CATDIR_HELP = ("Directory holding the official catalogue files (default: env SWEEP_CATALOG_DIR, "
               "else the copies packaged with sweep, see `sweep data list`).")
SEL_HELP = ("Select axis values, repeatable or space separated: --sel sigma0=30 --sel mdot=0.01 "
            "or --sel 'sigma0=30 mdot=0.01'.")


def _fail(msg: str) -> None:
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(2)


def _catalog(name: str, catalog_dir: Optional[Path]):
    from sweep import catalogs

    if name.lower() == "none":
        return None
    return catalogs.load_catalog(name, catalog_dir)


def _catalog_choices(none: bool = True) -> set:
    from sweep.catalogs import catalog_choices

    return catalog_choices() | ({"none"} if none else set())


def _check_choice(field: str, value: str, allowed) -> None:
    if value.lower() not in allowed:
        _fail(f"{field}={value!r} is not allowed; choose one of {sorted(allowed)}")


def register(app: typer.Typer) -> None:
    plot_app = typer.Typer(help="Figures of a cube: Fermi planes and SEDs.", no_args_is_help=True)
    app.add_typer(plot_app, name="plot")

    @app.command("reduce")
    def reduce_cmd(
        cube: Path = typer.Argument(..., help="Cube (Zarr store) written by sweep submit."),
        out: Optional[Path] = typer.Option(None, "--out", help="Observables store (default "
                                           "CUBE/../<name>.observables.zarr)."),
        z_source: float = typer.Option(1.0, "--z-source", help="Redshift at which the source is "
                                       "placed for observer-frame quantities and the IceCube rate."),
        dec: float = typer.Option(0.0, "--dec", help="Declination [deg] for the IceCube rate."),
        aeff: Optional[Path] = typer.Option(None, "--aeff", help="IceCube effective-area CSV "
                                            "(default env SWEEP_ICECUBE_AEFF, else the packaged "
                                            "IC86-II table, see `sweep data list`)."),
        min_prominence: float = typer.Option(0.2, "--min-prominence",
                                             help="Minimum prominence [dex] of an SED hump."),
    ) -> None:
        """Compute the observables of every cell (lazily, chunk by chunk) into a Zarr store."""
        import time

        from sweep import reduce as red

        if not z_source > 0:
            _fail(f"--z-source={z_source} must be > 0")
        if not -90 <= dec <= 90:
            _fail(f"--dec={dec} must be in [-90, 90] degrees")
        t0 = time.perf_counter()
        try:
            path = red.reduce_cube(cube, out, z_source=z_source, dec_deg=dec,
                                   effective_area=aeff, min_prominence_dex=min_prominence)
        except (FileNotFoundError, ValueError, NotImplementedError) as exc:
            _fail(str(exc))
        obs = red.open_cube(path)
        n = int(obs["L_gamma"].size)
        ok = int(obs["L_gamma"].notnull().sum())
        typer.echo(f"wrote {path}: {len(obs.data_vars)} variables for {n} cells "
                   f"({ok} with spectra) in {time.perf_counter() - t0:.1f} s")

    @plot_app.command("planes")
    def planes_cmd(
        cube: Path = typer.Argument(..., help="Cube or its observables store."),
        out: Path = typer.Option(..., "--out", help="planes.png or planes.html"),
        catalog: str = typer.Option("4lac", "--catalog", help=CATALOG_HELP),
        catalog_dir: Optional[Path] = typer.Option(None, "--catalog-dir", help=CATDIR_HELP),
        sel: Optional[List[str]] = typer.Option(None, "--sel", help=SEL_HELP),
        frame: str = typer.Option("rest", "--frame", help="Frame of ν_pk: rest or obs."),
    ) -> None:
        """Model tracks along the dissipation distance over Fermi blazars, on both planes."""
        from sweep import plots
        from sweep import reduce as red

        _check_choice("--catalog", catalog, _catalog_choices())
        _check_choice("--frame", frame, {"rest", "obs"})
        try:
            obs = red.load_observables(cube)
            cat = _catalog(catalog, catalog_dir)
            path = plots.plot_planes(obs, out, cat, plots.parse_selection(sel), frame)
        except (FileNotFoundError, ValueError, KeyError, NotImplementedError) as exc:
            _fail(str(exc))
        typer.echo(f"wrote {path}")

    @plot_app.command("sed")
    def sed_cmd(
        cube: Path = typer.Argument(..., help="Cube (Zarr store)."),
        out: Path = typer.Option(..., "--out", help="sed.png or sed.html"),
        sel: Optional[List[str]] = typer.Option(None, "--sel", help=SEL_HELP),
        max_lines: int = typer.Option(12, "--max-lines", help="At most this many cells drawn."),
    ) -> None:
        """SEDs and neutrino spectra of the selected cells, XRT and LAT bands shaded."""
        from sweep import plots
        from sweep import reduce as red

        if max_lines < 1:
            _fail(f"--max-lines={max_lines} must be >= 1")
        try:
            ds = red.open_cube(cube, want="cube")
            selection = plots.parse_selection(sel)
            typer.echo(plots.sed_selection(ds, selection, max_lines)["note"])
            path = plots.plot_sed(ds, out, selection, max_lines)
        except (FileNotFoundError, ValueError, KeyError) as exc:
            _fail(str(exc))
        typer.echo(f"wrote {path}")

    @app.command("match")
    def match_cmd(
        cube: Path = typer.Argument(..., help="Cube or its observables store."),
        source: Optional[str] = typer.Option(None, "--source", help="Catalogue source (Fermi "
                                             "name or association, e.g. '4FGL J0509.4+0542')."),
        nu_peak: Optional[float] = typer.Option(None, "--nu-peak",
                                                help="log10 ν_syn,pk [Hz] of the target."),
        nu_peak_err: float = typer.Option(0.3, "--nu-peak-err", help="its uncertainty [dex]"),
        l_gamma: Optional[float] = typer.Option(None, "--l-gamma",
                                                help="log10 L_γ(0.1–100 GeV) [erg/s]."),
        l_gamma_err: float = typer.Option(0.2, "--l-gamma-err", help="its uncertainty [dex]"),
        cd: Optional[float] = typer.Option(None, "--cd", help="log10 Compton dominance."),
        cd_err: float = typer.Option(0.3, "--cd-err", help="its uncertainty [dex]"),
        frame: str = typer.Option("rest", "--frame", help="Frame of ν_pk: rest or obs."),
        top: int = typer.Option(10, "--top", help="Number of best cells printed."),
        catalog: str = typer.Option("4lac", "--catalog", help=CATALOG_HELP),
        catalog_dir: Optional[Path] = typer.Option(None, "--catalog-dir", help=CATDIR_HELP),
        cov: bool = typer.Option(False, "--coverage", help="Fraction of catalogue sources per "
                                 "class reproduced by some cell, and the parameters doing it."),
        n_sigma: float = typer.Option(1.0, "--n-sigma", help="Tolerance [σ] of the match verdict "
                                      "and of --coverage: every observable within n σ."),
    ) -> None:
        """Rank cells by distance to a source in (log ν_pk, log L_γ, log CD)."""
        import pandas as pd

        from sweep import catalogs, match
        from sweep import reduce as red

        _check_choice("--frame", frame, {"rest", "obs"})
        _check_choice("--catalog", catalog, _catalog_choices(none=False))
        if top < 1:
            _fail(f"--top={top} must be >= 1")
        if not n_sigma > 0:
            _fail(f"--n-sigma={n_sigma} must be > 0")
        sigma = {"log_nu_peak": nu_peak_err, "log_L_gamma": l_gamma_err, "log_CD": cd_err}
        for k, v in sigma.items():
            if not v > 0:
                _fail(f"uncertainty of {k} must be > 0, got {v}")
        try:
            obs = red.load_observables(cube)
            model = match.model_table(obs, frame)
            if model.empty:
                _fail(f"{cube}: no done cell with a synchrotron peak and L_γ")
            if cov:
                cat = catalogs.load_catalog(catalog, catalog_dir)
                res = match.coverage(model, cat, n_sigma=n_sigma, sigma=sigma, frame=frame)
                typer.echo(f"catalogue {cat['catalog'].iloc[0]} ({frame} frame)")
                typer.echo(match.format_coverage(res))
                return
            lower = False
            if source is not None:
                cat = catalogs.load_catalog(catalog, catalog_dir)
                row = catalogs.find_source(cat, source)
                target, lower = match.target_from_source(row, frame)
                typer.echo(f"{row['name']} ({row['assoc']}, {row['cls']}, z={row['z']:.4g}): "
                           + ", ".join(f"{k}={v:.3f}" for k, v in target.items())
                           + (" (CD lower limit)" if lower else ""))
            else:
                target = {"log_nu_peak": nu_peak, "log_L_gamma": l_gamma, "log_CD": cd}
                if all(v is None for v in target.values()):
                    _fail("give --source NAME or at least one of --nu-peak, --l-gamma, --cd "
                          "(or --coverage)")
                match.check_target(target, {"log_nu_peak": "--nu-peak",
                                            "log_L_gamma": "--l-gamma", "log_CD": "--cd"})
            best = match.match_target(model, target, sigma=sigma, top=top, lower_limit_cd=lower)
            verdict = match.verdict(model, target, sigma=sigma, n_sigma=n_sigma,
                                    lower_limit_cd=lower)
        except (FileNotFoundError, ValueError, KeyError, NotImplementedError) as exc:
            _fail(str(exc).strip('"'))
        cols = model.attrs["axes"] + [c for c in ("z_cm",) if c in best] + [
            "log_nu_peak", "log_L_gamma", "log_CD", "chi2", "max_dev"]
        with pd.option_context("display.width", 200, "display.max_columns", 50):
            typer.echo(best[cols].to_string(index=True, float_format=lambda x: f"{x:.4g}"))
        typer.echo(match.format_verdict(verdict))

    @app.command("explore")
    def explore_cmd(
        cube: Path = typer.Argument(..., help="Cube (Zarr store)."),
        port: Optional[int] = typer.Option(None, "--port", help="Port of the panel server on "
                                           "127.0.0.1 (default 5006, or any free port when 5006 "
                                           "is taken; 0 = any free)."),
        show: bool = typer.Option(True, "--show/--no-show", help="Open a browser tab."),
        catalog: str = typer.Option("4lac", "--catalog", help=CATALOG_HELP),
        catalog_dir: Optional[Path] = typer.Option(None, "--catalog-dir", help=CATDIR_HELP),
        allow_origin: list[str] = typer.Option([], "--allow-origin",
                                               help="Also accept websocket connections from pages of "
                                                    "this host:port (e.g. a proxy); repeatable."),
    ) -> None:
        """Serve the interactive dashboard (panel) for a cube."""
        _check_choice("--catalog", catalog, _catalog_choices())
        if port is not None and not 0 <= port < 65536:
            _fail(f"--port={port} must be in 0..65535")
        from sweep import dashboard

        try:
            dashboard.serve(cube, port=port, show=show, catalog=catalog, catalog_dir=catalog_dir,
                            allow_origin=allow_origin)
        except (FileNotFoundError, ValueError, KeyError, OSError) as exc:
            _fail(str(exc).strip('"'))
