"""Tills, their tokens, the programme's card keys and the head office's rules."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from peewee import IntegrityError

from posloyalty.domain.cards import KEY_BYTES, KEY_ID_LENGTH
from posloyalty.domain.errors import DomainError
from posloyalty.domain.points import EarningRule
from posloyalty.server import models
from posloyalty.server.errors import Conflict, NotFound, ServerError
from posloyalty.sync.protocol import RULE_KEYS

logger = logging.getLogger(__name__)

_KEY_ID = re.compile(rf"^[0-9]{{{KEY_ID_LENGTH}}}$")
_KEY_HEX = re.compile(rf"^[0-9a-f]{{{2 * KEY_BYTES}}}$")


def utc_now() -> datetime:
    return datetime.now(UTC)


def hash_token(token: str) -> str:
    """Hash a till token for storage; tokens are random, so SHA-256 is enough."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class NewTill:
    """A till just added, with the token shown once to the person who added it."""

    id: int
    store: str
    name: str
    token: str


def add_till(store: str, name: str) -> NewTill:
    """Register a till under a store and till name and create its token.

    Raises:
        ServerError: a name is empty.
        Conflict: a till with these names exists, also when it was revoked.
    """
    store, name = " ".join(store.split()), " ".join(name.split())
    if not store or not name:
        raise ServerError(
            "missing store or till name: give both, such as --store Leeds"
        )
    # The prefix keeps a token from starting with "-", which argparse reads as
    # an option, and marks it as a posloyalty secret in logs and scanners.
    token = "plt_" + secrets.token_urlsafe(32)
    db = models.server_proxy
    try:
        with db.atomic():
            till = models.Till.create(
                store=store,
                name=name,
                token_hash=hash_token(token),
                created_at=utc_now(),
            )
    except IntegrityError as error:
        raise Conflict(
            f"till {name!r} of store {store!r} exists already: choose another till"
            " name, because a till name keeps its ledger chain even when revoked"
        ) from error
    logger.info("added till %d (%s / %s)", till.id, store, name)
    return NewTill(till.id, store, name, token)


def revoke_till(store: str, name: str) -> int:
    """Revoke a till's token, so its next request gets 401; returns the till id.

    Raises:
        NotFound: no such till.
    """
    till = models.Till.get_or_none(
        (models.Till.store == store.strip()) & (models.Till.name == name.strip())
    )
    if till is None:
        raise NotFound(
            f"till {name!r} of store {store!r} not found: list tills with"
            " posloyalty-server tills"
        )
    if till.revoked_at is None:
        till.revoked_at = utc_now()
        till.save()
    logger.info("revoked till %d (%s / %s)", till.id, till.store, till.name)
    return int(till.id)


def list_tills() -> list[models.Till]:
    return list(models.Till.select().order_by(models.Till.id))


def authenticate(token: str) -> models.Till | None:
    """Return the till that holds ``token``, or None when unknown or revoked."""
    if not token:
        return None
    till = models.Till.get_or_none(models.Till.token_hash == hash_token(token))
    if till is None or till.revoked_at is not None:
        return None
    return till


def join(till: models.Till, keys: object) -> dict:
    """Take a till's card keys, and return the programme's keys, names and rules.

    A key id the head office already holds with another secret is not taken
    over; it is listed under ``key_conflicts`` and logged.

    Raises:
        ServerError: a key id or secret is malformed.
    """
    if not isinstance(keys, dict):
        raise ServerError("invalid keys: send an object of key id to hex secret")
    for key_id, secret_hex in keys.items():
        if not _KEY_ID.match(str(key_id)) or not _KEY_HEX.match(str(secret_hex)):
            raise ServerError(
                f"invalid card key {key_id!r}: a key id is two digits and its"
                f" secret {2 * KEY_BYTES} lowercase hex digits"
            )
    now = utc_now()
    db = models.server_proxy
    with db.atomic():
        for key_id, secret_hex in keys.items():
            models.CardKey.insert(
                key_id=key_id, secret_hex=secret_hex, from_till=till.id, created_at=now
            ).on_conflict_ignore().execute()
        held = {row.key_id: row.secret_hex for row in models.CardKey.select()}
        changes = {models.Till.last_seen_at: now}
        if till.joined_at is None:
            changes[models.Till.joined_at] = now
        models.Till.update(changes).where(models.Till.id == till.id).execute()
        rules, rule_version = read_rules()
    conflicts = sorted(k for k, v in keys.items() if held.get(k) != v)
    for key_id in conflicts:
        logger.warning(
            "till %d sent card key %s, which head office holds with another secret",
            till.id,
            key_id,
        )
    return {
        "till_id": till.id,
        "store": till.store,
        "till": till.name,
        "keys": held,
        "key_conflicts": conflicts,
        "rules": rules,
        "rule_version": rule_version,
    }


def read_rules() -> tuple[dict[str, str], int]:
    """Return the earning rule settings set at head office and their version."""
    rows = {row.key: row.value for row in models.ServerSetting.select()}
    rules = {key: rows[key] for key in RULE_KEYS if key in rows}
    return rules, int(rows.get("rule_version", "0"))


def set_rules(changes: dict[str, str]) -> tuple[dict[str, str], int]:
    """Validate and store earning rule settings, as the till's ``rules set`` does.

    Returns:
        The head office's rule settings and their new version.

    Raises:
        ServerError: a value is invalid; nothing is stored.
    """
    from posloyalty.services.config import VALIDATORS
    from posloyalty.services.errors import InvalidInputError

    checked: dict[str, str] = {}
    try:
        for key, value in changes.items():
            checked[key] = VALIDATORS[key](value)
    except InvalidInputError as error:
        raise ServerError(str(error)) from error
    db = models.server_proxy
    with db.atomic():
        current, version = read_rules()
        merged = {**current, **checked}
        try:
            EarningRule(
                earn_rate=Decimal(merged.get("earn_rate", "1")),
                point_value=Decimal(merged.get("point_value", "0.01")),
            )
        except DomainError as error:
            raise ServerError(str(error)) from error
        if Decimal(merged.get("minimum_spend", "0")) < 0:
            raise ServerError("invalid minimum spend: use 0 or more")
        for key, value in {**checked, "rule_version": str(version + 1)}.items():
            models.ServerSetting.insert(key=key, value=value).on_conflict(
                conflict_target=[models.ServerSetting.key],
                update={models.ServerSetting.value: value},
            ).execute()
    logger.info("head office rules changed: %s", ", ".join(sorted(checked)))
    return read_rules()
