"""Helpers shared by the command modules: one-line errors, help text that keeps its units,
warnings on angles that look like radians.

Typer renders option help with rich markup, which swallows any ``[lowercase…]`` (``[deg]``,
``[erg/s]``, ``[dex]``) as an unknown style tag. :func:`escape_help` walks every registered
command once (called by :mod:`sweep.cli` after registration), so units written the natural way in
the source stay visible in ``--help``; command modules need do nothing.
"""
from __future__ import annotations

import inspect

import typer

#: below this, an angle given in degrees looks like radians (0.2 rad = 11.5°; 0.2° is a viewing
#: angle no blazar grid uses: δ would exceed 2Γ only marginally and the paper's grid starts at 1°)
RADIANS_LOOKALIKE_DEG = 0.2


def fail(msg: str, code: int = 2) -> None:
    """Print ``error: msg`` on stderr (one line) and exit with ``code`` (2: bad input)."""
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(code)


def program() -> str:
    """How to call ``sweep`` again, as the user did: ``sweep`` when that name on PATH is this
    program, else the path it was run by (``.venv/bin/sweep`` after the README's set-up)."""
    import os
    import shutil
    import sys

    argv0 = sys.argv[0] if sys.argv and sys.argv[0] else "sweep"
    if os.path.basename(argv0) != "sweep":  # python -m, tests: the plain name
        return "sweep"
    on_path = shutil.which("sweep")
    if on_path and os.path.realpath(on_path) == os.path.realpath(argv0):
        return "sweep"
    return argv0


def next_commands(lines: list[tuple[str, str]]) -> str:
    """A "next:" block: (command, what it does) pairs aligned, commands copy-pastable."""
    width = max(len(c) for c, _ in lines)
    return "next:\n" + "\n".join(f"  {c:<{width}}   # {w}" for c, w in lines)


def warn(msg: str) -> None:
    typer.echo(f"warning: {msg}", err=True)


def escape_markup(text: str | None) -> str | None:
    """Escape rich markup so bracketed units survive (``[deg]`` → ``\\[deg]``); idempotent."""
    if not text:
        return text
    from rich.markup import escape

    # already escaped brackets stay as they are
    return escape(text.replace("\\[", "["))


def _escape_callback(callback) -> None:
    if callback is None:
        return
    for p in inspect.signature(callback).parameters.values():
        info = p.default
        if isinstance(info, (typer.models.OptionInfo, typer.models.ArgumentInfo)):
            info.help = escape_markup(info.help)


def escape_help(app: typer.Typer) -> None:
    """Escape the help of every option, argument and command of ``app`` and its sub-apps."""
    if app.registered_callback is not None:
        _escape_callback(app.registered_callback.callback)
        app.registered_callback.help = escape_markup(app.registered_callback.help)
    app.info.help = escape_markup(app.info.help) if isinstance(app.info.help, str) else app.info.help
    for cmd in app.registered_commands:
        _escape_callback(cmd.callback)
        cmd.help = escape_markup(cmd.help)
        if cmd.help is None and cmd.callback is not None and cmd.callback.__doc__:
            cmd.help = escape_markup(inspect.cleandoc(cmd.callback.__doc__))
    for grp in app.registered_groups:
        if isinstance(grp.help, str):
            grp.help = escape_markup(grp.help)
        escape_help(grp.typer_instance)


def warn_if_radians(option: str, value_deg) -> None:
    """Warn (stderr) when an angle in degrees is so small that it was probably meant in radians."""
    if value_deg is not None and 0 < float(value_deg) < RADIANS_LOOKALIKE_DEG:
        import math

        warn(f"{option}={value_deg:g} looks like radians; it is read in degrees ({value_deg:g}°). "
             f"If you meant {value_deg:g} rad, give {option} {math.degrees(float(value_deg)):.3g}")
