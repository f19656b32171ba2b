"""Curation commands: ``provkit dataset modify``, ``provkit keyword add``, ``provkit alias ...``.

``provkit show keywords`` lists the vocabulary; everywhere a dataset id is taken
(``show``, ``get``, ``lineage``, ``dataset ...``) an alias name works too.
"""

from __future__ import annotations

import typer

from provkit.interfaces.cli._app import app, print_json, say
from provkit.interfaces.cli._render import JSON_HELP, print_table, short_id, timestamp
from provkit.interfaces.cli.registry_cmd import _emit_dataset, dataset_app, registry

keyword_app = typer.Typer(no_args_is_help=True, help="The keyword vocabulary datasets may carry.")
alias_app = typer.Typer(no_args_is_help=True, help="Names for datasets (or for other aliases).")
app.add_typer(keyword_app, name="keyword")
app.add_typer(alias_app, name="alias")


def _assignments(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"--set takes KEY=VALUE, got {item!r}")
        out[key.strip()] = value
    return out


@dataset_app.command("modify")
def modify_dataset(
    dataset_id: str = typer.Argument(..., help="Id, unique prefix or alias of the dataset"),
    assignments: list[str] = typer.Option(..., "--set", help="KEY=VALUE of a mutable field (repeatable)"),
    keywords: list[str] = typer.Option([], "--add-keyword", help="Keyword to add (repeatable)"),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Change a dataset's mutable metadata (description, url, contact_email, access_api,
    access_api_configuration, is_overwritable, creation_date); kept in its history."""
    from provkit.interfaces.cli._ids import resolve

    reg = registry()
    ds = reg.modify_dataset(resolve(dataset_id), **_assignments(assignments))
    if keywords:
        ds = reg.add_keywords(ds, keywords)
    _emit_dataset(ds, as_json)


@keyword_app.command("add")
def add_keyword(
    keyword: str = typer.Argument(..., help="The new keyword"),
    system: bool = typer.Option(False, "--system", help="A system keyword (admins only)"),
) -> None:
    """Add a keyword to the vocabulary."""
    say(registry().add_keyword(keyword, system=system))


@keyword_app.command("ls")
def list_keywords(as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """Every keyword a dataset may carry (also: ``provkit show keywords``)."""
    show_keywords(as_json)


def show_keywords(as_json: bool) -> None:
    words = registry().keywords()
    print_json(words) if as_json else say("\n".join(words))


@alias_app.command("add")
def add_alias(
    alias: str = typer.Argument(..., help="The alias name (e.g. latest)"),
    target: str = typer.Argument(..., help="Dataset id (or unique prefix), or another alias"),
) -> None:
    """Point ALIAS at a dataset or another alias (an earlier meaning stays in the history)."""
    from provkit.interfaces.cli._ids import resolve

    made = registry().add_alias(alias, resolve(target))
    say(f"{made.alias} -> {made.dataset_id or made.ref_alias_id}")


@alias_app.command("resolve")
def resolve_alias(
    alias: str = typer.Argument(..., help="The alias name"),
    one_step: bool = typer.Option(False, "--one-step", help="Only the next step (an alias id or a dataset id)"),
) -> None:
    """The dataset an alias names now."""
    say(registry().resolve_alias(alias, fully=not one_step))


@alias_app.command("ls")
def list_aliases(
    dataset_id: str = typer.Argument(None, help="Only aliases leading to this dataset"),
    history: bool = typer.Option(False, "--history", help="Superseded aliases too"),
    wide: bool = typer.Option(False, "--wide", "-w", help="Full ids"),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Aliases, with what each names."""
    from provkit.interfaces.cli._ids import resolve

    found = registry().find_aliases(resolve(dataset_id) if dataset_id else None, include_superseded=history)
    if as_json:
        print_json([a.to_dict() for a in found])
        return
    rows = [[a.alias, short_id(a.dataset_id or a.ref_alias_id or "", wide), "superseded" if a.superseded_by else "",
             a.creator or "", timestamp(a.created_at, wide)] for a in found]  # fmt: skip
    print_table(["alias", "names", "state", "by", "when"], rows, wide)


@dataset_app.command("path")
def dataset_path(dataset_id: str = typer.Argument(..., help="Id, unique prefix or alias of the dataset")) -> None:
    """Where a dataset's files are (a local path or a URL; an external dataset's url)."""
    from provkit.interfaces.cli._ids import resolve

    say(registry().url(resolve(dataset_id)))
