"""The Zarr cube of a sweep (docs/cube.md): creation, chunk-region writes, resume, append,
status summaries and verification.

Write model (why a crash never corrupts a finished chunk):

* The cube's metadata (every array, coordinate and attribute) is written once, by the client,
  from an xarray template (``Dataset.to_zarr(compute=False)``): no chunk data yet, so every
  cell reads ``status = 0`` (pending) and NaN spectra.
* Each task owns exactly one chunk-aligned region of the grid dimensions (and the whole spectral
  dimensions), so every Zarr chunk has exactly one writer: no locks, no races.
* A task writes its region from the *worker*: first every data variable, then ``message``,
  ``iterations``, ``runtime_s``, and the ``status`` chunk last. ``status`` is the commit
  record: a cell is finished only once its status chunk says so. A kill between the writes leaves
  the cells pending (their data is rewritten on resume).
* zarr's LocalStore writes each chunk file to a temporary name and renames it into place, so a
  chunk file is either the old or the new one, never half-written.

Modules: ``layout`` (variables, template, CubeInfo), ``codec`` (a task's region: read, fill,
write, the fast chunk path), ``resume`` (prepare / append / read_status / mark_failed),
``verify`` (status summary, verify, repair). Every public name is re-exported here.
"""
from sweep.store.layout import *  # noqa: F401,F403
from sweep.store.layout import _parameter_attrs, _same_values, _short  # noqa: F401
from sweep.store.codec import *  # noqa: F401,F403
from sweep.store.codec import _chunk_file, _fast_meta, _fast_read, _fast_write, _fill_region  # noqa: F401
from sweep.store.resume import *  # noqa: F401,F403
from sweep.store.resume import _append, _interrupted_creation  # noqa: F401
from sweep.store.verify import *  # noqa: F401,F403
