"""A member's standing in the programme, derived from the ledger and sales.

Tier, pending points, points expiring soon, affordable rewards and challenge
progress are all computed here from committed rows; none of them is stored.
The till window and the receipt call ``loyalty_status``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
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
from posloyalty.services.household import (
    Wallet,
    household_member_ids,
    placeholders,
    wallet_balance,
    wallet_of,
)
from posloyalty.services.ledger import parse_time
from posloyalty.services.programme import current_rules
from posloyalty.storage import models

logger = logging.getLogger(__name__)

# Every query below takes a ledger row and a sale row: rows written after
# them are left out, so a receipt's block shows the standing right after its
# sale. ``NO_LIMIT`` includes every row. ``{ids}`` is one placeholder per
# member of the household.

# Points earned at a sale (and bonuses paid with it) net of their reversals,
# plus reversals that name no entry (unlinked returns), which count when made.
_EARNED_EVENTS_SQL = (
    "SELECT e.created_at, e.points + COALESCE((SELECT SUM(r.points) FROM"
    " ledger_entry r WHERE r.reverses_id = e.id AND r.rowid <= ?), 0)"
    " FROM ledger_entry e WHERE e.member_id IN ({ids}) AND e.created_at > ?"
    " AND e.rowid <= ? AND (e.kind IN ('earn', 'bonus')"
    " OR (e.kind = 'reverse' AND e.reverses_id IS NULL AND e.points < 0))"
)
_SPEND_EVENTS_SQL = (
    "SELECT s.occurred_at, s.amount_minor + COALESCE((SELECT SUM(r.amount_minor)"
    " FROM sale r WHERE r.original_sale_id = s.id AND r.rowid <= ?), 0) FROM sale s"
    " WHERE s.member_id IN ({ids}) AND s.original_sale_id IS NULL"
    " AND s.occurred_at > ? AND s.rowid <= ?"
)
_MOVEMENTS_SQL = (
    "SELECT id, member_id, created_at, points, reverses_id FROM ledger_entry"
    " WHERE member_id IN ({ids}) AND rowid <= ? ORDER BY created_at, rowid"
)
_PENDING_SQL = (
    "SELECT COALESCE(SUM(e.points + COALESCE((SELECT SUM(r.points) FROM"
    " ledger_entry r WHERE r.reverses_id = e.id AND r.rowid <= ?), 0)), 0)"
    " FROM ledger_entry e WHERE e.member_id = ? AND e.kind = 'earn'"
    " AND e.sale_id IS NOT NULL AND e.created_at > ? AND e.rowid <= ?"
)
_VISITS_SQL = (
    "SELECT s.id, s.occurred_at, s.amount_minor + COALESCE((SELECT"
    " SUM(r.amount_minor) FROM sale r WHERE r.original_sale_id = s.id"
    " AND r.rowid <= ?), 0), se.inputs FROM sale s"
    " LEFT JOIN sale_earning se ON se.sale_id = s.id"
    " WHERE s.member_id = ? AND s.original_sale_id IS NULL AND s.amount_minor > 0"
    " AND s.occurred_at >= ? AND s.occurred_at < ? AND (? IS NULL OR s.store = ?)"
    " AND s.rowid <= ?"
)
_NET_BONUS_SQL = (
    "SELECT COALESCE(SUM(e.points + COALESCE((SELECT SUM(r.points) FROM"
    " ledger_entry r WHERE r.reverses_id = e.id AND r.rowid <= ?), 0)), 0)"
    " FROM ledger_entry e WHERE e.member_id = ? AND e.kind = 'bonus'"
    " AND e.reason = ? AND e.rowid <= ?"
)
_BALANCE_UP_TO_ROW_SQL = (
    "SELECT COALESCE(SUM(points), 0) FROM ledger_entry"
    " WHERE member_id = ? AND rowid <= ?"
)

NO_LIMIT = 2**63 - 1

EXPIRING_SOON_DAYS = 30


@dataclass(frozen=True)
class Cutoff:
    """The last ledger and sale rows a standing includes, and its time.

    Attributes:
        moment: the time the standing is computed at, UTC.
        entry_row: the highest ``ledger_entry`` rowid included.
        sale_row: the highest ``sale`` rowid included.
    """

    moment: datetime
    entry_row: int = NO_LIMIT
    sale_row: int = NO_LIMIT


def stamp(moment: datetime) -> str:
    """Format a time as the ledger stores it, for comparisons in SQL."""
    text = models.LedgerEntry.created_at.db_value(moment)
    assert text is not None
    return text


def local_day_start(ctx: TillContext, day: date) -> datetime:
    """Return the UTC time at which a local calendar day starts in the shop."""
    return datetime.combine(day, time(0), tzinfo=ctx.settings.timezone).astimezone(UTC)


def qualifying_events(
    ctx: TillContext,
    member_id: str,
    programme: Programme,
    now: datetime,
    cutoff: Cutoff | None = None,
) -> list[QualifyingEvent]:
    """Read the household's events that count toward tiers, as far back as needed.

    The events of every member who shares ``member_id``'s wallet count, so
    all cards of a household hold one tier (see ``member_tier``).
    """
    policy = programme.tiers
    since = now - timedelta(days=31 * (policy.period_months + 1) + policy.grace_days)
    ids = household_member_ids(ctx, member_id)
    template = _SPEND_EVENTS_SQL if policy.basis == "spend" else _EARNED_EVENTS_SQL
    limit = NO_LIMIT
    if cutoff is not None:
        limit = cutoff.sale_row if policy.basis == "spend" else cutoff.entry_row
    rows = ctx.db.execute_sql(
        template.format(ids=placeholders(ids)), (limit, *ids, stamp(since), limit)
    ).fetchall()
    return [QualifyingEvent(parse_time(at), int(amount)) for at, amount in rows]


def member_tier(
    ctx: TillContext,
    member_id: str,
    programme: Programme,
    now: datetime,
    cutoff: Cutoff | None = None,
) -> TierStatus:
    """Derive the tier at ``now`` of the household that ``member_id`` belongs to.

    A household qualifies together: the points earned (or money spent) by
    all its members count toward one tier. Rewards are paid from the shared
    wallet and some rewards need a tier, so every card of the household must
    get the same tier. Pooling also means that joining a household never
    lowers a member's tier. A member without a household qualifies on their
    own history.
    """
    if not programme.tiers.levels:
        return TierStatus(None, 0, None, None, 0)
    events = qualifying_events(ctx, member_id, programme, now, cutoff)
    return tier_status(programme.tiers, events, now)


def wallet_lots(
    ctx: TillContext, member_ids: Sequence[str], cutoff: Cutoff | None = None
) -> tuple[list[Lot], dict[str, str]]:
    """Replay a wallet's ledgers together into the lots still held, oldest first.

    The members' entries are merged in ledger order, so a redemption by one
    card uses up the oldest points of the wallet, whichever card earned them.

    Returns:
        The open lots and, for each lot's entry id, the member who owns it.
    """
    entry_row = NO_LIMIT if cutoff is None else cutoff.entry_row
    rows = ctx.db.execute_sql(
        _MOVEMENTS_SQL.format(ids=placeholders(member_ids)),
        (*member_ids, entry_row),
    ).fetchall()
    owners = {entry_id: owner for entry_id, owner, _at, points, _r in rows}
    lots = open_lots(
        Movement(entry_id, parse_time(at), points, reverses)
        for entry_id, _owner, at, points, reverses in rows
    )
    return lots, owners


def member_lots(ctx: TillContext, member_id: str) -> list[Lot]:
    """Replay the ledger of ``member_id``'s wallet into its open lots, oldest first."""
    return wallet_lots(ctx, household_member_ids(ctx, member_id))[0]


def pending_points(
    ctx: TillContext,
    member_id: str,
    programme: Programme,
    now: datetime,
    cutoff: Cutoff | None = None,
) -> int:
    """Return points earned at sales still inside the return window (not spendable).

    Only ``member_id``'s own entries count; ``wallet_funds`` adds up a household.
    """
    days = programme.earning.pending_days
    if days <= 0:
        return 0
    since = stamp(now - timedelta(days=days))
    entry_row = NO_LIMIT if cutoff is None else cutoff.entry_row
    row = ctx.db.execute_sql(
        _PENDING_SQL, (entry_row, member_id, since, entry_row)
    ).fetchone()
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


@dataclass(frozen=True)
class WalletFunds:
    """Points a household may spend: the wallet's balance less its pending points.

    Attributes:
        member_ids: every member who shares the wallet.
        balance: the sum of their balances, in whole points.
        pending: the sum of their points still inside the return window.
    """

    member_ids: tuple[str, ...]
    balance: int
    pending: int

    @property
    def spendable(self) -> int:
        """Points the wallet can spend now; below 0 when the wallet owes points."""
        return self.balance - self.pending

    @property
    def holder(self) -> str:
        """The owner of the points, as a redemption message names them."""
        return "the household wallet" if len(self.member_ids) > 1 else "the member"


def wallet_funds(
    ctx: TillContext, member_id: str, programme: Programme, now: datetime
) -> WalletFunds:
    """Read the funds of ``member_id``'s wallet from the cached balances.

    Call it inside the redeeming transaction (``BEGIN IMMEDIATE``): no other
    till or thread can then change a balance of the household before the
    redemption's entry is written.

    Raises:
        NotFoundError: no such member.
    """
    ids = household_member_ids(ctx, member_id)
    pending = sum(pending_points(ctx, mid, programme, now) for mid in ids)
    return WalletFunds(ids, wallet_balance(ctx, ids), pending)


def net_bonus(
    ctx: TillContext, member_id: str, reason: str, cutoff: Cutoff | None = None
) -> int:
    """Return the points of bonus entries with ``reason``, net of their reversals."""
    entry_row = NO_LIMIT if cutoff is None else cutoff.entry_row
    row = ctx.db.execute_sql(
        _NET_BONUS_SQL, (entry_row, member_id, reason, entry_row)
    ).fetchone()
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
    cutoff: Cutoff | None = None,
) -> list[Visit]:
    """Read a member's sales on local dates from ``start`` up to ``end`` (exclusive).

    With ``store``, only sales recorded at that store count.
    """
    zone = ctx.settings.timezone
    sale_row = NO_LIMIT if cutoff is None else cutoff.sale_row
    rows = ctx.db.execute_sql(
        _VISITS_SQL,
        (
            sale_row,
            member_id,
            stamp(local_day_start(ctx, start)),
            stamp(local_day_start(ctx, end)),
            store,
            store,
            sale_row,
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
    ctx: TillContext,
    member_id: str,
    programme: Programme,
    day: date,
    cutoff: Cutoff | None = None,
) -> list[ChallengeStatus]:
    """Measure every challenge for the periods that contain local date ``day``.

    Challenges stay per member in a household: they reward a card's own
    visits, and each member's bonus is paid once per period.
    """
    statuses = []
    for challenge in programme.challenges:
        start, end = period_bounds(day, challenge.period)
        key = period_key(day, challenge.period)
        visits = member_visits(ctx, member_id, start, end, cutoff=cutoff)
        progress = challenge_progress(challenge, visits)
        reason = challenge_reason(challenge, key)
        paid = net_bonus(ctx, member_id, reason, cutoff) > 0
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
        balance: the member's own balance in whole points; in a household it
            may be below zero while the wallet is not.
        pending: the wallet's points earned inside the return window, not
            yet spendable.
        spendable: points the wallet can spend now (``wallet.balance -
            pending``, at least 0).
        tier: the household's tier, progress to the next tier and any grace
            period.
        expiring: (local date, points) of the wallet expiring within
            ``EXPIRING_SOON_DAYS``.
        affordable: rewards the wallet can pay for now, cheapest first.
        next_reward: the cheapest reward not yet affordable, or ``None``.
        points_to_next_reward: points still missing for ``next_reward``.
        challenges: progress of the member's challenges in their period.
        wallet: the household wallet; a wallet of one member for a member
            without a household.
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
    wallet: Wallet


def _wallet_at(ctx: TillContext, member_id: str, cutoff: Cutoff | None) -> Wallet:
    wallet = wallet_of(ctx, member_id)
    if cutoff is None:
        return wallet
    members = tuple(
        replace(
            member,
            balance=int(
                ctx.db.execute_sql(
                    _BALANCE_UP_TO_ROW_SQL, (member.member_id, cutoff.entry_row)
                ).fetchone()[0]
            ),
        )
        for member in wallet.members
    )
    return Wallet(wallet.household_id, members, sum(m.balance for m in members))


def loyalty_status(
    ctx: TillContext,
    member_id: str,
    cutoff: Cutoff | None = None,
    programme: Programme | None = None,
) -> LoyaltyStatus:
    """Compute a member's standing; read-only, one consistent snapshot.

    Args:
        ctx: the till.
        member_id: the member.
        cutoff: compute the standing at ``cutoff.moment`` from the rows up to
            its ledger and sale rows; now, from every row, when omitted.
        programme: the programme to apply; the current one when omitted.

    Raises:
        NotFoundError: no such member.
    """
    if programme is None:
        programme = current_rules(ctx).programme
    now = ctx.now() if cutoff is None else cutoff.moment
    zone = ctx.settings.timezone
    today = now.astimezone(zone).date()
    with ctx.db.atomic("DEFERRED"):
        wallet = _wallet_at(ctx, member_id, cutoff)
        ids = tuple(member.member_id for member in wallet.members)
        balance = next(m.balance for m in wallet.members if m.member_id == member_id)
        pending = sum(pending_points(ctx, mid, programme, now, cutoff) for mid in ids)
        tier = member_tier(ctx, member_id, programme, now, cutoff)
        expiring: list[tuple[date, int]] = []
        if programme.expiry_months:
            expiring = expiring_between(
                wallet_lots(ctx, ids, cutoff)[0],
                programme.expiry_months,
                zone,
                today,
                today + timedelta(days=EXPIRING_SOON_DAYS),
            )
        challenges = challenge_statuses(ctx, member_id, programme, today, cutoff)
    spendable = max(wallet.balance - pending, 0)
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
        wallet,
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


_SALE_ROWS_SQL = (
    "SELECT s.rowid, s.recorded_at, (SELECT MAX(e.rowid) FROM ledger_entry e"
    " WHERE e.sale_id = s.id) FROM sale s WHERE s.id = ?"
)
_LAST_ROW_BY_TIME_SQL = (
    "SELECT COALESCE(MAX(rowid), 0) FROM ledger_entry WHERE created_at <= ?"
)


def sale_cutoff(ctx: TillContext, sale_id: str) -> Cutoff:
    """Find the rows and the time of the standing right after a sale.

    The standing right after a sale counts the ledger up to the sale's last
    entry, or up to the time the sale was recorded when it wrote no entry. It
    also counts the sales up to this one, as of the time the sale was recorded.

    Raises:
        NotFoundError: no such sale.
    """
    row = ctx.db.execute_sql(_SALE_ROWS_SQL, (sale_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"sale {sale_id!r} not found")
    sale_row, recorded_at, entry_row = row
    if entry_row is None:
        found = ctx.db.execute_sql(_LAST_ROW_BY_TIME_SQL, (recorded_at,)).fetchone()
        entry_row = found[0]
    return Cutoff(parse_time(recorded_at), int(entry_row), int(sale_row))


def receipt_loyalty_block(
    ctx: TillContext, member_id: str, sale_id: str | None = None
) -> LoyaltyBlock:
    """Build the loyalty block of a receipt, or of the till's member panel.

    Args:
        ctx: the till.
        member_id: the member.
        sale_id: the sale whose receipt this is. The block then shows the
            standing right after that sale (balance, tier, rewards in reach,
            challenges and points expiring as of that date), so a reprint
            days later prints the same figures. The programme is the one in
            force now, so a reward withdrawn since is no longer advertised.
            Without a sale the block shows the standing now.

    Raises:
        NotFoundError: no such member or sale.
    """
    cutoff = None if sale_id is None else sale_cutoff(ctx, sale_id)
    programme = current_rules(ctx).programme
    status = loyalty_status(ctx, member_id, cutoff, programme)
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
    wallet = status.wallet
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
        wallet_balance=wallet.balance if wallet.is_shared else None,
        wallet_members=len(wallet.members) if wallet.is_shared else 0,
    )
