"""Numbering of rule versions, so a version number means one set of rules everywhere.

A till numbers the versions it makes itself from 1, and those numbers mean
something only at that till. The head office numbers its versions from
``HEAD_OFFICE_FIRST_VERSION`` up, so its numbers never meet a till's own and
name the same rules at every till that received them.
"""

from __future__ import annotations

HEAD_OFFICE_FIRST_VERSION = 1_000_001


def is_head_office_version(version: int | None) -> bool:
    """Tell whether a rule version number was given by the head office."""
    return version is not None and version >= HEAD_OFFICE_FIRST_VERSION
