"""Runtime reference data: the packaged Fermi catalogues and IceCube effective area, and newer
catalogue releases fetched into the user cache with hash verification.

Packaged data live in ``sweep/data/`` (read through :mod:`importlib.resources`, so they work from
a wheel, an sdist or an editable checkout) and are described by ``sweep/data/manifest.json``:
per dataset the title, version, citation, official URL, where the copy came from, licence, the
provenance README and per file its SHA-256 and size (and, for a file derived from an official
one, the original's SHA-256 and the exact derivation). ``sweep data`` lists and verifies them.

Lookup order for a file (``path``):  explicit argument → environment override
(``SWEEP_CATALOG_DIR`` for the Fermi files, ``SWEEP_ICECUBE_AEFF`` for the effective area) →
packaged copy. Fetched releases (``fetch``) are stored in the cache directory
(``SWEEP_DATA_CACHE``, else the platform cache ``~/.cache/sweep``) and recorded with their
SHA-256 in ``<cache>/fetched.json``; they are re-verified whenever they are used.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
from importlib import resources
from pathlib import Path

#: official file names of the Fermi catalogues by role (``--catalog-dir`` holds these names)
FERMI_FILES = {
    "4lac": "table-4LAC-DR2-h.fits",
    "3lac": "3LAC_hi.csv",
    "3fgl": "gll_psc_v16.fit",
}
MANIFEST_NAME = "manifest.json"
REGISTRY_NAME = "fetched.json"


# --------------------------------------------------------------------------------------------
# Packaged data
# --------------------------------------------------------------------------------------------
def data_root() -> Path:
    """Directory of the packaged data (``sweep/data``)."""
    root = resources.files("sweep") / "data"
    return Path(str(root))


def manifest() -> dict:
    with (resources.files("sweep") / "data" / MANIFEST_NAME).open("r", encoding="utf-8") as f:
        return json.load(f)


def dataset(name: str) -> dict:
    m = manifest()["datasets"]
    if name not in m:
        raise KeyError(f"dataset {name!r} is not packaged; packaged datasets: {sorted(m)}")
    return m[name]


def packaged_path(name: str, role: str) -> Path:
    """Path of the packaged file ``role`` (e.g. "table", "3fgl", "aeff") of dataset ``name``."""
    files = dataset(name)["files"]
    if role not in files:
        raise KeyError(f"dataset {name!r} has no file {role!r}; files: {sorted(files)}")
    p = data_root() / files[role]["path"]
    if not p.is_file():
        raise FileNotFoundError(f"packaged file of dataset {name!r} is missing: {p} "
                                "(broken installation: reinstall sweep)")
    return p


def sha256(path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def verify(names=None) -> list[dict]:
    """Check the SHA-256 of every packaged file (and every fetched release) against the manifest
    (registry). Returns rows {dataset, file, path, expected, actual, ok}."""
    rows = []
    m = manifest()["datasets"]
    for name, ds in m.items():
        if names and name not in names:
            continue
        for role, f in ds["files"].items():
            p = data_root() / f["path"]
            actual = sha256(p) if p.is_file() else "missing"
            rows.append(dict(dataset=name, file=role, path=str(p), expected=f["sha256"],
                             actual=actual, ok=actual == f["sha256"]))
    for name, rec in fetched().items():
        if names and name not in names:
            continue
        p = Path(rec["path"])
        actual = sha256(p) if p.is_file() else "missing"
        rows.append(dict(dataset=name, file="fetched", path=str(p), expected=rec["sha256"],
                         actual=actual, ok=actual == rec["sha256"]))
    return rows


def readme(name: str) -> str:
    """The provenance README of a packaged dataset (or a fetched release's record as text)."""
    if name in manifest()["datasets"]:
        ds = dataset(name)
        return (data_root() / ds["readme"]).read_text(encoding="utf-8")
    rec = fetched().get(name)
    if rec is None:
        raise KeyError(f"unknown dataset {name!r}; known: {sorted(manifest()['datasets'])} "
                       f"and fetched {sorted(fetched())}")
    return json.dumps(rec, indent=2)


# --------------------------------------------------------------------------------------------
# Lookup with overrides
# --------------------------------------------------------------------------------------------
def fermi_file(role: str, directory=None) -> Path:
    """A Fermi catalogue file: ``role`` in {"4lac", "3lac", "3fgl"}.

    ``directory`` (argument, else env ``SWEEP_CATALOG_DIR``) holds the official file names
    (``table-4LAC-DR2-h.fits``, ``3LAC_hi.csv``, ``gll_psc_v16.fit``); without one the packaged
    copies are used.
    """
    if directory is None and os.environ.get("SWEEP_CATALOG_DIR"):
        directory = os.environ["SWEEP_CATALOG_DIR"]
    if directory is not None:
        d = Path(directory)
        p = d / FERMI_FILES[role]
        if not p.is_file():
            raise FileNotFoundError(
                f"{role.upper()} catalogue file '{FERMI_FILES[role]}' not found: looked for {p} "
                f"(catalogue directory {d} from --catalog-dir / SWEEP_CATALOG_DIR; unset it to "
                "use the catalogues packaged with sweep, see `sweep data list`)")
        return p
    name, file_role = {"4lac": ("4lac-dr2", "table"), "3lac": ("3lac", "table"),
                       "3fgl": ("3lac", "3fgl")}[role]
    return packaged_path(name, file_role)


def effective_area_file(path=None) -> Path:
    """IceCube IC86-II effective area: argument, else env ``SWEEP_ICECUBE_AEFF``, else packaged."""
    if path is None:
        path = os.environ.get("SWEEP_ICECUBE_AEFF") or None
    if path is None:
        return packaged_path("icecube-ic86-ii", "aeff")
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(
            f"IceCube effective-area file not found: {p} (from the argument/--aeff or the env var "
            "SWEEP_ICECUBE_AEFF; unset both to use the packaged IC86-II table, see `sweep data list`)")
    return p


# --------------------------------------------------------------------------------------------
# Fetching newer releases
# --------------------------------------------------------------------------------------------
def cache_dir() -> Path:
    env = os.environ.get("SWEEP_DATA_CACHE")
    if env:
        return Path(env)
    import pooch

    return Path(pooch.os_cache("sweep"))


def releases() -> dict:
    """Fetchable releases known to this version (manifest ``releases``)."""
    return manifest()["releases"]


def fetched() -> dict:
    p = cache_dir() / REGISTRY_NAME
    if not p.is_file():
        return {}
    return json.loads(p.read_text(encoding="utf-8"))


def _hex(h: str) -> str:
    h = str(h).strip().lower()
    if h.startswith("sha256:"):
        h = h[7:]
    if len(h) != 64 or any(c not in "0123456789abcdef" for c in h):
        raise ValueError(f"sha256={h!r} is not a SHA-256 hex digest (64 hex characters, "
                         "optionally prefixed 'sha256:')")
    return h


def fetch(name: str, *, url: str | None = None, sha256_hex: str | None = None,
          trust_on_first_use: bool = False, progress: bool = False) -> Path:
    """Download release ``name`` into the cache with SHA-256 verification (pooch).

    The hash comes from ``sha256_hex``, else the manifest entry. Without either the download is
    refused unless ``trust_on_first_use`` (then the computed hash is recorded and every later use
    is checked against it). ``url`` overrides the official URL (mirrors; the tests' local server).
    A file failing verification is deleted and ``ValueError`` raised. Returns the local path.
    """
    import pooch

    rel = releases().get(name)
    if rel is None and url is None:
        raise KeyError(f"unknown release {name!r}; known releases: {sorted(releases())} "
                       "(or give --url and --sha256 for another file)")
    rel = dict(rel or {"format": None, "file": Path(url).name, "title": name})
    url = url or rel["url"]
    known = sha256_hex or rel.get("sha256")
    if known is None and not trust_on_first_use:
        raise ValueError(
            f"release {name!r} has no SHA-256 recorded in this version of sweep: give "
            "--sha256 <hex> from a checksum you trust, or --trust-on-first-use to record the "
            "hash of what is downloaded now")
    known = _hex(known) if known is not None else None
    target = cache_dir() / name
    target.mkdir(parents=True, exist_ok=True)
    fname = rel["file"]
    if (target / fname).is_file() and known is not None and sha256(target / fname) != known:
        (target / fname).unlink()  # stale or tampered copy: download again
    try:
        path = Path(pooch.retrieve(url, known_hash=f"sha256:{known}" if known else None,
                                   fname=fname, path=target, progressbar=progress))
    except ValueError as exc:  # pooch: hash mismatch (the download is discarded)
        raise ValueError(f"release {name!r} from {url} failed SHA-256 verification: {exc}") from exc
    except Exception as exc:  # requests: HTTP status / connection errors
        raise OSError(f"download of {name!r} from {url} failed: {exc}") from exc
    actual = sha256(path)
    reg = fetched()
    reg[name] = dict(path=str(path), url=url, sha256=actual, format=rel.get("format"),
                     title=rel.get("title", name), citation=rel.get("citation", ""),
                     verified="manifest" if (known and not sha256_hex) else
                     ("user" if sha256_hex else "trust-on-first-use"),
                     fetched=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
    (cache_dir() / REGISTRY_NAME).write_text(json.dumps(reg, indent=2), encoding="utf-8")
    return path


def fetched_path(name: str) -> Path:
    """Path of a fetched release, re-verified against its recorded SHA-256."""
    rec = fetched().get(name)
    if rec is None:
        raise FileNotFoundError(f"release {name!r} has not been fetched (run `sweep data fetch "
                                f"{name}`); fetched: {sorted(fetched())}")
    p = Path(rec["path"])
    if not p.is_file() or sha256(p) != rec["sha256"]:
        raise ValueError(f"fetched release {name!r} at {p} is missing or fails its SHA-256 "
                         f"{rec['sha256']}: fetch it again")
    return p


# --------------------------------------------------------------------------------------------
# How the derived packaged files were made (run once by the maintainers; tests re-derive)
# --------------------------------------------------------------------------------------------
FGL3_COLUMNS = ("Source_Name", "RAJ2000", "DEJ2000", "Energy_Flux100", "Unc_Energy_Flux100",
                "PowerLaw_Index", "CLASS1", "ASSOC1")


def derive_3fgl_columns(original, out) -> Path:
    """The packaged 3FGL subset: HDU 1 of the official ``gll_psc_v16.fit`` (3.7 MB, 6 HDUs)
    with only the columns 3LAC needs (``FGL3_COLUMNS``), values and units unchanged, all rows."""
    from astropy.io import fits

    with fits.open(original) as h:
        src = h[1]
        cols = fits.ColDefs([src.columns[c] for c in FGL3_COLUMNS])
        hdu = fits.BinTableHDU.from_columns(cols, name=src.name)
        hdu.header["ORIGIN"] = "gll_psc_v16.fit (3FGL, FSSC), HDU 1, column subset"
        fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(out, overwrite=True)
    return Path(out)
