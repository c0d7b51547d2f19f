"""On-disk cache of the model's canonical kernel tables (``sweep.model.tables``).

The model builds each kernel table once per process and ppd; this module keeps them on disk so
that the next process (a new SLURM worker job, a restarted worker, the next ``sweep`` command)
loads instead of rebuilding. It is installed by the entry points that run cells: the CLI
(``sweep.cli.main``), the engine's tasks and the worker warm-up (``sweep.warmup``); the model
itself does no I/O beyond its packaged tables.

Files ``<dir>/<kind>-ppd<ppd>-<key>.npz`` (the key hashes package version, parameters and the
kernel's source; ``sweep.model.tables``) are written to a temporary name and renamed (atomic on
POSIX): concurrent workers on a shared filesystem see a whole old or a whole new file, never a
partial one; an unreadable file is ignored and rebuilt; a read-only or full filesystem only
costs the rebuild. Location: ``SWEEP_TABLE_CACHE`` (a directory, or ``off``), set by the engine
from the spec's ``cluster.table_cache_dir``; default the user cache directory (platformdirs:
``~/.cache/sweep/tables`` on Linux), never inside the installed package (docs/engine.md §7).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from sweep.model import tables

ENV = "SWEEP_TABLE_CACHE"
_OFF = ("off", "none", "0", "false", "no")


def table_cache_dir() -> Path | None:
    """Directory of the on-disk table cache, or None when disabled (``SWEEP_TABLE_CACHE=off``)."""
    v = os.environ.get(ENV, "").strip()
    if v.lower() in _OFF:
        return None
    if v:
        return Path(v).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("sweep")) / "tables"


class DiskTables:
    """``sweep.model.tables`` persistence backend: one ``.npz`` per table in ``directory``."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def path(self, name: str) -> Path:
        return self.directory / f"{name}.npz"

    def load(self, name: str):
        path = self.path(name)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                row0, n = int(z["__row0"]), int(z["__n"])
                arrays = {k: np.array(z[k]) for k in z.files if not k.startswith("__")}
        except Exception:  # noqa: BLE001 - a damaged cache file is rebuilt, never fatal
            return None
        return row0, n, arrays

    def save(self, name: str, row0: int, n: int, arrays: dict) -> None:
        path = self.path(name)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
            try:
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(tmp, 0o666 & ~umask)  # as a plain file would be (mkstemp makes it 0600)
                with os.fdopen(fd, "wb") as fh:
                    np.savez(fh, __row0=np.int64(row0), __n=np.int64(n), **arrays)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError:  # read-only or full filesystem: the in-process table still serves
            pass


def install() -> Path | None:
    """Install the on-disk cache at ``table_cache_dir()`` as the model's table persistence (or
    none, when disabled); cheap and idempotent, so every entry point calls it. Returns the dir."""
    d = table_cache_dir()
    current = tables.persistence()
    if d is None:
        tables.set_persistence(None)
    elif not (isinstance(current, DiskTables) and current.directory == d):
        tables.set_persistence(DiskTables(d))
    return d
