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


def local_cluster(cfg: LocalSpec, retries: int, env: dict | None = None):
    """Embedded LocalCluster: worker processes (the numba model holds the GIL), 1 thread each by
    default, all cores unless ``n_workers`` is given."""
    import dask
    from distributed import Client, LocalCluster

    n = cfg.n_workers or os.cpu_count() or 1
    with dask.config.set(_dask_config(retries)):
        cluster = LocalCluster(n_workers=n, threads_per_worker=cfg.threads_per_worker, processes=True,
                               memory_limit=cfg.memory_limit or "auto",
                               dashboard_address=cfg.dashboard_address, silence_logs=40,
                               env=dict(env or {}))
        client = Client(cluster)
    return cluster, client, ClusterInfo("local", client.dashboard_link, extra={"n_workers": n})


def slurm_cluster(cfg: SlurmSpec, retries: int, log_directory: str, env: dict | None = None):
    """dask_jobqueue.SLURMCluster with the spec's options, scaled adaptively up to max_jobs."""
    import dask
    from dask_jobqueue import SLURMCluster
    from distributed import Client

    Path(log_directory).mkdir(parents=True, exist_ok=True)
    try:
        os.chmod(log_directory, 0o1777)  # written by the job's user (maybe not us)
    except PermissionError:
        pass  # not ours: its owner decides
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
                           "dashboard_address": f":{cfg.dashboard_port}"},
        worker_extra_args=extra,
        # cache locations (spec cluster.table_cache_dir / numba_cache_dir), before python starts
        job_script_prologue=[f"export {k}={shlex.quote(v)}" for k, v in (env or {}).items()] or None,
    )
    if cfg.local_directory:
        kwargs["local_directory"] = cfg.local_directory
    if cfg.interface:
        kwargs["interface"] = cfg.interface
    with dask.config.set(_dask_config(retries)):
        cluster = SLURMCluster(**{k: v for k, v in kwargs.items() if v is not None})
        cluster.adapt(minimum_jobs=cfg.min_jobs, maximum_jobs=cfg.max_jobs)
        client = Client(cluster)
    link = client.dashboard_link
    port = cluster.scheduler_info.get("services", {}).get("dashboard", cfg.dashboard_port)
    host = socket.getfqdn()
    if host.startswith("localhost"):
        host = socket.gethostname()
    tunnel = f"ssh -N -L {port}:localhost:{port} {getpass.getuser()}@{host}"
    return cluster, client, ClusterInfo("slurm", link, tunnel,
                                        {"job_script": cluster.job_script()})


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


def address_client(address: str):
    """Connect to a running scheduler (its allowed-failures setting is its own)."""
    from distributed import Client

    client = Client(address, timeout="30s")
    return None, client, ClusterInfo("address", client.dashboard_link, extra={"address": address})


def start(spec, which: str, cube_path: Path):
    """Start the cluster chosen by ``which`` ('local', 'slurm', 'address' or a scheduler URL)."""
    from sweep.warmup import cache_environment

    env = cache_environment(spec.cluster)
    if which == "local":
        return local_cluster(spec.cluster.local, spec.retries, env)
    if which == "slurm":
        if spec.cluster.slurm is None:
            raise ValueError("--cluster slurm: the spec has no cluster.slurm section")
        logdir = spec.cluster.slurm.log_directory or str(Path(cube_path).with_suffix(".logs"))
        return slurm_cluster(spec.cluster.slurm, spec.retries, logdir, env)
    if which == "address":
        if not spec.cluster.address:
            raise ValueError("--cluster address: the spec has no cluster.address")
        return address_client(spec.cluster.address)
    return address_client(which)
