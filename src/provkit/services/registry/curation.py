"""Curating registered data: modifying metadata (with history), the keyword vocabulary,
aliases, and who may change what.

Who may change a dataset: whoever registered it (its ``creator``); its owner for
``owner_type='user'``; the members listed for a
group or project in ``$PROVKIT_REGISTRY_GROUPS`` (``"name:alice,bob;other:carol"``; when
the variable is unset anyone may); ``production`` datasets only the users in
``$PROVKIT_PRODUCTION_USERS``; and always the admins in ``$PROVKIT_REGISTRY_ADMINS``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from datetime import datetime, timezone
from importlib import resources
from typing import TYPE_CHECKING, Any

from provkit.core.artifacts import record_id_of
from provkit.core.errors import PermissionDeniedError, RecordNotFoundError, RegistryError
from provkit.core.runs import current_user
from provkit.services.registry.catalog import CatalogTables, catalog_for
from provkit.services.registry.records import MUTABLE_FIELDS, Alias, Dataset, new_id, record_kind

if TYPE_CHECKING:
    from provkit.services.registry.tables import RegistryTables
    from provkit.storage.repos.base import Repository

__all__ = ["DatasetCuration", "check_may_change", "clean_field", "system_keywords"]

_KEYWORD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")
_ALIAS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-:]{0,511}$")
#: a configuration file's text stored with an execution is cut at this many characters
MAX_CONFIG_LENGTH = 10_000


def system_keywords() -> frozenset[str]:
    """The keywords shipped with provkit (``registry/data/system_keywords.txt``)."""
    text = resources.files("provkit.services.registry").joinpath("data/system_keywords.txt").read_text()
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def _names(variable: str) -> set[str]:
    return {n.strip() for n in os.environ.get(variable, "").split(",") if n.strip()}


def _groups() -> dict[str, set[str]] | None:
    raw = os.environ.get("PROVKIT_REGISTRY_GROUPS")
    if raw is None:
        return None
    out: dict[str, set[str]] = {}
    for part in raw.split(";"):
        name, _, members = part.partition(":")
        if name.strip():
            out[name.strip()] = {m.strip() for m in members.split(",") if m.strip()}
    return out


def check_may_change(owner_type: str, owner: str, action: str, what: str, creator: str | None = None) -> None:
    """PermissionDeniedError unless the current user may ``action`` data of this owner
    (registered by ``creator``)."""
    user = current_user()
    if user in _names("PROVKIT_REGISTRY_ADMINS") or (creator is not None and user == creator):
        return
    if owner_type == "production":
        allowed = user in _names("PROVKIT_PRODUCTION_USERS")
        rule = "production data: only the users in $PROVKIT_PRODUCTION_USERS (or admins)"
    elif owner_type == "user":
        allowed = user == owner
        rule = f"user data: only its owner {owner!r} (or admins in $PROVKIT_REGISTRY_ADMINS)"
    else:
        groups = _groups()
        allowed = groups is None or user in groups.get(owner, set())
        rule = f"{owner_type} data: only members of {owner!r} in $PROVKIT_REGISTRY_GROUPS (or admins)"
    if not allowed:
        raise PermissionDeniedError(f"{user!r} may not {action} {what}: {rule}")


class DatasetCuration:
    """Metadata changes, keywords and aliases (mixed into ``Registry``)."""

    repo: Repository
    tables: RegistryTables

    @property
    def catalog(self) -> CatalogTables:
        return catalog_for(self.repo)

    # ---- modify -------------------------------------------------------------------
    @staticmethod
    def modifiable_fields() -> list[str]:
        """The dataset fields ``modify_dataset`` may change (dataregistry's
        ``get_modifiable_columns``)."""
        return list(MUTABLE_FIELDS)

    def modify_dataset(self, dataset: str | Dataset, **changes: Any) -> Dataset:
        """Change a dataset's mutable metadata (``MUTABLE_FIELDS``); each change is kept in
        its ``history`` (who, when, old -> new). Name, version, owner, relpath and content
        are refused."""
        ds = self._own_dataset(self.resolve(dataset), "modify")
        if not changes:
            raise RegistryError("modify_dataset needs at least one field=value")
        refused = sorted(set(changes) - set(MUTABLE_FIELDS))
        if refused:
            raise RegistryError(
                f"cannot modify {', '.join(refused)} of dataset {ds.id}: only {', '.join(MUTABLE_FIELDS)} may change "
                "(register a new version to change the rest)"
            )
        if ds.status != "valid":
            raise RegistryError(f"cannot modify dataset {ds.id}: it is {ds.status}")
        check_may_change(ds.owner_type, ds.owner, "modify", f"dataset {ds.id}", ds.creator)
        clean = {name: clean_field(name, value, self) for name, value in changes.items()}
        if clean.get("is_overwritable") and ds.owner_type == "production":
            raise RegistryError("production datasets are never overwritable")
        if ds.location_type == "external" and "url" in clean and not (clean["url"] or ds.contact_email):
            raise RegistryError("an external dataset needs a url or a contact_email")
        now, user = datetime.now(timezone.utc), current_user()
        entries = [
            {"by": user, "at": now.isoformat(), "field": name, "old": _plain(getattr(ds, name)), "new": _plain(value)}
            for name, value in clean.items()
            if getattr(ds, name) != value
        ]
        if not entries:
            return ds
        return self.tables.update_dataset(ds.id, {e["field"]: clean[e["field"]] for e in entries}, entries)

    # ---- keywords -----------------------------------------------------------------
    def keywords(self) -> list[str]:
        """Every keyword a dataset may carry: the system ones and those users added."""
        return sorted(system_keywords() | set(self.catalog.keywords()))

    def add_keyword(self, keyword: str, *, system: bool = False) -> str:
        """Add ``keyword`` to the vocabulary (system keywords: admins only)."""
        if not isinstance(keyword, str) or not _KEYWORD.match(keyword.strip()):
            raise RegistryError(f"a keyword is a word of letters, digits, '_', '.', '-', got {keyword!r}")
        keyword = keyword.strip()
        if system and current_user() not in _names("PROVKIT_REGISTRY_ADMINS"):
            raise PermissionDeniedError("only admins ($PROVKIT_REGISTRY_ADMINS) may add system keywords")
        if keyword not in system_keywords():
            self.catalog.add_keyword(keyword, system=system, creator=current_user(), at=datetime.now(timezone.utc))
        return keyword

    def check_keywords(self, keywords: Iterable[str]) -> list[str]:
        """``keywords`` if every one is known; a RegistryError naming the unknown ones."""
        words = list(keywords)
        known = set(self.keywords())
        unknown = sorted(set(words) - known)
        if unknown:
            raise RegistryError(
                f"unknown keyword(s) {', '.join(map(repr, unknown))}; add them first (Registry.add_keyword, "
                "`provkit keyword add`) or pick from `provkit show keywords`"
            )
        return words

    def add_keywords(self, dataset: str | Dataset, keywords: Iterable[str]) -> Dataset:
        ds = self.get_dataset(self.resolve(dataset))
        return self.modify_dataset(ds, keywords=sorted({*ds.keywords, *_words(keywords)}))

    def remove_keywords(self, dataset: str | Dataset, keywords: Iterable[str]) -> Dataset:
        ds = self.get_dataset(self.resolve(dataset))
        return self.modify_dataset(ds, keywords=sorted(set(ds.keywords) - set(_words(keywords))))

    # ---- aliases ------------------------------------------------------------------
    def add_alias(self, alias: str, target: str | Dataset | Alias) -> Alias:
        """Name a dataset (or another alias) ``alias``; naming something else later
        supersedes the old meaning, which stays in the history (``find_aliases``)."""
        if (
            not isinstance(alias, str)
            or not _ALIAS.match(alias)
            or record_kind(alias) != "artifact"
            or alias.startswith(("x1", "al_"))
        ):
            raise RegistryError(f"an alias is a name of letters, digits, '_', '.', '-', ':' (not an id), got {alias!r}")
        if isinstance(target, Alias):
            target_alias = target
        elif isinstance(target, str) and not target.startswith("ds_"):
            target_alias = self.catalog.current_alias(target) or self.catalog.fetch_alias(target)
            if target_alias is None:
                raise RecordNotFoundError(f"no dataset or alias {target!r}", record_id=target)
        else:
            target_alias = None
        if target_alias is not None:
            if alias in {a.alias for a in self._chain(target_alias)}:
                raise RegistryError(f"alias {alias!r} would refer to itself through {target_alias.alias!r}")
            row = Alias(new_id("alias"), alias, ref_alias_id=target_alias.id)
        else:
            ds = self.get_dataset(record_id_of(target))
            if ds.status != "valid":
                raise RegistryError(f"cannot alias dataset {ds.id}: it is {ds.status}")
            row = Alias(new_id("alias"), alias, dataset_id=ds.id)
        row.creator, row.created_at = current_user(), datetime.now(timezone.utc)
        return self.catalog.insert_alias(row)

    def _chain(self, alias: Alias) -> list[Alias]:
        chain = [alias]
        while chain[-1].ref_alias_id is not None:
            nxt = self.catalog.fetch_alias(chain[-1].ref_alias_id)
            if nxt is not None:  # an alias of an alias follows that name to its current meaning
                nxt = self.catalog.current_alias(nxt.alias) or nxt
            if nxt is None or len(chain) > 100:
                raise RegistryError(f"alias {alias.alias!r} leads nowhere (a broken or endless chain)")
            chain.append(nxt)
        return chain

    def resolve_alias(self, alias: str, *, fully: bool = True) -> str:
        """What ``alias`` names now: one step (a dataset id or an alias id) or, ``fully``,
        the dataset id at the end of the chain."""
        found = self.catalog.current_alias(alias)
        if found is None:
            raise RecordNotFoundError(f"no alias {alias!r}", record_id=alias)
        if not fully:
            return found.dataset_id or found.ref_alias_id  # type: ignore[return-value]
        return self._chain(found)[-1].dataset_id  # type: ignore[return-value]

    def resolve(self, dataset: str | Dataset) -> str:
        """A dataset id from a dataset, an id or an alias name (of this area, else of a
        production area)."""
        is_id = isinstance(dataset, str) and dataset.startswith(("ds_", "ex_", "x1"))
        if isinstance(dataset, str) and not is_id:
            area = self._alias_area(dataset)
            if area is not None:
                return area.resolve_alias(dataset)
        return record_id_of(dataset)

    def find_aliases(self, dataset: str | Dataset | None = None, *, name: str | None = None,
                     include_superseded: bool = False) -> list[Alias]:  # fmt: skip
        """Aliases (of ``name``) that lead to ``dataset``, current ones unless asked."""
        found = self.catalog.aliases(name)
        if not include_superseded:
            found = [a for a in found if a.superseded_by is None]
        if dataset is not None:
            wanted = self.resolve(dataset)
            found = [a for a in found if self._chain(a)[-1].dataset_id == wanted]
        return found


def _words(keywords: Iterable[str]) -> list[str]:
    return [keywords] if isinstance(keywords, str) else list(keywords)


def clean_field(name: str, value: Any, curation: DatasetCuration) -> Any:
    if name == "keywords":
        words = _words(value)
        if any(not isinstance(w, str) or not w.strip() for w in words):
            raise RegistryError(f"keywords must be non-empty strings, got {words!r}")
        return sorted(dict.fromkeys(curation.check_keywords(w.strip() for w in words)))
    if name == "is_overwritable":
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if not isinstance(value, bool):
            raise RegistryError(f"is_overwritable must be true or false, got {value!r}")
        return value
    if name == "creation_date":
        if value is None:
            return None
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                raise RegistryError(f"creation_date must be ISO-8601 (2024-05-01T12:00), got {value!r}") from None
        if not isinstance(value, datetime):
            raise RegistryError(f"creation_date must be a datetime or an ISO-8601 string, got {value!r}")
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if value is not None and not isinstance(value, str):
        raise RegistryError(f"{name} must be a string, got {type(value).__name__}")
    if name == "contact_email" and value and "@" not in value:
        raise RegistryError(f"contact_email must be an e-mail address, got {value!r}")
    return value


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
