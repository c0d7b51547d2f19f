"""Canonical per-ppd kernel tables (sweep.model.tables): a run's slice equals a direct build
bit for bit, the on-disk cache (sweep.table_cache) round-trips, grows, survives damage, can be
switched off, and the spec's cache locations reach the workers."""
from __future__ import annotations

import os

import numpy as np
import pytest

from sweep import table_cache
from sweep.model import tables
from sweep.model.grids import make_grids
from sweep.model.processes import compton, pairs


@pytest.fixture
def cache(tmp_path, monkeypatch):
    d = tmp_path / "tables"
    monkeypatch.setenv(table_cache.ENV, str(d))
    saved, backend = dict(tables._TABLES), tables.persistence()
    table_cache.install()
    tables.clear_memory()
    yield d
    tables.clear_memory()
    tables._TABLES.update(saved)
    tables.set_persistence(backend)


def test_gg_slice_equals_direct_build(cache):
    """Each entry of the γγ table depends on its lattice index only: exact equality (0 ulp)."""
    direct = pairs._build_rate_table(12, -30, 140, pairs.NSUB)
    sl = pairs.rate_table(12, -30, 140)
    assert np.array_equal(sl, direct)
    t = tables._TABLES[("gg_rate", 12, ())]
    assert t.row0 <= -30 and t.row0 + t.n - 1 >= 140 and t.row0 % (tables.GROW_DEX * 12) == 0


@pytest.mark.parametrize("B", [1e-2, 3.0])
def test_ic_slices_equal_direct_build(cache, B):
    """IC loss/scatter matrices of a run cut from the canonical ones equal the run's own (0 ulp);
    the canonical KN table holds the same rows as a direct build of the run's range."""
    g = make_grids(12, B, 3e5)
    nf = len(g.gamma_faces)
    L, S = compton.canonical_loss_and_scatter(12, nf, g.k0, len(g.x))
    tab, lmin, m_lo, m_th = compton.table_for(12, nf, g.k0, len(g.x))
    Ld, Sd = np.zeros_like(L), np.zeros_like(S)
    compton._matrices(g.gamma_faces, g.x, g.dx, g.k0, tab, lmin, m_lo, Ld, Sd)
    assert np.array_equal(L, Ld) and np.array_equal(S, Sd)
    lo, hi = min(g.k0, m_th - 1), nf - 1 + len(g.x) - 1 + g.k0
    own = compton._table_rows(12, lo, hi)
    assert np.array_equal(tab[lo - m_lo: hi - m_lo + 1], own["tab"])
    assert np.array_equal(lmin[lo - m_lo: hi - m_lo + 1], own["lmin"])


def test_disk_cache_round_trip_growth_and_damage(cache):
    calls = []

    def build(r0, r1):
        calls.append((r0, r1))
        return {"v": np.arange(r0, r1 + 1, dtype=float) ** 2}

    t = tables.canonical("demo", 10, 3, 20, build)
    assert calls == [(0, 49)] and np.array_equal(t.arrays["v"][3:21], np.arange(3, 21.0) ** 2)
    files = list(cache.glob("demo-ppd10-*.npz"))
    assert len(files) == 1
    tables.clear_memory()  # a fresh worker: loads, does not build
    t2 = tables.canonical("demo", 10, 5, 7, build)
    assert len(calls) == 1 and np.array_equal(t2.arrays["v"], t.arrays["v"])
    t3 = tables.canonical("demo", 10, -7, 60, build)  # grows to the union, by whole decades
    assert calls[-1] == (-50, 99) and t3.row0 == -50
    assert np.array_equal(t3.arrays["v"][50 + 3: 50 + 21], t.arrays["v"][3:21])
    files[0].write_bytes(b"not an npz")  # damaged file: rebuilt, never fatal
    tables.clear_memory()
    tables.canonical("demo", 10, 0, 5, build)
    assert len(calls) == 3


def test_cache_off_and_key_changes_with_params(cache, monkeypatch):
    tables.canonical("demo2", 10, 0, 5, lambda a, b: {"v": np.zeros(b - a + 1)}, params=(1,))
    tables.canonical("demo2", 10, 0, 5, lambda a, b: {"v": np.ones(b - a + 1)}, params=(2,))
    assert len(list(cache.glob("demo2-*.npz"))) == 2
    monkeypatch.setenv(table_cache.ENV, "off")
    assert table_cache.table_cache_dir() is None and table_cache.install() is None
    tables.canonical("demo3", 10, 0, 5, lambda a, b: {"v": np.zeros(b - a + 1)})
    assert not list(cache.glob("demo3-*"))


def test_default_location_is_user_cache_not_package(monkeypatch):
    monkeypatch.delenv(table_cache.ENV, raising=False)
    d = table_cache.table_cache_dir()
    import sweep

    assert d is not None and not str(d).startswith(os.path.dirname(sweep.__file__))


def test_fixed_dataclass_round_trip(cache):
    """Bethe–Heitler kernels (nested arrays, ints, floats) survive the disk cache exactly."""
    from sweep.model.grids import lattice
    from sweep.model.processes import bethe_heitler as bh

    x = lattice(-40, 120, 8)
    gp = lattice(0, 60, 8, 0.5)

    def build():
        return bh.build_bethe_heitler_kernels(x, gp, x)

    a = tables.fixed("bh_demo", 8, (), build, bh.BetheHeitlerKernels)
    tables.clear_memory()
    b = tables.fixed("bh_demo", 8, (), build, bh.BetheHeitlerKernels)
    assert tables.STATS["loaded"] >= 1
    for f in a.__dataclass_fields__:
        va, vb = getattr(a, f), getattr(b, f)
        assert np.array_equal(np.asarray(va), np.asarray(vb)), f


def test_spec_cache_dirs_reach_local_workers(tmp_path):
    """cluster.table_cache_dir / numba_cache_dir of a spec are in the workers' environment."""
    from sweep.clusters import local_cluster
    from sweep.spec import parse_spec
    from sweep.warmup import cache_environment

    spec = parse_spec(f"""
axes: {{z_diss: {{values: [100]}}}}
cluster:
  table_cache_dir: {tmp_path}/tc
  numba_cache_dir: {tmp_path}/nc
  local: {{n_workers: 1}}
""").spec
    env = cache_environment(spec.cluster)
    assert env == {"SWEEP_TABLE_CACHE": f"{tmp_path}/tc", "NUMBA_CACHE_DIR": f"{tmp_path}/nc"}
    cluster, client, _ = local_cluster(spec.cluster.local, 0, env=env)
    try:
        got = client.run(lambda: (os.environ.get("SWEEP_TABLE_CACHE"), os.environ.get("NUMBA_CACHE_DIR")))
        assert list(got.values()) == [(f"{tmp_path}/tc", f"{tmp_path}/nc")]
    finally:
        client.close()
        cluster.close()


@pytest.mark.parametrize("B", [1e-2, 3.0])
def test_gg_deposit_slice_equals_direct(cache, B):
    """The γγ deposit maps cut from the canonical ones (top cell clamped per run) equal the run's
    own ``_deposit`` exactly."""
    g = make_grids(12, B, 3e5)
    nx = len(g.x)
    idx = np.zeros((nx, nx), dtype=np.int64)
    wgt = np.zeros((nx, nx))
    pairs._deposit(g.x, g.gamma, 12, idx, wgt)
    pairs.deposit_maps(12, g.k0 - 40, nx + 80, len(g.gamma) + 40)  # a wider run first
    i2, w2 = pairs.deposit_maps(12, g.k0, nx, len(g.gamma))
    assert np.array_equal(i2, idx) and np.array_equal(w2, wgt)


def test_pair_injection_on_canonical_views_equals_run_maps(cache):
    """``GammaGamma`` keeps views of the canonical maps and ``pair_injection`` clamps the top
    cell: the same pairs as with the run's own clamped maps, exactly."""
    g = make_grids(12, 1.0, 3e5)
    nx = len(g.x)
    pairs.deposit_maps(12, g.k0 - 40, nx + 80, None)  # canonical wider than the run
    gg = pairs.GammaGamma(g)
    idx = np.zeros((nx, nx), dtype=np.int64)
    wgt = np.zeros((nx, nx))
    pairs._deposit(g.x, g.gamma, 12, idx, wgt)
    rng = np.random.default_rng(1)
    n = rng.random(nx) * np.exp(-((np.log(g.x) - 2.0) ** 2) / 8.0)
    ne = rng.random(nx) * 1e-3
    a = pairs.pair_injection(n, ne, g.x, g.dx, gg.table, gg.idx, gg.wgt, len(g.gamma))
    b = pairs.pair_injection(n, ne, g.x, g.dx, gg.table, idx, wgt, len(g.gamma))
    assert np.array_equal(a[0], b[0]) and a[1] == b[1] and a[0][-1] > 0


def test_photopion_kernels_round_trip(cache):
    """The photopion kernels (strings, nested secondary tables) load back from the disk cache
    instead of being rebuilt by every fresh worker."""
    from sweep.model.grids import lattice
    from sweep.model.processes import photopion as pg

    x = lattice(-40, 150, 8)
    gp = lattice(0, 60, 8, 0.5)

    def build():
        return pg.build_photopion_kernels(x, gp, x, x)

    a = tables.fixed("pg_demo", 8, (), build, pg.PhotopionKernels)
    tables.clear_memory()
    n = tables.STATS["built"]
    b = tables.fixed("pg_demo", 8, (), build, pg.PhotopionKernels)
    assert tables.STATS["built"] == n
    for name in ("K", "x", "gamma_p"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    for sec in ("photons", "pairs", "neutrinos"):
        assert np.array_equal(getattr(a, sec).T, getattr(b, sec).T)
        assert getattr(a, sec).species == getattr(b, sec).species
