"""Servable entry of the sweep explorer:
``panel serve dashboards/explore.py [--port N] --args CUBE`` (panel options before ``--args``).

The app lives in ``sweep.dashboard`` (``build_app``); ``sweep explore CUBE`` serves the same app.
Options after the cube: ``--catalog 4lac|3lac|none``, ``--catalog-dir DIR``.
"""
import sys

from sweep.dashboard import app_from_args

args = sys.argv[1:]
if not args:
    raise SystemExit("usage: panel serve dashboards/explore.py --args CUBE [--catalog 4lac]")
app_from_args(args).servable(title="sweep explore")
