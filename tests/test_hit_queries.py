"""A cache hit on SQLite reads one row with one SELECT: ``p.stats()`` counting the time a
hit saved (its compute_duration) must not fetch the rest of the row (issue 14)."""

from __future__ import annotations

import provkit as p


def test_a_hit_is_one_select_and_counts_the_time_saved(sqlite_config):
    p.load_config(sqlite_config)
    repo = p.get_default_repo()

    @p.provenance(name="hq.f")
    def f(a, b):
        return a + b

    made = f(1, 2)
    statements: list[str] = []
    raw = repo._raw()
    dbapi = getattr(raw, "driver_connection", None) or raw.dbapi_connection
    dbapi.set_trace_callback(statements.append)
    p.reset_stats()
    try:
        for _ in range(3):
            assert f(1, 2).artifact.id == made.artifact.id
    finally:
        dbapi.set_trace_callback(None)
    reads = [s for s in statements if "FROM artifacts" in s]
    assert 1 <= len(reads) <= 3, reads  # at most one per hit (a repeat may reuse the thread's row)
    stats = p.stats()
    assert stats["hits"] == 3 and stats["time_saved"] == 3 * made.artifact.compute_duration > 0
