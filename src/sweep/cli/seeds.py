"""``sweep plot neutrinos``: the seeds' view, neutrinos vs hard X-rays (work in :mod:`sweep.seeds`)."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer


def _fail(msg: str) -> None:
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(2)


def _group(app: typer.Typer, name: str) -> typer.Typer:
    for g in app.registered_groups:
        if g.name == name:
            return g.typer_instance
    sub = typer.Typer(help="Figures of a cube.", no_args_is_help=True)
    app.add_typer(sub, name=name)
    return sub


def register(app: typer.Typer) -> None:
    plot_app = _group(app, "plot")

    @plot_app.command("neutrinos")
    def neutrinos_cmd(
        cube: Path = typer.Argument(..., help="Cube (Zarr store) with neutrino spectra."),
        out: Path = typer.Option(..., "--out", help="nu.png or nu.html"),
        z_source: float = typer.Option(1.0, "--z-source", help="Redshift of the source for the "
                                       "IceCube rate and the observed energies (paper 001: z~1)."),
        dec: float = typer.Option(0.0, "--dec", help="Declination [deg] for the IceCube rate."),
        sel: Optional[List[str]] = typer.Option(None, "--sel", help="Restrict to axis values: "
                                                "--sel sigma0=30."),
        aeff: Optional[Path] = typer.Option(None, "--aeff", help="IceCube effective-area CSV "
                                            "(default SWEEP_ICECUBE_AEFF, else packaged)."),
    ) -> None:
        """L_ν(>100 TeV) and IceCube tracks vs rest-frame ART-XC (4–12 keV) and BAT (14–195 keV)
        luminosities, coloured by dissipation distance, and the photon energy dominating the pγ
        rate of the ν-peak protons vs paper 001's E_γ ≈ 8.5 keV (δ/10)²(2/(1+z))²(E_ν/200 TeV)⁻¹."""
        from sweep import seeds
        from sweep.plots import parse_selection

        if not z_source > 0:
            _fail(f"--z-source={z_source} must be > 0")
        if not -90 <= dec <= 90:
            _fail(f"--dec={dec} must be in [-90, 90] degrees")
        try:
            path, df = seeds.plot_seeds(cube, out, z_source, dec, parse_selection(sel), aeff)
        except (FileNotFoundError, ValueError, KeyError) as exc:
            _fail(str(exc).strip('"'))
        typer.echo(f"wrote {path}: {len(df)} done cells")
