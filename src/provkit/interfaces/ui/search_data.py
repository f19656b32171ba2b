"""What the search page shows: one page of artifacts, datasets, executions or sets.

Artifacts and datasets come from the query language (``find_artifacts`` and
``Registry.find_datasets``, the functions behind ``p.find`` and ``provkit find``), one
page at a time: the next page is the same query AND "older than the last row shown"
(keyset paging on the newest-first order both use), so no page reads more than
``limit + 1`` rows, however deep it is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from provkit.core.errors import QueryError

__all__ = ["KINDS", "SearchForm", "SearchPage", "parse_form", "run_search", "MAX_LIMIT"]

KINDS = ("artifacts", "cached", "files", "datasets", "executions", "sets")
MAX_LIMIT = 200
_DEFAULT_LIMIT = 50


@dataclass
class SearchForm:
    """The search page's inputs, checked."""

    q: str = ""
    query: dict = field(default_factory=dict)
    kind: str = "artifacts"
    name: str = ""
    user: str = ""
    label: str = ""
    since: str = ""
    until: str = ""
    history: bool = False
    limit: int = _DEFAULT_LIMIT
    after: str = ""
    error: str | None = None

    def params(self, **changes: Any) -> dict[str, str]:
        """The URL parameters that reproduce this search (with ``changes``), empty ones left out."""
        values = {"q": self.q, "kind": self.kind, "name": self.name, "user": self.user, "label": self.label,
                  "since": self.since, "until": self.until, "history": "1" if self.history else "",
                  "limit": str(self.limit) if self.limit != _DEFAULT_LIMIT else "", "after": self.after}  # fmt: skip
        values.update(changes)
        if values.get("kind") == "artifacts":
            values["kind"] = ""
        return {k: v for k, v in values.items() if v}


@dataclass
class SearchPage:
    """One page of results: ``rows`` of records, the cursor of the next page if any."""

    kind: str
    rows: list[Any]
    next_after: str | None


def parse_form(params: Any) -> SearchForm:
    """A SearchForm from URL parameters; a malformed value sets ``error`` (shown inline)."""
    form = SearchForm(
        q=params.get("q", "").strip(), kind=params.get("kind") or "artifacts", name=params.get("name", "").strip(),
        user=params.get("user", "").strip(), label=params.get("label", "").strip(),
        since=params.get("since", "").strip(), until=params.get("until", "").strip(),
        history=params.get("history") in ("1", "on", "true"), after=params.get("after", ""),
    )  # fmt: skip
    try:
        if form.kind not in KINDS:
            raise QueryError(f"kind must be one of {', '.join(KINDS)}, got {form.kind!r}")
        raw_limit = params.get("limit") or str(_DEFAULT_LIMIT)
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
            raise QueryError(f"limit must be a whole number from 1 to {MAX_LIMIT}, got {raw_limit!r}")
        form.limit = int(raw_limit)
        if form.q:
            try:
                parsed = json.loads(form.q)
            except json.JSONDecodeError as exc:
                raise QueryError(f"the query is not valid JSON: {exc}") from exc
            if not isinstance(parsed, dict):
                raise QueryError('the query must be a JSON object such as {"name": "train"}')
            form.query = parsed
        if form.label and "=" not in form.label:
            raise QueryError(f"a label filter looks like key=value (e.g. datatype=model), got {form.label!r}")
        for what in ("since", "until"):
            value = getattr(form, what)
            if value:
                try:
                    datetime.fromisoformat(value)
                except ValueError as exc:
                    raise QueryError(f"{what} must be a date or time like 2024-05-01, got {value!r}") from exc
    except QueryError as exc:
        form.error = str(exc)
    return form


def _time_range(column: str, form: SearchForm) -> list[dict]:
    parts = []
    if form.since:
        parts.append({column: {"$gte": form.since}})
    if form.until:
        parts.append({column: {"$lt": _day_after(form.until)} if _is_date(form.until) else {"$lte": form.until}})
    return parts


def _is_date(text: str) -> bool:
    return len(text) == 10 and text[4] == "-" and text[7] == "-"


def _day_after(text: str) -> str:
    """ "until 2024-05-01" includes that whole day."""
    from datetime import date, timedelta

    return (date.fromisoformat(text) + timedelta(days=1)).isoformat()


def _cursor(after: str) -> tuple[str | None, str]:
    when, sep, record_id = after.rpartition("|")
    if not sep or not record_id:
        raise QueryError(f"malformed page cursor {after!r}: follow the page links")
    if when:
        try:
            datetime.fromisoformat(when)
        except ValueError as exc:
            raise QueryError(f"malformed page cursor {after!r}: follow the page links") from exc
    return (when or None), record_id


def _both(a: dict, b: dict) -> dict:
    return {"$and": [a, b]} if a else b


def _keyset(fetch: Any, query: dict, column: str, after: str, limit: int) -> list[Any]:
    """Up to ``limit`` rows of ``query`` after the cursor, in newest-first order (undated
    rows last, by id). Each part is a range the ``column`` index serves: rows dated up to
    the cursor's time (less those already shown), then the undated ones."""
    if not after:
        return fetch(query, limit)
    when, record_id = _cursor(after)
    rows: list[Any] = []
    if when is not None:
        dated = {column: {"$lte": when}, "$nor": [{column: when, "id": {"$lte": record_id}}]}
        rows = fetch(_both(query, dated), limit)
        if len(rows) < limit:
            rows += fetch(_both(query, {column: None}), limit - len(rows))
    else:
        rows = fetch(_both(query, {column: None, "id": {"$gt": record_id}}), limit)
    return rows


def _cursor_of(when: datetime | None, record_id: str) -> str:
    return f"{when.isoformat() if when is not None else ''}|{record_id}"


def artifact_query(form: SearchForm) -> dict:
    """The artifact query the form stands for (without paging)."""
    parts: list[dict] = [form.query] if form.query else []
    if form.kind in ("cached", "files"):
        parts.append({"kind": form.kind})
    if form.name:
        parts.append({"name": form.name})
    if form.user:
        parts.append({"user": form.user})
    if form.label:
        key, _, value = form.label.partition("=")
        parts.append({f"labels.{key.strip()}": value.strip()})
    parts += _time_range("computed_at", form)
    return {"$and": parts} if len(parts) > 1 else (parts[0] if parts else {})


def dataset_query(form: SearchForm) -> dict:
    parts: list[dict] = [form.query] if form.query else []
    if form.name:
        parts.append({"name": form.name})
    if form.user:
        parts.append({"creator": form.user})
    if form.label:
        key, _, value = form.label.partition("=")
        parts.append({key.strip(): value.strip()} if key.strip() != "keyword" else {"keywords": value.strip()})
    parts += _time_range("created_at", form)
    return {"$and": parts} if len(parts) > 1 else (parts[0] if parts else {})


def run_search(form: SearchForm, repo: Any) -> SearchPage:
    """One page of results for ``form`` from ``repo`` (QueryError when the query is malformed)."""
    if form.error:
        raise QueryError(form.error)
    if form.kind in ("artifacts", "cached", "files"):
        return _artifacts(form, repo)
    if form.kind == "datasets":
        return _datasets(form, repo)
    if form.kind == "executions":
        return _executions(form, repo)
    return _sets(form, repo)


def _artifacts(form: SearchForm, repo: Any) -> SearchPage:
    from provkit.services.search import find_artifacts

    rows = _keyset(lambda q, n: list(find_artifacts(q, n, repo=repo)), artifact_query(form), "computed_at",
                   form.after, form.limit + 1)  # fmt: skip
    more = len(rows) > form.limit
    rows = rows[: form.limit]
    return SearchPage(form.kind, rows, _cursor_of(rows[-1].computed_at, rows[-1].id) if more else None)


def _datasets(form: SearchForm, repo: Any) -> SearchPage:
    from provkit.services.registry import Registry

    registry = Registry(repo)
    rows = _keyset(lambda q, n: registry.find_datasets(q or None, all_statuses=form.history, limit=n),
                   dataset_query(form), "created_at", form.after, form.limit + 1)  # fmt: skip
    more = len(rows) > form.limit
    rows = rows[: form.limit]
    return SearchPage(form.kind, rows, _cursor_of(rows[-1].created_at, rows[-1].id) if more else None)


def _executions(form: SearchForm, repo: Any) -> SearchPage:
    """Executions have no query language: name filter in the database, the rest here."""
    from provkit.services.registry import Registry

    if form.query:
        raise QueryError("executions are filtered by name, user and time only: clear the JSON query")
    found = Registry(repo).find_executions(form.name or None)
    if form.user:
        found = [e for e in found if e.creator == form.user]
    found = [e for e in found if _in_range(e.created_at, form)]
    return _slice(form, found, lambda e: e.created_at)


def _sets(form: SearchForm, repo: Any) -> SearchPage:
    if form.query or form.user or form.label:
        raise QueryError("artifact sets are filtered by name and time only: clear the other filters")
    found = [s for s in repo._sets_named(form.name or None) if _in_range(s.created_at, form)]
    return _slice(form, found, lambda s: s.created_at)


def _in_range(when: datetime | None, form: SearchForm) -> bool:
    if when is None:
        return not (form.since or form.until)
    if form.until and _is_date(form.until):
        return (not form.since or when >= _aware(form.since)) and when < _aware(_day_after(form.until))
    return (not form.since or when >= _aware(form.since)) and (not form.until or when <= _aware(form.until))


def _aware(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def _slice(form: SearchForm, found: list[Any], when: Any) -> SearchPage:
    start = 0
    if form.after:
        _, record_id = _cursor(form.after)
        ids = [r.id for r in found]
        start = ids.index(record_id) + 1 if record_id in ids else len(found)
    rows = found[start : start + form.limit]
    more = start + form.limit < len(found)
    return SearchPage(form.kind, rows, _cursor_of(when(rows[-1]), rows[-1].id) if more and rows else None)
