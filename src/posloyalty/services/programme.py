"""Reading and changing the programme: every change is a new rule version.

The base earning rule (rate, excluded stock codes, minimum spend, point value)
stays in the settings, and ``TillContext.update_settings`` versions it. The
rest of the programme is a JSON document in ``ProgrammeVersion``. Saving a
document here writes a ``RuleVersion`` row of the current base rule and a
``ProgrammeVersion`` row under the same new version number, so every ledger
entry's ``rule_version`` names both.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from posloyalty.domain.errors import DomainError
from posloyalty.domain.points import EarningRule
from posloyalty.domain.programme import Programme
from posloyalty.domain.programme_document import (
    programme_from_dict,
    programme_to_dict,
)
from posloyalty.services.config import rule_from_values, rule_to_json
from posloyalty.services.context import TillContext
from posloyalty.services.errors import InvalidInputError, NotFoundError
from posloyalty.services.head_office_rules import check_rules_editable
from posloyalty.services.ledger import append_audit
from posloyalty.storage import models
from posloyalty.storage.programme import ProgrammeVersion
from posloyalty.storage.rule_versions import next_local_version

logger = logging.getLogger(__name__)

_PROGRAMME_OF_VERSION_SQL = (
    "SELECT document FROM programme_version WHERE version <= ?"
    " ORDER BY version DESC LIMIT 1"
)

# Rule versions never change once written, so each process parses a version
# once. The key includes the database file, since tests open several.
_CACHE: dict[tuple[str, int], tuple[EarningRule, Programme]] = {}

# Sections that hold a list of items, and the field that names an item.
LIST_SECTIONS = {
    "rewards": "code",
    "challenges": "code",
    "bonus_periods": "name",
    "engagement": "kind",
}


@dataclass(frozen=True)
class Rules:
    """The base earning rule and the programme of one rule version."""

    version: int
    rule: EarningRule
    programme: Programme


def rules_of_version(ctx: TillContext, version: int | None) -> Rules:
    """Load the base rule and programme that a ledger entry's version names.

    A version unknown to this till falls back to the current rules, and the
    returned ``version`` then differs from the one asked for: ``None``, a
    version another till made before it joined the head office (those are
    numbered per till), or a head office version newer than this till's last
    sync.
    """
    current = ctx.settings.rule_version
    if version is None:
        version = current
    key = (str(ctx.db.database), version)
    cached = _CACHE.get(key)
    if cached is None:
        row = models.RuleVersion.get_or_none(models.RuleVersion.version == version)
        if row is None:
            return Rules(
                current, ctx.settings.earning_rule, _programme_up_to(ctx, current)
            )
        rule = rule_from_values(json.loads(row.rule))
        cached = _CACHE[key] = (rule, _programme_up_to(ctx, version))
    return Rules(version, *cached)


def current_rules(ctx: TillContext) -> Rules:
    """Load the rules in force now: those of the settings' rule version."""
    return rules_of_version(ctx, ctx.settings.rule_version)


def _programme_up_to(ctx: TillContext, version: int) -> Programme:
    found = ctx.db.execute_sql(_PROGRAMME_OF_VERSION_SQL, (version,)).fetchone()
    return programme_from_dict(json.loads(found[0])) if found else Programme()


def programme_document(ctx: TillContext) -> dict[str, Any]:
    """Return the programme in force as its JSON-ready document."""
    return programme_to_dict(current_rules(ctx).programme)


def save_programme(
    ctx: TillContext, document: dict[str, Any], staff: str | None = None
) -> Rules:
    """Validate a whole programme document and make it the next rule version.

    Raises:
        InvalidInputError: the document is invalid; nothing is stored.
    """
    try:
        programme = programme_from_dict(document)
    except DomainError as error:
        raise InvalidInputError(str(error)) from error
    stored = json.dumps(programme_to_dict(programme), sort_keys=True)

    with ctx.db.atomic():
        values = {row.key: row.value for row in models.Setting.select()}
        check_rules_editable(values)
        version = next_local_version(ctx.db)
        now = ctx.now()
        models.RuleVersion.create(
            version=version, rule=rule_to_json(values), created_at=now
        )
        ProgrammeVersion.create(
            version=version, document=stored, staff=staff, created_at=now
        )
        models.Setting.replace(key="rule_version", value=str(version)).execute()
        append_audit(ctx, "rules change", staff=staff, details={"version": version})
    ctx.reload_settings()
    logger.info("programme saved as rule version %d", version)
    return current_rules(ctx)


def change_programme(
    ctx: TillContext,
    change: Callable[[dict[str, Any]], None],
    staff: str | None = None,
) -> Rules:
    """Apply ``change`` to a copy of the current document and save it if valid.

    Raises:
        InvalidInputError: the changed document is invalid; nothing is stored.
        NotFoundError: ``change`` removed or edited an item that does not exist.
    """
    document = programme_document(ctx)
    change(document)
    return save_programme(ctx, document, staff)


def add_item(
    ctx: TillContext, section: str, item: dict[str, Any], staff: str | None = None
) -> Rules:
    """Add a reward, challenge, bonus period or engagement value, or replace one.

    An item with the same code (or name, or kind) as an existing one replaces
    it, so a manager corrects an item by adding it again.
    """
    key = LIST_SECTIONS[section]

    def change(document: dict[str, Any]) -> None:
        wanted = _item_key(item.get(key))
        items = [i for i in document[section] if _item_key(i.get(key)) != wanted]
        document[section] = [*items, item]

    return change_programme(ctx, change, staff)


def remove_item(
    ctx: TillContext, section: str, name: str, staff: str | None = None
) -> Rules:
    """Remove an item from a list section by its code, name or kind.

    Raises:
        NotFoundError: no item has this name.
    """
    key = LIST_SECTIONS[section]

    def change(document: dict[str, Any]) -> None:
        items = document[section]
        kept = [i for i in items if _item_key(i.get(key)) != _item_key(name)]
        if len(kept) == len(items):
            names = ", ".join(str(i.get(key)) for i in items) or "none"
            raise NotFoundError(
                f"no {section.replace('_', ' ')} item {name!r}: the programme has"
                f" {names}"
            )
        document[section] = kept

    return change_programme(ctx, change, staff)


def add_tier(
    ctx: TillContext,
    name: str,
    threshold: int,
    multiplier: str = "1",
    staff: str | None = None,
) -> Rules:
    """Add a tier, or change the tier of the same name."""

    def change(document: dict[str, Any]) -> None:
        levels = [
            level
            for level in document["tiers"]["levels"]
            if level["name"].casefold() != name.strip().casefold()
        ]
        levels.append({"name": name, "threshold": threshold, "multiplier": multiplier})
        document["tiers"]["levels"] = levels

    return change_programme(ctx, change, staff)


def remove_tier(ctx: TillContext, name: str, staff: str | None = None) -> Rules:
    """Remove a tier by name.

    Raises:
        NotFoundError: no tier has this name.
    """

    def change(document: dict[str, Any]) -> None:
        levels = document["tiers"]["levels"]
        kept = [t for t in levels if t["name"].casefold() != name.strip().casefold()]
        if len(kept) == len(levels):
            raise NotFoundError(f"no tier {name!r}: see rules list")
        document["tiers"]["levels"] = kept

    return change_programme(ctx, change, staff)


def update_section(
    ctx: TillContext,
    section: str,
    values: dict[str, Any],
    staff: str | None = None,
) -> Rules:
    """Change fields of ``earning``, ``tiers``, ``redemption`` or ``economics``.

    ``section`` ``expiry_months`` sets the expiry from ``values["months"]``.
    """

    def change(document: dict[str, Any]) -> None:
        if section == "expiry_months":
            document["expiry_months"] = values["months"]
        else:
            document[section].update(values)

    return change_programme(ctx, change, staff)


def _item_key(value: Any) -> str:
    return " ".join(str(value or "").split()).casefold()
