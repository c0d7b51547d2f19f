"""Fermi-LAT blazar catalogues: 4LAC-DR2 (FITS) and 3LAC (CSV) joined to 3FGL (FITS).

Both readers return a ``pandas.DataFrame`` with one row per source and the columns

    name, assoc, catalog, cls ("FSRQ" | "BL Lac" | "BCU" | "other"), sed_class, z, ra, dec,
    energy_flux100 [erg cm⁻² s⁻¹], photon_index, log_nu_peak_obs, log_nu_peak_rest,
    log_L_gamma, log_CD, cd_lower_limit

Derivations (docs/reducer.md, "Catalogues"):

* L_γ(0.1–100 GeV) = 4π d_L(z)² F(0.1–100 GeV) (1+z)^(Γ−2) with the power-law photon index Γ
  (K-correction of a power law to the rest-frame band). Cosmology: astropy
  ``FlatLambdaCDM(H0=70, Om0=0.3)`` unless another astropy cosmology is given.
* log ν_pk: observer frame as listed (4LAC ``nu_syn``, 3LAC ``lognu``); rest frame
  = observer + log10(1+z) (NaN without a redshift).
* Compton dominance: 3LAC ``logCpt`` directly. 4LAC has none: CD is estimated as the LAT
  log-parabola νF_ν peak (normalised to ``Energy_Flux100``) over ``nuFnu_syn``; where the LP
  peak lies outside 0.1–100 GeV (or the spectrum has no curvature) the in-band maximum is used
  and the estimate is a lower limit (``cd_lower_limit`` True).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from sweep.datasets import FERMI_FILES as FILES  # official file names, one home
CLASSES = ("FSRQ", "BL Lac", "BCU")
TXS_0506 = "4FGL J0509.4+0542"


def catalog_dir(path=None) -> Path:
    """Argument, else env ``SWEEP_CATALOG_DIR``, else the packaged ``sweep/data/fermi``."""
    if path is not None:
        return Path(path)
    env = os.environ.get("SWEEP_CATALOG_DIR")
    if env:
        return Path(env)
    from sweep.datasets import data_root

    return data_root() / "fermi"


def _file(key: str, directory) -> Path:
    """Catalogue file: from ``directory`` / SWEEP_CATALOG_DIR when given, else packaged."""
    from sweep.datasets import fermi_file

    return fermi_file(key, directory)


def _cosmo(cosmology):
    if cosmology is None:
        from sweep.reduce import default_cosmology

        return default_cosmology()
    return cosmology


def _class(raw: str) -> str:
    c = str(raw).strip().lower()
    if c == "fsrq":
        return "FSRQ"
    if c == "bll":
        return "BL Lac"
    if c.startswith("bcu"):
        return "BCU"
    return "other"


def gamma_luminosity(energy_flux, z, photon_index, cosmology=None):
    """L_γ = 4π d_L² F (1+z)^(Γ−2) [erg/s]; NaN where z is not > 0 or the flux is not > 0."""
    cosmo = _cosmo(cosmology)
    f = np.asarray(energy_flux, dtype=float)
    z = np.asarray(z, dtype=float)
    g = np.asarray(photon_index, dtype=float)
    ok = np.isfinite(z) & (z > 0) & np.isfinite(f) & (f > 0)
    out = np.full(np.broadcast(f, z, g).shape, np.nan)
    zz = np.where(ok, z, 1.0)
    dl = cosmo.luminosity_distance(zz).to("cm").value
    lum = 4.0 * np.pi * dl**2 * f * (1.0 + zz) ** (g - 2.0)
    return np.where(ok, lum, out)


def lp_peak_nufnu(energy_flux, alpha, beta, pivot_mev, e_lo_mev=100.0, e_hi_mev=1e5):
    """νF_ν at the peak of a LAT log-parabola normalised to the 0.1–100 GeV energy flux.

    dN/dE ∝ (E/E0)^(−α−β ln(E/E0)), so E²dN/dE ∝ s(E) = (E/E0)^(2−α−β ln(E/E0)) peaks at
    ln(E_pk/E0) = (2−α)/(2β). Returns (νF_ν,pk [same unit as energy_flux], E_pk [MeV],
    lower_limit) where outside-band peaks (or β ≤ 0) give the in-band maximum, a lower limit.
    """
    f = np.atleast_1d(np.asarray(energy_flux, dtype=float))
    a = np.atleast_1d(np.asarray(alpha, dtype=float))
    b = np.atleast_1d(np.asarray(beta, dtype=float))
    e0 = np.atleast_1d(np.asarray(pivot_mev, dtype=float))
    b = np.where(np.isfinite(b), b, 0.0)
    lx = np.linspace(np.log(e_lo_mev), np.log(e_hi_mev), 801)  # ln E grid for the band integral
    t = lx[None, :] - np.log(e0)[:, None]
    ln_s = (2.0 - a)[:, None] * t - b[:, None] * t**2
    s = np.exp(ln_s - ln_s.max(axis=1, keepdims=True))
    norm = np.trapezoid(s, lx, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_pk = np.where(b > 0, (2.0 - a) / (2.0 * b), np.where(a < 2, np.inf, -np.inf))
    t_lo, t_hi = np.log(e_lo_mev) - np.log(e0), np.log(e_hi_mev) - np.log(e0)
    inside = (t_pk > t_lo) & (t_pk < t_hi) & (b > 0)
    t_use = np.clip(t_pk, t_lo, t_hi)
    ln_pk = (2.0 - a) * t_use - b * t_use**2 - ln_s.max(axis=1)
    return f * np.exp(ln_pk) / norm, e0 * np.exp(t_use), ~inside


def load_4lac(catalog_dir_=None, cosmology=None, path=None, label="4LAC-DR2"):
    """4LAC-DR2 high-latitude table with the plane quantities (see module docstring).

    ``path``: another file in the 4LAC format (e.g. a fetched 4LAC-DR3), labelled ``label``."""
    import pandas as pd
    from astropy.table import Table

    t = Table.read(path if path is not None else _file("4lac", catalog_dir_), hdu=1)

    def col(name):
        return np.asarray(t[name]).astype(float) if name in t.colnames else np.full(len(t), np.nan)

    z = col("Redshift")
    z = np.where(np.isfinite(z) & (z > 0), z, np.nan)
    nu = col("nu_syn")
    log_nu = np.where(nu > 0, np.log10(np.where(nu > 0, nu, 1.0)), np.nan)
    f = col("Energy_Flux100")
    g = col("PL_Index")
    pk, _, lower = lp_peak_nufnu(f, col("LP_Index"), col("LP_beta"), col("Pivot_Energy"))
    syn = col("nuFnu_syn")
    with np.errstate(divide="ignore", invalid="ignore"):
        log_cd = np.where((syn > 0) & (pk > 0), np.log10(pk / np.where(syn > 0, syn, 1.0)),
                          np.nan)
    df = pd.DataFrame({
        "name": [str(s).strip() for s in t["Source_Name"]],
        "assoc": [str(s).strip() for s in t["ASSOC1"]],
        "catalog": label,
        "cls": [_class(c) for c in t["CLASS"]],
        "sed_class": [str(s).strip() for s in t["SED_class"]],
        "z": z, "ra": col("RAJ2000"), "dec": col("DEJ2000"),
        "energy_flux100": f, "photon_index": g,
        "log_nu_peak_obs": log_nu,
        "log_nu_peak_rest": log_nu + np.log10(1.0 + z),
        "log_L_gamma": np.log10(gamma_luminosity(f, z, g, cosmology)),
        "log_CD": log_cd,
        "cd_lower_limit": np.isfinite(log_cd) & lower,
    })
    return df


def _norm_3fgl(name: str) -> str:
    s = str(name).strip()
    if s.upper().startswith("3FGL"):
        s = s[4:].strip()
    if s and s[-1] in "ce":
        s = s[:-1]
    return s


def load_3lac(catalog_dir_=None, cosmology=None):
    """3LAC high-latitude CSV joined to 3FGL (energy flux, photon index) on the 3FGL name."""
    import pandas as pd
    from astropy.table import Table

    lac = pd.read_csv(_file("3lac", catalog_dir_))
    fgl = Table.read(_file("3fgl", catalog_dir_), hdu=1)
    fdf = pd.DataFrame({
        "key": [_norm_3fgl(s) for s in fgl["Source_Name"]],
        "fgl_name": [str(s).strip() for s in fgl["Source_Name"]],
        "energy_flux100": np.asarray(fgl["Energy_Flux100"], dtype=float),
        "photon_index": np.asarray(fgl["PowerLaw_Index"], dtype=float),
    }).drop_duplicates("key")
    lac["key"] = [_norm_3fgl(s) for s in lac["3FGL"]]
    m = lac.merge(fdf, on="key", how="left")
    z = pd.to_numeric(m["z"], errors="coerce").to_numpy(float)
    z = np.where(z > 0, z, np.nan)
    lognu = pd.to_numeric(m["lognu"], errors="coerce").to_numpy(float)
    f = m["energy_flux100"].to_numpy(float)
    g = m["photon_index"].to_numpy(float)
    df = pd.DataFrame({
        "name": [n if isinstance(n, str) else "3FGL " + k for n, k in zip(m["fgl_name"], m["key"])],
        "assoc": m["CName"].astype(str).str.strip(),
        "catalog": "3LAC",
        "cls": [_class(c) for c in m["SpCl"]],
        "sed_class": m["SEDCl"].astype(str),
        "z": z, "ra": m["RAJ2000"].to_numpy(float), "dec": m["DEJ2000"].to_numpy(float),
        "energy_flux100": f, "photon_index": g,
        "log_nu_peak_obs": lognu,
        "log_nu_peak_rest": lognu + np.log10(1.0 + z),
        "log_L_gamma": np.log10(gamma_luminosity(f, z, g, cosmology)),
        "log_CD": pd.to_numeric(m["logCpt"], errors="coerce").to_numpy(float),
        "cd_lower_limit": False,
    })
    return df


def catalog_choices() -> set[str]:
    """Names accepted by ``load_catalog``: the packaged 4lac/3lac and fetched 4LAC-format releases."""
    from sweep import datasets

    fetched = {k for k, v in datasets.fetched().items() if v.get("format") == "4lac"}
    return {"4lac", "3lac"} | fetched


def load_catalog(name: str = "4lac", catalog_dir=None, cosmology=None):
    """``name`` in {"4lac", "3lac"} (case-insensitive; packaged or ``catalog_dir``), or a fetched
    4LAC-format release such as "4lac-dr3" (``sweep data fetch``; re-verified by SHA-256)."""
    from sweep import datasets

    low = str(name).lower()
    rec = datasets.fetched().get(low)
    if rec is not None and rec.get("format") == "4lac":
        label = datasets.releases().get(low, {}).get("catalog_label", low.upper())
        return load_4lac(cosmology=cosmology, path=datasets.fetched_path(low), label=label)
    key = low.replace("-", "").replace("dr2", "")
    if key == "4lac":
        return load_4lac(catalog_dir, cosmology)
    if key == "3lac":
        return load_3lac(catalog_dir, cosmology)
    raise ValueError(f"catalog must be one of {sorted(catalog_choices())}, got {name!r} "
                     "(newer releases: `sweep data fetch NAME`)")


def _squash(s: str) -> str:
    return "".join(str(s).lower().split())


# spellings of one catalogue prefix, as people type them -> the catalogue's (squashed) form
_PREFIX_ALIASES = (("markarian", "mkn"), ("mrk", "mkn"), ("bllacertae", "bllac"))
_DESIGNATION = __import__("re").compile(r"^(.*?)(j?\d{4}(?:\.\d)?)([+-])(\d+(?:\.\d+)?)([a-z]?)$")


def normalize_source_name(name: str) -> str:
    """Canonical key of a source name: case, spaces and dash variants ignored, ``Mrk``/
    ``Markarian`` → ``Mkn``, ``BL Lacertae`` → ``BL Lac``, a ``4FGL``/``3FGL`` prefix optional
    (``J0509.4+0542`` = ``4FGL J0509.4+0542``)."""
    key = _squash(name)
    for a, b in (("\u2212", "-"), ("\u2013", "-"), ("\u2010", "-"), ("\u2011", "-")):
        key = key.replace(a, b)
    for alias, canon in _PREFIX_ALIASES:
        if key.startswith(alias):
            key = canon + key[len(alias):]
            break
    for fgl in ("4fgl", "3fgl"):
        if key.startswith(fgl + "j"):
            key = key[len(fgl):]
            break
    return key


def _same_designation(a: str, b: str) -> bool:
    """``pks1510-089`` ~ ``pks1510-08``: same prefix and RA, declination digits agreeing to the
    shorter of the two (3LAC truncates them; at least two digits)."""
    ma, mb = _DESIGNATION.match(a), _DESIGNATION.match(b)
    if not (ma and mb):
        return False
    (pa, ra, sa, da, _), (pb, rb, sb, db, _) = ma.groups(), mb.groups()
    n = min(len(da), len(db))
    return pa == pb and ra == rb and sa == sb and n >= 2 and da[:n] == db[:n]


def suggest_sources(df, name: str, n: int = 5) -> list[str]:
    """Up to ``n`` association (or Fermi) names closest to ``name`` (difflib ratio)."""
    import difflib

    key = normalize_source_name(name)
    labels = [a if a and a.lower() not in ("nan", "none", "") else f for a, f in
              zip(df["assoc"].astype(str), df["name"].astype(str))]
    keys = {}
    for lab in labels:
        keys.setdefault(normalize_source_name(lab), lab)
    close = difflib.get_close_matches(key, list(keys), n=n, cutoff=0.6)
    if not close:  # fall back on the same prefix (e.g. 'pks', 'mkn', '3c')
        pre = _DESIGNATION.match(key)
        head = pre.group(1) if pre else key[:3]
        close = [k for k in keys if head and k.startswith(head)][:n]
    return [keys[k] for k in close]


def find_source(df, name: str):
    """The catalogue row (a Series) whose Fermi name or association matches ``name``: spelling
    normalised by :func:`normalize_source_name`, a 3FGL flag letter may be omitted, declination
    digits may be truncated (``PKS 1510-089`` = 3LAC's ``PKS 1510-08``). Not found: a
    ``KeyError`` naming the closest catalogue names."""
    key = normalize_source_name(name)
    names = df["name"].map(normalize_source_name)
    assoc = df["assoc"].astype(str).map(normalize_source_name)
    hit = df[(names == key) | (assoc == key)]
    if hit.empty:
        hit = df[names.str.rstrip("ce") == key.rstrip("ce")]
    if hit.empty and _DESIGNATION.match(key):
        hit = df[[_same_designation(key, a) for a in assoc]]
    if hit.empty:
        close = suggest_sources(df, name)
        hint = ("; closest: " + ", ".join(repr(c) for c in close)) if close else ""
        raise KeyError(f"source {name!r} not found in the {df['catalog'].iloc[0]} catalogue"
                       f"{hint} (give a Fermi name such as '4FGL J0509.4+0542' or an "
                       "association name)")
    return hit.iloc[0]


def class_counts(df, require=("z", "log_nu_peak_obs")) -> dict[str, int]:
    """Sources per class with finite values in all ``require`` columns."""
    ok = np.ones(len(df), bool)
    for c in require:
        ok &= np.isfinite(df[c].to_numpy(float))
    return {c: int(((df["cls"] == c) & ok).sum()) for c in CLASSES}
