"""Benchmarks read the test-only ATHEνA spectra from the repository's reference shelf
(``../shared/data/athena`` beside the clone) unless ``SWEEP_ATHENA_DIR`` says otherwise."""
import os
from pathlib import Path

os.environ.setdefault("SWEEP_ATHENA_DIR",
                      str(Path(__file__).resolve().parents[1].parent / "shared" / "data" / "athena"))
