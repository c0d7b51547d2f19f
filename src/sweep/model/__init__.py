"""Physics of the reconnection-powered blazar blob (cgs units throughout).

No Dask, no I/O here: functions take numbers/arrays and return numbers/arrays.
The contract is ``../shared/docs/model.md``; deviations are documented in ``docs/model-choices.md``.
"""
