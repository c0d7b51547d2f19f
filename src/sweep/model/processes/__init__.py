"""One module per radiative process; each holds pure numba kernels over arrays."""
