"""``sweep export``: SED + neutrino spectra of cells to .ecsv/.csv/.fits/.nc (work in :mod:`sweep.export`)."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer


def _fail(msg: str) -> None:
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    @app.command("export")
    def export_cmd(
        cube: Path = typer.Argument(..., help="Cube (Zarr store) written by sweep submit."),
        out: Path = typer.Option(..., "--out", help="sed.ecsv, sed.csv, sed.fits or sed.nc"),
        sel: Optional[List[str]] = typer.Option(None, "--sel", help="Cells to export: "
                                                "--sel sigma0=30,z_diss=100 (default: all)."),
        z_source: float = typer.Option(1.0, "--z-source", help="Redshift of the source for the "
                                       "observer-frame energies and νF_ν."),
    ) -> None:
        """Save the SED (νL_ν, νF_ν) and neutrino spectra per flavour of cells, with units,
        parameters, jet state, status and the cube's provenance."""
        from sweep import export
        from sweep.plots import parse_selection

        if not z_source > 0:
            _fail(f"--z-source={z_source} must be > 0")
        try:
            path, t = export.export_cube(cube, out, parse_selection(sel), z_source)
        except (FileNotFoundError, ValueError, KeyError) as exc:
            _fail(str(exc).strip('"'))
        n = t.meta["n_cells"]
        typer.echo(f"wrote {path}: {n} cell(s), {len(t)} rows ({len(t.colnames)} columns), "
                   f"source at z={z_source:g}")
