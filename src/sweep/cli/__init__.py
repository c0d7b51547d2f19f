"""Command-line interface: ``sweep <command>``.

Each command group lives in its own module (``sweep.cli.<name>``) and only calls library
functions; the root app below registers them. Import of heavy modules happens inside the commands,
so ``sweep --help`` is fast.
"""
from __future__ import annotations

import importlib

import typer

from sweep.cli.common import escape_help

app = typer.Typer(
    name="sweep",
    help="Parameter sweeps of reconnection-powered blazar jet models (SEDs + neutrinos) on Dask.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# module name -> registers its commands on `app` via `register(app)`
_COMMAND_MODULES = ["jet", "blob", "engine", "reduce", "data", "export", "seeds", "population"]


def _print_version(value: bool) -> None:
    if value:
        from sweep import __version__

        typer.echo(f"sweep {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                 help="Print the package version and exit."),
) -> None:
    """Parameter sweeps of reconnection-powered blazar jet models (SEDs + neutrinos) on Dask."""


for _name in _COMMAND_MODULES:
    try:
        _mod = importlib.import_module(f"sweep.cli.{_name}")
    except ModuleNotFoundError as exc:  # module not written yet
        if exc.name != f"sweep.cli.{_name}":
            raise
        continue
    _mod.register(app)

# units in brackets ([deg], [erg/s]) would otherwise be eaten by rich markup in --help
escape_help(app)


def main() -> None:
    from sweep import table_cache

    table_cache.install()  # kernel tables persist across sweep commands (docs/engine.md §7)
    app()
