"""Grid specs: schema, expansion into cells, and error messages (field path, value, allowed)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sweep.spec import SpecError, cell_parameters, iter_cells, load_spec, parse_spec

ROOT = Path(__file__).resolve().parents[1]
SWEEP = [str(Path(sys.executable).with_name("sweep"))]

GOOD = """
name: t
axes:
  sigma0: {values: [10, 30]}
  mdot: {linspace: {start: 0.01, stop: 0.03, num: 3}}
  z_diss: {logspace: {start: 10, stop: 1000, num: 3}, unit: Rs}
fixed: {mass_msun: 1e8, eps_jet: 0.1}
model: {ppd: 6, radiation: leptonic}
output: {path: out/t.zarr, chunks: {z_diss: 2}}
cluster:
  local: {n_workers: 2}
  slurm: {cores: 4, memory: 8GB, max_jobs: 3, interface: lo}
retries: 1
"""


def test_good_spec_expands_to_cells():
    ls = parse_spec(GOOD, "t.yaml")
    s = ls.spec
    dims = s.dims()
    assert [(d.name, d.size) for d in dims] == [("sigma0", 2), ("mdot", 3), ("z_diss", 3)]
    # linspace/logspace: values, not exponents (exact to float rounding, rtol 1e-12)
    np.testing.assert_allclose(dims[1].coords["mdot"], [0.01, 0.02, 0.03], rtol=1e-12)
    np.testing.assert_allclose(dims[2].coords["z_diss"], [10, 100, 1000], rtol=1e-12)
    # default chunk 1 on grid axes, the spec's 2 on z_diss
    assert s.chunk_sizes() == {"sigma0": 1, "mdot": 1, "z_diss": 2}
    assert s.n_cells() == 18
    cells = list(iter_cells(s))
    assert len(cells) == 18
    idx, p = cells[-1]
    assert idx == (1, 2, 2)
    assert p["sigma0"] == 30 and p["mdot"] == pytest.approx(0.03) and p["z_diss"] == pytest.approx(1000)
    assert p["z_unit"] == "Rs" and p["mass_msun"] == 1e8 and p["eps_jet"] == 0.1
    # every JetParameters field is present (defaults filled in)
    from sweep.model.params import JetParameters

    assert set(JetParameters.model_fields) <= set(p)
    assert ls.sha256 == __import__("hashlib").sha256(GOOD.encode()).hexdigest()


def test_default_chunks_whole_z_axis():
    s = parse_spec(GOOD.replace("chunks: {z_diss: 2}", "chunks: {}")).spec
    assert s.chunk_sizes() == {"sigma0": 1, "mdot": 1, "z_diss": 3}


def test_zip_group_is_one_dimension():
    text = GOOD + "zip: [[sigma0, eps_jet]]\n"
    text = text.replace("fixed: {mass_msun: 1e8, eps_jet: 0.1}", "fixed: {mass_msun: 1e8}")
    text = text.replace("  mdot:", "  eps_jet: {values: [0.1, 1.0]}\n  mdot:")
    s = parse_spec(text).spec
    dims = s.dims()
    assert [d.name for d in dims] == ["zip0", "mdot", "z_diss"]
    assert set(dims[0].coords) == {"sigma0", "eps_jet"}
    p = cell_parameters(s, (1, 0, 0))
    assert (p["sigma0"], p["eps_jet"]) == (30.0, 1.0)


def test_fixed_z_diss_and_unit():
    text = GOOD.replace("  z_diss: {logspace: {start: 10, stop: 1000, num: 3}, unit: Rs}\n", "")
    text = text.replace("chunks: {z_diss: 2}", "chunks: {}").replace(
        "fixed: {mass_msun: 1e8, eps_jet: 0.1}", "fixed: {z_diss: 0.5, z_unit: rblr}")
    s = parse_spec(text).spec
    p = cell_parameters(s, (0, 0))
    assert p["z_diss"] == 0.5 and p["z_unit"] == "rblr"
    assert "z_unit" not in s.fixed_parameters()


BAD = [
    # (replace-what, with-what, substrings every error message must contain)
    ("values: [10, 30]", "valuse: [10, 30]", ["axes.sigma0.valuse", "unknown key", "allowed: values"]),
    ("sigma0:", "sigmaa:", ["axes.sigmaa", "unknown parameter", "allowed:", "sigma0"]),
    ("values: [10, 30]", "values: [10, -30]", ["axes.sigma0.values[1]", "-30", "allowed: > 0"]),
    ("ppd: 6", "ppd: 2", ["model.ppd", "2", "greater than or equal to 4"]),
    ("radiation: leptonic", "radiation: hadronic", ["model.radiation", "hadronic", "'leptonic'"]),
    ("unit: Rs", "unit: km", ["axes.z_diss.unit", "km", "'rblr'"]),
    ("n_workers: 2", "nworkers: 2", ["cluster.local.nworkers", "allowed: n_workers"]),
    ("cores: 4", "core: 4", ["cluster.slurm.core", "allowed: queue, account"]),
    ("memory: 8GB", "memory: lots", ["cluster.slurm.memory", "lots", "pattern"]),
    ("mass_msun: 1e8", "mass_msun: 1e20", ["fixed.mass_msun", "1e+20", "allowed:"]),
    ("mass_msun: 1e8", "mass_mun: 1e8", ["fixed.mass_mun", "unknown parameter"]),
    ("retries: 1", "retries: -1", ["retries", "-1", "greater than or equal to 0"]),
    ("retries: 1", "retries: 1\nfoo: 3", ["foo", "unknown key", "allowed: name"]),
    ("chunks: {z_diss: 2}", "chunks: {zdiss: 2}", ["output.chunks.zdiss", "allowed: sigma0"]),
    ("chunks: {z_diss: 2}", "chunks: {z_diss: 0}", ["output.chunks", "must be ≥ 1"]),
    ("num: 3}, unit", "num: 3.5}, unit", ["axes.z_diss.logspace.num", "3.5"]),
    ("{values: [10, 30]}", "{values: [10, 30], linspace: {start: 1, stop: 2, num: 2}}",
     ["axes.sigma0", "exactly one of values, linspace, logspace"]),
    ("start: 10, stop: 1000", "start: 0, stop: 1000", ["axes.z_diss", "logspace start and stop must be > 0"]),
    ("retries: 1", "retries: 1\nzip: [[sigma0, mdot]]", ["zip[0]", "different lengths"]),
    ("slurm: {cores: 4,", "slurm: {cores: 4, processes: 8,", ["cluster.slurm", "processes", "8", "≤ cores"]),
]


@pytest.mark.parametrize("old,new,want", BAD, ids=[b[1][:30] for b in BAD])
def test_bad_specs_name_path_value_and_allowed(old, new, want):
    assert old in GOOD
    with pytest.raises(SpecError) as ei:
        parse_spec(GOOD.replace(old, new, 1), "bad.yaml")
    text = "\n".join(ei.value.errors)
    for w in want:
        assert w in text, f"{w!r} not in {text!r}"


def test_missing_z_diss_and_yaml_errors():
    text = GOOD.replace("  z_diss: {logspace: {start: 10, stop: 1000, num: 3}, unit: Rs}\n", "")
    with pytest.raises(SpecError) as ei:
        parse_spec(text.replace("chunks: {z_diss: 2}", "chunks: {}"))
    assert any("axes.z_diss" in e and "missing" in e for e in ei.value.errors)
    with pytest.raises(SpecError) as ei:
        parse_spec("axes: [\n")
    assert "(yaml) line" in ei.value.errors[0]
    with pytest.raises(SpecError) as ei:
        parse_spec("- 1\n- 2\n")
    assert "(top level)" in ei.value.errors[0]


def test_shipped_grids_validate():
    smoke = load_spec(ROOT / "grids" / "smoke.yaml").spec
    assert 6 <= smoke.n_cells() <= 20
    # at least one cell below z0 (invalid cell exercises the status path)
    z = [d for d in smoke.dims() if d.name == "z_diss"][0].coords["z_diss"]
    assert z.min() < 10.0
    base = load_spec(ROOT / "grids" / "baseline.yaml").spec
    sizes = {d.name: d.size for d in base.dims()}
    assert sizes == {"sigma0": 3, "mdot": 3, "eps_jet": 3, "eta_acc": 4, "theta_obs": 3, "z_diss": 30}
    zb = base.dims()[-1].coords["z_diss"]
    np.testing.assert_allclose([zb[0], zb[-1]], [10.0, 1e4], rtol=1e-12)
    np.testing.assert_allclose(np.diff(np.log10(zb)), 3 / 29, rtol=1e-9)  # log-spaced
    assert base.cluster.default == "slurm" and base.cluster.slurm is not None


def test_cli_bad_spec_exit_2_no_traceback_nothing_written(tmp_path):
    spec = tmp_path / "bad.yaml"
    out = tmp_path / "out"
    spec.write_text(GOOD.replace("ppd: 6", "ppd: 2").replace("out/t.zarr", str(out / "t.zarr")))
    for cmd in (["submit", str(spec)], ["plan", str(spec)]):
        r = subprocess.run(SWEEP + cmd, capture_output=True, text=True, cwd=tmp_path)
        assert r.returncode == 2, r
        assert "model.ppd" in r.stderr and "Traceback" not in r.stderr + r.stdout
    assert not out.exists()
    r = subprocess.run(SWEEP + ["submit", str(tmp_path / "nope.yaml")], capture_output=True, text=True)
    assert r.returncode == 2 and "cannot read" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run(SWEEP + ["submit", str(spec.with_name("ok.yaml")), "--cluster", "bogus"],
                       capture_output=True, text=True)
    assert r.returncode == 2
    spec.with_name("ok.yaml").write_text(GOOD.replace("out/t.zarr", str(out / "t.zarr")))
    r = subprocess.run(SWEEP + ["submit", str(spec.with_name("ok.yaml")), "--cluster", "bogus"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "--cluster" in r.stderr and "allowed: local, slurm" in r.stderr
    assert not out.exists()


# ---------------------------------------------------------------------------------------------
# issue 12: hostile or mistaken specs
# ---------------------------------------------------------------------------------------------
def _alias_bomb(levels: int = 9) -> str:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    return "\n".join(lines) + f"\naxes: {{sigma0: {{values: *l{levels - 1}}}, z_diss: {{values: [30]}}}}\n"


def test_yaml_alias_bomb_is_refused_at_once():
    """Audit: a ~800-byte alias bomb took 40 s and 3 GB to be refused. The alias-expanded size
    is checked on the node graph before any value is built. Bound: 2 s on a loaded 2-core box
    (the check itself takes ~10 ms)."""
    import time

    text = _alias_bomb(9)
    assert len(text) < 800
    t0 = time.perf_counter()
    with pytest.raises(SpecError) as e:
        parse_spec(text)
    assert time.perf_counter() - t0 < 2.0
    assert "alias" in e.value.errors[0] and len(str(e.value)) < 300
    # many alias uses are refused too, even when they expand to little
    many = "x: &x 1\nl: [" + ", ".join(["*x"] * 150) + "]\n"
    with pytest.raises(SpecError, match="alias uses"):
        parse_spec(many)
    with pytest.raises(SpecError, match="recursive alias"):
        parse_spec("a: &a [*a]\n")
    # one honest alias is fine
    ok = GOOD.replace("sigma0: {values: [10, 30]}", "sigma0: &s {values: [10, 30]}")
    assert parse_spec(ok).spec.axes["sigma0"].values == [10, 30]


def test_spec_size_limit_and_bounded_error_messages(tmp_path):
    from sweep.spec import MAX_SPEC_BYTES

    big = GOOD + "#" + "x" * MAX_SPEC_BYTES + "\n"
    with pytest.raises(SpecError, match="at most"):
        parse_spec(big)
    p = tmp_path / "big.yaml"
    p.write_text(big)
    with pytest.raises(SpecError, match="bytes; allowed: at most"):
        load_spec(p)
    # an error about a long list never prints the whole list
    long = GOOD.replace("sigma0: {values: [10, 30]}", "sigma0: {values: [" + ", ".join(["10"] * 5000) + "]}")
    with pytest.raises(SpecError) as e:
        parse_spec(long)
    assert max(len(x) for x in e.value.errors) < 300, e.value.errors


def test_duplicate_keys_are_an_error_naming_key_and_line():
    """Audit: a second ``fixed:`` block silently replaced the first."""
    text = GOOD + "fixed: {eps_jet: 0.2}\n"
    with pytest.raises(SpecError) as e:
        parse_spec(text)
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if ln.startswith("fixed: {mass"))
    assert e.value.errors == [f"(yaml) line {len(text.splitlines())}, column 1: duplicate key 'fixed' "
                              f"(first given on line {line}); allowed: each key once"]
    with pytest.raises(SpecError, match="duplicate key 'num'"):
        parse_spec(GOOD.replace("num: 3}}", "num: 3, num: 4}}", 1))


@pytest.mark.parametrize("slurm,field", [
    ('{queue: "debug\\n#SBATCH --account=victim"}', "cluster.slurm.queue"),
    ('{account: "proj\\nrm -rf ~"}', "cluster.slurm.account"),
    ('{account: "a b"}', "cluster.slurm.account"),
    ('{job_extra_directives: ["--qos=low\\necho pwned"]}', "cluster.slurm.job_extra_directives"),
    ('{job_extra_directives: ["echo pwned"]}', "cluster.slurm.job_extra_directives"),
    ('{walltime: "01:00:00\\necho pwned"}', "cluster.slurm.walltime"),
    ('{log_directory: "logs\\u0000x"}', "cluster.slurm.log_directory"),
    ('{}, numba_cache_dir: "/c\\necho pwned"', "cluster.numba_cache_dir"),
])
def test_slurm_fields_cannot_inject_job_script_lines(slurm, field):
    """Audit: queue/account/directives/walltime went into the job script unvalidated."""
    text = "axes: {sigma0: {values: [10]}, z_diss: {values: [30]}}\ncluster: {slurm: %s}\n" % slurm
    with pytest.raises(SpecError) as e:
        parse_spec(text)
    assert e.value.errors[0].startswith(field + ":"), e.value.errors
    good = ('{queue: "short,long", account: proj-1.x, walltime: "1-00:00:00", '
            'job_extra_directives: ["--qos=low", "-C cpu", "--exclusive"]}')
    parse_spec(text.replace(slurm, good))


def test_grid_size_counted_with_python_ints_and_limited():
    """Audit: a 1e20-cell spec overflowed int64 (and hung plan); 1e8 cells went through silently."""
    huge = ("axes:\n" + "".join(f"  {a}: {{linspace: {{start: 1, stop: 10, num: 100000}}}}\n"
                                 for a in ("sigma0", "theta_obs", "eta_acc"))
            + "  z_diss: {logspace: {start: 10, stop: 1000, num: 100000}}\n")
    loaded = parse_spec(huge)
    assert loaded.spec.n_cells() == 10**20 and isinstance(loaded.spec.n_cells(), int)
    assert loaded.spec.limits.max_cells == 10**7
    assert parse_spec(huge + "limits: {max_cells: 1000000000000000000000}\n").spec.limits.max_cells == 10**21
    with pytest.raises(SpecError, match="limits.max_cells"):
        parse_spec(huge + "limits: {max_cells: 0}\n")
