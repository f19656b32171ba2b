"""Artifact sets: named, labelled, immutable collections of artifact ids.

``capture_set`` records every artifact produced or reused by decorated functions inside
a ``with`` block; ``provenance_set`` does the same for a function call; ``create_set``
builds one from ids. Sets are stored in the repository (id = hash of members and
labels) and found again by id, by name (newest first) or by labels.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from . import hashing
from .capture import open_captures
from .inputs import Binder

if TYPE_CHECKING:
    from .lazy import LazyDict
    from .repos.base import Repository

__all__ = [
    "ArtifactSet", "capture_set", "provenance_set", "create_set", "load_set_by_id",
    "load_set_by_name", "load_set_by_labels", "normalize_labels",
]  # fmt: skip


def normalize_labels(labels: str | Mapping | None) -> dict:
    """A set's labels as a dict: a plain string becomes ``{'name': string}``."""
    if labels is None:
        return {}
    if isinstance(labels, str):
        return {"name": labels}
    if isinstance(labels, Mapping):
        return dict(labels)
    raise TypeError(f"set labels must be a str or a mapping, got {type(labels).__name__}")


def _ids_of(items: Iterable[Any]) -> frozenset[str]:
    from .artifacts import Artifact

    ids = set()
    for item in items:
        if hashing.is_proxy(item):
            ids.add(item.artifact.id)
        elif isinstance(item, Artifact):
            ids.add(item.id)
        elif isinstance(item, str):
            ids.add(item)
        else:
            raise TypeError(f"a set holds artifacts, proxies or artifact ids, not {type(item).__name__}")
    return frozenset(ids)


@dataclass(frozen=True)
class ArtifactSet:
    """An immutable set of artifact ids with labels; algebra returns new stored sets."""

    id: str
    artifact_ids: frozenset[str]
    labels: dict = field(default_factory=dict, compare=False, hash=False)
    created_at: datetime | None = field(default=None, compare=False)
    repo: Repository | None = field(default=None, compare=False, repr=False)

    @property
    def name(self) -> str | None:
        return self.labels.get("name")

    @staticmethod
    def make(artifact_ids: Iterable[Any], labels: str | Mapping | None = None) -> ArtifactSet:
        ids = _ids_of(artifact_ids)
        labels = normalize_labels(labels)
        set_id = hashing.hash(("provkit.set", sorted(ids), labels))
        return ArtifactSet(set_id, ids, labels, datetime.now(timezone.utc))

    # ---- algebra: each result is saved to the same repository --------------------------
    def _derive(self, ids: Iterable[str], labels: str | Mapping | None) -> ArtifactSet:
        derived = ArtifactSet.make(ids, labels)  # like the provenance library: no inherited labels
        repo = self.repo
        return _save(derived, repo) if repo is not None else derived

    def union(self, other: ArtifactSet | Iterable[Any], labels: str | Mapping | None = None) -> ArtifactSet:
        return self._derive(self.artifact_ids | _members(other), labels)

    def intersection(self, other: ArtifactSet | Iterable[Any], labels: str | Mapping | None = None) -> ArtifactSet:
        return self._derive(self.artifact_ids & _members(other), labels)

    def difference(self, other: ArtifactSet | Iterable[Any], labels: str | Mapping | None = None) -> ArtifactSet:
        return self._derive(self.artifact_ids - _members(other), labels)

    __or__ = union
    __and__ = intersection
    __sub__ = difference

    def add(self, items: Iterable[Any] | Any, labels: str | Mapping | None = None) -> ArtifactSet:
        items = [items] if isinstance(items, str) or hashing.is_proxy(items) else items
        return self._derive(self.artifact_ids | _ids_of(items), labels)

    def remove(self, items: Iterable[Any] | Any, labels: str | Mapping | None = None) -> ArtifactSet:
        items = [items] if isinstance(items, str) or hashing.is_proxy(items) else items
        return self._derive(self.artifact_ids - _ids_of(items), labels)

    def relabel(self, labels: str | Mapping) -> ArtifactSet:
        return self._derive(self.artifact_ids, labels)

    def rename(self, name: str) -> ArtifactSet:
        """The same members labelled ``{'name': name}`` (other labels are dropped)."""
        return self._derive(self.artifact_ids, {"name": name})

    # ---- access ---------------------------------------------------------------------
    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.artifact_ids))

    def __len__(self) -> int:
        return len(self.artifact_ids)

    def __contains__(self, item: Any) -> bool:
        return bool(_ids_of([item]) & self.artifact_ids)

    def __reduce__(self) -> tuple:
        """Pickles without its repository (sets can be returned by decorated functions)."""
        return (ArtifactSet, (self.id, self.artifact_ids, self.labels, self.created_at))

    def proxy_dict(self, group_artifacts_of_same_name: bool = False) -> LazyDict:
        """Members by artifact name, loaded into proxies on access."""
        from .lazy import lazy_proxy_dict

        repo = self.repo
        if repo is None:
            return lazy_proxy_dict(self.artifact_ids, group_artifacts_of_same_name)
        return lazy_proxy_dict([repo.get_artifact(i) for i in self.artifact_ids], group_artifacts_of_same_name)

    def __provkit_hash__(self) -> str:
        return self.id

    def _repr_html_(self) -> str:
        from .display import set_html

        return set_html(self)


def _members(other: ArtifactSet | Iterable[Any]) -> frozenset[str]:
    return other.artifact_ids if isinstance(other, ArtifactSet) else _ids_of(other)


def _default_repo(repo: Repository | None) -> Repository:
    from .settings import get_default_repo

    return repo if repo is not None else get_default_repo()


def _save(artifact_set: ArtifactSet, repo: Repository | None = None) -> ArtifactSet:
    repo = _default_repo(repo)
    repo.save_set(artifact_set)
    return ArtifactSet(artifact_set.id, artifact_set.artifact_ids, artifact_set.labels, artifact_set.created_at, repo)


def create_set(artifact_ids: Iterable[Any], labels: str | Mapping | None = None) -> ArtifactSet:
    """Store a set of artifacts (ids, Artifacts or proxies) with labels."""
    return _save(ArtifactSet.make(artifact_ids, labels))


def load_set_by_id(set_id: str) -> ArtifactSet:
    """The set with ``set_id`` from the default repository."""
    return _default_repo(None).get_set(set_id)


def load_set_by_labels(labels: str | Mapping) -> ArtifactSet:
    """The newest set whose labels are exactly ``labels``."""
    return _default_repo(None).latest_set(normalize_labels(labels))


def load_set_by_name(set_name: str) -> ArtifactSet:
    """The newest set named ``set_name``."""
    return load_set_by_labels({"name": set_name})


# ---- capturing -------------------------------------------------------------------------


class SetCapture:
    """What ``capture_set`` yields: ids so far; ``artifact_set`` once the block is done."""

    def __init__(self, labels: dict, initial: Iterable[Any]) -> None:
        self.labels = labels
        self.artifact_ids: set[str] = set(_ids_of(initial))
        self.artifact_set: ArtifactSet | None = None

    def __getitem__(self, index: int) -> ArtifactSet:  # the provenance library yielded [set]
        if index != 0 or self.artifact_set is None:
            raise IndexError("the set exists once the capture_set block has finished")
        return self.artifact_set


@contextlib.contextmanager
def capture_set(labels: str | Mapping | None = None, initial_set: Iterable[Any] | None = None) -> Iterator[SetCapture]:
    """Collect every artifact decorated functions return inside the block into a stored set.

    Nested captures each get everything produced inside them. If the block raises, no
    set is stored.
    """
    capture = SetCapture(normalize_labels(labels), initial_set or ())
    stack = open_captures()
    stack.append(capture)
    try:
        yield capture
    finally:
        stack.remove(capture)
    capture.artifact_set = create_set(capture.artifact_ids, capture.labels)


def provenance_set(
    set_labels: str | Mapping | None = None,
    initial_set: Iterable[Any] | None = None,
    set_labels_fn: Callable[..., str | Mapping] | None = None,
) -> Callable[[Callable], Callable[..., ArtifactSet]]:
    """Decorate a function so each call stores the artifacts it produced as a set.

    The call returns the ArtifactSet; ``set_labels_fn`` computes the labels from the
    call's arguments, bound by name with defaults filled in and passed as keywords
    (``*args`` of the function stay positional), e.g. one set per entry id.
    """
    if set_labels is not None and set_labels_fn is not None:
        raise ValueError("pass set_labels or set_labels_fn, not both")

    def decorator(fn: Callable) -> Callable[..., ArtifactSet]:
        binder = Binder(fn) if set_labels_fn is not None else None

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> ArtifactSet:
            labels = set_labels
            if binder is not None:  # called by name, defaults filled in, as the provenance library did
                kargs, varargs = binder.bind(args, kwargs)
                labels = set_labels_fn(*varargs, **kargs)
            with capture_set(labels, initial_set) as capture:
                fn(*args, **kwargs)
            assert capture.artifact_set is not None
            return capture.artifact_set

        return wrapper

    return decorator
