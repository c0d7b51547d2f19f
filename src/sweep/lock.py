"""One writer per cube: the ``<cube>.lock`` file beside the cube's real path.

* Created atomically with its content (written to a private temporary file, then ``os.link``ed
  into place, which fails if the lock exists), so no process ever sees an empty lock file.
* The content names the owner: ``sweep-lock v1 <host> <pid> <process start time>``. The start
  time (``/proc/<pid>/stat`` field 22) tells a live owner from a reused pid.
* A stale lock (owner on this host no longer running) is broken under a second O_EXCL file
  ``<lock>.break``, re-read before it is removed, so two clients cannot both break it and both
  proceed. A lock of another host is never broken (its pid cannot be checked from here).
* A file at the lock path that is not a sweep lock is never removed or overwritten.
* The path is resolved (symlinks) first: a symlinked cube path gets the same lock.
* Release removes the lock only while it still names this process.
"""
from __future__ import annotations

import contextlib
import os
import socket
import time
import uuid
from pathlib import Path

MAGIC = "sweep-lock v1"
BREAK_STALE_S = 30.0  # a <lock>.break left by a killed client is ignored after this long


class LockedError(RuntimeError):
    """The cube is in use by another client, or its lock path holds something else."""


def _start_time(pid: int) -> str:
    """The process start time in clock ticks since boot ('?' where /proc is unavailable)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return "?"


def _me() -> str:
    return f"{MAGIC} {socket.gethostname()} {os.getpid()} {_start_time(os.getpid())}\n"


def lock_path(cube: str | Path) -> Path:
    real = Path(os.path.realpath(str(cube).rstrip("/") or "/"))
    return real.with_name(real.name + ".lock")


def _parse(text: str):
    if not text.startswith(MAGIC + " "):
        return None
    parts = text[len(MAGIC):].split()
    if len(parts) != 3:
        return None
    try:
        return parts[0], int(parts[1]), parts[2]
    except ValueError:
        return None


def _alive(host: str, pid: int, start: str) -> bool:
    if host != socket.gethostname():
        return True  # cannot tell: assume alive
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return start == "?" or _start_time(pid) in ("?", start)


def _create(lock: Path, content: str) -> bool:
    tmp = lock.with_name(f".{lock.name}.{uuid.uuid4().hex}.tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, lock)
            return True
        except FileExistsError:
            return False
    finally:
        tmp.unlink(missing_ok=True)


def _break_stale(lock: Path, seen: str) -> None:
    """Remove ``lock`` if it still holds ``seen`` (a dead owner), under ``<lock>.break``."""
    brk = lock.with_name(lock.name + ".break")
    try:
        fd = os.open(brk, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        with contextlib.suppress(OSError):
            if time.time() - brk.stat().st_mtime > BREAK_STALE_S:
                brk.unlink()
        time.sleep(0.05)
        return
    try:
        os.write(fd, _me().encode())
        os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            if lock.read_text() == seen:
                lock.unlink()
    finally:
        brk.unlink(missing_ok=True)


def acquire(cube: str | Path, attempts: int = 50) -> tuple[Path, str]:
    lock = lock_path(cube)
    lock.parent.mkdir(parents=True, exist_ok=True)
    me = _me()
    for _ in range(attempts):
        if _create(lock, me):
            return lock, me
        try:
            text = lock.read_text()
        except FileNotFoundError:
            continue  # released meanwhile: try again
        owner = _parse(text)
        if owner is None:
            raise LockedError(f"{lock} exists and is not a sweep lock file; not touching it "
                              "(move it away if the cube is not in use)")
        host, pid, start = owner
        if _alive(host, pid, start):
            raise LockedError(f"{cube} is being written by another sweep client ({host} pid {pid}); "
                              f"if that is wrong, remove {lock}")
        _break_stale(lock, text)
    raise LockedError(f"could not take {lock} (contended)")


def release(lock: Path, me: str) -> bool:
    """Remove the lock if it still names this process; True if removed."""
    try:
        if lock.read_text() != me:
            return False
    except FileNotFoundError:
        return False
    lock.unlink(missing_ok=True)
    return True


@contextlib.contextmanager
def cube_lock(cube: str | Path):
    """Hold ``<cube>.lock`` for the block (see the module docstring)."""
    lock, me = acquire(cube)
    try:
        yield lock
    finally:
        release(lock, me)
