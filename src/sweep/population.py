"""Population table: for every catalogue blazar, the cells that reproduce it and their neutrinos.

For each source with a redshift and a synchrotron peak (and L_γ), the cells of a cube that lie
within ``n_sigma`` σ of it on every observable it has — rest-frame log ν_syn,pk, log L_γ(0.1–100
GeV) and log CD where known (a 4LAC CD estimate that is a lower limit counts only when the model
is below it) — exactly the criterion of ``sweep match --coverage`` (:mod:`sweep.match`). From
the matching cells, with the source placed at its own redshift and declination:

* ``F_nu_*``: all-flavour neutrino energy flux at Earth, F = L_ν,all / (4π d_L(z)²) [erg cm⁻² s⁻¹]
  (L_ν,all = ∫ E L_E d ln E over the whole grid, rest frame; apparent luminosities, no (1+z));
* ``tracks_per_year_*``: expected IceCube IC86-II track events per year at the source's
  declination (:func:`sweep.reduce.icecube_track_rate`, ν_μ + ν̄_μ = 1/3 of all flavours);

each as median, min and max over the matching cells; ``n_match``; the best-matching cell's
parameters (``best_<axis>``, smallest χ² over the used observables) and ``best_chi2``. Sources
with no matching cell have ``n_match = 0`` and NaN predictions. ``rank`` orders sources by the
median predicted track rate (1 = highest).
"""
from __future__ import annotations

import numpy as np

from sweep.match import DEFAULT_SIGMA, OBSERVABLES

POP_COLUMNS_UNITS = {
    "z": "", "ra": "deg", "dec": "deg", "log_nu_peak_rest": "dex(Hz)",
    "log_L_gamma": "dex(erg/s)", "log_CD": "", "F_nu_median": "erg cm-2 s-1",
    "F_nu_min": "erg cm-2 s-1", "F_nu_max": "erg cm-2 s-1", "tracks_per_year_median": "1/yr",
    "tracks_per_year_min": "1/yr", "tracks_per_year_max": "1/yr",
}


def _log10(a):
    a = np.asarray(a, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(a > 0, np.log10(np.where(a > 0, a, 1.0)), np.nan)


def cell_table(ds, obs):
    """Flat arrays over the done cells: axis values, the three log observables, L_ν,all and the
    all-flavour rest-frame E L_E spectra. Returns (dict of arrays, E_rest [eV], axes)."""
    from sweep.reduce import cube_redshift

    dims = list(obs["L_gamma"].dims)
    sub = obs[["nu_syn_peak_rest", "L_gamma", "compton_dominance", "L_nu_all"]
              + (["status"] if "status" in obs else [])].transpose(*dims).compute()
    ele = ds["ELE_nu_obs"].sum("neutrino_flavour", min_count=1).transpose(
        *dims, "neutrino_energy").values.reshape(-1, ds.sizes["neutrino_energy"])
    n = int(np.prod([obs.sizes[d] for d in dims])) if dims else 1
    idx = np.unravel_index(np.arange(n), [obs.sizes[d] for d in dims])
    cells = {d: np.asarray(obs[d].values)[i] for d, i in zip(dims, idx)}
    for name, coord in obs.coords.items():  # 1-D coordinates of zipped dims
        if coord.ndim == 1 and coord.dims[0] in dims and name not in cells:
            cells[name] = np.asarray(coord.values)[idx[dims.index(coord.dims[0])]]
    cells["log_nu_peak"] = _log10(sub["nu_syn_peak_rest"].values).ravel()
    cells["log_L_gamma"] = _log10(sub["L_gamma"].values).ravel()
    cells["log_CD"] = _log10(sub["compton_dominance"].values).ravel()
    cells["L_nu_all"] = np.asarray(sub["L_nu_all"].values, float).ravel()
    ok = np.isfinite(cells["log_nu_peak"]) & np.isfinite(cells["log_L_gamma"])
    if "status" in sub:
        ok &= np.asarray(sub["status"].values).ravel() == 1
    cells = {k: v[ok] for k, v in cells.items()}
    cells["ELE_all"] = np.asarray(ele, float)[ok]
    e_rest = np.asarray(ds["neutrino_energy"].values, float) * (1.0 + cube_redshift(ds))
    axes = [k for k in cells if k in obs.coords]
    return cells, e_rest, axes


class _TrackRate:
    """IceCube IC86-II rate with the effective area read once (same formula as
    :func:`sweep.reduce.icecube_track_rate`)."""

    def __init__(self, effective_area=None):
        from sweep.reduce import load_effective_area

        le, self.dec_edges, self.aeff = load_effective_area(effective_area)
        self.e_edges = 10.0**le

    def per_year(self, e_rest_ev, ele_all, z, dec_deg, d_l):
        from sweep.reduce import GEV_ERG, YEAR_S, loglog_bin_integrals

        k = int(np.clip(np.searchsorted(self.dec_edges, dec_deg, side="right") - 1, 0,
                        len(self.dec_edges) - 2))
        e_obs_gev = np.asarray(e_rest_ev) * 1e-9 / (1.0 + z)
        e_phi = (1.0 / 3.0) * ele_all / (4.0 * np.pi * d_l**2 * e_obs_gev * GEV_ERG)
        per_bin = loglog_bin_integrals(e_obs_gev, e_phi, self.e_edges)
        return (per_bin * self.aeff[k]).sum(axis=-1) * YEAR_S


def population(ds, obs, catalog, n_sigma: float = 1.0, sigma: dict | None = None,
               cosmology=None, effective_area=None, block: int = 20000):
    """The population table (pandas DataFrame, one row per usable catalogue source)."""
    import pandas as pd

    from sweep.reduce import default_cosmology

    if not n_sigma > 0:
        raise ValueError(f"n_sigma must be > 0, got {n_sigma}")
    if "ELE_nu_obs" not in ds or "L_nu_all" not in obs:
        raise ValueError("the cube has no neutrino spectra (ELE_nu_obs): a leptonic cube has no "
                         "neutrino predictions")
    sig = dict(DEFAULT_SIGMA)
    sig.update({k: v for k, v in (sigma or {}).items() if v is not None})
    for k, v in sig.items():
        if not v > 0:
            raise ValueError(f"uncertainty of {k} must be > 0, got {v}")
    cosmology = cosmology or default_cosmology()
    cells, e_rest, axes = cell_table(ds, obs)
    cat = catalog[np.isfinite(catalog["z"].to_numpy(float))
                  & np.isfinite(catalog["log_nu_peak_rest"].to_numpy(float))
                  & np.isfinite(catalog["log_L_gamma"].to_numpy(float))].reset_index(drop=True)
    t = np.stack([cat["log_nu_peak_rest"].to_numpy(float), cat["log_L_gamma"].to_numpy(float),
                  cat["log_CD"].to_numpy(float)], axis=1)
    lower = (cat["cd_lower_limit"].to_numpy(bool) if "cd_lower_limit" in cat
             else np.zeros(len(cat), bool))
    m = np.stack([cells[k] for k in ("log_nu_peak", "log_L_gamma", "log_CD")], axis=1)
    s = np.array([sig[k] for k in OBSERVABLES])
    nsrc, ncell = len(cat), len(m)
    match_lists = [[] for _ in range(nsrc)]
    best = np.full(nsrc, -1)
    best_chi2 = np.full(nsrc, np.inf)
    for c0 in range(0, ncell, block):
        mb = m[c0:c0 + block]
        d = (mb[None, :, :] - t[:, None, :]) / s
        d[:, :, 2] = np.where(lower[:, None], np.minimum(d[:, :, 2], 0.0), d[:, :, 2])
        has = np.isfinite(t)[:, None, :]
        within = np.where(has, np.abs(d) <= n_sigma, True)
        ok = within.all(axis=2)
        chi2 = np.where(has, np.nan_to_num(d, nan=np.inf) ** 2, 0.0).sum(axis=2)
        chi2 = np.where(ok, chi2, np.inf)
        j = np.argmin(chi2, axis=1)
        cj = chi2[np.arange(nsrc), j]
        better = cj < best_chi2
        best[better] = c0 + j[better]
        best_chi2[better] = cj[better]
        for i in np.nonzero(ok.any(axis=1))[0]:
            match_lists[i].append(c0 + np.nonzero(ok[i])[0])
    rate = _TrackRate(effective_area)
    rows = []
    for i in range(nsrc):
        src = cat.iloc[i]
        z, dec = float(src["z"]), float(src["dec"])
        row = {k: src[k] for k in ("name", "assoc", "cls", "z", "ra", "dec", "log_nu_peak_rest",
                                   "log_L_gamma", "log_CD", "cd_lower_limit") if k in src}
        idx = np.concatenate(match_lists[i]) if match_lists[i] else np.array([], int)
        row["n_match"] = int(len(idx))
        if len(idx):
            d_l = float(cosmology.luminosity_distance(z).to("cm").value)
            f = cells["L_nu_all"][idx] / (4.0 * np.pi * d_l**2)
            r = rate.per_year(e_rest, cells["ELE_all"][idx], z, dec if np.isfinite(dec) else 0.0,
                              d_l)
            row.update(F_nu_median=float(np.median(f)), F_nu_min=float(f.min()),
                       F_nu_max=float(f.max()), tracks_per_year_median=float(np.median(r)),
                       tracks_per_year_min=float(r.min()), tracks_per_year_max=float(r.max()),
                       best_chi2=float(best_chi2[i]))
            for a in axes:
                row[f"best_{a}"] = cells[a][best[i]]
        else:
            row.update(F_nu_median=np.nan, F_nu_min=np.nan, F_nu_max=np.nan,
                       tracks_per_year_median=np.nan, tracks_per_year_min=np.nan,
                       tracks_per_year_max=np.nan, best_chi2=np.nan)
            for a in axes:
                row[f"best_{a}"] = np.nan
        rows.append(row)
    df = pd.DataFrame(rows)
    order = df["tracks_per_year_median"].rank(ascending=False, method="min", na_option="keep")
    df["rank"] = order.astype("Int64")
    df.attrs.update(n_sigma=float(n_sigma), sigma=sig, n_cells=int(ncell), axes=axes,
                    cosmology=repr(cosmology), catalog=str(catalog["catalog"].iloc[0])
                    if len(catalog) else "")
    return df


def to_table(df, cube_meta: dict | None = None):
    """astropy Table of the population with units and provenance in ``meta``."""
    import astropy.units as u
    from astropy.table import Table

    t = Table.from_pandas(df.assign(rank=df["rank"].astype(float)))
    for c, unit in POP_COLUMNS_UNITS.items():
        if c in t.colnames and unit:
            t[c].unit = u.Unit(unit.replace("erg cm-2 s-1", "erg / (cm2 s)"))
    t.meta.update({k: (v if isinstance(v, (int, float, str)) else str(v))
                   for k, v in df.attrs.items()})
    t.meta.update(cube_meta or {})
    t.meta["description"] = ("sweep population: catalogue blazars reproduced by cube cells and "
                             "their predicted neutrino flux and IceCube track rate (sweep.population)")
    return t


def summary(df, top: int = 10, source: str = "TXS 0506+056") -> str:
    """The ``top`` highest median predicted track rates and the rank of ``source``."""
    n = len(df)
    k = int((df["n_match"] > 0).sum())
    lines = [f"{n} catalogue sources with z and a synchrotron peak; {k} reproduced by >= 1 cell "
             f"(within {df.attrs.get('n_sigma', '?')} sigma; {df.attrs.get('n_cells', '?')} cells)"]
    ranked = df[df["rank"].notna()].sort_values("rank").head(top)
    lines.append(f"{'rank':>4s}  {'source':18s} {'association':20s} {'class':6s} {'z':>6s} "
                 f"{'tracks/yr':>9s} {'[min, max]':>21s} {'F_nu erg/cm2/s':>14s} {'cells':>5s}")
    for _, r in ranked.iterrows():
        rng = f"[{r['tracks_per_year_min']:.2g}, {r['tracks_per_year_max']:.2g}]"
        lines.append(f"{int(r['rank']):4d}  {r['name']:18s} {str(r['assoc'])[:20]:20s} "
                     f"{r['cls']:6s} {r['z']:6.3f} {r['tracks_per_year_median']:9.3g} "
                     f"{rng:>21s} {r['F_nu_median']:14.3g} {int(r['n_match']):5d}")
    from sweep.catalogs import _squash

    key = _squash(source)
    hit = df[(df["assoc"].map(_squash) == key) | (df["name"].map(_squash) == key)]
    if hit.empty:
        lines.append(f"{source}: not in the table (no redshift or synchrotron peak in this "
                     "catalogue)")
    else:
        r = hit.iloc[0]
        if r["n_match"] == 0:
            lines.append(f"{source} ({r['name']}): reproduced by no cell (rank: none)")
        else:
            lines.append(f"{source} ({r['name']}): rank {int(r['rank'])} of {k}, "
                         f"{r['tracks_per_year_median']:.3g} tracks/yr "
                         f"[{r['tracks_per_year_min']:.3g}, {r['tracks_per_year_max']:.3g}] "
                         f"from {int(r['n_match'])} cells")
    return "\n".join(lines)
