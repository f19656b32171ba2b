"""Single-flight: one computation per artifact across every process sharing a repository.

On a cache miss the caller takes the artifact's lease (one statement). The holder
computes and stores the artifact, then gives the lease back; a heartbeat thread keeps
its leases alive meanwhile (every ``ttl / 3`` seconds). A caller that finds the lease
held waits, polling (a short interval growing to ``single_flight_poll``): when the
artifact appears it is loaded (a hit); when the lease is free again, because the holder
raised (it releases at once) or died (its lease expired after ``single_flight_ttl``
seconds without a heartbeat), the waiter takes it and computes itself. Errors are not
shared: each waiter that computes gets its own result or its own exception.

Config keys (top level): ``single_flight`` (default true), ``single_flight_ttl``
(seconds, default 30), ``single_flight_poll`` (longest poll interval, default 0.2 s),
``single_flight_timeout`` (longest wait in seconds, default null: as long as the holder
is alive; then SingleFlightTimeoutError). ``@provenance(single_flight=False)`` turns it
off for one function, ``set_single_flight(False)`` for the process. Time spent waiting
is logged (logger ``provkit``) and counted in ``p.stats()["counters"]``.
"""

from __future__ import annotations

import atexit
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from provkit.core import stats
from provkit.core.errors import ConfigError, SingleFlightTimeoutError
from provkit.storage import settings
from provkit.storage.repos.base import Repository

if TYPE_CHECKING:
    from provkit.services.leases import LeaseTable

__all__ = [
    "run", "settings_now", "owner_id", "set_single_flight", "get_single_flight", "flush_releases", "worth_a_lease",
]  # fmt: skip

log = logging.getLogger("provkit")

DEFAULTS = {"single_flight": True, "single_flight_ttl": 30.0, "single_flight_poll": 0.2, "single_flight_timeout": None,
            "single_flight_min_seconds": 0.05}  # fmt: skip
_override: dict[str, Any] = {}
#: how long the leases of stored artifacts wait to be deleted together (their artifact is
#: already visible: waiters load it; only a recomputation after a delete waits on them)
RELEASE_DELAY = 0.25
_owner: tuple[int, str] | None = None


def set_single_flight(enabled: bool | None = None, *, ttl: float | None = None, poll: float | None = None,
                      timeout: float | None = None) -> None:  # fmt: skip
    """Switch single-flight on/off for this process and/or set its timings (seconds);
    arguments left out keep their value (from the config, or the defaults)."""
    if enabled is not None:
        if not isinstance(enabled, bool):
            raise TypeError(f"single_flight must be True or False, got {enabled!r}")
        _override["single_flight"] = enabled
    for key, value in (("single_flight_ttl", ttl), ("single_flight_poll", poll), ("single_flight_timeout", timeout)):
        if value is not None:
            _override[key] = _positive(key, value)


def get_single_flight() -> bool:
    return bool(settings_now()["single_flight"])


def worth_a_lease(last_compute: float | None) -> bool:
    """Whether a miss takes a lease: always for a function not yet computed in this
    process, else when its last computation took at least ``single_flight_min_seconds``
    (a lease costs two small writes; recomputing a cheap call twice costs less)."""
    config = settings_now()
    if not config["single_flight"]:
        return False
    return last_compute is None or last_compute >= config["single_flight_min_seconds"]


def _positive(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ConfigError(f"{key} must be a number of seconds > 0, got {value!r}")
    return float(value)


def settings_now() -> dict[str, Any]:
    """The single-flight settings in force: ``set_single_flight`` over the config over defaults."""
    raw = settings.top_level_settings()
    out = dict(DEFAULTS)
    for key in DEFAULTS:
        if key in raw and raw[key] is not None:
            if key == "single_flight_min_seconds":
                out[key] = float(raw[key])  # checked by the config (>= 0)
            else:
                out[key] = raw[key] if key == "single_flight" else _positive(key, raw[key])
    out.update(_override)
    return out


def owner_id() -> str:
    """This process's lease owner name: host:pid:token (new after a fork)."""
    global _owner
    pid = os.getpid()
    if _owner is None or _owner[0] != pid:
        _owner = (pid, f"{socket.gethostname()}:{pid}:{uuid.uuid4().hex[:8]}")
    return _owner[1]


class _Heartbeat:
    """One daemon thread per process: renews the leases this process holds (every
    ``ttl / 3``) and gives back, in batches, those whose artifact is stored (so the
    caller's miss pays for one statement, the acquire)."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.held: dict[tuple[int, str], tuple[LeaseTable, float]] = {}
        self.pending: list[tuple[LeaseTable, str]] = []
        self.lock = threading.Lock()
        self.flushing = threading.Lock()  # at exit, waits for a release under way in the thread
        self.wake = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="provkit-lease-heartbeat", daemon=True)
        self.thread.start()
        atexit.register(self.flush)

    def hold(self, table: LeaseTable, artifact_id: str, ttl: float) -> None:
        with self.lock:
            self.held[(id(table), artifact_id)] = (table, ttl)
        self.wake.set()

    def done(self, table: LeaseTable, artifact_id: str) -> None:
        """Stop renewing; release soon, from this thread (the artifact is stored)."""
        with self.lock:
            self.held.pop((id(table), artifact_id), None)
            self.pending.append((table, artifact_id))
        self.wake.set()

    def drop(self, table: LeaseTable, artifact_id: str) -> None:
        with self.lock:
            self.held.pop((id(table), artifact_id), None)

    def flush(self) -> None:
        """Release the leases of stored artifacts now."""
        if os.getpid() != self.pid:
            return
        with self.flushing:
            with self.lock:
                pending, self.pending = self.pending, []
            by_table: dict[int, tuple[LeaseTable, list[str]]] = {}
            for table, artifact_id in pending:
                by_table.setdefault(id(table), (table, []))[1].append(artifact_id)
            for table, ids in by_table.values():
                try:
                    table.release_many(ids, owner_id())
                except Exception:  # nobody to raise to: the leases expire after their ttl instead
                    log.exception("provkit: could not release single-flight leases %s", ids)

    def _renew(self, items: list) -> None:
        by_table: dict[int, tuple[LeaseTable, list[str], float]] = {}
        for (key, artifact_id), (table, ttl) in items:
            by_table.setdefault(key, (table, [], ttl))[1].append(artifact_id)
        for table, ids, ttl in by_table.values():
            try:
                table.renew(owner_id(), ids, time.time(), ttl)
            except Exception:  # the holder goes on; its lease may expire and another compute too
                log.exception("provkit: could not renew single-flight leases %s", ids)

    def _loop(self) -> None:
        next_renew: float | None = None
        while True:
            with self.lock:
                items, has_pending = list(self.held.items()), bool(self.pending)
            if has_pending:  # batched: one DELETE per RELEASE_DELAY, not one per miss (SQLite has one writer)
                time.sleep(RELEASE_DELAY)
                self.flush()
                continue
            if not items:
                next_renew = None
                self.wake.wait()
                self.wake.clear()
                continue
            period = min(ttl for _, (_, ttl) in items) / 3
            now = time.monotonic()
            if next_renew is None:
                next_renew = now + period
            if now < next_renew:
                self.wake.wait(next_renew - now)
                self.wake.clear()
                continue
            self._renew(items)
            next_renew = time.monotonic() + period


_beat: _Heartbeat | None = None
_beat_lock = threading.Lock()


def _heartbeat() -> _Heartbeat:
    global _beat
    beat = _beat
    if beat is None or beat.pid != os.getpid():
        with _beat_lock:
            if _beat is None or _beat.pid != os.getpid():
                _beat = _Heartbeat()
            beat = _beat
    return beat


def flush_releases() -> None:
    """Give back now the leases of artifacts this process has stored (normally done in
    the background within milliseconds, and at exit)."""
    beat = _beat
    if beat is not None:
        beat.flush()


def run(repo: Repository, artifact_id: str, name: str, compute: Callable[[], Any],
        load: Callable[[Any], Any]) -> Any:  # fmt: skip
    """``compute()`` once across processes; others ``load(artifact)`` what it stored."""
    config = settings_now()
    ttl, poll_max, timeout = config["single_flight_ttl"], config["single_flight_poll"], config["single_flight_timeout"]
    from provkit.services.leases import leases_for  # SQLAlchemy: on the first miss, not at import

    table = leases_for(repo)
    owner = owner_id()
    if table.try_acquire(artifact_id, owner, time.time(), ttl):
        stats.add("single_flight.acquired")
        return _holding(repo, table, artifact_id, owner, ttl, compute, load)
    stats.add("single_flight.waits")
    started = time.perf_counter()
    holder = table.holder(artifact_id)
    log.info("provkit: %s (%s) is being computed by %s; waiting", name, artifact_id, holder[0] if holder else "?")
    delay = min(0.02, poll_max)
    while True:
        time.sleep(delay)
        delay = min(delay * 1.5, poll_max)
        artifact = repo.lookup(artifact_id)
        if artifact is not None:
            _waited(started, name, artifact_id, "loaded")
            stats.add("single_flight.loaded_after_wait")
            return load(artifact)
        if _free(table, artifact_id) and table.try_acquire(artifact_id, owner, time.time(), ttl):
            _waited(started, name, artifact_id, "computing it here (the holder failed or died)")
            stats.add("single_flight.computed_after_wait")
            stats.add("single_flight.acquired")
            return _holding(repo, table, artifact_id, owner, ttl, compute, load)
        if timeout is not None and time.perf_counter() - started > timeout:
            _waited(started, name, artifact_id, "gave up")
            holder = table.holder(artifact_id)
            raise SingleFlightTimeoutError(
                f"waited {timeout:g} s (single_flight_timeout) for {name} ({artifact_id}) computed by "
                f"{holder[0] if holder else 'another process'}",
                artifact_id=artifact_id,
                holder=holder[0] if holder else None,
            )


def _free(table: LeaseTable, artifact_id: str) -> bool:
    """Whether the lease is gone or expired: a read, so waiters never queue for the write lock."""
    found = table.holder(artifact_id)
    return found is None or found[1] < time.time()


def _waited(started: float, name: str, artifact_id: str, outcome: str) -> float:
    waited = time.perf_counter() - started
    stats.add("single_flight.wait_seconds", waited)
    log.info("provkit: waited %.3f s for %s (%s): %s", waited, name, artifact_id, outcome)
    return waited


def _holding(repo: Repository, table: LeaseTable, artifact_id: str, owner: str, ttl: float,
             compute: Callable[[], Any], load: Callable[[Any], Any]) -> Any:  # fmt: skip
    # a holder may have stored the artifact and released its lease between our lookup
    # and our acquire: look once more before computing
    done = repo.lookup(artifact_id)
    if done is not None:
        table.release(artifact_id, owner)
        stats.add("single_flight.found_after_acquire")
        return load(done)
    beat = _heartbeat()
    beat.hold(table, artifact_id, ttl)
    try:
        result = compute()
    except BaseException:  # released at once: a waiter takes the lease and computes itself
        beat.drop(table, artifact_id)
        table.release(artifact_id, owner)
        raise
    beat.done(table, artifact_id)  # stored: waiters find the artifact; the row goes in the background
    return result
