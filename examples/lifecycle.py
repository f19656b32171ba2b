"""Living with a repository: explain a miss, retract a bad input, diff two results, gc.

A small pipeline (load -> clean -> fit) runs twice: once on a raw file that later turns
out to be wrong, once on the corrected file with another setting. We ask provkit why
the second run recomputed, retract the bad input (its model is now tainted and warns
when loaded), compare the two models through their lineage, pin the good one and
collect the rest.
Run: python examples/lifecycle.py    (uses $PROVKIT_HOME, default ~/.local/share/provkit)
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import numpy as np

import provkit as p


@p.provenance(name="lifecycle.load")
def load(path: str) -> np.ndarray:
    return np.loadtxt(path, delimiter=",")


@p.provenance(name="lifecycle.clean")
def clean(rows: np.ndarray, drop_negative: bool = True) -> np.ndarray:
    return rows[rows[:, 0] >= 0] if drop_negative else rows


@p.provenance(name="lifecycle.fit")
def fit(rows: np.ndarray, degree: int = 1) -> np.ndarray:
    return np.polyfit(rows[:, 0], rows[:, 1], degree)


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="provkit-lifecycle-"))
    bad, good = work / "raw_v1.csv", work / "raw_v2.csv"
    bad.write_text("0,1\n1,3\n2,5\n-1,7\n")
    good.write_text("0,1\n1,3\n2,5\n3,7\n")

    first = fit(clean(load(str(bad))))
    print("1. why would a second run on the corrected file recompute?")
    print(p.explain(fit, clean(load(str(good))), degree=2))

    second = fit(clean(load(str(good))), degree=2)
    print("\n2. the raw_v1 export was wrong: retract it")
    p.retract(first.artifact.input_artifact_ids[0], "raw_v1.csv had a sign error in row 4")
    print(p.taint_of(first).describe())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        p.load_artifact(first.artifact.id).value  # noqa: B018 - loading warns
    print("loading the old model warns:", caught[0].category.__name__)
    print("tainted models:", [a.id[:14] for a in p.find_artifacts({"tainted": True, "name": "lifecycle.fit"})])

    print("\n3. the two models side by side")
    print(p.diff(first, second))

    print("\n4. keep the good model, collect the rest")
    p.pin(second, "the model in the report")
    print(p.gc(dry_run=True, grace=0))
    print(p.gc(grace=0))
    print("still loads:", np.round(p.load_artifact(second.artifact.id).value, 3).tolist())
    print(p.verify().ok and "verify: ok")


if __name__ == "__main__":
    main()
