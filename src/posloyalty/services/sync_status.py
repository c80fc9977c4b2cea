"""Sync status for the till's status bar, and the cap on redeeming while offline.

Importing this module adds the sync settings to ``config.VALIDATORS``:
``server_url``, ``server_token``, ``sync_interval_seconds``,
``sync_timeout_seconds``, ``sync_batch_size``, ``offline_redeem_cap`` and
``offline_cap_after_hours``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from urllib.parse import urlparse

from posloyalty.services.config import VALIDATORS
from posloyalty.services.context import TillContext
from posloyalty.services.errors import InvalidInputError, RejectedError
from posloyalty.services.household import household_member_ids, placeholders
from posloyalty.storage import models
from posloyalty.storage.fields import parse_utc
from posloyalty.storage.sync_state import read_state

logger = logging.getLogger(__name__)

DEFAULT_INTERVAL_SECONDS = 60
DEFAULT_TIMEOUT_SECONDS = 30
DEFAULT_BATCH_SIZE = 10_000


def _check_url(value: str) -> str:
    text = value.strip().rstrip("/")
    parsed = urlparse(text)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise InvalidInputError(
            f"invalid server URL {value!r}: write http(s)://host[:port], such as"
            " https://loyalty.example.com"
        )
    return text


def _check_token(value: str) -> str:
    # NOTE: the message never repeats the value, because the token is a secret.
    text = value.strip()
    if not text or any(char.isspace() for char in text):
        raise InvalidInputError(
            "invalid server token: paste the last line that posloyalty-server"
            " add-till printed, without spaces"
        )
    return text


def _check_whole(what: str, low: int, high: int, allow_off: bool = False):
    def check(value: str) -> str:
        text = value.strip()
        if allow_off and text in ("", "off"):
            return ""
        if not text.isdecimal() or not low <= int(text) <= high:
            off = ", or off" if allow_off else ""
            raise InvalidInputError(
                f"invalid {what} {value!r}: use a whole number from {low} to {high}{off}"
            )
        return str(int(text))

    return check


def _check_hours(value: str) -> str:
    try:
        hours = Decimal(value.strip())
    except InvalidOperation:
        hours = Decimal(-1)
    if not hours.is_finite() or hours <= 0:
        raise InvalidInputError(
            f"invalid offline_cap_after_hours {value!r}: use hours above 0, such as 24"
        )
    return str(hours)


VALIDATORS.update(
    {
        "server_url": _check_url,
        "server_token": _check_token,
        "sync_interval_seconds": _check_whole("sync interval", 5, 86_400),
        "sync_timeout_seconds": _check_whole("sync timeout", 1, 600),
        "sync_batch_size": _check_whole("sync batch size", 1, 10_000),
        "offline_redeem_cap": _check_whole("offline redeem cap", 0, 10**9, True),
        "offline_cap_after_hours": _check_hours,
    }
)


@dataclass(frozen=True)
class SyncStatus:
    """Sync as the status bar shows it.

    Attributes:
        is_configured: a server URL and token are set.
        waiting: outbox items (entries, sales, members) not yet acknowledged.
        last_sync_at: the end of the last successful sync, UTC.
        last_error: why the last attempt failed, when it did.
        next_attempt_at: when the timer may try again after failures.
        failures: attempts failed in a row.
    """

    is_configured: bool
    waiting: int
    last_sync_at: datetime | None
    last_error: str | None
    next_attempt_at: datetime | None
    failures: int


def _time(state: dict[str, str], key: str) -> datetime | None:
    value = state.get(key)
    return parse_utc(value) if value else None


def sync_status(ctx: TillContext) -> SyncStatus:
    """Return the last sync, the count waiting and the last failure, for display."""
    with ctx.db.atomic("DEFERRED"):
        state = read_state(ctx.db)
        waiting = models.OutboxItem.select().count()
    return SyncStatus(
        is_configured=bool(ctx.settings.get("server_url"))
        and bool(ctx.settings.get("server_token")),
        waiting=waiting,
        last_sync_at=_time(state, "last_sync_at"),
        last_error=state.get("last_error"),
        next_attempt_at=_time(state, "next_attempt_at"),
        failures=int(state.get("failures", "0")),
    )


def offline_redeem_allowance(ctx: TillContext, member_id: str) -> int | None:
    """Return the points a member may still redeem at this till while it is offline.

    The cap applies once a till that syncs with a head office has gone
    ``offline_cap_after_hours`` without a successful sync (or has never synced),
    and counts this till's redemptions for the member since the last sync; in
    a household, those of every member who shares the wallet.

    Returns:
        None when no cap applies, else the whole points still allowed (0 or more).
    """
    settings = ctx.settings
    cap_text = settings.get("offline_redeem_cap")
    if not cap_text or not settings.get("server_url"):
        return None
    after = Decimal(settings.get("offline_cap_after_hours") or "24")
    state = read_state(ctx.db)
    last_sync = _time(state, "last_sync_at")
    now = ctx.now()
    if last_sync is not None and now - last_sync < timedelta(hours=float(after)):
        return None
    since = models.LedgerEntry.created_at.db_value(last_sync) if last_sync else ""
    ids = household_member_ids(ctx, member_id)
    row = ctx.db.execute_sql(
        f"SELECT COALESCE(-SUM(points), 0) FROM ledger_entry WHERE member_id IN"
        f" ({placeholders(ids)}) AND kind = 'redeem' AND store = ? AND till = ?"
        " AND created_at > ?",
        (*ids, settings.store, settings.till, since),
    ).fetchone()
    return max(int(cap_text) - int(row[0]), 0)


def check_offline_redemption(ctx: TillContext, member_id: str, points: int) -> None:
    """Reject a redemption beyond the offline cap; call it inside the sale's transaction.

    Raises:
        RejectedError: the till has not synced for the configured time and the
            member's redemptions since then would exceed ``offline_redeem_cap``.
    """
    if points <= 0:
        return
    allowance = offline_redeem_allowance(ctx, member_id)
    if allowance is not None and points > allowance:
        raise RejectedError(
            f"offline limit: this till has not synced for"
            f" {ctx.settings.get('offline_cap_after_hours') or '24'} hours, so the"
            f" member may redeem at most {allowance} more points here. Sync the till"
            " (posloyalty sync) or redeem less"
        )
