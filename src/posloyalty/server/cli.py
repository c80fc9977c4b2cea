"""Entry point of ``posloyalty-server``: run the head office or manage it.

``posloyalty-server [--database URL] [--listen HOST:PORT]`` runs the API on
uvicorn; the commands below take the same options before the command name.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from peewee import OperationalError

from posloyalty.server.database import DatabaseURLError, describe_url
from posloyalty.server.errors import ServerError

logger = logging.getLogger(__name__)

DATA_DIR_ENV = "POSLOYALTY_SERVER_DATA_DIR"
DEFAULT_LISTEN = "127.0.0.1:8700"
DATABASE_FILE = "server.sqlite3"


class UsageError(Exception):
    """A command-line value is wrong; the message names it and the fix."""


def default_data_dir() -> Path:
    from_env = os.environ.get(DATA_DIR_ENV)
    if from_env:
        return Path(from_env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("posloyalty-server", appauthor=False))


def database_url(args: argparse.Namespace) -> str:
    """Pick the database: ``--database``, the environment, then a file in the data folder."""
    from posloyalty.server.app import DATABASE_ENV

    if args.database:
        return args.database
    if os.environ.get(DATABASE_ENV):
        return os.environ[DATABASE_ENV]
    data_dir = Path(args.data_dir).expanduser() if args.data_dir else default_data_dir()
    return f"sqlite:///{(data_dir / DATABASE_FILE).resolve()}"


def parse_listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdecimal() or not 0 < int(port) < 65536:
        raise UsageError(
            f"invalid --listen {text!r}: write HOST:PORT, such as 127.0.0.1:8700"
        )
    return host.strip("[]"), int(port)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="posloyalty-server",
        description="Head office of the loyalty programme: the API tills sync with.",
    )
    parser.add_argument(
        "--database",
        metavar="URL",
        help="postgresql://user@host:port/name or sqlite:///FILE (default: $"
        "POSLOYALTY_SERVER_DATABASE, else server.sqlite3 in the data folder)",
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help=f"data folder for the default database and log (default: ${DATA_DIR_ENV})",
    )
    parser.add_argument(
        "--listen",
        metavar="HOST:PORT",
        default=DEFAULT_LISTEN,
        help=f"address the API listens on (default: {DEFAULT_LISTEN})",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="uvicorn worker processes sharing the database (default: 1)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    add = sub.add_parser("add-till", help="register a till and print its token once")
    add.add_argument("--store", required=True, help="store name, such as Leeds")
    add.add_argument("--till", required=True, help="till name within the store")
    revoke = sub.add_parser("revoke-till", help="reject a till's token from now on")
    revoke.add_argument("--store", required=True)
    revoke.add_argument("--till", required=True)
    sub.add_parser("tills", help="list registered tills")

    rules = sub.add_parser(
        "rules", help="show or set the earning rule and programme for every till"
    )
    rules_sub = rules.add_subparsers(dest="rules_command", required=True)
    rules_sub.add_parser(
        "show", help="print the head office's earning rule and programme document"
    )
    programme = rules_sub.add_parser(
        "programme",
        help="replace the programme (rewards, tiers, bonus periods, challenges,"
        " engagement, expiry, redemption) with a JSON document",
    )
    programme.add_argument("file", metavar="FILE", help="JSON document, or - for stdin")
    rules_set = rules_sub.add_parser("set", help="change the earning rule")
    rules_set.add_argument("--earn-rate", help="points per 1.00 of currency, such as 1")
    rules_set.add_argument(
        "--exclude-sku", help="comma-separated stock codes that earn nothing"
    )
    rules_set.add_argument(
        "--minimum-spend", help="eligible total below which a sale earns nothing"
    )
    rules_set.add_argument(
        "--point-value", help="money one point is worth, such as 0.01"
    )

    export = sub.add_parser("export", help="export data as CSV")
    export_sub = export.add_subparsers(dest="export_command", required=True)
    balances = export_sub.add_parser("balances", help="write every member's balance")
    balances.add_argument("file", nargs="?", default="-", help="output file, or -")

    report = sub.add_parser("report", help="print a report")
    report_sub = report.add_subparsers(dest="report_command", required=True)
    report_sub.add_parser(
        "below-zero", help="members whose balance is below zero, such as overdrafts"
    )
    sub.add_parser("verify", help="check balances, hash chains and references")
    sub.add_parser("serve", help="run the API (the default without a command)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``posloyalty-server`` and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    # The server logs each request; a command shows only warnings and errors.
    logging.basicConfig(
        level=logging.INFO if args.command in (None, "serve") else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        url = database_url(args)
        if args.command in (None, "serve"):
            return serve(url, args)
        from posloyalty.server.database import open_server_database

        db = open_server_database(url, max_connections=2)
        try:
            with db.connection_context():
                return run_command(args)
        finally:
            _close(db)
    except (ServerError, UsageError, DatabaseURLError) as error:
        print(f"posloyalty-server: {error}", file=sys.stderr)
        return getattr(error, "exit_code", 2)
    except OperationalError as error:
        print(
            f"posloyalty-server: cannot open the database {describe_url(url)}:"
            f" {str(error).strip()}",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        return 130


def _close(db) -> None:
    close_all = getattr(db, "close_all", None)  # a connection pool
    if close_all is not None:
        close_all()
    else:
        db.close()


def serve(url: str, args: argparse.Namespace) -> int:
    """Run the API on uvicorn until interrupted."""
    import uvicorn

    from posloyalty.server.app import DATABASE_ENV, create_app

    host, port = parse_listen(args.listen)
    if args.workers < 1:
        raise UsageError(f"invalid --workers {args.workers}: use 1 or more")
    logger.info("head office on %s:%d, database %s", host, port, describe_url(url))
    if args.workers == 1:
        uvicorn.run(create_app(url), host=host, port=port, log_level="info")
    else:
        # Each worker process builds its own app and connection pool.
        os.environ[DATABASE_ENV] = url
        uvicorn.run(
            "posloyalty.server.app:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=args.workers,
            log_level="info",
        )
    return 0


def read_json_document(name: str) -> object:
    """Read a JSON document from a file, or from standard input for ``-``."""
    try:
        if name == "-":
            text = sys.stdin.read()
        else:
            text = Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or error.__class__.__name__
        raise UsageError(
            f"cannot read programme file {name!r}: {reason}; give a readable JSON file"
        ) from error
    try:
        return json.loads(text)
    except ValueError as error:
        raise UsageError(
            f"invalid JSON in programme file {name!r}: {error}; fix the file and"
            " run the command again"
        ) from error


def run_command(args: argparse.Namespace) -> int:
    from posloyalty.server import reports, tills

    if args.command == "add-till":
        new = tills.add_till(args.store, args.till)
        print(f"added till {new.name!r} of store {new.store!r} (id {new.id}).")
        print("Its token is shown only now; set it at the till with:")
        print("  posloyalty config set server URL --token TOKEN")
        print(new.token)
        return 0
    if args.command == "revoke-till":
        till_id = tills.revoke_till(args.store, args.till)
        print(f"revoked till {args.till!r} of store {args.store!r} (id {till_id})")
        return 0
    if args.command == "tills":
        for till in tills.list_tills():
            state = "revoked" if till.revoked_at else "active"
            seen = till.last_seen_at.isoformat() if till.last_seen_at else "never"
            print(f"{till.id}\t{till.store}\t{till.name}\t{state}\tlast seen {seen}")
        return 0
    if args.command == "rules":
        if args.rules_command == "set":
            changes = {
                key: value
                for key, value in (
                    ("earn_rate", args.earn_rate),
                    ("excluded_skus", args.exclude_sku),
                    ("minimum_spend", args.minimum_spend),
                    ("point_value", args.point_value),
                )
                if value is not None
            }
            if not changes:
                raise UsageError(
                    "nothing to change: give --earn-rate, --exclude-sku,"
                    " --minimum-spend or --point-value"
                )
            tills.set_rules(changes)
        if args.rules_command == "programme":
            tills.set_programme(read_json_document(args.file))
        rules, version = tills.read_rules()
        print(f"rule_version={version}")
        for key, value in rules.items():
            print(f"{key}={value}")
        if args.rules_command != "set":
            document, _version = tills.read_programme()
            print("programme=" + json.dumps(document, sort_keys=True))
        return 0
    if args.command == "export":
        if args.file == "-":
            reports.write_balances_csv(sys.stdout)
        else:
            with open(args.file, "w", newline="", encoding="utf-8") as handle:
                count = reports.write_balances_csv(handle)
            print(f"wrote {count} members to {args.file}", file=sys.stderr)
        return 0
    if args.command == "report":
        rows = reports.members_below_zero()
        for row in rows:
            print("\t".join("" if value is None else str(value) for value in row))
        print(f"{len(rows)} members below zero", file=sys.stderr)
        return 0
    if args.command == "verify":
        problems = reports.verify()
        for line in problems:
            print(line)
        if problems:
            return 1
        print("ok: every balance equals its ledger sum and every chain is intact")
        return 0
    raise UsageError(f"unknown command {args.command!r}")


if __name__ == "__main__":
    sys.exit(main())
