"""The source hash of a decorated function, recorded with its artifacts.

The hash covers the function's own source and the source of the functions and classes
it calls in the same package (or, for a script, beside it), as far as static inspection
finds them (``source_deps``). ``version="auto"`` makes that hash the version.

Two scripts that each define ``__main__.f`` (or one function edited without bumping
``version``) share artifact ids: the name, version and inputs are the same. The source
hash recorded with every artifact tells them apart after the fact; a hit whose
recorded source differs from the running function's warns once per function and
process (``logging`` and ``warnings``), naming the function and how to silence it.
"""

from __future__ import annotations

import inspect
import logging
import marshal
import sys
import threading
import warnings
from collections.abc import Callable

import xxhash

from provkit.core.source_deps import callee_sources

__all__ = ["SourceChangedWarning", "source_hash", "own_source_hash", "check_source", "auto_version"]

log = logging.getLogger("provkit")


class SourceChangedWarning(UserWarning):
    """A cached result was made by a function of the same name and version but other source."""


def _own_text(fn: Callable) -> bytes:
    target = inspect.unwrap(fn)
    try:
        return inspect.getsource(target).encode()
    except (OSError, TypeError):
        code = getattr(target, "__code__", None)
        return marshal.dumps(code) if code is not None else repr(target).encode()


def source_hash(fn: Callable) -> str:
    """xxh3-128 of the function's source text (of its code object when there is no source)
    and of its callees' (``callee_sources``); with no callee, of its own source alone."""
    digest = xxhash.xxh3_128()
    digest.update(_own_text(fn))
    for name, source in callee_sources(inspect.unwrap(fn)):
        digest.update(b"\0" + name.encode() + b"\0" + source.encode())
    return "src:" + digest.hexdigest()


def own_source_hash(fn: Callable) -> str:
    """The hash of the function's own source alone: what artifacts recorded before callees
    counted (a hit on those does not warn while the function itself is unchanged)."""
    return "src:" + xxhash.xxh3_128_hexdigest(_own_text(fn))


def auto_version(source: str) -> int:
    """The recorded ``version`` of a ``version="auto"`` function: 31 bits of its source hash
    (an SQL INTEGER; the artifact id is keyed by the whole hash)."""
    return int(source.removeprefix("src:")[:8], 16) & 0x7FFFFFFF


_warned: set[tuple[str, int]] = set()
_lock = threading.Lock()


def user_stacklevel() -> int:
    """``warnings.warn``'s stacklevel, called from the warning function, of the first
    frame outside provkit: a warning points at the user's line (the caller of a decorated
    function), however many provkit frames lie between."""
    frame = sys._getframe(2)
    level = 2
    while frame is not None and str(frame.f_globals.get("__name__", "")).startswith("provkit."):
        frame = frame.f_back
        level += 1
    return level


def check_source(name: str, version: int, recorded: str | None, current: str) -> None:
    """Warn (once per name and version in this process) when ``recorded`` is another source."""
    if recorded is None or recorded == current:
        return
    with _lock:
        if (name, version) in _warned:
            return
        _warned.add((name, version))
    message = (
        f"{name} (version {version}) returned a cached result computed by different source code "
        f"(recorded {recorded}, running {current}). If the code changed what it computes, bump "
        f"@provenance(version=...) or give it another name=; to silence this: "
        f"warnings.filterwarnings('ignore', category=provkit.SourceChangedWarning)"
    )
    log.warning(message)
    warnings.warn(message, SourceChangedWarning, stacklevel=user_stacklevel())
