"""The registry's three-stage pipeline, in provkit's API.

Stage 1 makes three datasets (a folder and two files), stage 2 reads them and makes a
folder, stage 3 reads that and makes a summary through a writer/handler pair, whose
provenance fields (parents, code name / version / URL) the registry enforces. Every
stage is an execution; its inputs are its dependencies; lineage follows by itself.
Each run registers new versions (a minor bump) under a folder of its own.
Run: python examples/pipeline.py    (uses $PROVKIT_HOME, default ~/.local/share/provkit)
"""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import provkit as p
from provkit import lineage

CODE = {"code_name": "examples/pipeline.py", "code_version": p.__version__,
        "code_url": "https://example.org/provkit/examples/pipeline.py"}  # fmt: skip


def stage1(work: Path) -> dict[str, Path]:
    """A 'simulation': a folder of snapshots, a run database and a parameter file."""
    snapshots = work / "snapshots"
    snapshots.mkdir()
    for step in range(3):
        rows = [(i, step * 0.5 + i * 0.1) for i in range(100)]
        with open(snapshots / f"step_{step}.csv", "w", newline="") as fh:
            csv.writer(fh).writerows([("id", "mass"), *rows])
    db = work / "runs.db"
    with sqlite3.connect(db) as conn:
        conn.execute("create table runs (step int, seconds real)")
        conn.executemany("insert into runs values (?, ?)", [(s, 1.5 * s) for s in range(3)])
    conn.close()
    params = work / "params.json"
    params.write_text(json.dumps({"box": 100, "particles": 300, "seed": 42}))
    return {"snapshots": snapshots, "db": db, "params": params}


def stage2(snapshots: str, work: Path) -> Path:
    """Reduce the snapshots to one catalog per step."""
    out = work / "catalogs"
    out.mkdir()
    for name in sorted(os.listdir(snapshots)):
        with open(os.path.join(snapshots, name)) as fh:
            masses = [float(row["mass"]) for row in csv.DictReader(fh)]
        (out / name.replace(".csv", ".json")).write_text(json.dumps({"n": len(masses), "total": sum(masses)}))
    return out


def write_summary(data: dict, path: str) -> None:
    Path(path).write_text(json.dumps(data, indent=2))


def read_summary(path: str) -> dict:
    return json.loads(Path(path).read_text())


def main() -> None:
    p.register_handler("summary-json", write_summary, read_summary, suffix=".json")
    reg = p.Registry(owner_type="user")  # owner: you
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    base = f"my-desc-pipeline/{stamp}"
    work = Path(tempfile.mkdtemp(prefix="provkit-pipeline-"))

    ex1 = reg.register_execution("pipeline-stage-1", description="The first stage of my pipeline")
    made = stage1(work)
    d11 = reg.register_dataset(
        f"{base}/dataset_1p1",
        "minor",
        name="Dataset 1.1",
        old_location=made["snapshots"],
        execution_id=ex1,
        description="A directory structure output from stage 1",
    )
    d12 = reg.register_dataset(
        f"{base}/dataset_1p2.db",
        "minor",
        name="Dataset 1.2",
        old_location=made["db"],
        execution_id=ex1,
        description="A file output from stage 1",
    )
    d13 = reg.register_dataset(
        f"{base}/dataset_1p3.json",
        "minor",
        name="Dataset 1.3",
        old_location=made["params"],
        execution_id=ex1,
        description="Another file output from stage 1",
        keywords=["config"],
    )
    ex2 = reg.register_execution("pipeline-stage-2", description="The second stage", input_datasets=[d11, d12, d13])
    catalogs = stage2(reg.local_path(d11), work)
    d21 = reg.register_dataset(
        f"{base}/dataset_2p1",
        "minor",
        name="Dataset 2.1",
        old_location=catalogs,
        execution_id=ex2,
        description="A directory structure output from stage 2",
    )
    ex3 = reg.register_execution("pipeline-stage-3", description="The third stage", input_datasets=[d21])
    folder = reg.local_path(d21)
    steps = {name: json.loads(Path(folder, name).read_text()) for name in sorted(os.listdir(folder))}
    summary = {"steps": len(steps), "total_mass": round(sum(s["total"] for s in steps.values()), 6)}
    try:
        reg.save_derived(summary, "summary-json", f"{base}/dataset_3p1", name="Dataset 3.1", execution_id=ex3)
    except p.MissingProvenanceError as exc:
        print(f"refused without provenance: missing {exc.missing}")
    d31 = reg.save_derived(summary, "summary-json", f"{base}/dataset_3p1", "minor", name="Dataset 3.1",
                           execution_id=ex3, parents=[d21], **CODE)  # fmt: skip

    for ds in (d11, d12, d13, d21, d31):
        print(f"{ds.name}: version {ds.version}, {ds.nfiles} file(s), {ds.total_size} bytes -> {reg.url(ds)}")
    print("summary read back through its handler:", reg.load(d31))
    # curating: a keyword of our own, a modification kept in the history, an alias, an external dataset
    reg.add_keyword("pipeline-demo")
    d21 = reg.add_keywords(d21, ["pipeline-demo"])
    d21 = reg.modify_dataset(d21, description="Catalogs from stage 2 (checked)", contact_email="team@example.org")
    print("history of Dataset 2.1:", [f"{h['field']}: {h['old']!r} -> {h['new']!r}" for h in d21.history])
    reg.add_alias("pipeline-summary-latest", d31)
    print("alias pipeline-summary-latest ->", reg.get_dataset("pipeline-summary-latest").name)
    ext = reg.register_dataset(f"{base}/survey", "minor", name="External survey", location_type="external",
                               url="https://data.example.org/survey.fits",
                               contact_email="survey@example.org")  # fmt: skip
    print(f"external dataset {ext.name} {ext.version}: {reg.url(ext)}")
    print("upstream of Dataset 3.1:")
    for record_id, distance in sorted(lineage.ancestors(d31).items(), key=lambda kv: (kv[1], kv[0])):
        print(f"  {distance} {lineage.describe(lineage.get_record(reg.repo, record_id))}")
    print("built from Dataset 1.1:", sorted(lineage.describe(lineage.get_record(reg.repo, i))
                                           for i in lineage.descendants(d11)))  # fmt: skip
    prov = json.loads(lineage.to_prov_json(d31))
    print(f"PROV-JSON: {len(prov['entity'])} entities, {len(prov['activity'])} activities")
    try:
        from provkit.interfaces.vis import visualize_lineage

        path = visualize_lineage(d31).render(str(work / "pipeline-lineage.svg"))
        print("lineage picture:", path)
    except p.ProvkitError as exc:  # no graphviz `dot` here
        print("no lineage picture:", exc)


if __name__ == "__main__":
    main()
