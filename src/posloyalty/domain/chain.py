"""The hash chain over ledger entries and audit rows.

Each entry or row stores the SHA-256 of its own fields and of the previous
hash, so editing or removing a stored row breaks the chain from there on.
The till and the head office hash the same fields in the same order, so a
chain verifies the same on both.
"""

from __future__ import annotations

import hashlib
import json


def entry_hash(prev_hash: str | None, fields: list[str]) -> str:
    """Hash one ledger entry or audit row together with its predecessor's hash."""
    material = json.dumps([prev_hash or "", *fields], ensure_ascii=False)
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def ledger_entry_fields(
    entry_id: str,
    member_id: str,
    kind: str,
    points: int,
    sale_id: str | None,
    store: str,
    till: str,
    staff: str | None,
    reason: str | None,
    reverses: str | None,
    created_at: str,
) -> list[str]:
    """Return the hashed fields of a ledger entry; ``created_at`` as stored text."""
    return [
        entry_id,
        member_id,
        kind,
        str(points),
        sale_id or "",
        store,
        till,
        staff or "",
        reason or "",
        reverses or "",
        created_at,
    ]
