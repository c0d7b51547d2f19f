"""Packaged runtime data (manifest, checksums, overrides) and hashed fetch of newer releases from a
local HTTP server on 127.0.0.1 (never the internet)."""
from __future__ import annotations

import functools
import http.server
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from sweep import catalogs, datasets
from sweep import reduce as red
from sweep.cli import app

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SWEEP_DATA_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("SWEEP_CATALOG_DIR", raising=False)
    monkeypatch.delenv("SWEEP_ICECUBE_AEFF", raising=False)
    for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(k, raising=False)
    return tmp_path / "cache"


@pytest.fixture()
def server(tmp_path):
    """A static HTTP server on 127.0.0.1 (ephemeral port) serving tmp_path/www."""
    www = tmp_path / "www"
    www.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(www))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    try:
        yield www, f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_packaged_files_verify_and_match_shared():
    """Every packaged file has the manifest's SHA-256; the unmodified ones are byte-identical to
    the reference shelf (../shared/data), whose hash is the manifest's original_sha256."""
    rows = datasets.verify()
    assert len(rows) >= 4 and all(r["ok"] for r in rows), rows
    m = datasets.manifest()["datasets"]
    shared = {"fermi/table-4LAC-DR2-h.fits": "fermi/table-4LAC-DR2-h.fits",
              "fermi/3LAC_hi.csv": "fermi/3LAC_hi.csv",
              "fermi/gll_psc_v16_3lac-columns.fits": "fermi/gll_psc_v16.fit",
              "icecube/IC86_II_effectiveArea.csv": "icecube/IC86_II_effectiveArea.csv"}
    for ds in m.values():
        for f in ds["files"].values():
            orig = SHARED / shared[f["path"]]
            assert datasets.sha256(orig) == f["original_sha256"], f["path"]
            if f["derivation"].startswith("unmodified"):
                assert f["sha256"] == f["original_sha256"]
        assert (datasets.data_root() / ds["readme"]).is_file()


def test_derived_3fgl_is_reproducible(tmp_path):
    """Re-deriving the 3FGL column subset from the official file gives the packaged bytes, and the
    3LAC join reads the same numbers from either file."""
    out = datasets.derive_3fgl_columns(SHARED / "fermi" / "gll_psc_v16.fit", tmp_path / "x.fits")
    assert datasets.sha256(out) == datasets.dataset("3lac")["files"]["3fgl"]["sha256"]
    packaged = catalogs.load_3lac()
    full = catalogs.load_3lac(SHARED / "fermi")
    assert len(packaged) == len(full) == 1591
    np.testing.assert_array_equal(packaged["log_L_gamma"].to_numpy(), full["log_L_gamma"].to_numpy())


def test_defaults_are_packaged_and_overrides_win(cache, tmp_path, monkeypatch):
    root = datasets.data_root()
    assert red.effective_area_path() == root / "icecube" / "IC86_II_effectiveArea.csv"
    assert catalogs._file("4lac", None) == root / "fermi" / "table-4LAC-DR2-h.fits"
    monkeypatch.setenv("SWEEP_CATALOG_DIR", str(SHARED / "fermi"))
    assert catalogs._file("3fgl", None) == SHARED / "fermi" / "gll_psc_v16.fit"
    monkeypatch.setenv("SWEEP_ICECUBE_AEFF", str(tmp_path / "none.csv"))
    with pytest.raises(FileNotFoundError, match="SWEEP_ICECUBE_AEFF"):
        red.effective_area_path()
    monkeypatch.setenv("SWEEP_CATALOG_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="table-4LAC-DR2-h.fits"):
        catalogs.load_4lac()


def test_fetch_verified_release_and_use_it(cache, server):
    """A '4LAC-DR3' served locally (the DR2 file with its first rows' redshift changed, so the
    content is distinguishable) is fetched with its SHA-256, loaded as --catalog 4lac-dr3, and
    re-verified on every use; a tampered cache copy is refused."""
    from astropy.io import fits

    www, base = server
    with fits.open(datasets.packaged_path("4lac-dr2", "table")) as h:
        h[1].data["Redshift"][0] = 1.2345
        h.writeto(www / "table-4LAC-DR3-h.fits")
    digest = datasets.sha256(www / "table-4LAC-DR3-h.fits")

    r = CliRunner().invoke(app, ["data", "fetch", "4lac-dr3", "--url",
                                 f"{base}/table-4LAC-DR3-h.fits", "--sha256", digest])
    assert r.exit_code == 0, r.output
    assert "use it with --catalog 4lac-dr3" in r.output
    rec = datasets.fetched()["4lac-dr3"]
    assert rec["sha256"] == digest and rec["verified"] == "user"
    assert Path(rec["path"]).parent.parent == cache
    df = catalogs.load_catalog("4lac-dr3")
    assert df["catalog"].iloc[0] == "4LAC-DR3" and df["z"].iloc[0] == pytest.approx(1.2345, 1e-6)
    assert "4lac-dr3" in catalogs.catalog_choices()
    r = CliRunner().invoke(app, ["data", "verify"])
    assert r.exit_code == 0 and "4lac-dr3" in r.output
    # tampering with the cached copy is caught at use and by verify
    with open(rec["path"], "ab") as f:
        f.write(b"x")
    with pytest.raises(ValueError, match="fails its SHA-256"):
        catalogs.load_catalog("4lac-dr3")
    r = CliRunner().invoke(app, ["data", "verify"])
    assert r.exit_code == 1 and "BAD" in r.output


def test_fetch_refuses_wrong_or_missing_hash(cache, server):
    www, base = server
    src = datasets.packaged_path("4lac-dr2", "table")
    shutil.copy(src, www / "table-4LAC-DR2-h.fits")
    url = f"{base}/table-4LAC-DR2-h.fits"
    # the manifest's own hash for 4lac-dr2: fetch from the mirror verifies against it
    p = datasets.fetch("4lac-dr2", url=url)
    assert datasets.sha256(p) == datasets.sha256(src)
    assert datasets.fetched()["4lac-dr2"]["verified"] == "manifest"
    # a wrong hash: refused, nothing left in the cache under the release's name
    r = CliRunner().invoke(app, ["data", "fetch", "4lac-dr3", "--url", url, "--sha256", "0" * 64])
    assert r.exit_code == 2 and "failed SHA-256 verification" in r.output
    assert not (cache / "4lac-dr3" / "table-4LAC-DR3-h.fits").exists()
    assert "4lac-dr3" not in datasets.fetched()
    # no hash known: refused with the way out named; --trust-on-first-use records it
    r = CliRunner().invoke(app, ["data", "fetch", "4lac-dr3", "--url", url])
    assert r.exit_code == 2 and "--trust-on-first-use" in r.output
    r = CliRunner().invoke(app, ["data", "fetch", "4lac-dr3", "--url", url, "--trust-on-first-use"])
    assert r.exit_code == 0, r.output
    assert datasets.fetched()["4lac-dr3"]["sha256"] == datasets.sha256(src)
    # a malformed hash names the field
    with pytest.raises(ValueError, match="sha256='abc'"):
        datasets.fetch("4lac-dr3", url=url, sha256_hex="abc")
    # a missing file on the server: a clean error
    r = CliRunner().invoke(app, ["data", "fetch", "3fgl", "--url", f"{base}/nothing.fit"])
    assert r.exit_code == 2 and "failed" in r.output


def test_data_cli_list_info():
    r = CliRunner().invoke(app, ["data", "list"])
    assert r.exit_code == 0 and "4lac-dr2" in r.output and "icecube-ic86-ii" in r.output
    r = CliRunner().invoke(app, ["data", "info", "icecube-ic86-ii"])
    assert r.exit_code == 0 and "2101.09836" in r.output and "Livetime" in r.output
    r = CliRunner().invoke(app, ["data", "info", "nope"])
    assert r.exit_code == 2 and "unknown dataset" in r.output
