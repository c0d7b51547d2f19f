"""Issue 12, security defaults: the engine's Dask clusters use TLS (a client without the
certificate is refused), dashboards listen on 127.0.0.1, `sweep explore` restricts websocket
origins, the SLURM log directory is never chmod'ed, and the opt-outs work (with a warning)."""
from __future__ import annotations

import socket
import ssl
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sweep import clusters
from sweep.spec import LocalSpec

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _dask_config_restored():
    """A Client whose connection is refused sets ``scheduler: dask.distributed`` in dask's config
    and restores it only when garbage-collected: collect, then restore the config, so later tests
    compute locally."""
    import gc

    import dask

    keys = ("scheduler", "shuffle")
    saved = {k: dask.config.config[k] for k in keys if k in dask.config.config}
    yield
    gc.collect()
    for k in keys:
        dask.config.config.pop(k, None)
    dask.config.config.update(saved)


def _external_ip() -> str | None:
    """An address of this machine other than loopback (None if it has none)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("10.255.255.255", 1))
        ip = s.getsockname()[0]
    except OSError:
        return None
    finally:
        s.close()
    return None if ip.startswith("127.") else ip


def _connects(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def test_local_cluster_tls_refuses_a_client_without_certificate():
    """Audit: no TLS/auth anywhere; the dashboard bound 0.0.0.0 while printing 127.0.0.1."""
    from distributed import Client

    cluster, client, info = clusters.local_cluster(LocalSpec(n_workers=1), retries=0)
    try:
        addr = cluster.scheduler_address
        assert addr.startswith("tls://127.0.0.1:") and info.tls
        assert client.submit(sum, [1, 2]).result(timeout=60) == 3  # the engine's client works
        host, port = addr[len("tls://"):].rsplit(":", 1)
        # 1. a Dask client without the certificate is refused (plain tcp and tls alike)
        for url in (addr.replace("tls://", "tcp://"), addr):
            with pytest.raises(Exception):
                c = Client(url, timeout=5)
                c.close()
        # 2. a raw TLS handshake without a client certificate is refused by the scheduler
        ctx = ssl.create_default_context()
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
            with socket.create_connection((host, int(port)), timeout=5) as raw:
                with ctx.wrap_socket(raw) as tls:
                    tls.sendall(b"\x00" * 8)
                    if not tls.recv(1):
                        raise ConnectionError("closed by the scheduler")
        # 2b. an existing TLS scheduler (--cluster tls://...) with the certificate files given in
        # cluster.address_tls is reachable; without them it is not
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            _, d = clusters.security_files(cluster.security, Path(tmp))
            files = {"ca_file": str(d / "cert.pem"), "cert": str(d / "cert.pem"),
                     "key": str(d / "key.pem")}
            _, c2, info2 = clusters.address_client(addr, files)
            try:
                assert info2.tls and c2.submit(sum, [2, 3]).result(timeout=60) == 5
            finally:
                c2.close()
        # 3. scheduler, workers and dashboard listen on loopback only
        dport = cluster.scheduler.http_server.port
        assert info.dashboard.startswith(f"http://127.0.0.1:{dport}")
        assert _connects("127.0.0.1", dport)
        ip = _external_ip()
        if ip is None:
            print("no non-loopback address on this machine: the off-host probe is skipped")
        else:
            assert not _connects(ip, dport), f"dashboard reachable on {ip}:{dport}"
            assert not _connects(ip, int(port)), f"scheduler reachable on {ip}:{port}"
            for w in cluster.scheduler.workers:
                wport = int(w.rsplit(":", 1)[1])
                assert not _connects(ip, wport), f"worker reachable on {ip}:{wport}"
    finally:
        client.close()
        cluster.close()


def test_tls_opt_out_is_loud(capsys):
    cluster, client, info = clusters.local_cluster(LocalSpec(n_workers=1), retries=0, tls=False)
    try:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:") and not info.tls
    finally:
        client.close()
        cluster.close()
    assert "WARNING: cluster.tls is false" in capsys.readouterr().err
    assert clusters.local_dashboard(":8787") == "127.0.0.1:8787"
    assert clusters.local_dashboard("0.0.0.0:8787") == "0.0.0.0:8787"
    assert "reachable by anyone" in capsys.readouterr().err


def test_log_directory_created_0750_and_existing_never_chmodded(tmp_path):
    """Audit: the SLURM log_directory was chmod'ed 1777 even when it existed."""
    import os

    old = os.umask(0o022)
    try:
        new = clusters.make_log_directory(tmp_path / "a" / "logs")
    finally:
        os.umask(old)
    assert stat.S_IMODE(new.stat().st_mode) == 0o750
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o750
    mine = tmp_path / "shared-logs"
    mine.mkdir()
    os.chmod(mine, 0o755)
    clusters.make_log_directory(mine)
    assert stat.S_IMODE(mine.stat().st_mode) == 0o755


def test_slurm_tls_files_private_and_job_script(tmp_path, monkeypatch):
    """The SLURM cluster's temporary certificates go to a private (0700) directory beside the
    cube, files 0600, named in the job script; the scheduler listens with tls:// and its dashboard
    on 127.0.0.1. (The real SLURM run with TLS is in tests/test_slurm.py.)"""
    sec, d = clusters.security_files(clusters.temporary_security(), tmp_path)
    assert stat.S_IMODE(d.stat().st_mode) == 0o700
    for f in d.iterdir():
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
    assert sec.require_encryption and Path(sec.tls_ca_file).parent == d
    tls = sec.get_connection_args("client")
    assert tls["require_encryption"] and tls["ssl_context"] is not None


def test_explore_websocket_origin_is_restricted(tmp_path):
    """Audit: `sweep explore` served with websocket_origin="*"."""
    from sweep import dashboard

    assert dashboard.websocket_origins(5006, []) == ["127.0.0.1:5006", "localhost:5006"]
    assert dashboard.websocket_origins(5006, ["example.org:443"]) == [
        "127.0.0.1:5006", "localhost:5006", "example.org:443"]
    src = (ROOT / "src" / "sweep" / "dashboard.py").read_text()
    assert 'websocket_origin="*"' not in src


def test_slurm_scheduler_never_binds_the_wildcard(tmp_path, monkeypatch):
    """Audit: with the SLURM defaults the scheduler listened on 0.0.0.0 and [::]. Now it binds
    one address of this host (the one its name resolves to, or its first non-loopback IPv4),
    unless the spec names an ``interface`` (then dask-jobqueue binds that interface)."""
    import ipaddress

    import dask_jobqueue

    from sweep.spec import SlurmSpec

    seen = {}

    class Capture:
        def __init__(self, **kw):
            seen.update(kw)
            raise RuntimeError("captured")

    monkeypatch.setattr(dask_jobqueue, "SLURMCluster", Capture)
    with pytest.raises(RuntimeError, match="captured"):
        clusters.slurm_cluster(SlurmSpec(), 1, str(tmp_path / "logs"), tls=False)
    host = seen["scheduler_options"]["host"]
    assert host == clusters.scheduler_host()
    assert not ipaddress.ip_address(host).is_unspecified  # not 0.0.0.0 / ::
    assert seen["scheduler_options"]["dashboard_address"].startswith("127.0.0.1:")
    seen.clear()
    with pytest.raises(RuntimeError, match="captured"):
        clusters.slurm_cluster(SlurmSpec(interface="lo"), 1, str(tmp_path / "logs"), tls=False)
    assert "host" not in seen["scheduler_options"] and seen["interface"] == "lo"
