"""One task's region of the cube: read it, fill in cell results, write it back (runs on the
worker), with a fast path that encodes whole chunks itself."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from sweep.model.cell import CellResult, CellStatus, ModelOptions
from sweep.store.layout import (CELL_META, CELL_SCALARS, DONE, MESSAGE_MAX, SPECTRA, open_group, spectral_shapes,
                                variable_names)

# ----------------------------------------------------------------------------------------------
# one task's region: read, fill cells, write (runs on the worker)
# ----------------------------------------------------------------------------------------------
@dataclass
class RegionData:
    region: tuple[slice, ...]
    arrays: dict[str, np.ndarray]

    @property
    def status(self) -> np.ndarray:
        return self.arrays["status"]


def _fill_region(shape: tuple[int, ...], spectral: dict[str, int]) -> dict[str, np.ndarray]:
    out = {}
    for name, (sdims, _, _) in SPECTRA.items():
        out[name] = np.full(shape + tuple(spectral[s] for s in sdims), np.nan)
    for name in CELL_SCALARS:
        out[name] = np.full(shape, np.nan)
    for name, (dtype, fill, _, _) in CELL_META.items():
        out[name] = np.full(shape, fill, dtype=object if dtype is str else dtype)
    return out


def read_region(path: str | Path, region: tuple[slice, ...], options: ModelOptions,
                rerun: Iterable[int]) -> RegionData:
    """Current content of a region. Unreadable status → everything pending; data is read only
    when some cells of the region are kept (not rerun)."""
    shape = tuple(s.stop - s.start for s in region)
    arrays = _fill_region(shape, spectral_shapes(options))
    try:
        status = _fast_read(Path(path), "status", region)
        if status is None:
            status = np.asarray(open_group(path)["status"][region], dtype=np.int8)
    except Exception:  # noqa: BLE001 - damaged status chunk: whole region is recomputed
        status = np.zeros(shape, np.int8)
    arrays["status"] = status
    keep = ~np.isin(status, list(rerun))
    if keep.any():
        from zarr.core.sync import sync

        names = [n for n in arrays if n != "status"]
        for name, val in zip(names, sync(_read_region_async(str(path), region, names))):
            arrays[name] = np.asarray(val).astype(object) if name == "message" else np.asarray(val)
    return RegionData(region, arrays)


def put_result(data: RegionData, local: tuple[int, ...], res: CellResult,
               spectral: dict[str, int]) -> None:
    """Store one cell's result in the region arrays; spectra stay NaN unless status is done."""
    a = data.arrays
    status = int(res.status)
    msg = str(res.message or "")
    if status == DONE:
        for name, (sdims, _, _) in SPECTRA.items():
            want = tuple(spectral[s] for s in sdims)
            arr = res.spectra.get(name)
            if arr is None:
                status, msg = int(CellStatus.FAILED), f"model returned no {name}"
                break
            arr = np.asarray(arr, dtype=float)
            if arr.shape != want:
                status, msg = int(CellStatus.FAILED), f"{name} has shape {arr.shape}, expected {want}"
                break
        else:
            for name in SPECTRA:
                a[name][local] = np.asarray(res.spectra[name], dtype=float)
            msg = ""
    if status != DONE:
        for name in SPECTRA:
            a[name][local] = np.nan
        if not msg:
            msg = CellStatus(status).name.lower()
    for name in CELL_SCALARS:
        v = res.jet[name] if name in res.jet else res.blob.get(name, np.nan)
        try:
            a[name][local] = float(v)
        except (TypeError, ValueError):
            a[name][local] = np.nan
    a["energy_balance"][local] = float(res.energy_balance)
    a["iterations"][local] = int(res.iterations)
    a["runtime_s"][local] = float(res.runtime_s)
    a["message"][local] = msg[:MESSAGE_MAX]
    a["status"][local] = status


def write_region(path: str | Path, data: RegionData) -> None:
    """Write every variable of the region, ``status`` last (the commit record).

    Numeric variables with the cube's own codecs (bytes + zstd, regular grid, '/' keys) take a
    fast path that encodes each whole chunk with numcodecs and writes it atomically (temporary
    file + rename, like zarr's LocalStore); it costs ~0.1 ms per chunk where zarr's generic
    ``setitem`` costs ~1 ms, which matters for small tasks (docs/engine.md §5). Anything else
    (the string ``message``, other codecs, other stores) goes through zarr."""
    from zarr.core.sync import sync

    root = Path(path)
    names = [n for n in variable_names() if n != "status"]
    # (a thread pool for these file writes was measured slower inside a Dask worker)
    done = [_fast_write(root, n, data.region, data.arrays[n]) for n in names]
    slow = [n for n, ok in zip(names, done) if not ok]
    if "message" in slow and not (data.arrays["message"] != "").any():
        # all empty and the chunk never written: it already reads as "" (the fill value)
        key = _chunk_file(root, "message", data.region)
        if key is not None and not key.exists():
            slow.remove("message")
    if slow:
        sync(_write_region_async(str(path), data, slow))
    if not _fast_write(root, "status", data.region, data.arrays["status"]):
        sync(_write_region_async(str(path), data, ["status"]))


_META_CACHE: dict[tuple[str, int], Any] = {}


def _fast_meta(root: Path, name: str):
    """(shape, chunk_shape, dtype, fill, zstd level) when the array qualifies for the fast path,
    else None. Cached per (file, mtime) so an append (resize) is seen."""
    mpath = root / name / "zarr.json"
    try:
        st = mpath.stat()
    except OSError:
        return None
    key = (str(mpath), st.st_mtime_ns)
    if key in _META_CACHE:
        return _META_CACHE[key]
    out = None
    try:
        meta = json.loads(mpath.read_text())
        codecs = meta.get("codecs", [])
        dtype = np.dtype(meta["data_type"])
        ok = (meta.get("chunk_grid", {}).get("name") == "regular"
              and meta.get("chunk_key_encoding", {}).get("name") == "default"
              and meta["chunk_key_encoding"].get("configuration", {}).get("separator", "/") == "/"
              and not meta.get("storage_transformers")
              and len(codecs) == 2 and codecs[0]["name"] == "bytes"
              and codecs[0].get("configuration", {}).get("endian", "little") == "little"
              and codecs[1]["name"] == "zstd" and dtype.kind in "fiu")
        if ok:
            fill = meta["fill_value"]
            fill = float(fill) if isinstance(fill, str) else fill  # "NaN", "Infinity"
            out = (tuple(meta["shape"]), tuple(meta["chunk_grid"]["configuration"]["chunk_shape"]),
                   dtype, fill, int(codecs[1].get("configuration", {}).get("level", 0)),
                   bool(codecs[1].get("configuration", {}).get("checksum", False)))
    except (KeyError, TypeError, ValueError):
        out = None
    _META_CACHE[key] = out
    return out


def _chunk_file(root: Path, name: str, region: tuple[slice, ...]) -> Path | None:
    """The file of the one chunk that ``region`` (grid dims; spectral dims whole) covers."""
    try:
        meta = json.loads((root / name / "zarr.json").read_text())
        chunks = meta["chunk_grid"]["configuration"]["chunk_shape"]
        if meta.get("chunk_key_encoding", {}).get("name") != "default":
            return None
    except (OSError, KeyError, ValueError):
        return None
    coords = [sl.start // c for sl, c in zip(region, chunks)] + [0] * (len(chunks) - len(region))
    return root / name / "c" / Path(*[str(c) for c in coords])


def _fast_read(root: Path, name: str, region: tuple[slice, ...]) -> np.ndarray | None:
    """Read one whole chunk (grid region) of a fast-path array; None when it does not qualify
    (the caller then uses zarr). A missing chunk file reads as the fill value."""
    from numcodecs import Zstd

    m = _fast_meta(root, name)
    if m is None:
        return None
    shape, chunks, dtype, fill, _, _ = m
    full = tuple(region) + tuple(slice(0, n) for n in shape[len(region):])
    coords = []
    for sl, c, n in zip(full, chunks, shape):
        if sl.start % c or not (sl.stop - sl.start == c or (sl.stop == n and sl.stop - sl.start < c)):
            return None
        coords.append(sl.start // c)
    target = root / name / "c" / Path(*[str(c) for c in coords])
    want = tuple(sl.stop - sl.start for sl in full)
    try:
        blob = target.read_bytes()
    except FileNotFoundError:
        return np.full(want, fill, dtype=dtype)
    raw = Zstd().decode(blob)
    buf = np.frombuffer(raw, dtype=dtype.newbyteorder("<")).reshape(chunks)
    return np.array(buf[tuple(slice(0, k) for k in want)], dtype=dtype)


def _fast_write(root: Path, name: str, region: tuple[slice, ...], values: np.ndarray) -> bool:
    """Write one whole chunk of ``name`` (grid region + every spectral index). False when the
    array does not qualify (the caller then uses zarr)."""
    import uuid

    from numcodecs import Zstd

    m = _fast_meta(root, name)
    if m is None:
        return False
    shape, chunks, dtype, fill, level, checksum = m
    values = np.asarray(values)
    full = tuple(region) + tuple(slice(0, n) for n in shape[len(region):])
    coords = []
    for sl, c, n in zip(full, chunks, shape):
        if sl.start % c or not (sl.stop - sl.start == c or (sl.stop == n and sl.stop - sl.start < c)):
            return False  # not exactly one chunk
        coords.append(sl.start // c)
    if values.shape != tuple(sl.stop - sl.start for sl in full):
        return False
    if values.shape != chunks:  # edge chunk: zarr stores it full size, padded with the fill
        buf = np.full(chunks, fill, dtype=dtype)
        buf[tuple(slice(0, k) for k in values.shape)] = values
    else:
        buf = values
    raw = np.ascontiguousarray(buf, dtype=dtype.newbyteorder("<")).tobytes()
    blob = Zstd(level=level, checksum=checksum).encode(raw)
    target = root / name / "c" / Path(*[str(c) for c in coords])
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{uuid.uuid4().hex}.partial")
    try:
        with open(tmp, "wb") as f:
            f.write(blob)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return True


async def _write_region_async(path: str, data: RegionData, names: list[str]) -> None:
    """zarr's generic path, concurrently (async API) for the given variables."""
    import asyncio

    import zarr.api.asynchronous as za

    g = await za.open_group(store=path, mode="r+", use_consolidated=False)
    arrays = await asyncio.gather(*(g.getitem(n) for n in names))
    values = [np.asarray(data.arrays[n], dtype=object) if n == "message" else data.arrays[n]
              for n in names]
    await asyncio.gather(*(a.setitem(data.region, v) for a, v in zip(arrays, values)))


async def _read_region_async(path: str, region, names: list[str]) -> list[np.ndarray]:
    import asyncio

    import zarr.api.asynchronous as za

    g = await za.open_group(store=path, mode="r", use_consolidated=False)
    arrays = await asyncio.gather(*(g.getitem(n) for n in names))
    return list(await asyncio.gather(*(a.getitem(region) for a in arrays)))
