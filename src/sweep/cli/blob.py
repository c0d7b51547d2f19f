"""``sweep blob CONFIG.yaml``: one-zone kinetic run (parsing only; logic in ``sweep.blob``)."""
from __future__ import annotations

from typing import Optional

import typer


def _fail(msg: str) -> None:
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(code=2)


def register(app: typer.Typer) -> None:
    @app.command("blob")
    def blob_cmd(
        config: str = typer.Argument(..., help="YAML file describing the blob (see examples/athena_test1.yaml)."),
        out: Optional[str] = typer.Option(None, "--out", help="Write comoving + observed SEDs to .nc or .csv."),
        plot: Optional[str] = typer.Option(None, "--plot", help="Write a PNG of the SED (+ neutrinos) and the pair (+ proton) spectra."),
        as_json: bool = typer.Option(False, "--json", help="Print a JSON summary (comoving arrays)."),
    ) -> None:
        """Solve one blob to its steady state (pairs + photons; protons + neutrinos when a species-p
        injection is given) and report SED, neutrinos and energy balance."""
        import json

        from sweep import blob as blob_mod

        try:
            cfg, base = blob_mod.load_config(config)
            if out and not out.endswith((".nc", ".csv")):
                _fail(f"--out: value {out!r} is invalid; allowed: a path ending in .nc or .csv")
            blob = blob_mod.to_blob(cfg, base)
        except ValueError as exc:
            _fail(str(exc))
        from sweep.model.kinetics import solve

        res = solve(blob, tol=cfg.solver.tolerance, max_iter=cfg.solver.max_iterations)
        try:
            if out:
                blob_mod.write(cfg, res, out)
            if plot:
                blob_mod.plot(cfg, res, plot, base)
        except ValueError as exc:
            _fail(str(exc))
        if as_json:
            typer.echo(json.dumps(blob_mod.summary(res)))
        else:
            typer.echo(f"status {res.status}  iterations {res.iterations}  residual {res.residual:.2e}  "
                       f"energy balance {res.energy_balance:.6f}  runtime {res.runtime_s:.3f} s")
            if res.message:
                typer.echo(res.message)
            if out:
                typer.echo(f"spectra written to {out}")
            if plot:
                typer.echo(f"plot written to {plot}")
            try:
                agr = blob_mod.reference_agreement(cfg, res, base)
            except (ValueError, OSError) as exc:
                typer.echo(f"warning: reference not compared: {exc}", err=True)
                agr = {}
            if agr:
                typer.echo(blob_mod.format_agreement(agr))
            if res.extra.get("neutrinos") is not None:
                from sweep.model.hadronic import neutrino_summary

                nu = neutrino_summary(res, cfg.doppler, cfg.redshift)
                typer.echo(f"neutrinos (all flavours, observed δ={cfg.doppler:g}, z={cfg.redshift:g}): "
                           f"E_peak {nu['E_peak_ev']:.3g} eV  EL_E,peak {nu['ELE_peak']:.3g} erg/s  "
                           f"L_ν {nu['L_nu']:.3g} erg/s")
        if res.status == "failed":
            raise typer.Exit(code=1)
