"""Errors raised by services, each with the exit code the command line uses.

Exit codes: 1 rejected or not found, 2 usage or malformed input, 3 wrong PIN or
locked account, 4 several members match.
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """A person's request could not be carried out; the message says why and what to do."""

    exit_code = 1


class NotFoundError(ServiceError):
    """No member, sale or card matches the reference."""


class RejectedError(ServiceError):
    """A rule rejected the request, such as redeeming more points than the balance."""


class InvalidInputError(ServiceError):
    """A value was malformed: an amount, a phone number, a setting."""

    exit_code = 2


class AuthenticationError(ServiceError):
    """A PIN was wrong or the account is locked."""

    exit_code = 3


class AmbiguousMemberError(ServiceError):
    """Several members match a reference, such as a phone shared by a household."""

    exit_code = 4

    def __init__(self, message: str, candidates: list[Any]):
        super().__init__(message)
        self.candidates = candidates
