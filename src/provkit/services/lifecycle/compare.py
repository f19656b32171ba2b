"""Comparing two records through their lineage: what differs, and where it starts.

Shared by ``explain`` (a would-be call against earlier artifacts of its function) and
``diff`` (two results side by side). A ``Facts`` is what matters about one record: its
function name, version, source hash, recorded inputs (``inputs_json``), run, and for
file artifacts their files. Differences in an input that is itself an artifact are
followed upstream, so the answer names the first points where the two diverge.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from provkit.core.source_check import auto_version
from provkit.storage.repos.base import Repository

__all__ = ["Difference", "Facts", "compare", "facts_of", "show"]

_SMALL = 60  # values whose JSON is at most this long are shown old -> new


@dataclass
class Facts:
    """What identifies how one record was made."""

    id: str
    name: str
    version: Any
    source_hash: str | None
    inputs: dict
    kind: str = "cached"
    run_id: str | None = None
    value_id: str | None = None
    files: dict | None = None  # relpath -> content key (file artifacts)
    extra: dict = field(default_factory=dict)  # datasets: version, content hash, ...
    #: the hash of the function's own source alone (what records made before callees
    #: counted carry): the same source as ``source_hash`` for them
    own_source_hash: str | None = None


@dataclass
class Difference:
    """One divergence: ``what`` is name, version, source, argument, arguments, input,
    files, dataset or environment."""

    what: str
    detail: str
    name: str | None = None
    old: Any = None
    new: Any = None
    old_id: str | None = None
    new_id: str | None = None
    upstream: list[Difference] = field(default_factory=list)

    def to_dict(self) -> dict:
        out = {k: v for k, v in self.__dict__.items() if k != "upstream" and v is not None}
        if self.upstream:
            out["upstream"] = [d.to_dict() for d in self.upstream]
        return out

    def lines(self, indent: int = 0) -> list[str]:
        pad = "  " * indent
        out = [pad + "- " + self.detail]
        for child in self.upstream:
            out.extend(child.lines(indent + 1))
        return out


def show(value: Any) -> str | None:
    """A short text of a small value (None for big ones)."""
    try:
        text = json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return None
    return text if len(text) <= _SMALL else None


def facts_of(repo: Repository, record: Any) -> Facts:
    """Facts of an artifact, a dataset or an execution."""
    kind = getattr(record, "kind", "cached")
    if kind in ("dataset", "execution"):
        parents = list(repo.parents_of([record.id]).get(record.id, []))
        extra = {k: getattr(record, k, None) for k in ("version", "content_hash", "relpath", "status", "configuration")}
        inputs = {f"input {i}": {"id": pid} for i, pid in enumerate(sorted(parents))}
        return Facts(record.id, record.name, extra.get("version"), None, inputs, kind, getattr(record, "run_id", None),
                     None, None, extra)  # fmt: skip
    seal = record._seal
    files = record.custom_fields.get("file_hashes") if kind == "files" else None
    return Facts(record.id, record.name, record.version, seal.source_hash if seal is not None else None,
                 dict(record.inputs_json or {}), kind, record.run_id, record.value_id, files)  # fmt: skip


def _is_auto(facts: Facts) -> bool:
    """Whether a record was made with ``version="auto"`` (its version is its source hash's)."""
    if facts.kind in ("dataset", "execution") or not facts.source_hash or not isinstance(facts.version, int):
        return False
    try:
        return facts.version == auto_version(facts.source_hash)
    except ValueError:  # not a hex digest
        return False


def _record(repo: Repository, record_id: str) -> Any:
    from provkit.services.lineage import get_record

    try:
        return get_record(repo, record_id)
    except Exception:
        return None


def _artifact_ref(value: Any) -> str | None:
    return value.get("id") if isinstance(value, dict) and isinstance(value.get("id"), str) else None


def compare(repo: Repository, old: Facts, new: Facts, *, depth: int = 8, env: bool = False,
            _seen: set | None = None) -> list[Difference]:  # fmt: skip
    """What differs between how ``old`` and ``new`` were made (inputs followed upstream)."""
    seen = _seen if _seen is not None else set()
    out: list[Difference] = []
    if old.name != new.name:
        out.append(Difference("name", f"function {old.name} -> {new.name}", None, old.name, new.name))
    source_changed = bool(old.source_hash and new.source_hash and old.source_hash != new.source_hash
                          and old.source_hash != new.own_source_hash)  # fmt: skip
    if source_changed and _is_auto(old) and _is_auto(new):
        detail = f'the source of {new.name} changed (version="auto": version {old.version} -> {new.version})'
        out.append(Difference("source", detail, new.name, old.source_hash, new.source_hash))
    elif old.version != new.version:
        out.append(Difference("version", f"version {old.version} -> {new.version} of {new.name}", new.name,
                              old.version, new.version))  # fmt: skip
    elif source_changed:
        out.append(Difference("source", f"the source of {new.name} changed (same name and version)", new.name,
                              old.source_hash, new.source_hash))  # fmt: skip
    if old.extra or new.extra:
        for key in sorted(set(old.extra) | set(new.extra)):
            a, b = old.extra.get(key), new.extra.get(key)
            if a != b and key != "status":
                out.append(Difference("dataset", f"{new.kind} {key}: {a} -> {b}", key, a, b))
    if old.files is not None or new.files is not None:
        a, b = old.files or {}, new.files or {}
        changed = sorted(r for r in set(a) | set(b) if a.get(r) != b.get(r))
        if changed:
            out.append(Difference("files", f"files differ: {', '.join(changed[:5])}", None, None, changed))
    out.extend(_compare_inputs(repo, old, new, depth, env, seen))
    if env and old.run_id and new.run_id and old.run_id != new.run_id:
        out.extend(_compare_runs(repo, old.run_id, new.run_id))
    return out


def _compare_inputs(repo: Repository, old: Facts, new: Facts, depth: int, env: bool, seen: set) -> list[Difference]:
    out: list[Difference] = []
    va, vb = old.inputs.get("__varargs", []), new.inputs.get("__varargs", [])
    named_a = {k: v for k, v in old.inputs.items() if k != "__varargs"}
    named_b = {k: v for k, v in new.inputs.items() if k != "__varargs"}
    named_a.update({f"*{i}": v for i, v in enumerate(va)})
    named_b.update({f"*{i}": v for i, v in enumerate(vb)})
    for arg in sorted(set(named_a) | set(named_b)):
        a, b = named_a.get(arg, _ABSENT), named_b.get(arg, _ABSENT)
        if a == b:
            continue
        ref_a, ref_b = _artifact_ref(a), _artifact_ref(b)
        if ref_a and ref_b:
            if isinstance(a, dict) and a.get("value_id") == b.get("value_id") and a.get("value_id") is not None:
                continue  # another record with the same value: the result does not change
            diff = Difference("input", f"argument {arg!r}: input {ref_a[:14]} -> {ref_b[:14]}", arg,
                              old_id=ref_a, new_id=ref_b)  # fmt: skip
            if depth > 0 and (ref_a, ref_b) not in seen:
                seen.add((ref_a, ref_b))
                ra, rb = _record(repo, ref_a), _record(repo, ref_b)
                if ra is not None and rb is not None:
                    diff.upstream = compare(repo, facts_of(repo, ra), facts_of(repo, rb), depth=depth - 1, env=env,
                                            _seen=seen)  # fmt: skip
                    if diff.upstream:
                        diff.detail += " (recomputed: see below)"
                elif ra is None:
                    diff.detail += f" (the old input {ref_a[:14]} is gone)"
            out.append(diff)
            continue
        if a is _ABSENT or b is _ABSENT:
            state = "added" if a is _ABSENT else "removed"
            out.append(Difference("argument", f"argument {arg!r} {state}", arg, _none(a), _none(b)))
            continue
        sa, sb = show(a), show(b)
        if sa is not None and sb is not None:
            detail = f"argument {arg!r}: {sa} -> {sb}"
        else:
            detail = f"argument {arg!r} has another value (hash {_hash(a)} -> {_hash(b)})"
        out.append(Difference("argument", detail, arg, a if sa else None, b if sb else None))
    return out


_ABSENT: Any = object()


def _none(value: Any) -> Any:
    return None if value is _ABSENT else value


def _hash(value: Any) -> str:
    if isinstance(value, dict) and isinstance(value.get("hash"), str):
        return value["hash"][:14]
    from provkit.core.hashing import hash as hash_value

    return hash_value(json.dumps(value, sort_keys=True, default=str))[:14]


def _compare_runs(repo: Repository, old_run: str, new_run: str) -> list[Difference]:
    """Run environments: packages that differ and the git commit."""
    a, b = repo.get_run(old_run) or {}, repo.get_run(new_run) or {}
    out: list[Difference] = []
    pa, pb = a.get("python_packages") or a.get("packages") or {}, b.get("python_packages") or b.get("packages") or {}
    if isinstance(pa, dict) and isinstance(pb, dict):
        changed = sorted(k for k in set(pa) | set(pb) if pa.get(k) != pb.get(k))
        if changed:
            shown = ", ".join(f"{k} {pa.get(k, '-')} -> {pb.get(k, '-')}" for k in changed[:8])
            out.append(Difference("environment", f"packages differ: {shown}", "packages", None, changed))
    ga, gb = (a.get("git") or {}), (b.get("git") or {})
    ca, cb = ga.get("commit") if isinstance(ga, dict) else None, gb.get("commit") if isinstance(gb, dict) else None
    if ca != cb:
        out.append(Difference("environment", f"git commit {ca} -> {cb}", "git", ca, cb))
    return out
