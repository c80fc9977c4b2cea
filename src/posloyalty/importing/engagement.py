"""Importing engagement events (reviews, social shares, surveys) from a CSV file."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from posloyalty.importing.csvfile import read_rows
from posloyalty.services.context import TillContext
from posloyalty.services.engagement import record_engagement
from posloyalty.services.errors import InvalidInputError, NotFoundError, RejectedError
from posloyalty.services.members import resolve_member

logger = logging.getLogger(__name__)

COLUMNS = ("member", "kind", "reference")


@dataclass
class EngagementImportReport:
    """What an engagement import paid and skipped, with reasons."""

    rows: int = 0
    paid: int = 0
    points: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


def import_engagement(ctx: TillContext, path: Path) -> EngagementImportReport:
    """Import events from a CSV with the columns ``member,kind,reference``.

    ``member`` is a card number, phone number or external id. Each event is
    paid in its own transaction, like one recorded at the till. Rows whose
    member is not found are skipped and counted; a repeat of a reference is
    paid once; events over the member's cap pay nothing.

    Raises:
        InvalidInputError: a column is missing, or a row has an unknown kind
            or a kind the programme gives no points for; the message names
            the line, and the rows before it stay recorded.
    """
    header, rows = read_rows(path)
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        raise InvalidInputError(
            f"{path.name}: missing column {', '.join(missing)}: the header must"
            " name member, kind and reference"
        )
    report = EngagementImportReport()
    for line, row in rows:
        report.rows += 1
        try:
            member = resolve_member(ctx, row["member"], None)
        except NotFoundError:
            report.skip("member not found")
            continue
        try:
            result = record_engagement(ctx, member.id, row["kind"], row["reference"])
        except (InvalidInputError, RejectedError) as error:
            raise InvalidInputError(f"{path.name} line {line}: {error}") from error
        if result.points:
            report.paid += 1
            report.points += result.points
        else:
            report.skip("repeat or over the cap")
    logger.info("imported %d engagement events from %s", report.paid, path)
    return report
