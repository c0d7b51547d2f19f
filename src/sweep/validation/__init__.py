"""Validation helpers, in one place (nothing in the model or the engine imports them):

* ``sweep.validation.jet``: the model.md §8.2 reference table of the jet model and its comparison
  (tests, ``benchmarks/jet_reproduction.py``);
* ``sweep.validation.hadronic``: the ATHEνA Test 4 blob, its reference spectra (test-only data,
  found through ``SWEEP_ATHENA_DIR`` or given explicitly) and the comparison figures (tests,
  benchmarks, ``sweep blob --plot`` when a YAML names references), the independent SOPHIA fold;
* ``sweep.validation.fake_cell``: a stand-in cell function with injectable faults for the engine's
  fault tests (importable by Dask and SLURM workers, hence inside the package; NOT a model).
"""
