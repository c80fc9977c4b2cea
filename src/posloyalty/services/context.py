"""The open till: its database, settings, card keys and clock."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from peewee import SqliteDatabase

from posloyalty import paths
from posloyalty.domain.cards import CardKeyring
from posloyalty.domain.errors import DomainError
from posloyalty.domain.money import Currency
from posloyalty.services.config import (
    DEFAULT_SETTING_KEYS,
    VALIDATORS,
    Settings,
    default_settings,
    rule_from_values,
    rule_to_json,
)
from posloyalty.services.errors import InvalidInputError
from posloyalty.storage import models
from posloyalty.storage.database import open_database
from posloyalty.storage.keys import load_or_create_keyring
from posloyalty.storage.rule_versions import next_local_version

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]

_RULE_KEYS = {"currency", "earn_rate", "excluded_skus", "minimum_spend", "point_value"}


def utc_now() -> datetime:
    return datetime.now(UTC)


class TillContext:
    """Everything a service needs, opened once per process.

    Attributes:
        data_dir: the till's data folder.
        db: the open SQLite database.
        keyring: the programme's card keys.
        clock: returns the current time as an aware UTC datetime; tests inject one.
    """

    def __init__(self, data_dir: Path, clock: Clock = utc_now) -> None:
        self.data_dir = data_dir
        self.clock = clock
        self.db: SqliteDatabase = open_database(data_dir / paths.DATABASE_FILE)
        self.keyring: CardKeyring = load_or_create_keyring(data_dir / paths.KEYS_FILE)
        self.settings = self._load_settings()

    def now(self) -> datetime:
        return self.clock()

    def close(self) -> None:
        self.db.close()

    def _load_settings(self) -> Settings:
        stored = {row.key: row.value for row in models.Setting.select()}
        if DEFAULT_SETTING_KEYS <= stored.keys():
            return Settings(stored)
        missing = {k: v for k, v in default_settings().items() if k not in stored}
        if missing:
            with self.db.atomic():
                for key, value in missing.items():
                    models.Setting.insert(
                        key=key, value=value
                    ).on_conflict_ignore().execute()
                if "rule_version" in missing:
                    values = {**missing, **stored}
                    models.RuleVersion.insert(
                        version=1, rule=rule_to_json(values), created_at=self.now()
                    ).on_conflict_ignore().execute()
            stored = {**missing, **stored}
        return Settings(stored)

    def reload_settings(self) -> Settings:
        self.settings = self._load_settings()
        return self.settings

    def update_settings(
        self, changes: dict[str, str], staff: str | None = None
    ) -> Settings:
        """Validate and store settings; a change to the earning rule makes a new version.

        Every change writes one audit row naming the keys changed (never their
        values, because some are secrets) and ``staff``, the person who made it.

        Raises:
            InvalidInputError: a key is unknown or a value is invalid; nothing is stored.
        """
        checked: dict[str, str] = {}
        for key, value in changes.items():
            validator = VALIDATORS.get(key)
            if validator is None:
                known = ", ".join(sorted(VALIDATORS))
                raise InvalidInputError(f"unknown setting {key!r}: use one of {known}")
            checked[key] = validator(value)
        if "currency" in checked:
            checked["currency_decimals"] = str(
                Currency.from_code(checked["currency"]).decimals
            )

        with self.db.atomic():
            current = {row.key: row.value for row in models.Setting.select()}
            values = {**current, **checked}
            if _RULE_KEYS & checked.keys():
                # Validate the rule as a whole before anything is stored.
                try:
                    rule_from_values(values)
                except DomainError as error:
                    raise InvalidInputError(str(error)) from error
                # Deferred: that module needs this one's TillContext.
                from posloyalty.services.head_office_rules import check_rules_editable

                check_rules_editable(current)
                version = next_local_version(self.db)
                values["rule_version"] = str(version)
                checked["rule_version"] = str(version)
                models.RuleVersion.create(
                    version=version, rule=rule_to_json(values), created_at=self.now()
                )
            for key, value in checked.items():
                models.Setting.replace(key=key, value=value).execute()
            # Deferred: the ledger module needs this one's TillContext.
            from posloyalty.services.ledger import append_audit

            details: dict[str, object] = {"changed": sorted(changes)}
            if "rule_version" in checked:
                details["version"] = int(checked["rule_version"])
            action = "rules change" if "rule_version" in checked else "settings change"
            append_audit(self, action, staff=staff, details=details)
        logger.info("settings changed: %s", ", ".join(sorted(checked)))
        return self.reload_settings()
