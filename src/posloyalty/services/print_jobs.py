"""The print queue in the till's database: queueing, claiming and finishing jobs.

A job is ``queued`` when written (with its sale, in the sale's transaction),
``printing`` while the worker sends it, then ``printed`` or ``failed`` with the
reason. A failed job is retried after a growing delay until
``MAX_ATTEMPTS``; ``next_attempt_at`` is empty once no retry is planned.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from posloyalty.services.context import TillContext
from posloyalty.services.errors import NotFoundError
from posloyalty.storage import models

logger = logging.getLogger(__name__)

QUEUED, PRINTING, PRINTED, FAILED = "queued", "printing", "printed", "failed"
JOB_KINDS = ("receipt", "card", "test", "slip")
MAX_ATTEMPTS = 5
RETRY_DELAYS_S = (2, 5, 15, 30)  # after the 1st, 2nd, 3rd and 4th failure
BUSY_RETRY_DELAY_S = 1
# A printing attempt ends within a few I/O timeouts of 5 s; one older than this
# was cut off by a stop.
INTERRUPTED_AFTER_S = 120
INTERRUPTED = (
    "printing was interrupted when the till stopped; the receipt may be"
    " incomplete: reprint it"
)

_JOB_COLUMNS = (
    "id, kind, sale_id, member_id, payload, status, attempts, last_error,"
    " created_at, updated_at, next_attempt_at"
)


@dataclass(frozen=True)
class PrintJobView:
    """One print job as the till shows it."""

    id: int
    kind: str
    sale_id: str | None
    member_id: str | None
    payload: dict[str, Any]
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    next_attempt_at: datetime | None

    @property
    def is_finished(self) -> bool:
        """Printed, or failed with no retry planned."""
        return self.status == PRINTED or (
            self.status == FAILED and self.next_attempt_at is None
        )


def _time(value: str | None) -> datetime | None:
    return models.PrintJob.created_at.python_value(value)


def _stamp(value: datetime) -> str:
    return models.PrintJob.created_at.db_value(value)


def _view(row: tuple) -> PrintJobView:
    return PrintJobView(
        id=row[0],
        kind=row[1],
        sale_id=row[2],
        member_id=row[3],
        payload=json.loads(row[4]) if row[4] else {},
        status=row[5],
        attempts=row[6],
        last_error=row[7],
        created_at=_time(row[8]),
        updated_at=_time(row[9]),
        next_attempt_at=_time(row[10]),
    )


def queue_job(
    ctx: TillContext,
    kind: str,
    *,
    sale_id: str | None = None,
    member_id: str | None = None,
    payload: dict[str, Any] | None = None,
) -> int:
    """Insert a queued job, inside the caller's transaction or its own.

    Returns:
        The new job's id.
    """
    if kind not in JOB_KINDS:
        raise ValueError(f"unknown print job kind {kind!r}")
    now = _stamp(ctx.now())
    with ctx.db.atomic():
        cursor = ctx.db.execute_sql(
            "INSERT INTO print_job (kind, sale_id, member_id, payload, status,"
            " attempts, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
            (
                kind,
                sale_id,
                member_id,
                json.dumps(payload, sort_keys=True) if payload else None,
                QUEUED,
                now,
                now,
            ),
        )
    job_id = int(cursor.lastrowid)
    logger.info("queued print job %d (%s)", job_id, kind)
    return job_id


def get_print_job(ctx: TillContext, job_id: int) -> PrintJobView:
    """Return one job.

    Raises:
        NotFoundError: no job has this id.
    """
    row = ctx.db.execute_sql(
        f"SELECT {_JOB_COLUMNS} FROM print_job WHERE id = ?", (job_id,)
    ).fetchone()
    if row is None:
        raise NotFoundError(f"print job {job_id} not found")
    return _view(row)


def claim_next_job(ctx: TillContext) -> PrintJobView | None:
    """Mark the next job due as ``printing`` and return it; one transaction.

    Queued jobs come first, oldest first, then failed jobs whose retry is due.
    """
    with ctx.db.atomic():
        now = _stamp(ctx.now())
        row = ctx.db.execute_sql(
            f"SELECT {_JOB_COLUMNS} FROM print_job WHERE status = ?"
            " OR (status = ? AND next_attempt_at IS NOT NULL AND next_attempt_at <= ?)"
            " ORDER BY status = ? DESC, id LIMIT 1",
            (QUEUED, FAILED, now, QUEUED),
        ).fetchone()
        if row is None:
            return None
        ctx.db.execute_sql(
            "UPDATE print_job SET status = ?, attempts = attempts + 1,"
            " updated_at = ?, next_attempt_at = NULL WHERE id = ?",
            (PRINTING, now, row[0]),
        )
    return get_print_job(ctx, row[0])


def mark_printed(ctx: TillContext, job_id: int) -> None:
    """Record that a job printed."""
    with ctx.db.atomic():
        ctx.db.execute_sql(
            "UPDATE print_job SET status = ?, last_error = NULL, updated_at = ?,"
            " next_attempt_at = NULL WHERE id = ?",
            (PRINTED, _stamp(ctx.now()), job_id),
        )
    logger.info("print job %d printed", job_id)


def mark_failed(
    ctx: TillContext,
    job_id: int,
    reason: str,
    retry_soon: bool = False,
    retry: bool = True,
) -> PrintJobView:
    """Record a failed attempt with its reason and plan the next one, if any.

    Args:
        ctx: the till.
        job_id: the job that failed.
        reason: the message for the cashier.
        retry_soon: the failure usually clears within a second (a busy device).
        retry: ``False`` when another attempt cannot succeed, such as a job
            whose sale no longer has a member.

    Returns:
        The job after the update.
    """
    with ctx.db.atomic():
        job = get_print_job(ctx, job_id)
        now = ctx.now()
        next_attempt: str | None = None
        if retry and job.attempts < MAX_ATTEMPTS:
            index = min(job.attempts, len(RETRY_DELAYS_S)) - 1
            delay = BUSY_RETRY_DELAY_S if retry_soon else RETRY_DELAYS_S[index]
            next_attempt = _stamp(now + timedelta(seconds=delay))
        ctx.db.execute_sql(
            "UPDATE print_job SET status = ?, last_error = ?, updated_at = ?,"
            " next_attempt_at = ? WHERE id = ?",
            (FAILED, reason, _stamp(now), next_attempt, job_id),
        )
    logger.warning(
        "print job %d failed (attempt %d of %d): %s",
        job_id,
        job.attempts,
        MAX_ATTEMPTS,
        reason,
    )
    return get_print_job(ctx, job_id)


def recover_interrupted_jobs(ctx: TillContext) -> int:
    """Mark jobs left ``printing`` by a stopped till as failed, without a retry.

    A job cut off half-way may have printed in part, so the cashier decides
    whether to reprint it instead of the worker printing it twice. Only jobs
    older than ``INTERRUPTED_AFTER_S`` count, because another process (the
    till window and a command line sale) may be printing one right now.

    Returns:
        How many jobs were marked.
    """
    now = ctx.now()
    cutoff = _stamp(now - timedelta(seconds=INTERRUPTED_AFTER_S))
    with ctx.db.atomic():
        cursor = ctx.db.execute_sql(
            "UPDATE print_job SET status = ?, last_error = ?, updated_at = ?,"
            " next_attempt_at = NULL WHERE status = ? AND updated_at < ?",
            (FAILED, INTERRUPTED, _stamp(now), PRINTING, cutoff),
        )
    count = cursor.rowcount
    if count:
        logger.warning("%d print jobs were interrupted by a stop", count)
    return count


def next_retry_at(ctx: TillContext) -> datetime | None:
    """Return when the earliest planned retry is due, or ``None``."""
    row = ctx.db.execute_sql(
        "SELECT MIN(next_attempt_at) FROM print_job WHERE status = ?", (FAILED,)
    ).fetchone()
    return _time(row[0]) if row and row[0] else None


def list_jobs(
    ctx: TillContext, status: str | None = None, limit: int = 20
) -> list[PrintJobView]:
    """Return the newest jobs, optionally only those with ``status``."""
    if status is None:
        rows = ctx.db.execute_sql(
            f"SELECT {_JOB_COLUMNS} FROM print_job ORDER BY id DESC LIMIT ?", (limit,)
        )
    else:
        rows = ctx.db.execute_sql(
            f"SELECT {_JOB_COLUMNS} FROM print_job WHERE status = ?"
            " ORDER BY id DESC LIMIT ?",
            (status, limit),
        )
    return [_view(row) for row in rows]


def count_jobs(ctx: TillContext, status: str) -> int:
    """Count the jobs with ``status``."""
    row = ctx.db.execute_sql(
        "SELECT COUNT(*) FROM print_job WHERE status = ?", (status,)
    ).fetchone()
    return int(row[0])
