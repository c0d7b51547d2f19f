"""Engine on a real LocalCluster: end to end (real model), resume after SIGKILL of the client,
worker death → retry, repeated deaths → failed cells with the reason, --retry-failed, --append,
axes mismatch refused.

Fault tests use ``sweep.validation.fake_cell.fake_cell`` (deterministic stand-in with injectable faults); the
end-to-end tests run the real ``sweep.model.cell.run_cell``.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from sweep import engine, store
from sweep.model.cell import CellStatus
from sweep.spec import load_spec, parse_spec
from sweep.validation.fake_cell import configured

ROOT = Path(__file__).resolve().parents[1]
SWEEP = str(Path(sys.executable).with_name("sweep"))

SPEC = """
name: engine-test
axes:
  sigma0: {values: [10, 30]}
  z_diss: {values: [5, 30, 100, 300], unit: Rs}
model: {ppd: 6, frequency_ppd: 2, neutrino_ppd: 2, particle_ppd: 2}
output: {chunks: {z_diss: 2}}
cluster: {local: {n_workers: 2}}
retries: 1
"""


@pytest.fixture(scope="module")
def client():
    """One LocalCluster (2 worker processes) for the in-process tests; a task may survive one
    worker death (allowed-failures = 1), the second death gives up."""
    import dask
    from distributed import Client, LocalCluster

    from sweep.clusters import _dask_config

    with dask.config.set(_dask_config(retries=1)):
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=":0", silence_logs=50)
        c = Client(cluster)
    yield c
    c.close()
    cluster.close()


def _submit(client, tmp_path, text=SPEC, name="c.zarr", **kw):
    loaded = parse_spec(text, "engine.yaml")
    return engine.submit(loaded, out=tmp_path / name, client=client, progress=False,
                         performance_report=False, **kw)


def _status(path):
    return xr.open_zarr(path).status.values


def test_worker_death_is_retried(client, tmp_path):
    fn = configured(SWEEP_FAKE_DIE_AT="z_diss=100,sigma0=30", SWEEP_FAKE_MARKERS=tmp_path / "m")
    res = _submit(client, tmp_path, cell_fn=fn)
    # the worker really died once (marker written just before SIGKILL) ...
    assert len(list((tmp_path / "m").iterdir())) == 1
    # ... and the retry finished the chunk: no failed cells
    assert res.failed_tasks == []
    st = _status(tmp_path / "c.zarr")
    assert (st[:, 0] == CellStatus.INVALID).all() and (st[:, 1:] == CellStatus.DONE).all()
    assert store.verify(tmp_path / "c.zarr").ok


def test_repeated_deaths_mark_cells_failed(client, tmp_path):
    fn = configured(SWEEP_FAKE_DIE_AT="z_diss=300,sigma0=10", SWEEP_FAKE_DIE_MODE="always",
                    SWEEP_FAKE_MARKERS=tmp_path / "m")
    res = _submit(client, tmp_path, cell_fn=fn)
    assert len(res.failed_tasks) == 1  # that chunk only; the sweep went on
    ds = xr.open_zarr(tmp_path / "c.zarr")
    st = ds.status.values
    # chunk (sigma0=10, z_diss 100..300) failed with the reason; every other cell finished
    assert (st[0, 2:] == CellStatus.FAILED).all()
    assert "worker died" in str(ds.message.values[0, 3]) and "KilledWorker" in str(ds.message.values[0, 3])
    assert (st[1, 1:] == CellStatus.DONE).all() and st[0, 1] == CellStatus.DONE
    assert np.isnan(ds.nuLnu_obs.values[0, 2:]).all()
    assert store.verify(tmp_path / "c.zarr").ok
    # --retry-failed reruns exactly the failed cells (now without the fault)
    res2 = _submit(client, tmp_path, cell_fn=configured())
    assert res2.computed == 0  # without --retry-failed, failed cells stay failed
    res3 = _submit(client, tmp_path, cell_fn=configured(), retry_failed=True)
    assert res3.computed == 2 and res3.counts["done"] == 2
    assert (_status(tmp_path / "c.zarr")[:, 1:] == CellStatus.DONE).all()


def test_model_errors_and_non_convergence_are_statuses(client, tmp_path):
    fn = configured(SWEEP_FAKE_RAISE_AT="z_diss=30,sigma0=30", SWEEP_FAKE_NOCONV_AT="z_diss=100,sigma0=10")
    res = _submit(client, tmp_path, cell_fn=fn)
    assert res.failed_tasks == [] and res.counts == {"pending": 0, "done": 4, "invalid": 2,
                                                     "not_converged": 1, "failed": 1}
    ds = xr.open_zarr(tmp_path / "c.zarr")
    assert ds.status.values[1, 1] == CellStatus.FAILED
    assert "RuntimeError: fake model error" in str(ds.message.values[1, 1])
    assert ds.status.values[0, 2] == CellStatus.NOT_CONVERGED and "7 iterations" in str(ds.message.values[0, 2])
    # the neighbour in the same chunk is done (a failing cell does not take its chunk down)
    assert ds.status.values[1, 0] == CellStatus.INVALID and ds.status.values[0, 3] == CellStatus.DONE
    assert store.verify(tmp_path / "c.zarr").ok


def test_append_computes_only_new_cells_and_mismatch_is_refused(client, tmp_path):
    res = _submit(client, tmp_path, cell_fn=configured())
    assert res.computed == 8
    more = SPEC.replace("[5, 30, 100, 300]", "[5, 30, 100, 300, 1000, 3000, 10000]")
    with pytest.raises(store.CubeError, match="axis z_diss"):
        _submit(client, tmp_path, more, cell_fn=configured())
    res = _submit(client, tmp_path, more, cell_fn=configured(), append=True)
    assert res.computed == 2 * 3 and res.counts["done"] == 6
    ds = xr.open_zarr(tmp_path / "c.zarr")
    assert ds.sizes["z_diss"] == 7 and (ds.status.values[:, 1:] == CellStatus.DONE).all()
    # resubmitting the extended spec computes nothing
    assert _submit(client, tmp_path, more, cell_fn=configured()).computed == 0
    assert store.verify(tmp_path / "c.zarr").ok


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(x) for x in (task / "children").read_text().split()]
    return out


def _wait_gone(pids, timeout=30.0):
    t0 = time.time()
    while time.time() - t0 < timeout:
        alive = [p for p in pids if Path(f"/proc/{p}").exists()
                 and "zombie" not in Path(f"/proc/{p}/status").read_text().lower()]
        if not alive:
            return
        time.sleep(0.1)
    raise AssertionError(f"processes {alive} still alive")


def test_client_sigkill_then_resume(tmp_path):
    """Kill -9 of the client mid-sweep loses at most the tasks in flight; a resubmit computes
    exactly the cells not done, and the cube verifies."""
    spec = tmp_path / "k.yaml"
    spec.write_text(SPEC.replace("[5, 30, 100, 300]", "[20, 30, 40, 60, 80, 100, 200, 300]").replace(
        "output: {chunks: {z_diss: 2}}", f"output: {{path: {tmp_path / 'k.zarr'}, chunks: {{z_diss: 1}}}}"))
    env = {**os.environ, "SWEEP_FAKE_SLEEP": "0.4", "SWEEP_FAKE_LOG": str(tmp_path / "log1")}
    cmd = [SWEEP, "submit", str(spec), "--cell-fn", "sweep.validation.fake_cell:fake_cell", "--no-report"]
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    cube = tmp_path / "k.zarr"
    t0 = time.time()
    done = 0
    while time.time() - t0 < 90:
        if cube.exists() and (cube / "zarr.json").exists():
            try:
                done = int((store.read_status(cube)[0] == CellStatus.DONE).sum())
            except Exception:  # noqa: BLE001 - metadata still being written
                done = 0
        if done >= 3:
            break
        assert p.poll() is None, p.stdout.read().decode()
        time.sleep(0.05)
    assert done >= 3, "the sweep did not progress"
    kids = _children(p.pid)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    _wait_gone(kids)  # worker processes exit with their parent (no orphans writing later)
    status, bad = store.read_status(cube)
    n_done = int((status == CellStatus.DONE).sum())
    assert not bad and 3 <= n_done < 16, n_done
    pending = int((status == CellStatus.PENDING).sum())
    assert pending > 0, "killed too late to test resume"
    # the finished chunks are intact
    rep = store.verify(cube)
    assert rep.ok, rep.damage
    env["SWEEP_FAKE_LOG"] = str(tmp_path / "log2")
    env["SWEEP_FAKE_SLEEP"] = "0"
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"computing {pending} cells" in r.stdout
    lines = sum(len(f.read_text().splitlines()) for f in (tmp_path / "log2").iterdir())
    assert lines == pending  # only the missing cells were computed
    assert (_status(cube) == CellStatus.DONE).all()
    assert store.verify(cube).ok
    assert not Path(str(cube) + ".lock").exists()


def test_cli_axes_mismatch_refused_exit_2(tmp_path):
    spec = tmp_path / "a.yaml"
    spec.write_text(SPEC.replace("output: {", f"output: {{path: {tmp_path / 'a.zarr'}, "))
    r = subprocess.run([SWEEP, "submit", str(spec), "--cell-fn", "sweep.validation.fake_cell:fake_cell", "--no-report"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    spec.write_text(spec.read_text().replace("[10, 30]", "[10, 60]"))
    r = subprocess.run([SWEEP, "submit", str(spec), "--cell-fn", "sweep.validation.fake_cell:fake_cell"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "axis sigma0" in r.stderr and "--append" in r.stderr
    assert "Traceback" not in r.stderr
    r = subprocess.run([SWEEP, "status", str(tmp_path / "a.zarr")], capture_output=True, text=True)
    assert r.returncode == 0 and "done: 6" in r.stdout and "invalid: 2" in r.stdout
    r = subprocess.run([SWEEP, "verify", str(tmp_path / "a.zarr")], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("ok")
    (tmp_path / "a.zarr" / "status" / "c" / "0" / "0").write_bytes(b"junk")
    r = subprocess.run([SWEEP, "verify", str(tmp_path / "a.zarr")], capture_output=True, text=True)
    assert r.returncode == 1 and "DAMAGE" in r.stderr
    # issue 12: a flipped byte in a spectrum chunk is found (checksum); --repair resets the
    # damaged chunks' cells to pending and a resubmit recomputes exactly them (before: "nothing
    # to compute" and the damage stayed)
    chunk = tmp_path / "a.zarr" / "n_e" / "c" / "1" / "1" / "0"
    blob = bytearray(chunk.read_bytes())
    blob[len(blob) // 2] ^= 0x04
    chunk.write_bytes(bytes(blob))
    r = subprocess.run([SWEEP, "verify", str(tmp_path / "a.zarr")], capture_output=True, text=True)
    assert r.returncode == 1 and "n_e: chunk unreadable" in r.stderr
    r = subprocess.run([SWEEP, "verify", str(tmp_path / "a.zarr"), "--repair"], capture_output=True,
                       text=True)
    assert r.returncode == 0 and "repaired: 4 cells of 2 damaged chunks" in r.stdout, r.stdout + r.stderr
    spec.write_text(spec.read_text().replace("[10, 60]", "[10, 30]"))
    r = subprocess.run([SWEEP, "submit", str(spec), "--cell-fn", "sweep.validation.fake_cell:fake_cell", "--no-report"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "computing 4 cells in 2 tasks" in r.stdout, r.stdout + r.stderr
    r = subprocess.run([SWEEP, "verify", str(tmp_path / "a.zarr")], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("ok")


# ----------------------------------------------------------------------------------------------
# end to end with the real model
# ----------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_smoke_grid_end_to_end_real_model(tmp_path):
    """`sweep submit grids/smoke.yaml` on the embedded LocalCluster with the real kinetic model:
    the cube opens with xarray.open_zarr, every cell is closed (done, or invalid below z0, or
    not converged with a message), the performance report exists and the cube verifies."""
    out = tmp_path / "smoke.zarr"
    r = subprocess.run([SWEEP, "submit", str(ROOT / "grids" / "smoke.yaml"), "--out", str(out)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "dashboard: http" in r.stdout
    ds = xr.open_zarr(out)
    st = ds.status.values
    z = ds.z_diss.values
    assert (st[:, z < 10] == CellStatus.INVALID).all()
    ok = st[:, z >= 10]
    assert np.isin(ok, [CellStatus.DONE, CellStatus.NOT_CONVERGED]).all(), ds.message.values
    assert (ok == CellStatus.DONE).sum() >= ok.size // 2, ds.message.values
    done = st == CellStatus.DONE
    assert np.isfinite(ds.nuLnu_obs.values[done]).any(axis=-1).all()
    assert (ds.runtime_s.values[done] > 0).all()
    assert (tmp_path / "smoke.performance.html").stat().st_size > 10_000
    r = subprocess.run([SWEEP, "verify", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    # resubmit: nothing left to compute
    r = subprocess.run([SWEEP, "submit", str(ROOT / "grids" / "smoke.yaml"), "--out", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "nothing to compute" in r.stdout


@pytest.mark.slow
def test_engine_real_model_in_process(client, tmp_path):
    """A 2-cell grid through engine.submit with the default cell function (the real run_cell)."""
    text = """
axes:
  z_diss: {values: [5, 100], unit: Rs}
model: {ppd: 6}
output: {chunks: {z_diss: 1}}
"""
    res = _submit(client, tmp_path, text)
    assert res.failed_tasks == []
    ds = xr.open_zarr(tmp_path / "c.zarr")
    assert ds.status.values[0] == CellStatus.INVALID and ds.message.values[0]
    assert ds.status.values[1] in (CellStatus.DONE, CellStatus.NOT_CONVERGED), ds.message.values[1]
    assert store.verify(tmp_path / "c.zarr").ok
    # every worker solved one real cell before its first task (issue 10: worker warm-up)
    events = [e for _, e in client.get_events("sweep-warmup")]
    assert events and all(e.get("seconds", 0) > 0 for e in events), events


def test_cli_existing_scheduler_address(client, tmp_path):
    """`--cluster tcp://...` runs on a scheduler that is already up (here the module's cluster)."""
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC.replace("output: {", f"output: {{path: {tmp_path / 's.zarr'}, "))
    r = subprocess.run([SWEEP, "submit", str(spec), "--cluster", client.scheduler.address,
                        "--cell-fn", "sweep.validation.fake_cell:fake_cell"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "computing 8 cells" in r.stdout and (tmp_path / "s.performance.html").exists()
    assert store.verify(tmp_path / "s.zarr").ok


def test_ctrl_c_keeps_finished_chunks_and_resumes(tmp_path):
    """SIGINT (Ctrl-C) of `sweep submit`: exit 130, finished chunks kept, lock released, metadata
    consolidated (the cube verifies), and a resubmit finishes the rest."""
    spec = tmp_path / "i.yaml"
    spec.write_text(SPEC.replace("[5, 30, 100, 300]", "[20, 30, 40, 60, 80, 100]").replace(
        "output: {chunks: {z_diss: 2}}", f"output: {{path: {tmp_path / 'i.zarr'}, chunks: {{z_diss: 1}}}}"))
    env = {**os.environ, "SWEEP_FAKE_SLEEP": "0.4"}
    cmd = [SWEEP, "submit", str(spec), "--cell-fn", "sweep.validation.fake_cell:fake_cell", "--no-report"]
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    cube = tmp_path / "i.zarr"
    t0 = time.time()
    while time.time() - t0 < 90:
        if (cube / "zarr.json").exists():
            try:
                if (store.read_status(cube)[0] == CellStatus.DONE).sum() >= 2:
                    break
            except Exception:  # noqa: BLE001
                pass
        time.sleep(0.05)
    p.send_signal(signal.SIGINT)
    out, _ = p.communicate(timeout=60)
    assert p.returncode == 130, out
    assert "interrupted" in out and "Traceback" not in out
    assert not Path(str(cube) + ".lock").exists()
    status = store.read_status(cube)[0]
    assert (status == CellStatus.PENDING).sum() > 0, "interrupted too late"
    assert store.verify(cube).ok
    xr.open_zarr(cube)  # consolidated metadata present and valid
    r = subprocess.run(cmd, env={**env, "SWEEP_FAKE_SLEEP": "0"}, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and (_status(cube) == CellStatus.DONE).all()


def test_parameter_combination_refused_by_jetparameters_is_invalid(client, tmp_path):
    """Each axis value is valid alone, but JetParameters refuses the combination z_acc ≤ z0:
    that cell is stored as invalid with the validator's message, not as a crash."""
    text = SPEC.replace("  sigma0: {values: [10, 30]}",
                        "  z0_rs: {values: [1, 500]}\n  z_acc_rs: {values: [100, 2000]}")
    res = _submit(client, tmp_path, text, cell_fn=configured())
    ds = xr.open_zarr(tmp_path / "c.zarr")
    st = ds.status.values  # dims z0_rs, z_acc_rs, z_diss
    assert (st[1, 0] == CellStatus.INVALID).all()  # z0 = 500 > z_acc = 100
    assert "z_acc_rs" in str(ds.message.values[1, 0, 2])
    assert (st[0, :, 1:] == CellStatus.DONE).all()  # z0 = 1 R_s: valid cells computed
    assert "z_acc_rs" not in str(ds.message.values[1, 1, 2])  # (500, 2000) is a valid combination
    assert res.counts["failed"] == 0 and store.verify(tmp_path / "c.zarr").ok


# ----------------------------------------------------------------------------------------------
# issue 12: SIGTERM, exit codes, reports and locks never overwritten, disk full / read-only
# ----------------------------------------------------------------------------------------------
def _wait_done(cube, n, timeout=90):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if (cube / "zarr.json").exists():
            try:
                if (store.read_status(cube)[0] == CellStatus.DONE).sum() >= n:
                    return
            except Exception:  # noqa: BLE001
                pass
        time.sleep(0.05)
    raise AssertionError("the sweep did not progress")


def test_sigterm_like_ctrl_c(tmp_path):
    """Audit: SIGTERM (scancel of the client's job) was not handled. Now: exit 143, a history
    line, lock released, consolidated metadata, finished chunks kept; a resubmit finishes."""
    spec = tmp_path / "t.yaml"
    spec.write_text(SPEC.replace("[5, 30, 100, 300]", "[20, 30, 40, 60, 80, 100]").replace(
        "output: {chunks: {z_diss: 2}}", f"output: {{path: {tmp_path / 't.zarr'}, chunks: {{z_diss: 1}}}}"))
    env = {**os.environ, "SWEEP_FAKE_SLEEP": "0.4"}
    cmd = [SWEEP, "submit", str(spec), "--cell-fn", "sweep.validation.fake_cell:fake_cell", "--no-report"]
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    cube = tmp_path / "t.zarr"
    _wait_done(cube, 2)
    p.send_signal(signal.SIGTERM)
    out, _ = p.communicate(timeout=60)
    assert p.returncode == 143, out
    assert "terminated (SIGTERM)" in out and "Traceback" not in out
    assert not Path(str(cube) + ".lock").exists()
    ds = xr.open_zarr(cube)  # consolidated metadata valid
    assert "submit: computed" in ds.attrs["history"].splitlines()[-1]
    assert (ds.status.values == CellStatus.PENDING).sum() > 0, "terminated too late"
    assert store.verify(cube).ok
    r = subprocess.run(cmd, env={**env, "SWEEP_FAKE_SLEEP": "0"}, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and (_status(cube) == CellStatus.DONE).all()


def test_sigterm_finishes_tasks_in_flight(tmp_path):
    """Issue 12 item 9: SIGTERM is handled like Ctrl-C *and* the tasks workers are running when it
    arrives are finished and committed (grace ``engine.INTERRUPT_GRACE_S``), tasks not started are
    cancelled. Cells take 2 s on 2 workers: at the signal (2 cells done) two more are running, so
    exactly 4 cells end done and 2 stay pending; exit 143; the cube verifies."""
    spec = tmp_path / "t.yaml"
    spec.write_text(SPEC.replace("[5, 30, 100, 300]", "[20, 40, 80]").replace(
        "output: {chunks: {z_diss: 2}}", f"output: {{path: {tmp_path / 't.zarr'}, chunks: {{z_diss: 1}}}}"))
    env = {**os.environ, "SWEEP_FAKE_SLEEP": "2.0"}
    cmd = [SWEEP, "submit", str(spec), "--cell-fn", "sweep.validation.fake_cell:fake_cell", "--no-report"]
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    cube = tmp_path / "t.zarr"
    _wait_done(cube, 2)
    time.sleep(0.3)  # the scheduler has handed the next two tasks to the freed workers
    p.send_signal(signal.SIGTERM)
    out, _ = p.communicate(timeout=90)
    assert p.returncode == 143, out
    assert "finishing the 2 task(s) in flight" in out, out
    st = _status(cube)
    assert (st == CellStatus.DONE).sum() == 4 and (st == CellStatus.PENDING).sum() == 2, st
    assert store.verify(cube).ok


def test_exit_codes_reports_and_foreign_files(tmp_path):
    """Exit 0 only when every cell is done/invalid/not_converged; 3 when cells failed (also on a
    resubmit that leaves them failed); a foreign <stem>.performance.html or lock file is never
    overwritten or removed."""
    spec = tmp_path / "x.yaml"
    spec.write_text(SPEC.replace("output: {", f"output: {{path: {tmp_path / 'x.zarr'}, "))
    foreign = tmp_path / "x.performance.html"
    foreign.write_text("my own notes")
    cmd = [SWEEP, "submit", str(spec), "--cell-fn", "sweep.validation.fake_cell:fake_cell"]
    env = {**os.environ, "SWEEP_FAKE_RAISE_AT": "z_diss=100,sigma0=30"}
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 3, r.stdout + r.stderr
    assert foreign.read_text() == "my own notes"
    ours = tmp_path / "x.performance-2.html"
    assert ours.exists() and f"report {ours}" in r.stdout.replace("\n", "")  # (rich wraps lines)
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 3 and "1 cells of the cube are failed" in r.stderr
    assert "Exit codes" in subprocess.run([SWEEP, "submit", "--help"], capture_output=True,
                                          text=True).stdout
    r = subprocess.run(cmd + ["--retry-failed"], env=os.environ, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert not (tmp_path / "x.performance-3.html").exists()  # our own report is reused
    assert foreign.read_text() == "my own notes"
    lock = tmp_path / "x.zarr.lock"
    lock.write_text("not a lock\n")
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "not a sweep lock file" in r.stderr and lock.read_text() == "not a lock\n"


def _unshare_ok() -> str:
    import shutil

    if not shutil.which("unshare"):
        return "unshare not installed"
    r = subprocess.run(["unshare", "-Urm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
                       capture_output=True, text=True, timeout=30)
    return "" if r.returncode == 0 else f"no user/mount namespaces here ({r.stderr.strip()})"


@pytest.mark.parametrize("fault", ["disk_full", "read_only"])
def test_disk_full_and_read_only_store(tmp_path, fault):
    """Audit: a full disk / read-only store crashed the client with chained tracebacks. Now one
    line, exit 4, cells not committed stay pending, finished ones intact. The file system is a
    real tmpfs (filled up) or a real read-only bind mount, in a private mount namespace."""
    reason = _unshare_ok()
    if reason:
        print(f"SKIP: {reason}")
        pytest.skip(reason)
    d = tmp_path / "fs"
    d.mkdir()
    spec = tmp_path / "f.yaml"
    spec.write_text(SPEC.replace("output: {", f"output: {{path: {d / 'f.zarr'}, "))
    py = sys.executable
    sweep = f"{SWEEP} submit {spec} --cell-fn sweep.validation.fake_cell:fake_cell --no-report"
    half = (f"{py} -c \"from sweep import store; from sweep.spec import load_spec; "
            f"store.prepare('{d / 'f.zarr'}', load_spec('{spec}'))\"")
    status = f"{SWEEP} status {d / 'f.zarr'} --json"
    if fault == "disk_full":
        # the cube's metadata fits; then the file system is filled up to the last few pages
        script = (f"mount -t tmpfs -o size=2m tmpfs {d} && {half} && "
                  f"(dd if=/dev/zero of={d}/fill bs=4k 2>/dev/null; true) && "
                  f"truncate -s -8k {d}/fill && {sweep}; echo rc=$?; {status}")
    else:
        script = (f"{half} && mount --bind {d} {d} && mount -o remount,bind,ro {d} && "
                  f"{sweep}; echo rc=$?; {status}")
    r = subprocess.run(["unshare", "-Urm", "sh", "-c", script], capture_output=True, text=True,
                       timeout=180, env={**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", "")})
    out = r.stdout
    assert "rc=4" in out, out + r.stderr
    err_lines = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
    assert len(err_lines) == 1 and "Traceback" not in r.stderr, r.stderr
    want = "no space left on device" if fault == "disk_full" else "read-only file system"
    assert want in err_lines[0] and "stay pending" in err_lines[0]
    import json

    counts = json.loads(out[out.index("{"):])["counts"]
    assert counts["failed"] == 0 and counts["pending"] > 0, counts
