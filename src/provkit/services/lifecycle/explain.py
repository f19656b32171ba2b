"""Explain a cache miss (or hit) before or after it happens.

``explain(fn, *args, **kwargs)`` keys the call exactly as the decorated function would
(without calling it). For a hit it names the artifact the call would return; for a miss
it finds the nearest earlier artifacts of the same function and says what differs:
version, which argument (old -> new for small values), which input artifact was
recomputed and why (recursively), and whether the function's source changed.
``explain_artifact(id)`` does the same for a stored artifact against the earlier ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from provkit.core.errors import ProvkitError
from provkit.core.source_check import own_source_hash
from provkit.services.inputs import summarize_inputs
from provkit.services.lifecycle.compare import Difference, Facts, compare, facts_of
from provkit.services.lifecycle.pins import resolve_repo
from provkit.storage.repos.base import Repository

__all__ = ["Explanation", "explain", "explain_artifact", "call_facts"]

#: earlier artifacts of the function looked at (newest first)
MAX_CANDIDATES = 200


@dataclass
class Candidate:
    """An earlier artifact of the same function and how the call differs from it."""

    artifact_id: str
    computed_at: Any
    differences: list[Difference]

    def to_dict(self) -> dict:
        when = self.computed_at.isoformat() if self.computed_at is not None else None
        return {"artifact_id": self.artifact_id, "computed_at": when,
                "differences": [d.to_dict() for d in self.differences]}  # fmt: skip


@dataclass
class Explanation:
    """Why a call hits or misses."""

    name: str
    artifact_id: str
    hit: bool
    nearest: list[Candidate] = field(default_factory=list)

    @property
    def reason(self) -> str:
        """One line: the hit, or the differences from the nearest earlier artifact."""
        if self.hit:
            return f"hit: {self.name} would return artifact {self.artifact_id}"
        if not self.nearest:
            return f"miss: {self.name} has no earlier artifact in this repository"
        diffs = self.nearest[0].differences
        if not diffs:
            return f"miss: same inputs as {self.nearest[0].artifact_id[:14]} but another key (custom hashing)"
        return "miss: " + "; ".join(d.detail for d in diffs)

    def __str__(self) -> str:
        lines = [self.reason if self.hit or not self.nearest else f"miss: {self.name} -> {self.artifact_id}"]
        for candidate in self.nearest if not self.hit else []:
            lines.append(f"compared with {candidate.artifact_id} ({candidate.computed_at:%Y-%m-%d %H:%M}):")
            for diff in candidate.differences or [Difference("key", "same recorded inputs, another key")]:
                lines.extend(diff.lines(1))
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"name": self.name, "artifact_id": self.artifact_id, "hit": self.hit, "reason": self.reason,
                "nearest": [c.to_dict() for c in self.nearest]}  # fmt: skip


def _tracked(fn: Any) -> Any:
    tracked = getattr(fn, "_provkit", None)
    if tracked is None:
        raise ProvkitError(f"{getattr(fn, '__qualname__', fn)!r} is not a @provenance function")
    return tracked


def call_facts(fn: Any, args: tuple, kwargs: dict) -> tuple[Any, Facts]:
    """(tracked function, Facts of the call) keyed exactly as the call would be."""
    tracked = _tracked(fn)
    _, _, recorded_kargs, recorded_varargs = tracked.bind_inputs(args, kwargs)
    karg_hashes, vararg_hashes, _ = tracked._hash_inputs(recorded_kargs, recorded_varargs)
    artifact_id = tracked.artifact_id(karg_hashes, vararg_hashes)
    summary = summarize_inputs(recorded_kargs, recorded_varargs, karg_hashes)
    for name in tracked.ignore:  # ignored arguments do not count
        summary.pop(name, None)
    facts = _facts(tracked, artifact_id, summary)
    return tracked, facts


def _facts(tracked: Any, artifact_id: str, summary: dict) -> Facts:
    """Facts of a call about to be made (its source hashes read once per function)."""
    if tracked._own_hash is None:
        tracked._own_hash = own_source_hash(tracked.fn)
    return Facts(artifact_id, tracked.name, tracked.version, tracked.source_hash, summary,
                 own_source_hash=tracked._own_hash)  # fmt: skip


def _nearest(repo: Repository, facts: Facts, ignore: frozenset, before: Any = None, limit: int = 3) -> list[Candidate]:
    scored = []
    for artifact in repo.find({"name": facts.name}, MAX_CANDIDATES):
        if artifact.id == facts.id or (before is not None and artifact.computed_at and artifact.computed_at >= before):
            continue
        old = facts_of(repo, artifact)
        for name in ignore:
            old.inputs.pop(name, None)
        diffs = compare(repo, old, facts)
        scored.append((len(diffs), len(scored), Candidate(artifact.id, artifact.computed_at, diffs)))
    scored.sort(key=lambda s: (s[0], s[1]))  # fewest differences, then newest
    return [s[2] for s in scored[:limit]]


def explain(fn: Any, *args: Any, **kwargs: Any) -> Explanation:
    """Whether ``fn(*args, **kwargs)`` would hit, and if not, what differs from the
    nearest earlier artifacts of ``fn`` (nothing is computed or stored)."""
    tracked, facts = call_facts(fn, args, kwargs)
    repo = tracked.resolve_repo()
    if repo.lookup(facts.id) is not None:
        return Explanation(tracked.name, facts.id, True)
    return Explanation(tracked.name, facts.id, False, _nearest(repo, facts, tracked.ignore))


def explain_artifact(artifact: Any, repo: Repository | str | None = None) -> Explanation:
    """Why ``artifact`` was computed: how it differs from the earlier artifacts of its function."""
    from provkit.core.artifacts import record_id_of

    repo = resolve_repo(repo)
    found = repo.get_artifact(record_id_of(artifact))
    facts = facts_of(repo, found)
    return Explanation(found.name, found.id, False, _nearest(repo, facts, frozenset(), before=found.computed_at))


def miss_reason(tracked: Any, repo: Repository, artifact_id: str, summary: dict) -> str:
    """The INFO log line of a miss (only computed when that level is on)."""
    facts = _facts(tracked, artifact_id, dict(summary))
    for name in tracked.ignore:
        facts.inputs.pop(name, None)
    return Explanation(tracked.name, artifact_id, False, _nearest(repo, facts, tracked.ignore, limit=1)).reason
