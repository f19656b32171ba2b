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
from typing import Any

from provkit.core.capture import open_captures
from provkit.core.sets import ArtifactSet, ids_of, normalize_labels, store_set
from provkit.services.inputs import Binder
from provkit.storage.settings import get_default_repo

__all__ = [
    "ArtifactSet", "capture_set", "provenance_set", "create_set", "load_set_by_id",
    "load_set_by_name", "load_set_by_labels", "normalize_labels",
]  # fmt: skip


def create_set(artifact_ids: Iterable[Any], labels: str | Mapping | None = None) -> ArtifactSet:
    """Store a set of artifacts (ids, Artifacts or proxies) with labels."""
    return store_set(ArtifactSet.make(artifact_ids, labels))


def load_set_by_id(set_id: str) -> ArtifactSet:
    """The set with ``set_id`` from the default repository."""
    return get_default_repo().get_set(set_id)


def load_set_by_labels(labels: str | Mapping) -> ArtifactSet:
    """The newest set whose labels are exactly ``labels``."""
    return get_default_repo().latest_set(normalize_labels(labels))


def load_set_by_name(set_name: str) -> ArtifactSet:
    """The newest set named ``set_name``."""
    return load_set_by_labels({"name": set_name})


# ---- capturing -------------------------------------------------------------------------


class SetCapture:
    """What ``capture_set`` yields: ids so far; ``artifact_set`` once the block is done."""

    def __init__(self, labels: dict, initial: Iterable[Any]) -> None:
        self.labels = labels
        self.artifact_ids: set[str] = set(ids_of(initial))
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
