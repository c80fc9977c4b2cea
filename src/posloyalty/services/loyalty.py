"""A member's standing in the programme, derived from the ledger and sales.

Tier, pending points, points expiring soon, affordable rewards and challenge
progress are all computed here from committed rows; none of them is stored.
The till window and the receipt call ``loyalty_status``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from posloyalty.domain.challenges import Visit, challenge_progress, leaderboard_name
from posloyalty.domain.expiry import Lot, Movement, expiring_between, open_lots
from posloyalty.domain.loyalty_block import ChallengeLine, LoyaltyBlock
from posloyalty.domain.periods import period_bounds, period_key
from posloyalty.domain.programme import Challenge, Programme, Reward
from posloyalty.domain.rewards import reward_choice
from posloyalty.domain.tiers import QualifyingEvent, TierStatus, tier_status
from posloyalty.services.context import TillContext
from posloyalty.services.errors import NotFoundError
from posloyalty.services.ledger import parse_time
from posloyalty.services.programme import current_rules
from posloyalty.storage import models

logger = logging.getLogger(__name__)

# Points earned at a sale (and bonuses paid with it) net of their reversals,
# plus reversals that name no entry (unlinked returns), which count when made.
_EARNED_EVENTS_SQL = (
    "SELECT e.created_at, e.points + COALESCE((SELECT SUM(r.points) FROM"
    " ledger_entry r WHERE r.reverses_id = e.id), 0) FROM ledger_entry e"
    " WHERE e.member_id = ? AND e.created_at > ? AND (e.kind IN ('earn', 'bonus')"
    " OR (e.kind = 'reverse' AND e.reverses_id IS NULL AND e.points < 0))"
)
_SPEND_EVENTS_SQL = (
    "SELECT s.occurred_at, s.amount_minor + COALESCE((SELECT SUM(r.amount_minor)"
    " FROM sale r WHERE r.original_sale_id = s.id), 0) FROM sale s"
    " WHERE s.member_id = ? AND s.original_sale_id IS NULL AND s.occurred_at > ?"
)
_MOVEMENTS_SQL = (
    "SELECT id, created_at, points, reverses_id FROM ledger_entry"
    " WHERE member_id = ? ORDER BY created_at, rowid"
)
_PENDING_SQL = (
    "SELECT COALESCE(SUM(e.points + COALESCE((SELECT SUM(r.points) FROM"
    " ledger_entry r WHERE r.reverses_id = e.id), 0)), 0) FROM ledger_entry e"
    " WHERE e.member_id = ? AND e.kind = 'earn' AND e.sale_id IS NOT NULL"
    " AND e.created_at > ?"
)
_VISITS_SQL = (
    "SELECT s.id, s.occurred_at, s.amount_minor + COALESCE((SELECT"
    " SUM(r.amount_minor) FROM sale r WHERE r.original_sale_id = s.id), 0),"
    " se.inputs FROM sale s LEFT JOIN sale_earning se ON se.sale_id = s.id"
    " WHERE s.member_id = ? AND s.original_sale_id IS NULL AND s.amount_minor > 0"
    " AND s.occurred_at >= ? AND s.occurred_at < ? AND (? IS NULL OR s.store = ?)"
)
_NET_BONUS_SQL = (
    "SELECT COALESCE(SUM(e.points + COALESCE((SELECT SUM(r.points) FROM"
    " ledger_entry r WHERE r.reverses_id = e.id), 0)), 0) FROM ledger_entry e"
    " WHERE e.member_id = ? AND e.kind = 'bonus' AND e.reason = ?"
)

EXPIRING_SOON_DAYS = 30


def stamp(moment: datetime) -> str:
    """Format a time as the ledger stores it, for comparisons in SQL."""
    text = models.LedgerEntry.created_at.db_value(moment)
    assert text is not None
    return text


def local_day_start(ctx: TillContext, day: date) -> datetime:
    """Return the UTC time at which a local calendar day starts in the shop."""
    return datetime.combine(day, time(0), tzinfo=ctx.settings.timezone).astimezone(UTC)


def qualifying_events(
    ctx: TillContext, member_id: str, programme: Programme, now: datetime
) -> list[QualifyingEvent]:
    """Read the events that count toward tiers, as far back as the window needs."""
    policy = programme.tiers
    since = now - timedelta(days=31 * (policy.period_months + 1) + policy.grace_days)
    sql = _SPEND_EVENTS_SQL if policy.basis == "spend" else _EARNED_EVENTS_SQL
    rows = ctx.db.execute_sql(sql, (member_id, stamp(since))).fetchall()
    return [QualifyingEvent(parse_time(at), int(amount)) for at, amount in rows]


def member_tier(
    ctx: TillContext, member_id: str, programme: Programme, now: datetime
) -> TierStatus:
    """Derive a member's tier at ``now`` from the ledger (or sales, for spend)."""
    if not programme.tiers.levels:
        return TierStatus(None, 0, None, None, 0)
    events = qualifying_events(ctx, member_id, programme, now)
    return tier_status(programme.tiers, events, now)


def member_lots(ctx: TillContext, member_id: str) -> list[Lot]:
    """Replay a member's ledger into the lots of points still held, oldest first."""
    rows = ctx.db.execute_sql(_MOVEMENTS_SQL, (member_id,)).fetchall()
    return open_lots(
        Movement(entry_id, parse_time(at), points, reverses)
        for entry_id, at, points, reverses in rows
    )


def pending_points(
    ctx: TillContext, member_id: str, programme: Programme, now: datetime
) -> int:
    """Return points earned at sales still inside the return window (not spendable)."""
    days = programme.earning.pending_days
    if days <= 0:
        return 0
    since = stamp(now - timedelta(days=days))
    row = ctx.db.execute_sql(_PENDING_SQL, (member_id, since)).fetchone()
    return max(int(row[0]), 0)


def balance_of(ctx: TillContext, member_id: str) -> int:
    """Return a member's cached balance.

    Raises:
        NotFoundError: no such member.
    """
    row = ctx.db.execute_sql(
        "SELECT balance FROM member WHERE id = ?", (member_id,)
    ).fetchone()
    if row is None:
        raise NotFoundError(f"member {member_id} not found")
    return int(row[0])


def net_bonus(ctx: TillContext, member_id: str, reason: str) -> int:
    """Return the points of bonus entries with ``reason``, net of their reversals."""
    row = ctx.db.execute_sql(_NET_BONUS_SQL, (member_id, reason)).fetchone()
    return int(row[0])


@dataclass(frozen=True)
class ChallengeStatus:
    """Progress toward one challenge in the current period.

    Attributes:
        code: the challenge's code.
        name: its name.
        period: the period's name, such as ``2025-03``.
        progress: visits, minor units spent or products so far.
        target: the goal.
        bonus: points paid when the goal is reached.
        completed: the bonus for this period is paid.
    """

    code: str
    name: str
    period: str
    progress: int
    target: int
    bonus: int
    completed: bool


def challenge_reason(challenge: Challenge, key: str) -> str:
    """Return the reason of a challenge's bonus entry for one period."""
    return f"challenge {challenge.code} {key}"


def member_visits(
    ctx: TillContext,
    member_id: str,
    start: date,
    end: date,
    store: str | None = None,
) -> list[Visit]:
    """Read a member's sales on local dates from ``start`` up to ``end`` (exclusive).

    With ``store``, only sales recorded at that store count.
    """
    zone = ctx.settings.timezone
    rows = ctx.db.execute_sql(
        _VISITS_SQL,
        (
            member_id,
            stamp(local_day_start(ctx, start)),
            stamp(local_day_start(ctx, end)),
            store,
            store,
        ),
    ).fetchall()
    visits = []
    for sale_id, occurred_at, amount, inputs in rows:
        skus: frozenset[str] = frozenset()
        if inputs:
            lines = json.loads(inputs).get("lines", [])
            skus = frozenset(line["sku"] for line in lines if line["sku"])
        day = parse_time(occurred_at).astimezone(zone).date()
        visits.append(Visit(sale_id, day, int(amount), skus))
    return visits


def challenge_statuses(
    ctx: TillContext, member_id: str, programme: Programme, day: date
) -> list[ChallengeStatus]:
    """Measure every challenge for the periods that contain local date ``day``."""
    statuses = []
    for challenge in programme.challenges:
        start, end = period_bounds(day, challenge.period)
        key = period_key(day, challenge.period)
        visits = member_visits(ctx, member_id, start, end)
        progress = challenge_progress(challenge, visits)
        paid = net_bonus(ctx, member_id, challenge_reason(challenge, key)) > 0
        statuses.append(
            ChallengeStatus(
                challenge.code,
                challenge.name,
                key,
                progress,
                challenge.target,
                challenge.bonus,
                paid,
            )
        )
    return statuses


@dataclass(frozen=True)
class LoyaltyStatus:
    """Everything the till window and the receipt show about a member's standing.

    Attributes:
        member_id: the member.
        balance: the balance in whole points.
        pending: points earned inside the return window, not yet spendable.
        spendable: points the member can spend now (``balance - pending``, at
            least 0).
        tier: tier, progress to the next tier and any grace period.
        expiring: (local date, points) expiring within ``EXPIRING_SOON_DAYS``.
        affordable: rewards the member can take now, cheapest first.
        next_reward: the cheapest reward not yet affordable, or ``None``.
        points_to_next_reward: points still missing for ``next_reward``.
        challenges: progress of every challenge in its current period.
    """

    member_id: str
    balance: int
    pending: int
    spendable: int
    tier: TierStatus
    expiring: tuple[tuple[date, int], ...]
    affordable: tuple[Reward, ...]
    next_reward: Reward | None
    points_to_next_reward: int
    challenges: tuple[ChallengeStatus, ...]


def loyalty_status(ctx: TillContext, member_id: str) -> LoyaltyStatus:
    """Compute a member's standing now; read-only, one consistent snapshot.

    Raises:
        NotFoundError: no such member.
    """
    programme = current_rules(ctx).programme
    now = ctx.now()
    zone = ctx.settings.timezone
    today = now.astimezone(zone).date()
    with ctx.db.atomic("DEFERRED"):
        balance = balance_of(ctx, member_id)
        pending = pending_points(ctx, member_id, programme, now)
        tier = member_tier(ctx, member_id, programme, now)
        expiring: list[tuple[date, int]] = []
        if programme.expiry_months:
            expiring = expiring_between(
                member_lots(ctx, member_id),
                programme.expiry_months,
                zone,
                today,
                today + timedelta(days=EXPIRING_SOON_DAYS),
            )
        challenges = challenge_statuses(ctx, member_id, programme, today)
    spendable = max(balance - pending, 0)
    choice = reward_choice(programme, spendable, tier.tier, today)
    return LoyaltyStatus(
        member_id,
        balance,
        pending,
        spendable,
        tier,
        tuple(expiring),
        choice.affordable,
        choice.next_reward,
        choice.points_to_next,
        tuple(challenges),
    )


@dataclass(frozen=True)
class LeaderboardRow:
    """One opted-in member on a store's leaderboard: first name and initial only."""

    display_name: str
    progress: int
    target: int


def leaderboard(
    ctx: TillContext, code: str, limit: int = 10
) -> tuple[Challenge, str, list[LeaderboardRow]]:
    """Rank opted-in members by progress on a challenge at this store, this period.

    Only members who agreed to appear (``leaderboard_opt_in``) are listed,
    and only sales at this till's store count.

    Returns:
        The challenge, the period's name and the rows, best first.

    Raises:
        NotFoundError: no challenge has this code.
    """
    programme = current_rules(ctx).programme
    wanted = code.strip().upper()
    challenge = next((c for c in programme.challenges if c.code == wanted), None)
    if challenge is None:
        known = ", ".join(c.code for c in programme.challenges) or "none"
        raise NotFoundError(f"no challenge {code!r}: the programme has {known}")
    today = ctx.now().astimezone(ctx.settings.timezone).date()
    start, end = period_bounds(today, challenge.period)
    store = ctx.settings.store
    members = ctx.db.execute_sql(
        "SELECT m.id, m.name FROM member_profile p JOIN member m ON m.id = p.member_id"
        " WHERE p.leaderboard_opt_in AND m.erased_at IS NULL"
    ).fetchall()
    rows = []
    for member_id, name in members:
        visits = member_visits(ctx, member_id, start, end, store)
        progress = challenge_progress(challenge, visits)
        if progress:
            rows.append(
                LeaderboardRow(leaderboard_name(name), progress, challenge.target)
            )
    rows.sort(key=lambda row: (-row.progress, row.display_name))
    return challenge, period_key(today, challenge.period), rows[:limit]


def receipt_loyalty_block(ctx: TillContext, member_id: str) -> LoyaltyBlock:
    """Build the receipt's loyalty block from the member's standing now.

    Raises:
        NotFoundError: no such member.
    """
    # TODO(rules): the block shows the standing when the receipt is built, so
    # a reprint days later shows the tier and challenges of the reprint day.
    status = loyalty_status(ctx, member_id)
    programme = current_rules(ctx).programme
    currency = ctx.settings.currency
    goals = {c.code: c.goal for c in programme.challenges}

    def amount(value: int, is_money: bool) -> str:
        return currency.format_plain(value) if is_money else str(value)

    tier = status.tier
    is_spend = programme.tiers.basis == "spend"
    to_next = amount(tier.to_next, is_spend) + ("" if is_spend else " points")
    challenges = tuple(
        ChallengeLine(
            c.name,
            f"{amount(c.progress, goals[c.code] == 'spend')}"
            f"/{amount(c.target, goals[c.code] == 'spend')}",
            c.completed,
        )
        for c in status.challenges
    )
    return LoyaltyBlock(
        tier_name=tier.tier.name if tier.tier else None,
        next_tier_name=tier.next_tier.name if tier.next_tier else None,
        to_next_tier=to_next,
        pending=status.pending,
        expiring=status.expiring,
        rewards_ready=tuple(reward.name for reward in status.affordable),
        next_reward_name=status.next_reward.name if status.next_reward else None,
        to_next_reward=status.points_to_next_reward,
        challenges=challenges,
    )
