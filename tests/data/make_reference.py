"""Write tests/data/reference_issue10.npz: the stored reference of the results-unchanged
regression test (issue 10, requirement 4).

Produced ONCE from commit f8af988 (before the per-cell-cost rework: canonical kernel lattices,
table cache) with

    PYTHONPATH=src python tests/data/make_reference.py

The cases and the pinned physics options are in ``tests/data/regression_cases.py``. Arrays are
float64 (1e-6 dex needs better than float32), compressed; about 0.2 MB.  Rerunning this script on
later code would overwrite the reference with that code's results: do it only on purpose (a
deliberate change of the numerics), and say so in the commit.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402

from regression_cases import REPO, all_cases  # noqa: E402


def main() -> None:
    data = all_cases()
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                                text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    data["produced_at_commit"] = np.array(commit)
    out = HERE / "reference_issue10.npz"
    np.savez_compressed(out, **data)
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} kB) from commit {commit}: "
          + ", ".join(sorted(data)))


if __name__ == "__main__":
    main()
