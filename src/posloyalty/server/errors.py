"""Errors of the head office, each with its HTTP status and exit code."""

from __future__ import annotations


class ServerError(Exception):
    """A head-office request failed; the message says why and what to do.

    Attributes:
        status: the HTTP status the API replies with.
        exit_code: the exit code of ``posloyalty-server``.
    """

    status = 422
    exit_code = 2

    def __init__(self, message: str, details: dict | None = None) -> None:
        super().__init__(message)
        self.details = details or {}


class NotFound(ServerError):
    """No till or other record matches the name given."""

    status = 404
    exit_code = 1


class Conflict(ServerError):
    """The request clashes with what another till or an earlier request stored."""

    status = 409
    exit_code = 1
