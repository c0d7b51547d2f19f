"""Canonical per-ppd lattice tables of the kernels, built once per process, cached on disk.

Every kernel table of the solver depends on the grids only through integer lattice indices
(``sweep.model.grids``: γ, x, γ_p, neutrino energies all sit on 10^{i/ppd}): the γγ rate on
k + k' (``processes.pairs``), the Klein–Nishina table on Γ-row m = f + k + k0 and output offset
(``processes.compton``), the IC loss/scatter matrices on (face f, photon k), the Bethe–Heitler and
photopion tables on index sums and differences (``sweep.model.hadronic``).  So for each kind and
ppd there is ONE canonical table over a range of lattice indices; a run takes a slice of it.
Each row is computed independently of the range it sits in, so a slice is bit-identical to a
table built directly for the run's grids (tests/test_tables.py).

``canonical(kind, ppd, lo, hi, build, params)`` returns the process's table for ``kind`` covering
lattice rows ``lo … hi`` (a ``CanonicalTable``: arrays whose first axis is the row ``row0 + i``).
A request outside the table grows it to the union, rounded outwards to ``GROW_DEX`` decades (a
few growths per process at most); the grown table is written to the on-disk cache, so the next
worker process (a new SLURM job, a restarted worker) loads it instead of rebuilding.

Persistence across processes is not this module's business (the model does no I/O beyond its
own packaged tables): a backend with ``load(name) -> (row0, n, arrays) | None`` and
``save(name, row0, n, arrays)`` can be installed with ``set_persistence``; ``sweep.table_cache``
installs the on-disk one (the CLI, the engine's tasks and worker warm-up do), keyed by
``<kind>-ppd<ppd>-<key>``, key = sha256(package version, kind, ppd, params, source of the
building module)[:16], so a new version, a change of the kernel's code or of its parameters
never reads a stale table.  Without a backend the tables live in memory only.
See docs/engine.md ("Caches on a cluster").
"""
from __future__ import annotations

import dataclasses
import hashlib
import inspect
import math
import sys
from dataclasses import dataclass
from typing import Callable

import numpy as np

GROW_DEX = 5  # growth granularity of a canonical table [decades of lattice index]


@dataclass
class CanonicalTable:
    """Arrays whose first axis is the lattice row ``row0 + i`` (i = 0 … n−1)."""

    row0: int
    n: int
    arrays: dict

    def covers(self, lo: int, hi: int) -> bool:
        return self.row0 <= lo and hi <= self.row0 + self.n - 1


_TABLES: dict = {}
STATS = {"built": 0, "loaded": 0, "hits": 0}  # counters (benchmarks, tests)


_PERSISTENCE = None  # backend installed by ``set_persistence`` (None: memory only)


def set_persistence(backend) -> None:
    """Install (or, with None, remove) the cross-process store of the tables: an object with
    ``load(name) -> (row0, n, arrays) | None`` and ``save(name, row0, n, arrays)`` that never
    raises on a damaged or unwritable store (``sweep.table_cache.DiskTables``)."""
    global _PERSISTENCE
    _PERSISTENCE = backend


def persistence():
    """The installed backend, or None."""
    return _PERSISTENCE


def _source_hash(build: Callable, modules: tuple = ()) -> str:
    h = hashlib.sha256()
    names = (getattr(build, "__module__", ""),) + tuple(modules)
    for name in names:
        mod = sys.modules.get(name)
        try:
            src = inspect.getsource(mod) if mod is not None else getattr(build, "__qualname__", "")
        except (OSError, TypeError):
            src = name
        h.update(src.encode())
    return h.hexdigest()


def _key(kind: str, ppd: int, params: tuple, build: Callable, modules: tuple = ()) -> str:
    try:
        from sweep import __version__ as version
    except ImportError:  # pragma: no cover
        version = "unknown"
    h = hashlib.sha256(repr((version, kind, ppd, params, _source_hash(build, modules))).encode())
    return h.hexdigest()[:16]


def _name(kind: str, ppd: int, key: str) -> str | None:
    return None if _PERSISTENCE is None else f"{kind}-ppd{ppd}-{key}"


def _load(name: str | None) -> CanonicalTable | None:
    got = None if name is None or _PERSISTENCE is None else _PERSISTENCE.load(name)
    if got is None:
        return None
    row0, n, arrays = got
    for a in arrays.values():
        a.setflags(write=False)
    return CanonicalTable(int(row0), int(n), arrays)


def _save(name: str | None, t: CanonicalTable) -> None:
    if name is not None and _PERSISTENCE is not None:
        _PERSISTENCE.save(name, t.row0, t.n, t.arrays)


def _round(lo: int, hi: int, ppd: int) -> tuple[int, int]:
    step = GROW_DEX * ppd
    return int(math.floor(lo / step)) * step, int(math.ceil((hi + 1) / step)) * step - 1


def canonical(kind: str, ppd: int, lo: int, hi: int,
              build: Callable[[int, int], dict], params: tuple = (),
              persist: bool = True) -> CanonicalTable:
    """The process's canonical table of ``kind`` at ``ppd`` covering rows ``lo … hi``.

    ``build(row0, row1)`` returns a dict of arrays over rows row0 … row1 (first axis); each row
    must not depend on the range (that is what makes slices exact).  ``params``: everything else
    the values depend on (part of the cache key).  ``persist=False``: in memory only (tables
    cheaper to build than to read)."""
    mem_key = (kind, ppd, params)
    t = _TABLES.get(mem_key)
    if t is not None and t.covers(lo, hi):
        STATS["hits"] += 1
        return t
    key = _key(kind, ppd, params, build)
    name = _name(kind, ppd, key) if persist else None
    disk = _load(name)
    if disk is not None and (t is None or disk.n > t.n) and disk.covers(lo, hi):
        STATS["loaded"] += 1
        _TABLES[mem_key] = disk
        return disk
    if t is not None:
        lo, hi = min(lo, t.row0), max(hi, t.row0 + t.n - 1)
    if disk is not None:
        lo, hi = min(lo, disk.row0), max(hi, disk.row0 + disk.n - 1)
    r0, r1 = _round(lo, hi, ppd)
    arrays = build(r0, r1)
    for a in arrays.values():
        a.setflags(write=False)
    t = CanonicalTable(r0, r1 - r0 + 1, arrays)
    STATS["built"] += 1
    _TABLES[mem_key] = t
    _save(name, t)
    return t


# ---------------------------------------------------------------------------------------------
# fixed canonical objects (a frozen dataclass of arrays over a fixed canonical lattice)
# ---------------------------------------------------------------------------------------------
def _flatten(obj, prefix: str = "") -> dict:
    out = {}
    for f in dataclasses.fields(obj):
        v = getattr(obj, f.name)
        k = prefix + f.name
        if dataclasses.is_dataclass(v):
            out.update(_flatten(v, k + "."))
        elif v is None:
            out[k + ":none"] = np.zeros(0)
        elif isinstance(v, str):
            out[k + ":str"] = np.array(v)
        elif isinstance(v, tuple):
            out[k + ":tuple"] = np.array(v, dtype=str)
        elif isinstance(v, (bool, int, np.integer)):
            out[k + ":int"] = np.array(int(v))
        else:
            out[k] = np.asarray(v)
    return out


def _unflatten(cls, arrays: dict, prefix: str = ""):
    import typing

    hints = typing.get_type_hints(cls)
    kw = {}
    for f in dataclasses.fields(cls):
        k = prefix + f.name
        if k + ":none" in arrays:
            kw[f.name] = None
        elif k + ":str" in arrays:
            kw[f.name] = str(arrays[k + ":str"])
        elif k + ":tuple" in arrays:
            kw[f.name] = tuple(str(x) for x in arrays[k + ":tuple"])
        elif k + ":int" in arrays:
            kw[f.name] = int(arrays[k + ":int"])
        elif k in arrays:
            a = arrays[k]
            kw[f.name] = float(a) if a.ndim == 0 else a
        else:  # nested dataclass
            kw[f.name] = _unflatten(hints[f.name], arrays, k + ".")
    return cls(**kw)


def fixed(kind: str, ppd: int, params: tuple, build: Callable, cls, modules: tuple = ()):
    """The process's ``cls`` instance (a dataclass of arrays, ints, floats, string tuples and
    nested such dataclasses) of ``kind`` at ``ppd``, over a lattice that ``build()`` fixes:
    in memory after the first call, on disk across processes (same key and atomic writes as
    ``canonical``; ``modules``: further modules whose source the values depend on)."""
    mem_key = ("fixed", kind, ppd, params)
    hit = _TABLES.get(mem_key)
    if hit is not None:
        STATS["hits"] += 1
        return hit
    name = _name(kind, ppd, _key(kind, ppd, params, build, modules))
    disk = _load(name)
    obj = None
    if disk is not None:
        try:
            obj = _unflatten(cls, disk.arrays)
            STATS["loaded"] += 1
        except Exception:  # noqa: BLE001 - incompatible file: rebuild
            obj = None
    if obj is None:
        obj = build()
        STATS["built"] += 1
        arrays = _flatten(obj)
        _save(name, CanonicalTable(0, 0, arrays))
    _TABLES[mem_key] = obj
    return obj


def clear_memory() -> None:
    """Forget the in-process tables (a persistence backend's copies stay): a cold worker, for tests/benchmarks."""
    _TABLES.clear()
