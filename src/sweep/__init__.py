"""sweep: distributed parameter sweeps of reconnection-powered blazar jet models.

Data flows one way: grid spec -> plan -> Dask tasks -> model (``sweep.model``) ->
Zarr cube (``sweep.store``) -> reducer -> plots / match / explore.
"""
from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("sweep")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
