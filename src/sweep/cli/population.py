"""``sweep population``: catalogue blazars reproduced by the cube and their neutrinos
(work in :mod:`sweep.population`)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def _fail(msg: str) -> None:
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    @app.command("population")
    def population_cmd(
        cube: Path = typer.Argument(..., help="Cube (Zarr store) with neutrino spectra."),
        out: Path = typer.Option(..., "--out", help="pop.ecsv, pop.csv, pop.fits or pop.nc"),
        catalog: str = typer.Option("4lac", "--catalog", help="4lac, 3lac or a fetched 4LAC "
                                    "release (sweep data fetch)."),
        catalog_dir: Optional[Path] = typer.Option(None, "--catalog-dir", help="Directory of the "
                                                   "official catalogue files (default packaged)."),
        n_sigma: float = typer.Option(1.0, "--n-sigma", help="A cell reproduces a source within "
                                      "this many σ on every observable the source has."),
        nu_peak_err: float = typer.Option(0.3, "--nu-peak-err", help="σ of log ν_pk [dex]"),
        l_gamma_err: float = typer.Option(0.2, "--l-gamma-err", help="σ of log L_γ [dex]"),
        cd_err: float = typer.Option(0.3, "--cd-err", help="σ of log CD [dex]"),
        aeff: Optional[Path] = typer.Option(None, "--aeff", help="IceCube effective-area CSV "
                                            "(default SWEEP_ICECUBE_AEFF, else packaged)."),
        top: int = typer.Option(10, "--top", help="Sources printed."),
    ) -> None:
        """For every catalogue blazar with z and ν_pk: matching cells, predicted neutrino energy
        flux and IceCube track rate (median, range), best parameters; prints the top rates and
        where TXS 0506+056 ranks."""
        from sweep import catalogs, export
        from sweep import population as pop
        from sweep import reduce as red

        from sweep.cli.reduce import _catalog_choices, _check_choice

        _check_choice("--catalog", catalog, _catalog_choices(none=False))
        if top < 1:
            _fail(f"--top={top} must be >= 1")
        sigma = {"log_nu_peak": nu_peak_err, "log_L_gamma": l_gamma_err, "log_CD": cd_err}
        try:
            ds = red.open_cube(cube)
            if "nuLnu_obs" not in ds:
                _fail(f"{cube} has no nuLnu_obs: give the cube, not its observables store")
            obs = red.load_observables(cube)
            cat = catalogs.load_catalog(catalog, catalog_dir)
            df = pop.population(ds, obs, cat, n_sigma=n_sigma, sigma=sigma, effective_area=aeff)
            meta = {f"cube_{k}": str(ds.attrs[k]) for k in ("sweep_version", "spec_sha256",
                                                            "created") if k in ds.attrs}
            meta["cube"] = str(cube)
            path = export.write_table(pop.to_table(df, meta), out)
        except (FileNotFoundError, ValueError, KeyError) as exc:
            _fail(str(exc).strip('"'))
        typer.echo(pop.summary(df, top))
        typer.echo(f"wrote {path}: {len(df)} sources")
