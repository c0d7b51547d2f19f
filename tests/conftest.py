"""Test-session set-up: the test-only reference data (ATHEνA spectra) live on the repository's
reference shelf ``../shared/data`` beside the clone; the package itself never looks there."""
import os
from pathlib import Path

REFERENCE_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
os.environ.setdefault("SWEEP_ATHENA_DIR", str(REFERENCE_DATA / "athena"))
