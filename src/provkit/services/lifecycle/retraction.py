"""Retraction: mark a record (artifact, file artifact, dataset) as wrong; everything built
on it downstream in the lineage graph is *tainted*.

Taint is derived, never stored: the descendants of the retracted records, so an
un-retraction clears exactly the taint no other retracted ancestor explains. Loading a
tainted value warns by default (with the reason and the path to the retracted
ancestor); ``set_on_tainted("raise" | "warn" | "ignore")`` changes that per process.
A cached call whose inputs changed no longer hits the tainted result (its id differs).
The set of retracted ids is re-read at most once a second (other processes retract too).
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
import weakref
from collections import deque
from dataclasses import dataclass
from typing import Any

from provkit.core.artifacts import record_id_of
from provkit.core.errors import ProvkitError, QueryError
from provkit.core.runs import current_user
from provkit.core.source_check import user_stacklevel
from provkit.core.status import use_status
from provkit.services.lifecycle.marks import Mark, marks_for
from provkit.services.lifecycle.pins import check_exists, check_reason, resolve_repo
from provkit.services.registry.query import register_dataset_query_rewriter
from provkit.services.search import register_query_rewriter
from provkit.storage.repos.base import Repository
from provkit.storage.repos.extensions import register_load_check

__all__ = [
    "TaintedArtifactError", "TaintedWarning", "Taint", "retract", "unretract", "retracted", "tainted",
    "taint_of", "set_on_tainted", "get_on_tainted", "status",
]  # fmt: skip

log = logging.getLogger("provkit")
_REFRESH_SECONDS = 1.0
_POLICIES = ("raise", "warn", "ignore")


class TaintedWarning(UserWarning):
    """A loaded value was computed from a retracted input."""


class TaintedArtifactError(ProvkitError):
    """A loaded value was computed from a retracted input (``set_on_tainted("raise")``)."""

    def __init__(self, message: str, *, artifact_id: str, retracted_id: str) -> None:
        super().__init__(message)
        self.artifact_id = artifact_id
        self.retracted_id = retracted_id


@dataclass(frozen=True)
class Taint:
    """Why a record is tainted: the retracted ancestor, its mark, and the path to it."""

    record_id: str
    retracted_id: str
    reason: str
    path: tuple[str, ...]  # record_id ... retracted_id

    def describe(self) -> str:
        if self.record_id == self.retracted_id:
            return f"{self.record_id} is retracted: {self.reason}"
        chain = " <- ".join(self.path)
        return f"{self.record_id} is tainted: built on {self.retracted_id}, retracted ({self.reason}); path {chain}"


_state: dict[str, Any] = {"policy": "warn"}
_cache_lock = threading.Lock()
_cache: dict[int, tuple[float, int, dict[str, Mark]]] = {}  # id(marks) -> (read at, generation, retracted)
# id(repo) -> (until when it is known to hold no retraction, a weak reference to it)
_clear_until: dict[int, tuple[float, weakref.ref]] = {}


def set_on_tainted(policy: str) -> None:
    """What loading a tainted (or retracted) value does: "warn" (default), "raise" or "ignore"."""
    if policy not in _POLICIES:
        raise ProvkitError(f"on_tainted must be one of {', '.join(_POLICIES)}, got {policy!r}")
    _state["policy"] = policy


def get_on_tainted() -> str:
    return _state["policy"]


def retract(record: Any, reason: str, repo: Repository | str | None = None) -> Mark:
    """Mark ``record`` (a proxy, Artifact, dataset or id) as retracted, with a reason."""
    repo = resolve_repo(repo)
    record_id = record_id_of(record)
    check_exists(repo, record_id)
    mark = marks_for(repo).add(record_id, "retract", check_reason(reason), current_user())
    _forget(repo)
    log.info("retracted %s: %s", record_id, mark.reason)
    return mark


def unretract(record: Any, repo: Repository | str | None = None) -> bool:
    """Clear a retraction; False when the record was not retracted."""
    repo = resolve_repo(repo)
    removed = marks_for(repo).remove(record_id_of(record), "retract")
    _forget(repo)
    return removed


def _forget(repo: Repository) -> None:
    with _cache_lock:
        _cache.pop(id(marks_for(repo)), None)
        _clear_until.clear()  # every repository re-reads (a chain shares its members' marks)


def retracted(repo: Repository | str | None = None) -> dict[str, Mark]:
    """``{record_id: Mark}`` of every retracted record (re-read at most once a second)."""
    marks = marks_for(resolve_repo(repo))
    now = time.monotonic()
    with _cache_lock:
        cached = _cache.get(id(marks))
    if cached is not None and now - cached[0] < _REFRESH_SECONDS and cached[1] == marks.generation:
        return cached[2]
    found = marks.of_kind("retract")
    with _cache_lock:
        _cache[id(marks)] = (now, marks.generation, found)
    return found


def tainted(repo: Repository | str | None = None) -> dict[str, str]:
    """``{record_id: retracted ancestor}`` of every record downstream of a retraction
    (retracted records themselves included, mapped to themselves)."""
    repo = resolve_repo(repo)
    out: dict[str, str] = {}
    for rid in retracted(repo):
        out.setdefault(rid, rid)
        for child in repo.descendants(rid):
            out.setdefault(child, rid)
    return out


def taint_of(record: Any, repo: Repository | str | None = None) -> Taint | None:
    """Why ``record`` is tainted (the nearest retracted ancestor and the path), or None."""
    repo = resolve_repo(repo)
    marks = retracted(repo)
    if not marks:
        return None
    record_id = record_id_of(record)
    if record_id in marks:
        return Taint(record_id, record_id, marks[record_id].reason, (record_id,))
    came_from: dict[str, str] = {record_id: ""}
    queue = deque([record_id])
    while queue:  # breadth first up the lineage: the nearest retracted ancestor
        level = list(queue)
        queue.clear()
        for node, parents in repo.parents_of(level).items():
            for parent in parents:
                if parent in came_from:
                    continue
                came_from[parent] = node
                if parent in marks:
                    path = [parent]
                    while came_from[path[-1]]:
                        path.append(came_from[path[-1]])
                    return Taint(record_id, parent, marks[parent].reason, tuple(reversed(path)))
                queue.append(parent)
    return None


def _check_loaded(repo: Repository, artifact: Any) -> None:
    """Called as a value is loaded: warn / raise when it is tainted (the policy says).

    The cache-hit path: while a repository is known to hold no retraction (re-read at
    most once a second, and at once after a retraction made in this process), this is
    one dict look-up and a clock read."""
    policy = _state["policy"]
    if policy == "ignore":
        return
    clear = _clear_until.get(id(repo))
    if clear is not None and clear[1]() is repo and time.monotonic() < clear[0]:
        return
    if not retracted(repo):
        _clear_until[id(repo)] = (time.monotonic() + _REFRESH_SECONDS, weakref.ref(repo))
        return
    taint = taint_of(artifact.id, repo)
    if taint is None:
        return
    message = taint.describe() + ' (p.set_on_tainted("ignore") to load it silently)'
    if policy == "raise":
        raise TaintedArtifactError(message, artifact_id=artifact.id, retracted_id=taint.retracted_id)
    log.warning(message)
    warnings.warn(message, TaintedWarning, stacklevel=user_stacklevel())


_KEYS = ("retracted", "tainted")
_LOGIC = ("$and", "$or", "$nor")


def lifecycle_query(query: Any, repo: Repository) -> Any:
    """``query`` with ``retracted`` / ``tainted`` conditions turned into id filters, wherever
    they are: at the top, inside ``$and`` / ``$or`` / ``$nor``, beside other fields. A
    condition is true or false, or ``$eq`` / ``$ne`` / ``$in`` / ``$nin`` / ``$not`` of them."""
    if not _mentions(query, 0):
        return query
    return _rewrite(query, repo, {})


def _mentions(query: Any, depth: int) -> bool:
    if not isinstance(query, dict) or depth > 50:
        return False
    if any(k in query for k in _KEYS):
        return True
    return any(
        _mentions(sub, depth + 1) for key in _LOGIC if isinstance(query.get(key), (list, tuple)) for sub in query[key]
    )


def _rewrite(query: Any, repo: Repository, ids: dict[str, list[str]]) -> Any:
    if not isinstance(query, dict):
        return query  # the query language reports what is malformed
    rest: dict = {}
    filters = []
    for key, value in query.items():
        if key in _LOGIC and isinstance(value, (list, tuple)):
            rest[key] = [_rewrite(sub, repo, ids) for sub in value]
        elif key in _KEYS:
            wanted = _allowed(key, value)
            if wanted == {True, False}:
                continue  # any record
            if key not in ids:
                ids[key] = sorted(retracted(repo) if key == "retracted" else tainted(repo))
            if not wanted:
                filters.append({"id": {"$in": []}})  # no record
            else:
                filters.append({"id": {"$in" if True in wanted else "$nin": ids[key]}})
        else:
            rest[key] = value
    clauses = ([rest] if rest else []) + filters
    if not clauses:
        return {}
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _allowed(key: str, condition: Any) -> set[bool]:
    """The values (True / False) a ``retracted`` / ``tainted`` condition accepts."""
    both = {True, False}
    if isinstance(condition, bool):
        return {condition}
    if not isinstance(condition, dict) or not condition:
        raise QueryError(f"{key!r} in a query must be true or false, got {condition!r}", part={key: condition})
    allowed = set(both)
    for op, value in condition.items():
        if op == "$not":
            allowed &= both - _allowed(key, value)
        elif op in ("$eq", "$ne") and isinstance(value, bool):
            allowed &= {value} if op == "$eq" else {not value}
        elif op in ("$in", "$nin") and isinstance(value, (list, tuple)) and all(isinstance(v, bool) for v in value):
            allowed &= set(value) if op == "$in" else both - set(value)
        else:
            raise QueryError(
                f"{key!r} in a query must be true or false (or $eq/$ne/$in/$nin/$not of them), got {condition!r}",
                part={key: condition},
            )
    return allowed


def status(record: Any, repo: Repository | None = None) -> str | None:
    """What reprs show: ``RETRACTED: reason``, ``tainted via <id> (reason)``, or None."""
    repo = resolve_repo(repo)
    if not retracted(repo):
        return None
    taint = taint_of(record, repo)
    if taint is None:
        return None
    if taint.record_id == taint.retracted_id:
        return f"RETRACTED: {taint.reason}"
    return f"tainted via {taint.retracted_id} ({taint.reason})"


use_status(status)
register_load_check(_check_loaded)
register_query_rewriter(lifecycle_query)
register_dataset_query_rewriter(lifecycle_query)
