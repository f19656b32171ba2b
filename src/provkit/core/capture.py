"""Which artifacts a ``capture_set`` block has seen (produced, reused or loaded).

A thread-local stack of open captures; decorated calls and ``load_artifact`` /
``load_proxy`` report each artifact id here. Kept apart from ``sets`` so that the
artifact record types can report loads without knowing about sets.
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["open_captures", "note_artifact"]


class _Captures(threading.local):
    stack: list | None = None  # a default: a lookup of a never-set attribute raises inside getattr


_local = _Captures()


def open_captures() -> list[Any]:
    """The captures open in this thread, innermost last (created on first use)."""
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    return stack


def note_artifact(artifact_id: str) -> None:
    """Add ``artifact_id`` to every capture open in this thread."""
    stack = getattr(_local, "stack", None)
    if stack:
        for capture in stack:
            capture.artifact_ids.add(artifact_id)


def capturing() -> bool:
    """Whether a capture is open in this thread (a cheap check for the hit path)."""
    return bool(getattr(_local, "stack", None))
