"""verify checks values and inputs kept inline in the row (small ones) against their
recorded digests, on memory, SQLite and PostgreSQL; and the CLI's exit code (issue 14)."""

from __future__ import annotations

import json
import sqlite3

import sqlalchemy as sa

import provkit as p
from lifecycle_helpers import kind_repo_fixture  # noqa: F401 - the kind_repo fixture
from provkit.storage.config import embedded_config


def _small():
    @p.provenance(name="vi.small")
    def small(i, note="n"):
        return {"i": i, "text": "x" * 20}

    return small


def _flip(data: bytes) -> bytes:
    """The same bytes with one byte changed (a bit rot, not a truncation)."""
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :]


def _corrupt(repo, artifact_id: str, column: str) -> None:
    """Change one byte of an inline column, behind provkit's back."""
    if repo.kind_name == "memory":
        extra = repo._records[artifact_id][1]
        attr = "_value_bytes" if column == "value_bytes" else "_inputs_bytes"
        extra[attr] = _flip(extra[attr])
        return
    with repo.engine.begin() as conn:
        data = conn.execute(sa.text(f"SELECT {column} FROM artifacts WHERE id = :i"), {"i": artifact_id}).scalar()
        conn.execute(sa.text(f"UPDATE artifacts SET {column} = :d WHERE id = :i"),
                     {"d": _flip(bytes(data)), "i": artifact_id})  # fmt: skip


def test_a_corrupt_inline_value_and_inputs_are_reported(kind_repo):
    small = _small()
    a, b, _ = small(1), small(2), small(3)  # a third, healthy row
    assert a.artifact._value_bytes is not None, "small values are kept in the row"
    assert p.verify().ok
    _corrupt(kind_repo, a.artifact.id, "value_bytes")
    _corrupt(kind_repo, b.artifact.id, "inputs_bytes")
    report = p.verify()
    assert not report.ok
    found = {(x.kind, x.record_id) for x in report.problems}
    assert found == {("corrupt", a.artifact.id), ("corrupt", b.artifact.id)}, report.problems
    details = {x.record_id: x.detail for x in report.problems}
    assert "inline value" in details[a.artifact.id] and "do not match the recorded digest" in details[a.artifact.id]
    assert "inline inputs" in details[b.artifact.id]
    p.verify(repair=True)  # nothing to repair from: marked damaged
    from provkit.services.lifecycle.marks import marks_for

    assert set(marks_for(kind_repo).of_kind("damaged")) == {a.artifact.id, b.artifact.id}


def test_the_cli_exits_non_zero_on_a_corrupt_inline_value(cli, tmp_path):
    p.load_config(embedded_config(str(tmp_path / "home")))
    made = _small()(7)
    repo = p.get_default_repo()
    path = repo.engine.url.database
    repo.engine.dispose()
    with sqlite3.connect(path) as db:
        (data,) = db.execute("SELECT value_bytes FROM artifacts WHERE id = ?", (made.artifact.id,)).fetchone()
        db.execute("UPDATE artifacts SET value_bytes = ? WHERE id = ?", (_flip(bytes(data)), made.artifact.id))
    proc = cli("verify", "--json", ok=False)
    assert proc.returncode != 0
    report = json.loads(proc.stdout)
    assert [(x["kind"], x["record_id"]) for x in report["problems"]] == [("corrupt", made.artifact.id)]
