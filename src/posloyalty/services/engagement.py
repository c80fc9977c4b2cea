"""Engagement points (referral, review, social share, survey) and member extras.

Each engagement kind has a value and a cap per member per period in the
programme. Events are recorded by staff at the till or imported from a CSV
file; an event's reference (a review id, a survey id) is recorded in its
entry's reason, so importing the same event twice pays it once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from posloyalty.domain.periods import period_bounds
from posloyalty.domain.programme import ENGAGEMENT_KINDS, EngagementValue
from posloyalty.services.context import TillContext
from posloyalty.services.errors import InvalidInputError, RejectedError
from posloyalty.services.ledger import append_audit, append_entry
from posloyalty.services.loyalty import balance_of, local_day_start, stamp
from posloyalty.services.members import check_characters, check_length
from posloyalty.services.programme import Rules, current_rules
from posloyalty.storage.programme import MemberProfile

logger = logging.getLogger(__name__)

HOUSEHOLD_ID_MAX_LENGTH = 64

_COUNT_IN_PERIOD_SQL = (
    "SELECT COUNT(*) FROM ledger_entry e WHERE e.member_id = ? AND e.kind = 'bonus'"
    " AND e.reason LIKE ? AND e.created_at >= ? AND e.created_at < ?"
    " AND e.points + COALESCE((SELECT SUM(r.points) FROM ledger_entry r"
    " WHERE r.reverses_id = e.id), 0) > 0"
)
_SAME_EVENT_SQL = (
    "SELECT 1 FROM ledger_entry WHERE member_id = ? AND kind = 'bonus' AND reason = ?"
)
_SALES_OF_MEMBER_SQL = (
    "SELECT COUNT(*) FROM sale WHERE member_id = ? AND original_sale_id IS NULL"
    " AND amount_minor > 0"
)


def _profile(ctx: TillContext, member_id: str) -> MemberProfile:
    balance_of(ctx, member_id)  # raises NotFoundError for an unknown member
    profile = MemberProfile.get_or_none(MemberProfile.member_id == member_id)
    if profile is None:
        profile = MemberProfile(member_id=member_id, updated_at=ctx.now())
        profile.save(force_insert=True)
    return profile


def set_member_extras(
    ctx: TillContext,
    member_id: str,
    *,
    birthday: str | None = None,
    referred_by: str | None = None,
    leaderboard_opt_in: bool | None = None,
    household_id: str | None = None,
    staff: str | None = None,
) -> None:
    """Set a member's birthday (``MM-DD``), referrer, leaderboard consent, household.

    Members with the same ``household_id`` share one wallet (see
    ``services.household``); an empty ``household_id`` takes the member out
    of their household. Points already earned stay with the member.

    Raises:
        InvalidInputError: the birthday is not ``MM-DD``, the member refers
            themselves, or the household id is too long or contains a control
            character.
        RejectedError: the member already has a referrer or a sale.
        NotFoundError: the member or the referrer does not exist.
    """
    with ctx.db.atomic():
        profile = _profile(ctx, member_id)
        if birthday is not None:
            profile.birth_month_day = _check_birthday(birthday)
        if referred_by is not None:
            _check_referrer(ctx, profile, member_id, referred_by)
            profile.referred_by = referred_by
        if leaderboard_opt_in is not None:
            profile.leaderboard_opt_in = leaderboard_opt_in
        if household_id is not None:
            profile.household_id = _check_household(household_id)
        profile.updated_at = ctx.now()
        profile.save()
        append_audit(ctx, "member extras", staff=staff, member_id=member_id)


def _check_household(text: str) -> str | None:
    value = text.strip()
    check_characters("household id", value)
    check_length("household id", value, HOUSEHOLD_ID_MAX_LENGTH)
    return value or None


def _check_birthday(text: str) -> str:
    value = text.strip()
    try:
        datetime.strptime(f"2000-{value}", "%Y-%m-%d")
    except ValueError:
        raise InvalidInputError(
            f"invalid birthday {text!r}: write month and day as MM-DD, like 04-23"
        ) from None
    return value


def _check_referrer(
    ctx: TillContext, profile: MemberProfile, member_id: str, referrer: str
) -> None:
    if referrer == member_id:
        raise InvalidInputError("invalid referrer: a member cannot refer themselves")
    balance_of(ctx, referrer)
    if profile.referred_by and profile.referred_by != referrer:
        raise RejectedError(f"member {member_id} already has a referrer")
    sales = ctx.db.execute_sql(_SALES_OF_MEMBER_SQL, (member_id,)).fetchone()[0]
    if sales:
        raise RejectedError(
            f"member {member_id} has already bought: a referral is recorded before"
            " the new member's first sale"
        )


def _under_cap(
    ctx: TillContext,
    member_id: str,
    value: EngagementValue,
    when: datetime,
) -> bool:
    if not value.cap:
        return True
    day = when.astimezone(ctx.settings.timezone).date()
    start, end = period_bounds(day, value.period)
    count = ctx.db.execute_sql(
        _COUNT_IN_PERIOD_SQL,
        (
            member_id,
            f"engagement {value.kind}%",
            stamp(local_day_start(ctx, start)),
            stamp(local_day_start(ctx, end)),
        ),
    ).fetchone()[0]
    return int(count) < value.cap


def _pay(
    ctx: TillContext,
    member_id: str,
    value: EngagementValue,
    reason: str,
    rules: Rules,
    staff: str | None,
) -> int:
    if not _under_cap(ctx, member_id, value, ctx.now()):
        return 0
    append_entry(
        ctx,
        member_id,
        "bonus",
        value.points,
        staff=staff,
        reason=reason,
        rule_version=rules.version,
    )
    return value.points


def pay_referral_at_first_sale(
    ctx: TillContext, member_id: str, sale_id: str, rules: Rules, staff: str | None
) -> int:
    """Pay the referral bonus to both members at the new member's first sale.

    Runs inside the sale's transaction. Each member's cap for referrals
    applies; a member at the cap gets nothing for this referral.

    Returns:
        The points paid to the new member (the referrer's are not counted).
    """
    value = rules.programme.engagement_value("referral")
    if value is None:
        return 0
    profile = MemberProfile.get_or_none(MemberProfile.member_id == member_id)
    if profile is None or not profile.referred_by or profile.referral_paid:
        return 0
    sales = ctx.db.execute_sql(_SALES_OF_MEMBER_SQL, (member_id,)).fetchone()[0]
    if sales != 1:
        return 0
    referrer = profile.referred_by
    paid = _pay(
        ctx, member_id, value, f"engagement referral by {referrer}", rules, staff
    )
    _pay(ctx, referrer, value, f"engagement referral of {member_id}", rules, staff)
    profile.referral_paid = True
    profile.save()
    logger.info("referral of %s by %s paid at sale %s", member_id, referrer, sale_id)
    return paid


@dataclass(frozen=True)
class EngagementResult:
    """What recording an engagement event paid; 0 points when capped or a repeat."""

    member_id: str
    kind: str
    points: int
    balance: int
    reason: str


def record_engagement(
    ctx: TillContext,
    member_id: str,
    kind: str,
    reference: str = "",
    staff: str | None = None,
) -> EngagementResult:
    """Pay a review, social share or survey, within the member's cap; one transaction.

    Raises:
        InvalidInputError: the kind is unknown, or is ``referral`` (paid at the
            new member's first sale instead).
        RejectedError: the programme gives no points for this kind.
        NotFoundError: no such member.
    """
    kind = kind.strip().lower().replace("-", "_")
    if kind not in ENGAGEMENT_KINDS or kind == "referral":
        raise InvalidInputError(
            f"invalid engagement kind {kind!r}: use review, social_share or survey"
            " (a referral is recorded with the new member's referrer)"
        )
    rules = current_rules(ctx)
    value = rules.programme.engagement_value(kind)
    if value is None:
        raise RejectedError(
            f"the programme gives no points for {kind}: set them with"
            f" rules engagement set {kind} --points N"
        )
    reference = " ".join(reference.split())
    reason = f"engagement {kind} {reference}".rstrip()
    with ctx.db.atomic():
        balance_of(ctx, member_id)
        repeat = (
            reference
            and ctx.db.execute_sql(_SAME_EVENT_SQL, (member_id, reason)).fetchone()
        )
        points = 0 if repeat else _pay(ctx, member_id, value, reason, rules, staff)
        balance = balance_of(ctx, member_id)
    logger.info("engagement %s for member %s: %d points", kind, member_id, points)
    return EngagementResult(member_id, kind, points, balance, reason)
