#!/usr/bin/env bash
# Regenerate the README figures from a fresh smoke cube (run from the repository root after the
# README's set-up command). Writes cubes/smoke.zarr and docs/figures/smoke_{sed,planes,neutrinos}.png.
set -euo pipefail
SWEEP=${SWEEP:-.venv/bin/sweep}
rm -rf cubes/smoke.zarr cubes/smoke.observables.zarr
"$SWEEP" submit grids/smoke.yaml --no-report
"$SWEEP" plot sed cubes/smoke.zarr --sel sigma0=30 --out docs/figures/smoke_sed.png
"$SWEEP" plot planes cubes/smoke.zarr --out docs/figures/smoke_planes.png
"$SWEEP" plot neutrinos cubes/smoke.zarr --z-source 1 --out docs/figures/smoke_neutrinos.png
