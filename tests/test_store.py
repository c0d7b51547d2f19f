"""Cube store: layout (docs/cube.md), region writes, resume/append checks, status and verify."""
from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import xarray as xr

from sweep import store
from sweep.model.cell import JET_QUANTITIES, CellResult, CellStatus, output_grids
from sweep.spec import cell_parameters, parse_spec
from sweep.validation.fake_cell import fake_cell

SPEC = """
name: store-test
axes:
  sigma0: {values: [10, 30]}
  z_diss: {values: [5, 30, 100], unit: Rs}
model: {ppd: 6, frequency_ppd: 2, neutrino_ppd: 2, particle_ppd: 2}
output: {chunks: {z_diss: 2}}
"""


def _fill(path, loaded, info, cells=None):
    """Compute (fake model) and write every chunk region, as the engine's task does."""
    spec = loaded.spec
    spectral = store.spectral_shapes(spec.model)
    for reg in store.chunk_regions(info.shape, tuple(info.chunks[d.name] for d in info.dims)):
        data = store.read_region(path, reg, spec.model, [0])
        for local in np.ndindex(*data.status.shape):
            idx = tuple(s.start + i for s, i in zip(reg, local))
            if cells is not None and idx not in cells:
                continue
            store.put_result(data, local, fake_cell(cell_parameters(spec, idx, info.dims), spec.model),
                             spectral)
        store.write_region(path, data)


@pytest.fixture
def cube(tmp_path):
    loaded = parse_spec(SPEC, "store.yaml")
    path = tmp_path / "c.zarr"
    info = store.prepare(path, loaded)
    return path, loaded, info


def test_layout_units_attrs_and_chunks(cube):
    path, loaded, info = cube
    ds = xr.open_zarr(path)  # consolidated metadata
    grids = output_grids(loaded.spec.model)
    assert dict(ds.sizes) == {"sigma0": 2, "z_diss": 3, "frequency": len(grids["frequency"]),
                              "neutrino_flavour": 4, "neutrino_energy": len(grids["neutrino_energy"]),
                              "gamma_e": len(grids["gamma_e"]), "gamma_p": len(grids["gamma_p"])}
    for name in list(ds.data_vars) + list(ds.coords):
        assert "long_name" in ds[name].attrs, name
        if name not in ("status", "message", "neutrino_flavour"):
            assert "units" in ds[name].attrs, name
    assert ds.z_diss.attrs["units"] == "R_s"
    # units of other axes come from the JetParameters field descriptions
    assert store._parameter_attrs("theta_obs", "Rs")["units"] == "degree"
    assert store._parameter_attrs("sigma0", "Rs")["units"] == "1"
    assert store._parameter_attrs("mass_msun", "Rs")["units"] == "M_sun"
    assert store._parameter_attrs("z_diss", "rblr")["units"] == "R_BLR"
    assert ds.status.attrs["flag_meanings"] == "pending done invalid not_converged failed"
    assert set(JET_QUANTITIES) <= set(ds.data_vars)
    # chunks: grid dims as the spec says, spectral dims whole
    assert ds.nuLnu_obs.encoding["chunks"] == (1, 2, len(grids["frequency"]))
    assert ds.ELE_nu_obs.encoding["chunks"] == (1, 2, 4, len(grids["neutrino_energy"]))
    a = ds.attrs
    assert a["spec_yaml"] == SPEC and a["spec_sha256"] == hashlib.sha256(SPEC.encode()).hexdigest()
    assert a["Conventions"] == "CF-1.10" and a["sweep_version"] and a["created"]
    assert json.loads(a["model_options"])["ppd"] == 6
    # a fresh cube: every cell pending, spectra NaN
    assert (ds.status.values == 0).all() and np.isnan(ds.nuLnu_obs.values).all()


def test_region_writes_and_statuses(cube):
    path, loaded, info = cube
    _fill(path, loaded, info)
    ds = xr.open_zarr(path)
    st = ds.status.values
    # z = 5 R_s < z0 = 10 R_s: invalid, with the reason and NaN spectra
    assert (st[:, 0] == int(CellStatus.INVALID)).all() and (st[:, 1:] == int(CellStatus.DONE)).all()
    assert "z0" in str(ds.message.values[0, 0])
    assert np.isnan(ds.nuLnu_obs.values[:, 0]).all() and np.isfinite(ds.nuLnu_obs.values[:, 1:]).all()
    assert ds.message.values[1, 2] == ""
    # values round-trip exactly (fake model: sigma0 enters linearly)
    ref = fake_cell(cell_parameters(loaded.spec, (1, 2)), loaded.spec.model)
    np.testing.assert_array_equal(ds.nuLnu_obs.values[1, 2], ref.spectra["nuLnu_obs"])
    np.testing.assert_array_equal(ds.ELE_nu_obs.values[1, 2], ref.spectra["ELE_nu_obs"])
    assert store.verify(path).ok


def test_put_result_rules():
    loaded = parse_spec(SPEC)
    spectral = store.spectral_shapes(loaded.spec.model)
    data = store.RegionData((slice(0, 1), slice(0, 2)), store._fill_region((1, 2), spectral))
    ok = fake_cell(cell_parameters(loaded.spec, (0, 1)), loaded.spec.model)
    bad = CellResult(CellStatus.DONE, spectra={**ok.spectra, "n_e": np.ones(3)})
    store.put_result(data, (0, 0), bad, spectral)
    assert data.status[0, 0] == CellStatus.FAILED and "n_e has shape" in data.arrays["message"][0, 0]
    nc = CellResult(CellStatus.NOT_CONVERGED, "stopped", spectra=ok.spectra, jet={"B": 2.0})
    store.put_result(data, (0, 1), nc, spectral)
    # not done: spectra NaN even if the model returned some; jet quantities and message kept
    assert np.isnan(data.arrays["nuLnu_obs"][0, 1]).all() and data.arrays["B"][0, 1] == 2.0
    assert data.arrays["message"][0, 1] == "stopped"


def test_resume_refuses_other_axes_and_append_extends(cube, tmp_path):
    path, loaded, info = cube
    _fill(path, loaded, info)
    before = xr.open_zarr(path).nuLnu_obs.values.copy()
    # same spec: accepted as is
    assert store.prepare(path, loaded).shape == (2, 3)
    other = parse_spec(SPEC.replace("[10, 30]", "[10, 60]"))
    with pytest.raises(store.CubeError, match=r"axis sigma0: cube has 2 values \[10, 30\], spec has 2 values \[10, 60\]"):
        store.prepare(path, other)
    with pytest.raises(store.CubeError, match="model"):
        store.prepare(path, parse_spec(SPEC.replace("ppd: 6", "ppd: 8")))
    # append: one axis gains values (here in the middle of the spec's list: they go at the end)
    more = parse_spec(SPEC.replace("[5, 30, 100]", "[5, 30, 60, 100, 300]"))
    with pytest.raises(store.CubeError, match="--append"):
        store.prepare(path, more)
    info2 = store.prepare(path, more, append=True)
    assert info2.shape == (2, 5) and info2.appended == {"z_diss": (3, 5)}
    ds = xr.open_zarr(path)
    np.testing.assert_allclose(ds.z_diss.values, [5, 30, 100, 60, 300])
    st = ds.status.values
    assert (st[:, 3:] == 0).all() and (st[:, 1:3] == 1).all()
    np.testing.assert_array_equal(ds.nuLnu_obs.values[:, :3], before)  # old data untouched
    assert np.isnan(ds.nuLnu_obs.values[:, 3:]).all()
    assert "appended 2 values to z_diss" in ds.attrs["history"]
    # the extended spec now resumes without --append (order of values does not matter)
    assert store.prepare(path, more).shape == (2, 5)
    # append refusals: two axes changed; values dropped
    with pytest.raises(store.CubeError, match="exactly one axis"):
        store.prepare(path, parse_spec(SPEC.replace("[10, 30]", "[10, 30, 60]").replace(
            "[5, 30, 100]", "[5, 30, 60, 100, 300, 1000]")), append=True)
    with pytest.raises(store.CubeError, match="drops cube values"):
        store.prepare(path, parse_spec(SPEC.replace("[5, 30, 100]", "[5, 30, 60, 300]")), append=True)


def test_status_summary(cube):
    path, loaded, info = cube
    _fill(path, loaded, info, cells={(0, 0), (0, 1), (1, 1)})
    s = store.status_summary(path)
    assert s["counts"] == {"pending": 3, "done": 2, "invalid": 1, "not_converged": 0, "failed": 0}
    assert s["failures"][0]["status"] == "invalid" and "sigma0=10 z_diss=5" == s["failures"][0]["cell"]
    assert s["runtime"]["n"] == 2
    store.mark_failed(path, (slice(1, 2), slice(2, 3)), "worker died", [0])
    s = store.status_summary(path)
    assert s["counts"]["failed"] == 1 and any(f["message"] == "worker died" for f in s["failures"])
    assert "failed: 1" in store.format_status(s)


def test_verify_finds_damage(cube):
    path, loaded, info = cube
    _fill(path, loaded, info)
    assert store.verify(path).ok
    # 1. a chunk file overwritten with garbage: unreadable
    chunk = path / "nuLnu_obs" / "c" / "1" / "0" / "0"
    assert chunk.exists()
    chunk.write_bytes(b"not a zstd frame")
    rep = store.verify(path)
    assert not rep.ok and any("nuLnu_obs: chunk" in d and "unreadable" in d for d in rep.damage)
    # 2. status says done but the data is gone (NaN): inconsistent
    g = store.open_group(path, mode="r+")
    g["nuLnu_obs"][1, 0:2] = np.nan  # the same chunk rewritten whole: NaN for a done cell (1, 1)
    rep = store.verify(path)
    # (zarr drops a chunk that equals the fill value: the chunk file is gone)
    assert any(d.startswith("nuLnu_obs: chunk missing although its cells are done") for d in rep.damage), rep.damage
    # 3. a corrupt status chunk counts as pending for resume (it will be recomputed)
    (path / "status" / "c" / "0" / "0").write_bytes(b"\x00garbage")
    status, bad = store.read_status(path)
    assert len(bad) == 1 and (status[0, 0:2] == 0).all()
    assert not store.verify(path).ok


def test_fast_chunk_writer_matches_zarr(tmp_path):
    """The fast whole-chunk writer must produce chunks zarr reads back exactly, edge chunks
    (padded with the fill value) included; non-qualifying arrays fall back to zarr."""
    loaded = parse_spec(SPEC.replace("[5, 30, 100]", "[5, 30, 100, 300, 1000]"))  # 5 = 2+2+1
    path = tmp_path / "f.zarr"
    info = store.prepare(path, loaded)
    rng = np.random.default_rng(1)
    g = store.open_group(path)
    for reg in [(slice(1, 2), slice(4, 5)), (slice(0, 1), slice(2, 4))]:  # edge chunk, full chunk
        for name in ("nuLnu_obs", "ELE_nu_obs", "B", "iterations", "status"):
            shape = tuple(s.stop - s.start for s in reg) + g[name].shape[2:]
            vals = (rng.integers(0, 4, shape) if g[name].dtype.kind in "iu" else rng.random(shape)
                    ).astype(g[name].dtype)
            assert store._fast_write(path, name, reg, vals)
            np.testing.assert_array_equal(store.open_group(path)[name][reg], vals)
    assert not store._fast_write(path, "message", (slice(0, 1), slice(0, 2)), np.array([["a", "b"]], object))
    # not one whole chunk: refused (zarr would have to merge)
    assert not store._fast_write(path, "B", (slice(0, 1), slice(1, 3)), np.ones((1, 2)))
    # after an append (resize) the metadata cache sees the new shape
    more = parse_spec(SPEC.replace("[5, 30, 100]", "[5, 30, 100, 300, 1000, 3000]"))
    store.prepare(path, more, append=True)
    vals = np.full((1, 2), 7.0)
    assert store._fast_write(path, "B", (slice(0, 1), slice(4, 6)), vals)
    np.testing.assert_array_equal(store.open_group(path)["B"][0, 4:6], [7.0, 7.0])
    assert not list(path.rglob("*.partial"))


def test_fast_chunk_reader_and_corrupt_status(tmp_path):
    """The fast status reader returns what zarr reads (fill for unwritten chunks, edge chunks
    trimmed) and raises on a corrupt chunk (read_region then treats the region as pending)."""
    loaded = parse_spec(SPEC.replace("[5, 30, 100]", "[5, 30, 100, 300, 1000]"))
    path = tmp_path / "r.zarr"
    info = store.prepare(path, loaded)
    assert (store._fast_read(path, "status", (slice(0, 1), slice(0, 2))) == 0).all()
    _fill(path, loaded, info)
    g = store.open_group(path)
    for reg in store.chunk_regions(info.shape, (1, 2)):
        np.testing.assert_array_equal(store._fast_read(path, "status", reg), g["status"][reg])
        np.testing.assert_array_equal(store._fast_read(path, "nuLnu_obs", reg), g["nuLnu_obs"][reg])
    (path / "status" / "c" / "1" / "2").write_bytes(b"junk")
    with pytest.raises(Exception):
        store._fast_read(path, "status", (slice(1, 2), slice(4, 5)))
    d = store.read_region(path, (slice(1, 2), slice(4, 5)), loaded.spec.model, [0])
    assert (d.status == 0).all()


def test_interrupted_creation_is_redone_but_data_is_never_deleted(tmp_path):
    """A template write killed half-way (metadata only, some arrays missing) is recreated; a
    directory with any data file, or a foreign one, is refused instead."""
    loaded = parse_spec(SPEC)
    path = tmp_path / "c.zarr"
    store.prepare(path, loaded)
    import shutil

    shutil.rmtree(path / "status")  # as if killed before the last arrays were written
    info = store.prepare(path, loaded)
    assert info.shape == (2, 3) and (path / "status" / "zarr.json").exists()
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(store.CubeError, match="not a sweep cube"):
        store.prepare(other, loaded)
    assert (other / "notes.txt").exists()
    # someone else's zarr store (arrays with other names) is never touched
    import zarr

    foreign = tmp_path / "foreign.zarr"
    zarr.open_group(str(foreign), mode="w").create_array("temperature", shape=(3,), dtype="f8")
    with pytest.raises(store.CubeError, match="not a sweep cube"):
        store.prepare(foreign, loaded)
    assert (foreign / "temperature" / "zarr.json").exists()


# ---------------------------------------------------------------------------------------------
# issue 12: foreign stores, checksums, verify of every variable, --repair, crash-safe append
# ---------------------------------------------------------------------------------------------
def test_foreign_store_with_only_coordinates_or_attributes_is_never_deleted(tmp_path):
    """Audit: a store holding only coordinate arrays (named like ours) or only attributes was
    taken for a half-created cube and rmtree'd. Only a store with the engine's marker is
    recreated; these are refused with one line and left intact."""
    import zarr

    loaded = parse_spec(SPEC)
    coords_only = tmp_path / "coords.zarr"
    g = zarr.open_group(str(coords_only), mode="w")
    g.create_array("sigma0", shape=(2,), dtype="f8")[:] = [1.0, 2.0]
    attrs_only = tmp_path / "attrs.zarr"
    zarr.open_group(str(attrs_only), mode="w").attrs["title"] = "my run"
    for p in (coords_only, attrs_only):
        before = sorted(str(q.relative_to(p)) for q in p.rglob("*"))
        with pytest.raises(store.CubeError, match="not a sweep cube.*refusing to touch it"):
            store.prepare(p, loaded)
        assert sorted(str(q.relative_to(p)) for q in p.rglob("*")) == before
    assert zarr.open_group(str(coords_only))["sigma0"][1] == 2.0
    # the engine's own half-created cube (marker, no data) is still recreated
    path = tmp_path / "c.zarr"
    store.prepare(path, loaded)
    assert store.has_marker(path)
    import shutil

    shutil.rmtree(path / "status")
    assert store.prepare(path, loaded).shape == (2, 3)


def _spectrum_chunk(path):
    return path / "nuLnu_obs" / "c" / "1" / "0" / "0"


def test_flipped_byte_in_a_spectrum_is_found_and_repaired(cube):
    """Audit: chunks had no checksum, so a flipped byte read back as a slightly wrong number and
    verify passed. Chunks now carry zstd frame checksums; verify --repair resets the damaged
    chunk's cells to pending and a resubmit (here: the task's own read/compute/write) restores
    them, leaving every other chunk's bytes untouched."""
    path, loaded, info = cube
    meta = json.loads((path / "nuLnu_obs" / "zarr.json").read_text())
    assert meta["codecs"][-1] == {"name": "zstd", "configuration": {"level": 0, "checksum": True}}
    _fill(path, loaded, info)
    good = xr.open_zarr(path).nuLnu_obs.values.copy()
    chunk = _spectrum_chunk(path)
    blob = bytearray(chunk.read_bytes())
    blob[len(blob) // 2] ^= 0x01
    chunk.write_bytes(bytes(blob))
    other = path / "nuLnu_obs" / "c" / "0" / "0" / "0"
    other_bytes = other.read_bytes()
    rep = store.verify(path)
    assert not rep.ok and any("nuLnu_obs: chunk unreadable" in d for d in rep.damage), rep.damage
    assert rep.damaged_regions == [(slice(1, 2), slice(0, 2))]
    rep = store.verify(path, repair=True)
    assert rep.repaired_cells == 2
    status, _ = store.read_status(path)
    assert (status[1, 0:2] == 0).all() and (status[0] != 0).all() and status[1, 2] != 0
    _fill(path, loaded, store.cube_info(path))  # what a resubmit's tasks do
    assert store.verify(path).ok
    np.testing.assert_array_equal(xr.open_zarr(path).nuLnu_obs.values, good)
    assert other.read_bytes() == other_bytes


@pytest.mark.parametrize("name", ["B", "iterations"])
def test_verify_checks_every_variable_of_done_cells(cube, name):
    """Audit: a deleted ``B`` (or ``iterations``) chunk read back NaN/0 for done cells and verify
    passed. A missing chunk of any variable of committed cells is damage, and repairable."""
    path, loaded, info = cube
    _fill(path, loaded, info)
    (path / name / "c" / "0" / "0").unlink()
    rep = store.verify(path)
    assert any(d.startswith(f"{name}: chunk missing") for d in rep.damage), rep.damage
    assert rep.damaged_regions == [(slice(0, 1), slice(0, 2))]
    assert store.verify(path, repair=True).repaired_cells == 2
    _fill(path, loaded, store.cube_info(path))
    assert store.verify(path).ok


def test_verify_value_checks_of_jet_quantities(cube):
    path, loaded, info = cube
    _fill(path, loaded, info)
    g = store.open_group(path, mode="r+")
    b = g["B"][0:1, 0:2]
    b[0, 1] = np.inf  # cell (0, 1) is done (NaN in both cells would drop the chunk)
    g["B"][0:1, 0:2] = b
    rep = store.verify(path)
    assert any("B: done cells with a non-finite value" in d for d in rep.damage), rep.damage


def test_append_killed_mid_resize_is_finished_by_verify_and_submit(cube, monkeypatch):
    """Audit: a kill in the middle of resizing the arrays under --append left a cube xarray could
    not open and verify crashed on. The target shape is journalled first; verify (or the next
    prepare) finishes the resize."""
    import zarr

    path, loaded, info = cube
    _fill(path, loaded, info)
    more = parse_spec(SPEC.replace("[5, 30, 100]", "[5, 30, 100, 300]"))
    real = zarr.Array.resize
    calls = []

    def dying_resize(self, shape):
        calls.append(shape)
        if len(calls) == 4:
            raise KeyboardInterrupt("killed mid-resize")
        return real(self, shape)

    monkeypatch.setattr(zarr.Array, "resize", dying_resize)
    with pytest.raises(KeyboardInterrupt):
        store.prepare(path, more, append=True)
    monkeypatch.setattr(zarr.Array, "resize", real)
    assert (path / store.JOURNAL).exists()
    g = store.open_group(path)
    along = set()  # sizes along z_diss over every array that has it (the order of resizing is
    for n in g.array_keys():  # the store's listing order, so look at all of them)
        dims = g[n].metadata.dimension_names or ()
        if "z_diss" in dims:
            along.add(g[n].shape[dims.index("z_diss")])
    assert along == {3, 4}  # half resized: the state the audit found
    with pytest.raises(store.CubeError, match="--append was interrupted"):
        store.status_summary(path)
    rep = store.verify(path)
    assert rep.ok, rep.damage
    assert any("finished an interrupted --append" in n for n in rep.notes)
    ds = xr.open_zarr(path)
    assert ds.status.shape == (2, 4) and (ds.status.values[:, 3] == 0).all()
    assert not (path / store.JOURNAL).exists()
    # killed again, this time the next submit (prepare) finishes it
    evenmore = parse_spec(SPEC.replace("[5, 30, 100]", "[5, 30, 100, 300, 1000]"))
    calls.clear()
    monkeypatch.setattr(zarr.Array, "resize", dying_resize)
    with pytest.raises(KeyboardInterrupt):
        store.prepare(path, evenmore, append=True)
    monkeypatch.setattr(zarr.Array, "resize", real)
    assert store.prepare(path, evenmore).shape == (2, 5)
    assert store.verify(path).ok
