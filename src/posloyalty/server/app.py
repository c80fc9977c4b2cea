"""The head office's HTTP API: FastAPI routes over the sync protocol.

Routes are plain ``def`` functions, so FastAPI runs them in its thread pool and
each request holds one pooled database connection for its duration. Bodies are
parsed with the standard ``json`` module instead of pydantic models, because a
push carries up to 10,000 rows and per-row model validation would cost more
than storing them; ``exchange`` checks every row instead.
"""

from __future__ import annotations

import json
import logging
import os

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from posloyalty.server import exchange, models, tills
from posloyalty.server.database import open_server_database
from posloyalty.server.errors import ServerError
from posloyalty.sync.protocol import API_PREFIX, DEFAULT_PULL_LIMIT, REVOKED_MESSAGE

logger = logging.getLogger(__name__)

DATABASE_ENV = "POSLOYALTY_SERVER_DATABASE"


class _Unauthorized(Exception):
    pass


def _json(payload: object, status: int = 200) -> Response:
    return Response(
        orjson.dumps(payload), status_code=status, media_type="application/json"
    )


def _till_of(request: Request) -> models.Till:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    till = authenticate_header(scheme, token.strip())
    if till is None:
        raise _Unauthorized()
    return till


def authenticate_header(scheme: str, token: str) -> models.Till | None:
    if scheme.lower() != "bearer":
        return None
    return tills.authenticate(token)


async def _body(request: Request) -> object:
    raw = await request.body()
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise ServerError(f"invalid JSON body: {error}") from error


def create_app(database_url: str, max_connections: int = 20) -> FastAPI:
    """Open the database at ``database_url`` (migrating it) and build the API."""
    db = open_server_database(database_url, max_connections)
    app = FastAPI(title="posloyalty head office", version="1")

    @app.exception_handler(ServerError)
    def _server_error(request: Request, error: ServerError) -> JSONResponse:
        logger.warning("%s %s rejected: %s", request.method, request.url.path, error)
        return JSONResponse(
            {"detail": str(error), **error.details}, status_code=error.status
        )

    @app.exception_handler(_Unauthorized)
    def _unauthorized(request: Request, error: _Unauthorized) -> JSONResponse:
        logger.warning("%s %s: unknown or revoked token", request.method, request.url)
        return JSONResponse(
            {"detail": REVOKED_MESSAGE},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )

    @app.get("/health")
    def health() -> dict:
        with db.connection_context():
            db.execute_sql("SELECT 1")
        return {"status": "ok"}

    @app.post(f"{API_PREFIX}/join")
    async def join(request: Request) -> Response:
        body = await _body(request)
        if not isinstance(body, dict):
            body = {}
        return await _in_thread(
            _join, request, body.get("keys"), body.get("rule_versions_after", 0)
        )

    def _join(request: Request, keys: object, after: object) -> Response:
        with db.connection_context():
            till = _till_of(request)
            return _json(tills.join(till, keys, after))

    @app.post(f"{API_PREFIX}/push")
    async def push(request: Request) -> Response:
        body = await _body(request)
        return await _in_thread(_push, request, body)

    def _push(request: Request, body: object) -> Response:
        with db.connection_context():
            till = _till_of(request)
            result = exchange.push(till, body)
        return _json({"held": result.held})

    @app.get(f"{API_PREFIX}/pull")
    def pull(request: Request, after: int = 0, limit: int = DEFAULT_PULL_LIMIT):
        with db.connection_context():
            till = _till_of(request)
            page = exchange.pull(till, after, limit)
        logger.info(
            "pull by till %d after %d: %d entries, cursor %d",
            till.id,
            after,
            len(page["entries"]),
            page["cursor"],
        )
        return _json(page)

    return app


async def _in_thread(function, *args):
    """Run blocking database work in the thread pool, off the event loop."""
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(function, *args)


def app_from_environment() -> FastAPI:
    """Build the app from ``POSLOYALTY_SERVER_DATABASE``, for uvicorn's ``--factory``.

    Each uvicorn worker process calls this once.
    """
    url = os.environ.get(DATABASE_ENV)
    if not url:
        raise RuntimeError(
            f"missing {DATABASE_ENV}: set it to postgresql://... or sqlite:///FILE"
        )
    return create_app(url)
