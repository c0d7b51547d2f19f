"""Issue 12, item 9: the cube lock (sweep.lock). Audit findings: in a tight race two clients both
held the lock (one read the still-empty lock file as stale); a symlinked cube path got a
different lock; release removed a lock it did not own; SIGTERM was not handled (tested in
test_engine.py)."""
from __future__ import annotations

import multiprocessing as mp
import os
import socket
import subprocess
import sys
import time

import pytest

from sweep import lock as L


def test_lock_file_is_never_empty_and_an_empty_one_is_not_taken_over(tmp_path):
    cube = tmp_path / "c.zarr"
    # the state the audit hit: another client created the file and has not written it yet
    lk = L.lock_path(cube)
    lk.write_text("")
    with pytest.raises(L.LockedError, match="not a sweep lock file; not touching it"):
        L.acquire(cube)
    assert lk.exists() and lk.read_text() == ""
    lk.unlink()
    with L.cube_lock(cube) as held:
        text = held.read_text()
        assert text.startswith("sweep-lock v1 ") and str(os.getpid()) in text.split()
    assert not lk.exists()


def test_symlinked_cube_path_gets_the_same_lock(tmp_path):
    real = tmp_path / "real" / "c.zarr"
    real.mkdir(parents=True)
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with L.cube_lock(real):
        with pytest.raises(L.LockedError, match="another sweep client"):
            L.acquire(tmp_path / "link" / "c.zarr")
        with pytest.raises(L.LockedError):
            L.acquire(str(real) + "/")


def test_release_checks_the_owner_and_stale_locks_are_taken_over(tmp_path):
    cube = tmp_path / "c.zarr"
    lk, me = L.acquire(cube)
    other = f"{L.MAGIC} {socket.gethostname()} 1 12345\n"
    lk.write_text(other)  # someone else's lock now (e.g. after a takeover)
    assert not L.release(lk, me) and lk.read_text() == other
    lk.unlink()
    # dead owner on this host: taken over
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    lk.write_text(f"{L.MAGIC} {socket.gethostname()} {p.pid} {L._start_time(os.getpid())}\n")
    lk2, me2 = L.acquire(cube)
    assert lk2.read_text() == me2
    L.release(lk2, me2)
    # pid reused by another process (start time differs): stale too
    lk.write_text(f"{L.MAGIC} {socket.gethostname()} {os.getppid()} 1\n")
    lk3, me3 = L.acquire(cube)
    L.release(lk3, me3)
    # live owner, or owner on another host: refused
    lk.write_text(f"{L.MAGIC} {socket.gethostname()} {os.getppid()} {L._start_time(os.getppid())}\n")
    with pytest.raises(L.LockedError, match="another sweep client"):
        L.acquire(cube)
    lk.write_text(f"{L.MAGIC} some-other-node 4242 99\n")
    with pytest.raises(L.LockedError, match="some-other-node pid 4242"):
        L.acquire(cube)


def _contend(cube, log, n, barrier):
    barrier.wait()
    for _ in range(n):
        try:
            lk, me = L.acquire(cube, attempts=3)
        except L.LockedError:
            continue
        with open(log, "a") as f:
            f.write(f"+{os.getpid()}\n")
        time.sleep(0.002)
        with open(log, "a") as f:
            f.write(f"-{os.getpid()}\n")
        assert L.release(lk, me)


def test_tight_race_one_holder_at_a_time(tmp_path):
    """6 processes take and release the lock 30 times each, started together: the log of
    holders must alternate strictly (+a -a +b -b ...), with a stale lock of a dead client in the
    way at the start (every process tries to break it at once)."""
    cube = tmp_path / "c.zarr"
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    L.lock_path(cube).write_text(f"{L.MAGIC} {socket.gethostname()} {p.pid} 1\n")
    log = tmp_path / "log"
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(6)
    procs = [ctx.Process(target=_contend, args=(cube, log, 30, barrier)) for _ in range(6)]
    for pr in procs:
        pr.start()
    for pr in procs:
        pr.join(60)
        assert pr.exitcode == 0
    lines = log.read_text().split()
    assert len(lines) >= 2
    for a, b in zip(lines[::2], lines[1::2]):
        assert a[0] == "+" and b == "-" + a[1:], lines
    assert not L.lock_path(cube).exists()
