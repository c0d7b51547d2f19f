"""Command-line interface: ``sweep <command>``.

Each command group lives in its own module (``sweep.cli.<name>``) and only calls library
functions; the root app below registers them. Import of heavy modules happens inside the commands,
so ``sweep --help`` is fast.
"""
from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="sweep",
    help="Parameter sweeps of reconnection-powered blazar jet models (SEDs + neutrinos) on Dask.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# module name -> registers its commands on `app` via `register(app)`
_COMMAND_MODULES = ["jet", "blob", "engine", "reduce", "data"]


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", help="Print the package version and exit."),
) -> None:
    if version:
        from sweep import __version__

        typer.echo(__version__)
        raise typer.Exit()


for _name in _COMMAND_MODULES:
    try:
        _mod = importlib.import_module(f"sweep.cli.{_name}")
    except ModuleNotFoundError as exc:  # module not written yet
        if exc.name != f"sweep.cli.{_name}":
            raise
        continue
    _mod.register(app)


def main() -> None:
    app()
