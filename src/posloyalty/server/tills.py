"""Tills, their tokens, the programme's card keys and the head office's rules."""

from __future__ import annotations

import hashlib
import json
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
from posloyalty.domain.programme import Programme
from posloyalty.domain.programme_document import (
    programme_from_dict,
    programme_to_dict,
)
from posloyalty.domain.rule_versions import HEAD_OFFICE_FIRST_VERSION
from posloyalty.server import models
from posloyalty.server.database import DEFAULT_RULES
from posloyalty.server.errors import Conflict, NotFound, ServerError

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


def _checked_keys(keys: object) -> list[tuple[str, str]]:
    """Validate a till's card keys: key id to one hex secret or a list of them."""
    if not isinstance(keys, dict):
        raise ServerError("invalid keys: send an object of key id to hex secrets")
    pairs = []
    for key_id, secrets_hex in keys.items():
        listed = secrets_hex if isinstance(secrets_hex, list) else [secrets_hex]
        for secret_hex in listed:
            if not _KEY_ID.match(str(key_id)) or not _KEY_HEX.match(str(secret_hex)):
                raise ServerError(
                    f"invalid card key {key_id!r}: a key id is two digits and its"
                    f" secret {2 * KEY_BYTES} lowercase hex digits"
                )
            pairs.append((str(key_id), str(secret_hex)))
    return pairs


def join(till: models.Till, keys: object, rule_versions_after: object = 0) -> dict:
    """Take a till's card keys, and return the programme's keys, names and rules.

    A key id may arrive with several secrets, and the head office keeps every
    secret of every key id, so cards signed by any shop keep working at every
    till. The reply's ``keys`` contains the first secret of each key id, for
    tills that read one, and ``key_secrets`` all of them. ``key_conflicts``
    lists the key ids the till sent that the head office also stores with
    another secret. ``rule_versions`` contains every head office rule version after
    ``rule_versions_after``, oldest first.

    Raises:
        ServerError: a key id or secret is malformed.
    """
    pairs = _checked_keys(keys)
    if not isinstance(rule_versions_after, int) or rule_versions_after < 0:
        raise ServerError(
            f"invalid rule_versions_after {rule_versions_after!r}: send the highest"
            " head office rule version the till holds, or 0"
        )
    now = utc_now()
    db = models.server_proxy
    with db.atomic():
        for key_id, secret_hex in pairs:
            models.ProgrammeKey.insert(
                key_id=key_id, secret_hex=secret_hex, from_till=till.id, created_at=now
            ).on_conflict_ignore().execute()
        held: dict[str, list[str]] = {}
        for row in models.ProgrammeKey.select().order_by(models.ProgrammeKey.id):
            held.setdefault(row.key_id, []).append(row.secret_hex)
        changes = {models.Till.last_seen_at: now}
        if till.joined_at is None:
            changes[models.Till.joined_at] = now
        models.Till.update(changes).where(models.Till.id == till.id).execute()
        versions = rule_versions(after=rule_versions_after)
        rules, rule_version = read_rules()
    sent = {key_id for key_id, _secret in pairs}
    conflicts = sorted(k for k in sent if len(held.get(k, [])) > 1)
    for key_id in conflicts:
        logger.info(
            "card key %s has %d secrets; till %d receives all of them",
            key_id,
            len(held[key_id]),
            till.id,
        )
    return {
        "till_id": till.id,
        "store": till.store,
        "till": till.name,
        "keys": {key_id: secrets_hex[0] for key_id, secrets_hex in held.items()},
        "key_secrets": held,
        "key_conflicts": conflicts,
        "rules": rules,
        "rule_version": rule_version,
        "rule_versions": versions,
    }


def _version_dict(row: models.RuleVersion) -> dict:
    return {
        "version": row.version,
        "rules": json.loads(row.rules),
        "programme": json.loads(row.programme),
    }


def rule_versions(after: int = 0) -> list[dict]:
    """Return the head office rule versions numbered after ``after``, oldest first.

    Each is ``{"version", "rules", "programme"}``: the base earning rule
    settings and the programme document.
    """
    rows = (
        models.RuleVersion.select()
        .where(models.RuleVersion.version > after)
        .order_by(models.RuleVersion.version)
    )
    return [_version_dict(row) for row in rows]


def _latest_version() -> models.RuleVersion | None:
    return (
        models.RuleVersion.select().order_by(models.RuleVersion.version.desc()).first()
    )


def read_rules() -> tuple[dict[str, str], int]:
    """Return the base earning rule set at head office and its version (0: none)."""
    latest = _latest_version()
    if latest is None:
        return {}, 0
    return json.loads(latest.rules), int(latest.version)


def read_programme() -> tuple[dict, int]:
    """Return the programme document in force at head office and its version."""
    latest = _latest_version()
    if latest is None:
        return programme_to_dict(Programme()), 0
    return json.loads(latest.programme), int(latest.version)


def _new_version(rules: dict[str, str], programme: dict) -> int:
    """Store the next rule version inside the caller's transaction; return its number."""
    latest = _latest_version()
    version = HEAD_OFFICE_FIRST_VERSION if latest is None else latest.version + 1
    models.RuleVersion.create(
        version=version,
        rules=json.dumps(rules, sort_keys=True),
        programme=json.dumps(programme, sort_keys=True),
        created_at=utc_now(),
    )
    return version


def set_rules(changes: dict[str, str]) -> tuple[dict[str, str], int]:
    """Validate the earning rule settings, as the till's ``rules set`` does, and store a version.

    Settings not given keep their value in the latest version, or the default
    when there is none; the programme document stays as it is.

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
        merged = {**DEFAULT_RULES, **current, **checked}
        try:
            EarningRule(
                earn_rate=Decimal(merged["earn_rate"]),
                point_value=Decimal(merged["point_value"]),
            )
        except DomainError as error:
            raise ServerError(str(error)) from error
        if Decimal(merged["minimum_spend"]) < 0:
            raise ServerError("invalid minimum spend: use 0 or more")
        programme, _version = read_programme()
        new_version = _new_version(merged, programme)
    logger.info(
        "head office rule version %d: changed %s",
        new_version,
        ", ".join(sorted(checked)),
    )
    return read_rules()


def set_programme(document: object) -> int:
    """Validate a whole programme document and store it as the next rule version.

    The base earning rule stays as it is. Returns the new version.

    Raises:
        ServerError: the document is invalid; nothing is stored.
    """
    if not isinstance(document, dict):
        raise ServerError(
            "invalid programme document: write a JSON object of the programme's"
            ' sections, such as {"rewards": [], "expiry_months": 12}'
        )
    try:
        programme = programme_to_dict(programme_from_dict(document))
    except DomainError as error:
        raise ServerError(f"invalid programme document: {error}") from error
    db = models.server_proxy
    with db.atomic():
        rules, _version = read_rules()
        version = _new_version({**DEFAULT_RULES, **rules}, programme)
    logger.info("head office rule version %d: programme document replaced", version)
    return version
