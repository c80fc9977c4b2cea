"""Rule versions set at the head office: storing them at the till and putting one in force.

Once a till has taken a rule version from the head office, the head office's
rules win: the till's own rule edits are rejected while it is set up to sync,
and each sync puts the head office's latest version in force. A till that
never joined, or whose head office never set rules, keeps its own rules.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from posloyalty.domain.errors import DomainError
from posloyalty.domain.programme_document import (
    programme_from_dict,
    programme_to_dict,
)
from posloyalty.domain.rule_versions import is_head_office_version
from posloyalty.services.config import VALIDATORS, rule_from_values, rule_to_json
from posloyalty.services.errors import InvalidInputError, RejectedError
from posloyalty.services.ledger import append_audit
from posloyalty.storage import models
from posloyalty.storage.programme import ProgrammeVersion

if TYPE_CHECKING:
    from posloyalty.services.context import TillContext

logger = logging.getLogger(__name__)

# Settings that make up the head office's earning rule, in the order shown.
HEAD_OFFICE_RULE_KEYS = ("earn_rate", "excluded_skus", "minimum_spend", "point_value")


def check_rules_editable(values: Mapping[str, str]) -> None:
    """Reject a rule change at a till whose rules come from the head office.

    Args:
        values: the till's stored settings.

    Raises:
        RejectedError: the rule version in force is the head office's and the
            till is set up to sync with it.
    """
    version = int(values.get("rule_version") or 0)
    if is_head_office_version(version) and values.get("server_url"):
        raise RejectedError(
            f"this till takes its rules from head office (rule version {version}):"
            " change them there with posloyalty-server rules set or"
            " posloyalty-server rules programme FILE"
        )


@dataclass
class AdoptedRules:
    """What storing the head office's rule versions changed at the till.

    Attributes:
        version: the head office rule version now in force, or None when the
            head office has not set any.
        stored: the head office versions this till did not hold before.
        rules_changed: base rule settings whose value changed.
        programme_changed: the programme document in force changed.
    """

    version: int | None = None
    stored: list[int] = field(default_factory=list)
    rules_changed: list[str] = field(default_factory=list)
    programme_changed: bool = False


def _checked_version(item: object) -> tuple[int, dict[str, str], str]:
    """Validate one version sent by the head office; return it ready to store."""
    if not isinstance(item, dict):
        raise InvalidInputError("invalid rule version from head office: not an object")
    version = item.get("version")
    if not isinstance(version, int) or not is_head_office_version(version):
        raise InvalidInputError(
            f"invalid rule version {version!r} from head office: not a head office"
            " version number"
        )
    rules = item.get("rules") or {}
    try:
        checked = {
            key: VALIDATORS[key](str(rules[key]))
            for key in HEAD_OFFICE_RULE_KEYS
            if key in rules
        }
        programme = programme_from_dict(item.get("programme") or {})
    except (InvalidInputError, DomainError) as error:
        raise InvalidInputError(
            f"invalid rule version {version} from head office: {error}"
        ) from error
    document = json.dumps(programme_to_dict(programme), sort_keys=True)
    return version, checked, document


def adopt_head_office_rules(
    ctx: TillContext, versions: list[Any], current: int | None
) -> AdoptedRules:
    """Store head office rule versions and put version ``current`` in force; one transaction.

    Each version is stored under the head office's own number together with
    its programme document, so an entry that any till computed with it is
    explained with the same rules here. A version this till already has is
    kept as it is, because a version never changes.

    Args:
        ctx: the open till.
        versions: the head office versions, each ``{"version", "rules",
            "programme"}``, oldest first.
        current: the head office's latest version; None or 0 when it has none.

    Raises:
        InvalidInputError: a version is malformed or ``current`` is not among
            the versions this till holds; nothing is stored.
    """
    checked = [_checked_version(item) for item in versions]
    result = AdoptedRules()
    now = ctx.now()
    with ctx.db.atomic():
        settings = {row.key: row.value for row in models.Setting.select()}
        base = dict(settings)
        for version, rules, document in checked:
            values = {**base, **rules}
            try:
                rule_from_values(values)
            except DomainError as error:
                raise InvalidInputError(
                    f"invalid rule version {version} from head office: {error}"
                ) from error
            if models.RuleVersion.get_or_none(models.RuleVersion.version == version):
                continue
            models.RuleVersion.create(
                version=version, rule=rule_to_json(values), created_at=now
            )
            ProgrammeVersion.insert(
                version=version, document=document, staff=None, created_at=now
            ).on_conflict_ignore().execute()
            result.stored.append(version)

        if current and int(settings.get("rule_version", "0")) != current:
            _put_in_force(ctx, settings, current, result)
            append_audit(
                ctx,
                "rules change",
                details={"version": current, "set_by": "head office"},
            )
    if result.version is not None:
        ctx.reload_settings()
        logger.info(
            "head office rule version %d in force; changed %s",
            result.version,
            ", ".join(result.rules_changed) or "nothing of the base rule",
        )
    return result


def _put_in_force(
    ctx: TillContext, settings: dict[str, str], version: int, result: AdoptedRules
) -> None:
    row = models.RuleVersion.get_or_none(models.RuleVersion.version == version)
    programme = ProgrammeVersion.get_or_none(ProgrammeVersion.version == version)
    if row is None or programme is None:
        raise InvalidInputError(
            f"head office named rule version {version} as current but did not send it"
        )
    rule = json.loads(row.rule)
    result.version = version
    result.rules_changed = [
        key for key in HEAD_OFFICE_RULE_KEYS if settings.get(key) != rule[key]
    ]
    before = ctx.db.execute_sql(
        "SELECT document FROM programme_version WHERE version <= ?"
        " ORDER BY version DESC LIMIT 1",
        (int(settings.get("rule_version", "0")),),
    ).fetchone()
    result.programme_changed = before is None or before[0] != programme.document
    for key in HEAD_OFFICE_RULE_KEYS:
        models.Setting.replace(key=key, value=rule[key]).execute()
    models.Setting.replace(key="rule_version", value=str(version)).execute()
