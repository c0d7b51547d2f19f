"""Cluster factories: an embedded LocalCluster, SLURM via dask-jobqueue, or a running scheduler.

Each returns ``(cluster_or_None, client, info)`` where ``info`` holds the dashboard URL and, on
SLURM, the ``ssh -L`` command that reaches it from a laptop. The Dask scheduler of ``local`` and
``slurm`` runs inside this process, so ``distributed.scheduler.allowed-failures`` (worker deaths a
task survives) is set from the spec's ``retries`` before it starts.
"""
from __future__ import annotations

import getpass
import os
import shlex
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from sweep.spec import LocalSpec, SlurmSpec


@dataclass
class ClusterInfo:
    kind: str
    dashboard: Optional[str]
    tunnel: Optional[str] = None
    extra: dict[str, Any] = field(default_factory=dict)
    tls: bool = False
    cleanup: list = field(default_factory=list)  # callables run after the cluster is closed


def _warn(msg: str) -> None:
    print(f"WARNING: {msg}", file=sys.stderr, flush=True)


def local_dashboard(address: str) -> str:
    """Bind a dashboard to 127.0.0.1 unless the address names a host (the documented opt-out,
    e.g. '0.0.0.0:8787', which is warned about)."""
    host, _, port = address.rpartition(":")
    if not host:
        return f"127.0.0.1:{port or 0}"
    if host in ("0.0.0.0", "::", "[::]", "*"):
        _warn(f"dashboard on {address}: reachable by anyone who can reach this machine")
    return address


def temporary_security():
    """Self-signed TLS credentials for one cluster (``Security.temporary()``): every connection
    is encrypted and both ends must present the certificate, so a client without it is refused."""
    from distributed.security import Security

    return Security.temporary()


def security_files(sec, where: Path) -> tuple[Any, Path]:
    """Write the in-memory credentials of ``sec`` to files in a new private (0700) directory
    beside the cube (SLURM workers on other nodes read them from the shared file system) and
    return a file-based Security and the directory (removed by the engine at the end)."""
    import tempfile

    from distributed.security import Security

    d = Path(tempfile.mkdtemp(prefix=".sweep-tls-", dir=str(where)))  # mode 0700
    cert, key = d / "cert.pem", d / "key.pem"
    for f, text in ((cert, sec.tls_client_cert), (key, sec.tls_client_key)):
        fd = os.open(f, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
    c, k = str(cert), str(key)
    return Security(tls_ca_file=c, tls_client_cert=c, tls_client_key=k, tls_scheduler_cert=c,
                    tls_scheduler_key=k, tls_worker_cert=c, tls_worker_key=k,
                    require_encryption=True), d


def _dask_config(retries: int) -> dict:
    return {
        "distributed.scheduler.allowed-failures": retries,
        # send a worker only as many tasks as it has threads: a task queued behind one that
        # kills the worker would otherwise be blamed for the death too (KilledWorker counts
        # every task "processing" on a dying worker)
        "distributed.scheduler.worker-saturation": 1.0,
        # a worker killed mid-task is detected by the nanny at once; lost heartbeats after 60 s
        "distributed.scheduler.worker-ttl": "60s",
        # progress/ETA and worker restarts matter more than work stealing of whole chunks
        "distributed.scheduler.work-stealing": True,
        "distributed.admin.tick.limit": "30s",
    }


def local_cluster(cfg: LocalSpec, retries: int, tls: bool = True, env: dict | None = None):
    """Embedded LocalCluster: worker processes (the numba model holds the GIL), 1 thread each by
    default, all cores unless ``n_workers`` is given. Scheduler and workers listen on 127.0.0.1
    only, with TLS (temporary certificates) unless ``tls`` is False; the dashboard on 127.0.0.1."""
    import dask
    from distributed import Client, LocalCluster

    n = cfg.n_workers or os.cpu_count() or 1
    kw: dict[str, Any] = {}
    if tls:
        kw = {"security": temporary_security(), "protocol": "tls://"}
    else:
        _warn("cluster.tls is false: the Dask scheduler accepts any local connection without "
              "authentication (anyone on this machine can run code as you)")
    with dask.config.set(_dask_config(retries)):
        cluster = LocalCluster(n_workers=n, threads_per_worker=cfg.threads_per_worker, processes=True,
                               memory_limit=cfg.memory_limit or "auto", host="127.0.0.1",
                               dashboard_address=local_dashboard(cfg.dashboard_address),
                               silence_logs=50, env=dict(env or {}), **kw)  # task errors: the engine reports them
        client = Client(cluster, security=kw.get("security"))
    return cluster, client, ClusterInfo("local", client.dashboard_link, extra={"n_workers": n},
                                        tls=tls)


def make_log_directory(log_directory: str | Path) -> Path:
    """Create the job-log directory 0750 (and missing parents, 0750 too); an existing directory
    is used as it is: its permissions are never changed (it may not be ours)."""
    d = Path(log_directory)
    missing = []
    p = d
    while not p.exists():
        missing.append(p)
        p = p.parent
    for m in reversed(missing):
        m.mkdir(mode=0o750)
        os.chmod(m, 0o750)  # mkdir's mode is masked by the umask
    return d


def scheduler_host() -> str:
    """The address the SLURM scheduler binds to when no ``interface`` is given: this host's
    name as the cluster resolves it; where that is a loopback alias (Debian's 127.0.1.1 on a
    login node), the first non-loopback IPv4 address of this host; loopback only on a machine
    that has no other (a single-node SLURM, which is all such a machine can run)."""
    import ipaddress

    import psutil

    try:
        ip = socket.gethostbyname(socket.gethostname())
    except OSError:
        ip = "127.0.0.1"
    if not ipaddress.ip_address(ip).is_loopback:
        return ip
    for addrs in psutil.net_if_addrs().values():
        for a in addrs:
            if a.family == socket.AF_INET and not ipaddress.ip_address(a.address).is_loopback:
                return a.address
    return ip


def slurm_cluster(cfg: SlurmSpec, retries: int, log_directory: str, tls: bool = True,
                  tls_dir: Optional[Path] = None, env: dict | None = None):
    """dask_jobqueue.SLURMCluster with the spec's options, scaled adaptively up to max_jobs.
    With ``tls`` (the default) temporary certificates are written to a private directory in
    ``tls_dir`` (beside the cube: the workers read them from the shared file system) and every
    connection uses TLS; the dashboard listens on 127.0.0.1 (reach it with the printed ssh -L)."""
    import dask
    from dask_jobqueue import SLURMCluster
    from distributed import Client

    make_log_directory(log_directory)
    cleanup = []
    sec = None
    if tls:
        import shutil

        sec, d = security_files(temporary_security(), Path(tls_dir or log_directory))
        cleanup.append(lambda: shutil.rmtree(d, ignore_errors=True))
    else:
        _warn("cluster.tls is false: the Dask scheduler and workers accept connections without "
              "authentication; anyone who can reach them can run code as you")
    procs = cfg.processes or cfg.cores
    extra = ["--death-timeout", "120"]
    wall = _walltime_seconds(cfg.walltime)
    if wall >= 20 * 60:
        # retire workers gracefully 5 min before the walltime (their tasks move elsewhere and
        # adaptive scaling starts a replacement job) instead of being killed mid-task
        extra += ["--lifetime", f"{wall - 300}s", "--lifetime-stagger", "60s"]
    kwargs: dict[str, Any] = dict(
        queue=cfg.queue, account=cfg.account, walltime=cfg.walltime, cores=cfg.cores,
        memory=cfg.memory, processes=procs, job_extra_directives=list(cfg.job_extra_directives),
        log_directory=log_directory, python=cfg.python or sys.executable,
        scheduler_options={"port": cfg.scheduler_port,
                           "dashboard_address": f"127.0.0.1:{cfg.dashboard_port}",
                           # one address the compute nodes reach, never the wildcard (0.0.0.0, ::)
                           **({} if cfg.interface else {"host": scheduler_host()})},
        worker_extra_args=extra,
        # cache locations (spec cluster.table_cache_dir / numba_cache_dir), before python starts
        job_script_prologue=[f"export {k}={shlex.quote(v)}" for k, v in (env or {}).items()] or None,
    )
    if sec is not None:
        kwargs.update(security=sec, protocol="tls://", shared_temp_directory=str(tls_dir or log_directory))
    if cfg.local_directory:
        kwargs["local_directory"] = cfg.local_directory
    if cfg.interface:
        kwargs["interface"] = cfg.interface
    try:
        with dask.config.set(_dask_config(retries)):
            cluster = SLURMCluster(**{k: v for k, v in kwargs.items() if v is not None})
            cluster.adapt(minimum_jobs=cfg.min_jobs, maximum_jobs=cfg.max_jobs)
            client = Client(cluster, security=sec)
    except BaseException:
        for f in cleanup:
            f()
        raise
    link = client.dashboard_link
    port = cluster.scheduler_info.get("services", {}).get("dashboard", cfg.dashboard_port)
    host = socket.getfqdn()
    if host.startswith("localhost"):
        host = socket.gethostname()
    tunnel = f"ssh -N -L {port}:localhost:{port} {getpass.getuser()}@{host}"
    return cluster, client, ClusterInfo("slurm", link, tunnel, {"job_script": cluster.job_script()},
                                        tls=sec is not None, cleanup=cleanup)


def _walltime_seconds(walltime: str) -> int:
    """'D-HH:MM:SS', 'HH:MM:SS' or 'HH:MM' (as validated by the spec) in seconds."""
    days = 0
    if "-" in walltime:
        d, walltime = walltime.split("-", 1)
        days = int(d)
    parts = [int(x) for x in walltime.split(":")]
    if len(parts) == 2:
        parts.append(0)
    h, m, sec = parts
    return ((days * 24 + h) * 60 + m) * 60 + sec


def address_client(address: str, tls_files: Optional[dict] = None):
    """Connect to a running scheduler (its allowed-failures setting is its own). A ``tls://``
    address uses the spec's ``cluster.address_tls`` certificate files, else Dask's own
    configuration (``distributed.comm.tls.*``); a plain ``tcp://`` address is warned about."""
    from distributed import Client
    from distributed.security import Security

    sec = None
    if tls_files:
        sec = Security(tls_ca_file=tls_files["ca_file"], tls_client_cert=tls_files["cert"],
                       tls_client_key=tls_files.get("key"), require_encryption=True)
        if not address.startswith("tls://"):
            raise ValueError(f"cluster.address_tls is set but the address {address} is not tls://")
    elif not address.startswith("tls://"):
        _warn(f"scheduler {address} is not TLS: anyone who can reach it can run code on its workers")
    client = Client(address, timeout="30s", security=sec)
    return None, client, ClusterInfo("address", client.dashboard_link, extra={"address": address},
                                     tls=address.startswith("tls://"))


def start(spec, which: str, cube_path: Path):
    """Start the cluster chosen by ``which`` ('local', 'slurm', 'address' or a scheduler URL)."""
    from sweep.warmup import cache_environment

    env = cache_environment(spec.cluster)
    tls = spec.cluster.tls
    tls_files = spec.cluster.address_tls.model_dump() if spec.cluster.address_tls else None
    if which == "local":
        return local_cluster(spec.cluster.local, spec.retries, tls=tls, env=env)
    if which == "slurm":
        if spec.cluster.slurm is None:
            raise ValueError("--cluster slurm: the spec has no cluster.slurm section")
        logdir = spec.cluster.slurm.log_directory or str(Path(cube_path).with_suffix(".logs"))
        cube_dir = Path(os.path.realpath(cube_path)).parent
        return slurm_cluster(spec.cluster.slurm, spec.retries, logdir, tls=tls, tls_dir=cube_dir, env=env)
    if which == "address":
        if not spec.cluster.address:
            raise ValueError("--cluster address: the spec has no cluster.address")
        return address_client(spec.cluster.address, tls_files)
    return address_client(which, tls_files)
