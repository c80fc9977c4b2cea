"""The programme as the till's settings screen shows and changes it.

``settings_snapshot`` reads everything the screen shows in one go, so the
window refreshes it off the GUI thread after each change. ``open_rules``
checks a manager's PIN once when the screen opens; every change afterwards
names that person in its audit row. The rewards and tiers go through
``services.programme``, which audits and versions each change itself;
``change_base_rule`` checks that only the base rule changes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from posloyalty.domain.programme import Programme, Reward, TierLevel
from posloyalty.domain.staff import Permission
from posloyalty.services.config import Settings
from posloyalty.services.context import TillContext
from posloyalty.services.errors import InvalidInputError, RejectedError
from posloyalty.services.head_office_rules import (
    HEAD_OFFICE_RULE_KEYS,
    check_rules_editable,
)
from posloyalty.services.programme import current_rules
from posloyalty.services.rewards import EconomicsView, programme_economics
from posloyalty.services.staff import Credentials, StaffView, authorize

logger = logging.getLogger(__name__)

# The settings that make up the base earning rule, in the order shown.
BASE_RULE_KEYS = HEAD_OFFICE_RULE_KEYS


@dataclass(frozen=True)
class RulesSnapshot:
    """The rules and economics on the settings screen, read in one transaction.

    Attributes:
        version: the rule version in force.
        base_rule: the stored text of each key of ``BASE_RULE_KEYS``.
        rewards: the reward catalogue.
        tiers: the tiers, lowest threshold first.
        tier_basis: ``points`` or ``spend`` (thresholds in minor units).
        economics: the reward rate, liability and warnings.
        typical_basket_minor: the basket the reward rate is computed for.
        low_rate: value per 100.00 spent below which a warning shows.
        high_rate: value per 100.00 spent above which a warning shows.
        read_only_reason: why local edits are rejected, or ``None``.
        programme: the whole programme in force, for the bonus period,
            challenge, engagement, expiry and redemption pages.
    """

    version: int
    base_rule: dict[str, str]
    rewards: tuple[Reward, ...]
    tiers: tuple[TierLevel, ...]
    tier_basis: str
    economics: EconomicsView
    typical_basket_minor: int
    low_rate: str
    high_rate: str
    read_only_reason: str | None
    programme: Programme


def open_rules(ctx: TillContext, credentials: Credentials) -> StaffView:
    """Check the PIN of the person opening the settings screen.

    Raises:
        AuthenticationError: the name or PIN is wrong, or the account is locked.
        PermissionDeniedError: the role may not edit the rules (a cashier).
    """
    person = authorize(ctx, credentials, Permission.EDIT_RULES)
    logger.info("rules settings opened by %s", person.name)
    return person


def settings_snapshot(ctx: TillContext) -> RulesSnapshot:
    """Read the base rule, rewards, tiers and economics in force now."""
    with ctx.db.atomic("DEFERRED"):
        settings = ctx.reload_settings()
        rules = current_rules(ctx)
        economics = programme_economics(ctx)
    try:
        check_rules_editable(settings.values)
        reason = None
    except RejectedError as error:
        reason = str(error)
    programme = rules.programme
    return RulesSnapshot(
        version=rules.version,
        base_rule={key: settings.values.get(key, "") for key in BASE_RULE_KEYS},
        rewards=tuple(programme.rewards),
        tiers=tuple(sorted(programme.tiers.levels, key=lambda t: t.threshold)),
        tier_basis=programme.tiers.basis,
        economics=economics,
        typical_basket_minor=programme.economics.typical_basket_minor,
        low_rate=str(programme.economics.low_rate),
        high_rate=str(programme.economics.high_rate),
        read_only_reason=reason,
        programme=programme,
    )


def change_base_rule(
    ctx: TillContext, changes: dict[str, str], staff: str | None = None
) -> Settings:
    """Store a new base earning rule as a new rule version, with an audit row.

    Args:
        ctx: the open till.
        changes: new text for some of ``BASE_RULE_KEYS``.
        staff: the person who made the change, for the audit row.

    Raises:
        InvalidInputError: a key is not part of the base rule, a value is
            invalid or nothing changes; nothing is stored.
        RejectedError: the till takes its rules from the head office.
    """
    unknown = sorted(set(changes) - set(BASE_RULE_KEYS))
    if unknown:
        raise InvalidInputError(
            f"unknown base rule setting {unknown[0]!r}: use one of"
            f" {', '.join(BASE_RULE_KEYS)}"
        )
    if not changes:
        raise InvalidInputError("nothing to change: edit a value of the base rule")
    try:
        # The nested transaction of update_settings becomes a savepoint, so the
        # new version and its audit row are committed together or not at all.
        with ctx.db.atomic():
            settings = ctx.update_settings(changes, staff=staff)
    except Exception:
        # update_settings reloaded the settings inside the transaction.
        ctx.reload_settings()
        raise
    logger.info(
        "base rule changed (%s) as rule version %d",
        ", ".join(sorted(changes)),
        settings.rule_version,
    )
    return settings
