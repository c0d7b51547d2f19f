"""Reducer numerics against analytic log-parabola SEDs, IceCube rate against scipy quad, laziness."""
from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy.integrate import quad

import reducer_cubes as rc
from sweep import reduce as red
from sweep.model.observer import band_luminosity


@pytest.fixture(scope="module")
def obs():
    ds = rc.make_cube(chunks={"sigma0": 1, "mdot": 1, "z_diss": 2})
    return rc.make_cube(), red.compute_observables(ds, z_source=0.3365, dec_deg=5.7).compute()


def _cells(ds):
    for s in ds.sigma0.values:
        for m in ds.mdot.values:
            for z in ds.z_diss.values:
                yield dict(sigma0=s, mdot=m, z_diss=z)


def test_peaks_exact_for_log_parabolas(obs):
    """Parabolic refinement is exact for a log-parabola hump; the other hump is 8 dex away and
    contributes 10^-9.6 of the peak, so peaks must agree to 1e-6 dex."""
    ds, o = obs
    n = 0
    for sel in _cells(ds):
        c = o.sel(sel)
        if int(c.status) != 1:
            continue
        p = rc.hump_params(sel["sigma0"], sel["mdot"], sel["z_diss"])
        assert int(c.hump_method) == 0
        assert np.log10(float(c.nu_syn_peak_rest)) == pytest.approx(p["log_nu_s"], abs=1e-6)
        assert np.log10(float(c.nuLnu_syn_peak)) == pytest.approx(p["log_L_s"], abs=1e-6)
        assert np.log10(float(c.nu_ic_peak_rest)) == pytest.approx(p["log_nu_c"], abs=1e-6)
        assert np.log10(float(c.nuLnu_ic_peak)) == pytest.approx(p["log_L_c"], abs=1e-6)
        assert np.log10(float(c.compton_dominance)) == pytest.approx(
            p["log_L_c"] - p["log_L_s"], abs=2e-6)
        # observer frame = rest / (1 + z_source)
        assert float(c.nu_syn_peak_obs) == pytest.approx(float(c.nu_syn_peak_rest) / 1.3365,
                                                         rel=1e-12)
        assert np.log10(float(c.E_nu_peak_rest)) == pytest.approx(p["log_E_nu"], abs=1e-6)
        n += 1
    assert n == 15


def test_band_luminosities_vs_erf(obs):
    """Band integrals vs the exact erf integral of the two humps. Log-log linear interpolation on
    a 0.1-dex grid misses at most b h²/4 = 3.8e-4 dex on a single hump (0.09 %), but the X-ray bands
    sit in the valley where the two humps cross and log(sum) bends sharply: measured worst 0.52 %
    (ART-XC); 1 % for the X-ray bands, 0.2 % for the LAT band (on a hump)."""
    ds, o = obs
    for sel in _cells(ds):
        c = o.sel(sel)
        if int(c.status) != 1:
            continue
        p = rc.hump_params(sel["sigma0"], sel["mdot"], sel["z_diss"])

        def both(lo, hi):
            return (rc.logparabola_band(lo, hi, p["log_nu_s"], p["log_L_s"], rc.B_CURV)
                    + rc.logparabola_band(lo, hi, p["log_nu_c"], p["log_L_c"], rc.B_CURV))

        assert float(c.L_gamma) == pytest.approx(both(0.1 * red.GEV_HZ, 100 * red.GEV_HZ),
                                                 rel=2e-3)
        for k, (lo, hi, _) in red.X_RAY_BANDS_KEV.items():
            assert float(c[f"L_{k}"]) == pytest.approx(both(lo * red.KEV_HZ, hi * red.KEV_HZ),
                                                       rel=1e-2), k
            # observed band at z_source = rest band [lo, hi](1+z)
            dl = red.luminosity_distance_cm(0.3365, red.default_cosmology())
            f = both(lo * red.KEV_HZ * 1.3365, hi * red.KEV_HZ * 1.3365) / (4 * np.pi * dl**2)
            assert float(c[f"F_{k}"]) == pytest.approx(f, rel=1e-2), k
        # neutrinos: curvature 0.3 -> interpolation error <= 0.3*0.01/4 dex; 0.3 %
        lnu = rc.logparabola_band(1e9, 1e21, p["log_E_nu"], p["log_L_nu"], rc.B_NU)
        assert float(c.L_nu_all) == pytest.approx(lnu, rel=3e-3)
        assert float(c.L_nu_100TeV) == pytest.approx(
            rc.logparabola_band(1e14, 1e21, p["log_E_nu"], p["log_L_nu"], rc.B_NU), rel=3e-3)
        assert float(c.L_nu_over_L_gamma) == pytest.approx(float(c.L_nu_all / c.L_gamma),
                                                           rel=1e-12)


def test_band_integral_second_order_convergence():
    """The band error is the interpolation error, O(h²): going from 10 to 40 points per decade must
    shrink the worst X-ray band error by 16 (accept 12-20) and bring it below 0.05 %."""
    errs = []
    for ppd in (10, 40):
        ds = rc.make_cube(sigma0=(30.0,), mdot=(1e-2,), z_diss=(30.0,), freq_ppd=ppd,
                          fail_cell=False)
        o = red.compute_observables(ds).compute().squeeze()
        p = rc.hump_params(30.0, 1e-2, 30.0)
        worst = 0.0
        for lo, hi, _ in red.X_RAY_BANDS_KEV.values():
            lo, hi = lo * red.KEV_HZ, hi * red.KEV_HZ
            ref = (rc.logparabola_band(lo, hi, p["log_nu_s"], p["log_L_s"], rc.B_CURV)
                   + rc.logparabola_band(lo, hi, p["log_nu_c"], p["log_L_c"], rc.B_CURV))
            k = [k for k, v in red.X_RAY_BANDS_KEV.items() if v[0] * red.KEV_HZ == lo][0]
            worst = max(worst, abs(float(o[f"L_{k}"]) / ref - 1))
        errs.append(worst)
    assert 12 < errs[0] / errs[1] < 20 and errs[1] < 5e-4


def test_icecube_rate_vs_quad(obs):
    """Track rate vs an independent scipy quad of A_eff(E) φ_μ(E) over every A_eff bin with the
    analytic spectrum. The reducer interpolates the 0.1-dex tabulated spectrum log-log (error
    <= 0.3*0.01/4 dex = 0.17 %), so 1 %."""
    ds, o = obs
    sel = dict(sigma0=30.0, mdot=1e-2, z_diss=100.0)
    p = rc.hump_params(30.0, 1e-2, 100.0)
    z, dec = 0.3365, 5.7
    dl = red.luminosity_distance_cm(z, red.default_cosmology())
    edges, aeff = red.aeff_at_declination(dec)

    def phi(e_gev):  # muon-flavour dN/dE [GeV^-1 cm^-2 s^-1] at Earth
        e_rest_ev = e_gev * 1e9 * (1 + z)
        ele = rc.logparabola(e_rest_ev, p["log_E_nu"], p["log_L_nu"], rc.B_NU)
        return ele / 3.0 / (4 * np.pi * dl**2) / (e_gev * red.GEV_ERG) / e_gev

    rate = sum(a * quad(phi, lo, hi, epsrel=1e-8)[0]
               for lo, hi, a in zip(edges[:-1], edges[1:], aeff) if a > 0)
    got = float(o.sel(sel).icecube_tracks_per_year) / red.YEAR_S
    assert got == pytest.approx(rate, rel=1e-2)
    assert float(o.sel(sel).icecube_tracks_livetime) == pytest.approx(
        got * red.ICECUBE_LIVETIME_DAYS * 86400, rel=1e-12)


def test_effective_area_table():
    """README example: log E = 5.0-5.2, dec 0 to +2.3 deg -> 1.29e6 cm² (README rounds to 3
    significant figures, hence 0.5 %)."""
    edges, aeff = red.aeff_at_declination(1.0)
    k = int(np.argmin(abs(np.log10(edges[:-1]) - 5.0)))
    assert aeff[k] == pytest.approx(1.29e6, rel=5e-3)
    le, de, a = red.load_effective_area()
    assert a.shape == (50, 40) and len(le) == 41 and len(de) == 51


def test_failed_cell_is_nan(obs):
    ds, o = obs
    c = o.isel(sigma0=0, mdot=0, z_diss=0)
    assert int(c.status) == 4
    for v in ("nu_syn_peak_rest", "L_gamma", "L_nu_all", "icecube_tracks_per_year",
              "compton_dominance", "hump_method"):
        assert np.isnan(float(c[v])), v


def test_bin_integrals_match_band_luminosity():
    """The vectorised multi-bin integral reproduces observer.band_luminosity bin by bin (1e-10)."""
    x = np.logspace(0, 10, 101)
    rng = np.random.default_rng(1)
    y = 10 ** rng.normal(0, 1, (3, 101))
    y[1, 40:45] = 0.0
    edges = np.logspace(0.33, 9.71, 17)
    got = red.loglog_bin_integrals(x, y, edges)
    for k in range(16):
        ref = band_luminosity(x, y, edges[k], edges[k + 1])
        np.testing.assert_allclose(got[:, k], ref, rtol=1e-10)


def test_power_law_bands_exact():
    """For a power law in νL_ν the log-log integral is exact: ∫ ν^a d ln ν."""
    nu = np.logspace(8, 30, 221)
    y = 1e40 * (nu / 1e18) ** 0.5
    lo, hi = 0.3 * red.KEV_HZ, 10 * red.KEV_HZ
    exact = 1e40 * ((hi / 1e18) ** 0.5 - (lo / 1e18) ** 0.5) / 0.5
    assert band_luminosity(nu, y, lo, hi) == pytest.approx(exact, rel=1e-10)


def test_shoulder_and_single_hump():
    """One hump dominating: the weaker hump is found at the shoulder (within 0.6 dex of its true
    peak: the shoulder sits where the slope of the sum is flattest, between the two peaks);
    a lone hump is synchrotron with IC undefined."""
    lognu = np.arange(8, 30.01, 0.1)
    nu = 10**lognu
    main = rc.logparabola(nu, 14.0, 45.0, 0.15)
    weak = rc.logparabola(nu, 18.0, 43.5, 0.5)
    ly = np.log10(main + weak)
    xs, ys, xi, yi, m = red.separate_humps(lognu, ly)
    assert m == 1
    assert xs == pytest.approx(14.0, abs=0.05)
    assert abs(xi - 18.0) < 0.6 and yi < 45.0
    # mirrored: dominant IC, weak synchrotron shoulder on the rising side
    main = rc.logparabola(nu, 22.0, 45.0, 0.15)
    weak = rc.logparabola(nu, 18.0, 43.5, 0.5)
    xs, ys, xi, yi, m = red.separate_humps(lognu, np.log10(main + weak))
    assert m == 1 and xi == pytest.approx(22.0, abs=0.05) and abs(xs - 18.0) < 0.6
    xs, ys, xi, yi, m = red.separate_humps(lognu, np.log10(rc.logparabola(nu, 15.0, 44.0, 0.2)))
    assert m == 2 and xs == pytest.approx(15.0, abs=1e-6) and np.isnan(xi)
    assert red.separate_humps(lognu, np.full(lognu.shape, -np.inf))[4] == 3


def test_cube_redshift_shifts_frames():
    """A cube computed at z_red = 0.5 has its grid at ν_rest/1.5: rest-frame peaks move up by
    log10(1.5) exactly (parabolic refinement is exact)."""
    ds = rc.make_cube(fail_cell=False)
    ds.attrs["model_options"] = '{"z_red": 0.5}'
    assert red.cube_redshift(ds) == 0.5
    o = red.compute_observables(ds.isel(sigma0=[0], mdot=[0], z_diss=[1])).compute()
    p = rc.hump_params(10.0, 1e-3, 30.0)
    assert np.log10(float(o.nu_syn_peak_rest.squeeze())) == pytest.approx(
        p["log_nu_s"] + np.log10(1.5), abs=1e-6)


def test_lazy_chunked_cube(tmp_path):
    """A Zarr cube larger than one chunk on every axis: the result is dask-backed with one block
    per input chunk, and while computing no task returns more than one input chunk's worth of
    spectra (so the cube is never materialised in memory)."""
    import dask.array as da
    from dask.callbacks import Callback

    path = tmp_path / "cube.zarr"
    rc.write_cube(path, sigma0=(10.0, 30.0, 60.0), mdot=(1e-3, 1e-2), z_diss=(10.0, 30.0, 100.0),
                  chunks={"sigma0": 1, "mdot": 1, "z_diss": 2})
    cube = xr.open_zarr(path)
    assert all(len(c) > 1 for d, c in cube["nuLnu_obs"].chunksizes.items() if d in
               ("sigma0", "mdot", "z_diss"))
    chunk_bytes = 1 * 1 * 2 * cube.sizes["frequency"] * 8
    full_bytes = cube["nuLnu_obs"].nbytes
    o = red.compute_observables(cube)
    assert isinstance(o["L_gamma"].data, da.Array)
    assert o["L_gamma"].data.npartitions == 3 * 2 * 2
    sizes = []

    class Track(Callback):
        def _posttask(self, key, result, dsk, state, id):
            if isinstance(result, np.ndarray):
                sizes.append(result.nbytes)

    with Track():
        done = o.compute(scheduler="synchronous")
    # ELE blocks are 4 flavours x 121 energies x 2 cells: the largest allowed block
    ele_chunk = 2 * 4 * cube.sizes["neutrino_energy"] * 8
    assert max(sizes) <= max(chunk_bytes, ele_chunk) < full_bytes
    # the stored companion equals the in-memory result
    out = red.reduce_cube(path)
    assert out == tmp_path / "cube.observables.zarr"
    back = xr.open_zarr(out)
    xr.testing.assert_allclose(back["L_gamma"].compute(), done["L_gamma"])
    assert back["L_gamma"].attrs["units"] == "erg s-1"
    loaded = red.load_observables(path)
    assert "nuLnu_obs" not in loaded and "L_gamma" in loaded
