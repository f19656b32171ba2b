"""A record's retraction status as its reprs show it: ``RETRACTED: reason`` or
``tainted via <ancestor id> (reason)``.

Records (artifacts, proxies, file sets, datasets) live below the lifecycle service that
knows about retraction; that service registers how to ask (``use_status``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["use_status", "status_note"]

_hook: dict[str, Callable[[Any, Any], str | None] | None] = {"status": None}


def use_status(status: Callable[[Any, Any], str | None]) -> None:
    """Set ``status(record, repo) -> text or None`` (the retraction service calls this)."""
    _hook["status"] = status


def status_note(record: Any, repo: Any = None) -> str | None:
    """``"RETRACTED: reason"``, ``"tainted via <id> (reason)"`` or None for a clean record.

    A repr must not fail: when the repository cannot answer, the note says so instead."""
    status = _hook["status"]
    if status is None:
        return None
    try:
        return status(record, repo)
    except Exception as exc:  # shown in the repr, not hidden
        return f"retraction status unknown ({type(exc).__name__}: {exc})"
