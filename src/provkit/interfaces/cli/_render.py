"""Tables for people: short ids, one line per row elided to the terminal, ``--wide`` for all.

Every cell is a ``rich.text.Text``: user data is printed as written, never as markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text

from provkit.interfaces.cli._app import out

#: characters of an id shown in narrow tables (enough to be unique in practice; the
#: commands that take an id accept any unique prefix of this length or more)
SHORT_ID = 14
WIDE_HELP = "Show every column and full ids (rows may be wider than the terminal)"
JSON_HELP = "Print JSON (for scripts) instead of a table"
_WIDE_CONSOLE = 100_000  # --wide: rows as long as their content
_GAP = 3  # characters between two columns
_MIN_FLEX = 6  # a flexible column never gets narrower than this


def cell(value: Any) -> Text:
    """A table cell showing ``value`` as written."""
    return Text("" if value is None else str(value))


def short_id(record_id: str, wide: bool) -> str:
    return record_id if wide else record_id[:SHORT_ID]


def human_size(nbytes: int | None) -> str:
    if nbytes is None:
        return ""
    size = float(nbytes)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return str(nbytes)  # pragma: no cover


def timestamp(value: Any, wide: bool) -> str:
    """ISO date and time to the minute (to the second with ``wide``); '' for none."""
    if value is None:
        return ""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return text[:19] if wide else text[:16].replace("T", " ")


def print_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], wide: bool, *, flex: Sequence[str] = ()) -> None:
    """A borderless table, one line per row.

    Narrow (default): the ``flex`` columns (names, paths, labels) share what the terminal
    has left after the others, and their cells are elided with ``…``; ``wide``: every
    cell in full, rows as long as they need."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, expand=False)
    texts = [[cell(v) for v in row] for row in rows]
    natural = [max([len(name), *(len(t[i].plain) for t in texts)]) for i, name in enumerate(columns)]
    widths = natural if wide else _fit(columns, natural, flex, out.width)
    for name, width in zip(columns, widths):
        table.add_column(name, no_wrap=True, overflow="ellipsis", width=width)
    for row in texts:
        table.add_row(*row)
    if wide:
        from rich.console import Console

        Console(width=_WIDE_CONSOLE, file=out.file, no_color=out.no_color).print(table)
    else:
        out.print(table)


def _fit(columns: Sequence[str], natural: list[int], flex: Sequence[str], width: int) -> list[int]:
    """Column widths within ``width``: fixed columns keep theirs, flex ones share the rest."""
    gaps = _GAP * (len(columns) - 1)
    flexible = [i for i, name in enumerate(columns) if name in flex]
    budget = width - gaps - sum(w for i, w in enumerate(natural) if i not in flexible)
    if sum(natural[i] for i in flexible) <= budget:
        return natural
    widths = list(natural)
    pending = sorted(flexible, key=lambda i: natural[i])
    while pending:  # water-filling: narrow columns keep their width, wide ones share the rest
        share = max(_MIN_FLEX, budget // len(pending))
        i = pending.pop(0)
        widths[i] = min(natural[i], share)
        budget -= widths[i]
    return widths


def field_table(rows: list[tuple[str, Any]]) -> None:
    """Two columns, field and value; long values wrap inside their column."""
    table = Table("field", "value", show_header=False)
    for key, value in rows:
        table.add_row(cell(key), cell(value))
    out.print(table)
