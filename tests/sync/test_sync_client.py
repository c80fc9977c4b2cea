"""The till's sync against a real head office on PostgreSQL, one till at a time."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import httpx
import pytest

from ledger_helpers import enrol
from posloyalty.services import members, sales, sync_status
from posloyalty.services.errors import RejectedError
from posloyalty.services.ledger import verify
from posloyalty.sync import client
from posloyalty.sync.client import (
    SyncBusyError,
    SyncError,
    SyncRejectedError,
    run_sync,
    sync_if_due,
)
from posloyalty.sync.lock import SyncLock
from posloyalty.sync.outbox import acknowledge, build_push_batch
from staff_helpers import use_fast_hasher
from sync_helpers import join, open_till, postgres_rows


class FailAfterForward(httpx.BaseTransport):
    """Send a matching request to the server, then lose its reply with ``error``."""

    def __init__(self, path: str, error: type[httpx.TransportError], times: int = 1):
        self.inner = httpx.HTTPTransport()
        self.path, self.error, self.times = path, error, times

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.url.path.endswith(self.path) and self.times > 0:
            self.times -= 1
            response.read()
            response.close()
            raise self.error("reply lost", request=request)
        return response


def http_for(ctx, transport: httpx.BaseTransport) -> httpx.Client:
    return httpx.Client(
        base_url=ctx.settings.get("server_url"), transport=transport, timeout=10
    )


def outbox_count(ctx) -> int:
    return sync_status.sync_status(ctx).waiting


def server_entries(office) -> list[tuple]:
    return postgres_rows(
        office.database, "SELECT id, member_id, points FROM ledger_entry ORDER BY seq"
    )


def server_balance(office, member_id: str) -> int:
    rows = postgres_rows(
        office.database, f"SELECT balance FROM member WHERE id = '{member_id}'"
    )
    return rows[0][0]


def edit_name(ctx, member_id: str, name: str) -> None:
    """Rename a member as a manager at the till would."""
    from posloyalty.services.member_admin import ProfileChanges, edit_member
    from staff_helpers import add_people, creds

    if not ctx.db.execute_sql("SELECT 1 FROM staff LIMIT 1").fetchone():
        add_people(ctx)
    edit_member(ctx, member_id, ProfileChanges(name=name), creds("Alice"))


def record_three_entries(ctx):
    member = enrol(ctx)
    sales.record_sale(ctx, sales.SaleRequest(member.id, 1000))
    sales.record_sale(ctx, sales.SaleRequest(member.id, 2000))
    sales.redeem_points(ctx, member.id, 5)
    return member


def test_sync_sends_the_outbox_and_empties_it(tmp_path, head_office):
    ctx = open_till(tmp_path / "leeds")
    join(ctx, head_office, "Leeds", "Front")
    member = record_three_entries(ctx)
    assert outbox_count(ctx) > 3

    report = run_sync(ctx)

    assert outbox_count(ctx) == 0
    assert report.acknowledged > 3
    assert len(server_entries(head_office)) == 3
    assert server_balance(head_office, member.id) == 25
    status = sync_status.sync_status(ctx)
    assert status.last_sync_at is not None
    assert status.failures == 0
    assert ctx.settings.store == "Leeds"
    assert ctx.settings.till == "Front"
    assert verify(ctx).ok
    ctx.close()


def test_lost_reply_is_resent_and_counted_once(tmp_path, head_office):
    ctx = open_till(tmp_path / "leeds")
    join(ctx, head_office, "Leeds", "Front")
    member = record_three_entries(ctx)
    waiting = outbox_count(ctx)

    with pytest.raises(SyncError, match="cannot reach head office"):
        run_sync(ctx, http_for(ctx, FailAfterForward("/push", httpx.ReadError)))
    assert len(server_entries(head_office)) == 3
    assert outbox_count(ctx) == waiting

    run_sync(ctx)
    assert outbox_count(ctx) == 0
    assert len(server_entries(head_office)) == 3
    assert server_balance(head_office, member.id) == 25
    ctx.close()


def test_timeout_after_store_counts_once(tmp_path, head_office):
    ctx = open_till(tmp_path / "leeds")
    join(ctx, head_office, "Leeds", "Front")
    member = enrol(ctx)
    sales.record_sale(ctx, sales.SaleRequest(member.id, 2500))

    with pytest.raises(SyncError, match="did not answer"):
        run_sync(ctx, http_for(ctx, FailAfterForward("/push", httpx.ReadTimeout)))
    assert outbox_count(ctx) > 0

    run_sync(ctx)
    assert server_balance(head_office, member.id) == 25
    assert len(server_entries(head_office)) == 1
    assert outbox_count(ctx) == 0
    ctx.close()


def test_failure_backs_off_until_due(tmp_path, clock):
    ctx = open_till(tmp_path / "leeds", clock)
    ctx.update_settings({"server_url": "http://127.0.0.1:9", "server_token": "plt_x"})

    with pytest.raises(SyncError, match="cannot reach head office"):
        run_sync(ctx)
    status = sync_status.sync_status(ctx)
    assert status.failures == 1
    assert status.last_error.startswith("cannot reach head office")
    delay = status.next_attempt_at - clock()
    assert timedelta(seconds=15) <= delay <= timedelta(seconds=18)
    assert client.is_sync_due(ctx) is False
    assert sync_if_due(ctx) is None

    clock.advance(seconds=20)
    assert client.is_sync_due(ctx) is True
    with pytest.raises(SyncError):
        sync_if_due(ctx)
    status = sync_status.sync_status(ctx)
    assert status.failures == 2
    assert status.next_attempt_at - clock() >= timedelta(seconds=30)
    ctx.close()


@pytest.mark.parametrize(
    "failures, low, high",
    [(1, 15, 18), (2, 30, 36), (5, 240, 288), (12, 900, 1080)],
)
def test_backoff_doubles_up_to_a_limit(failures, low, high):
    delay = client.backoff_delay(failures).total_seconds()
    assert low <= delay <= high


def test_second_sync_in_another_process_is_busy(tmp_path, head_office):
    ctx = open_till(tmp_path / "leeds")
    join(ctx, head_office, "Leeds", "Front")
    lock_file = ctx.data_dir / "sync.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import fcntl, os, sys, time\n"
         f"fd = os.open({str(lock_file)!r}, os.O_RDWR | os.O_CREAT)\n"
         "fcntl.flock(fd, fcntl.LOCK_EX)\n"
         "print('locked', flush=True)\n"
         "time.sleep(30)\n"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(SyncBusyError, match="already running"):
            run_sync(ctx)
        assert sync_if_due(ctx) is None
    finally:
        holder.kill()
        holder.wait()
    assert run_sync(ctx).acknowledged >= 0
    ctx.close()


def test_second_sync_in_this_process_is_busy(tmp_path, head_office):
    ctx = open_till(tmp_path / "leeds")
    join(ctx, head_office, "Leeds", "Front")
    with SyncLock(ctx.data_dir), pytest.raises(SyncBusyError):
        run_sync(ctx)
    ctx.close()


def test_revoked_till_is_told_clearly(tmp_path, head_office):
    from posloyalty.server import tills

    ctx = open_till(tmp_path / "leeds")
    join(ctx, head_office, "Leeds", "Front")
    enrol(ctx)
    run_sync(ctx)
    tills.revoke_till("Leeds", "Front")
    enrol(ctx, phone="07700 900456")

    with pytest.raises(SyncRejectedError, match="revoked"):
        run_sync(ctx)
    assert outbox_count(ctx) > 0
    assert "revoked" in sync_status.sync_status(ctx).last_error
    ctx.close()


def test_head_office_rules_win_once_joined(tmp_path, head_office):
    from posloyalty.server import tills

    ctx = open_till(tmp_path / "leeds")
    ctx.update_settings({"earn_rate": "5"})
    tills.set_rules({"earn_rate": "2", "excluded_skus": "POST,DOT"})
    join(ctx, head_office, "Leeds", "Front")

    report = run_sync(ctx)
    assert report.rules_changed == ["earn_rate", "excluded_skus"]
    assert ctx.settings.get("earn_rate") == "2"
    assert ctx.settings.get("excluded_skus") == "DOT,POST"

    with pytest.raises(RejectedError, match="takes its rules from head office"):
        ctx.update_settings({"earn_rate": "9"})
    run_sync(ctx)
    assert ctx.settings.get("earn_rate") == "2"
    member = enrol(ctx)
    result = sales.record_sale(ctx, sales.SaleRequest(member.id, 1000))
    assert result.points_earned == 20
    ctx.close()


def test_standalone_till_keeps_its_rules(tmp_path):
    ctx = open_till(tmp_path / "alone")
    ctx.update_settings({"earn_rate": "5"})
    assert client.is_sync_due(ctx) is False
    assert sync_if_due(ctx) is None
    assert ctx.settings.get("earn_rate") == "5"
    ctx.close()


def test_card_from_another_store_works_after_sync(tmp_path, head_office):
    leeds = open_till(tmp_path / "leeds")
    # Enrolled before the till joined: signed with the till's own key.
    member = enrol(leeds)
    sales.record_sale(leeds, sales.SaleRequest(member.id, 4000))
    join(leeds, head_office, "Leeds", "Front")
    run_sync(leeds)
    leeds_keys = dict(leeds.keyring.keys)
    leeds.close()

    york = open_till(tmp_path / "york")
    with pytest.raises(Exception, match="card not readable"):
        members.find_by_card(york, member.card_number)
    join(york, head_office, "York", "Back")
    report = run_sync(york)

    assert set(leeds_keys) <= set(york.keyring.keys)
    assert report.keys_added
    found = members.find_by_card(york, member.card_number)
    assert found.id == member.id
    assert found.balance == 40
    assert verify(york).ok
    history = members.member_history(york, member.id)
    assert [(e.store, e.till) for e in history] == [("Main store", "Till 1")]
    york.close()

    reopened = open_till(tmp_path / "york")
    assert members.find_by_card(reopened, member.card_number).id == member.id
    reopened.close()


def test_pulled_entries_update_balances_in_pages(tmp_path, head_office):
    leeds = open_till(tmp_path / "leeds")
    join(leeds, head_office, "Leeds", "Front")
    member = enrol(leeds)
    for amount in range(100, 1100, 100):
        sales.record_sale(leeds, sales.SaleRequest(member.id, amount))
    run_sync(leeds)
    leeds.close()

    york = open_till(tmp_path / "york")
    join(york, head_office, "York", "Back")
    york.update_settings({"sync_batch_size": "3"})
    report = run_sync(york)
    assert report.pulled_entries == 10
    assert report.pulled_pages >= 4
    assert members.get_member(york, member.id).balance == 55
    assert verify(york).ok

    # Spending at York goes back to Leeds; nothing comes back twice.
    sales.redeem_points(york, member.id, 50)
    run_sync(york)
    assert run_sync(york).pulled_entries == 0
    york.close()

    leeds = open_till(tmp_path / "leeds")
    assert run_sync(leeds).pulled_entries == 1
    assert members.get_member(leeds, member.id).balance == 5
    assert verify(leeds).ok
    leeds.close()


def test_later_profile_edit_wins_at_every_till(
    tmp_path, head_office, clock, monkeypatch
):
    use_fast_hasher(monkeypatch)
    leeds = open_till(tmp_path / "leeds", clock)
    join(leeds, head_office, "Leeds", "Front")
    member = enrol(leeds)
    run_sync(leeds)
    leeds.close()

    york = open_till(tmp_path / "york", clock)
    join(york, head_office, "York", "Back")
    run_sync(york)
    clock.advance(minutes=5)
    edit_name(york, member.id, "Ann Newer")
    run_sync(york)
    york.close()

    leeds = open_till(tmp_path / "leeds", clock)
    clock.advance(minutes=-2)  # an edit made offline before York's
    edit_name(leeds, member.id, "Ann Older")
    run_sync(leeds)
    assert members.get_member(leeds, member.id).name == "Ann Newer"
    leeds.close()
    rows = postgres_rows(
        head_office.database, f"SELECT name FROM member WHERE id = '{member.id}'"
    )
    assert rows == [("Ann Newer",)]


def test_member_edited_during_push_stays_queued(tmp_path, clock, monkeypatch):
    use_fast_hasher(monkeypatch)
    ctx = open_till(tmp_path / "leeds", clock)
    member = enrol(ctx)
    batch = build_push_batch(ctx, 100)
    clock.advance(seconds=1)
    edit_name(ctx, member.id, "Edited meanwhile")
    removed = acknowledge(ctx, batch, {"members": [member.id]})
    assert removed == 0
    assert outbox_count(ctx) == 1
    ctx.close()


def test_reply_naming_nothing_removes_nothing(tmp_path):
    ctx = open_till(tmp_path / "leeds")
    member = enrol(ctx)
    sales.record_sale(ctx, sales.SaleRequest(member.id, 1000))
    before = outbox_count(ctx)
    batch = build_push_batch(ctx, 100)
    assert acknowledge(ctx, batch, {"entries": [], "sales": ["not-sent"]}) == 0
    assert outbox_count(ctx) == before
    ctx.close()


def test_offline_cap_limits_redemptions(tmp_path, clock):
    from posloyalty.services.errors import RejectedError

    ctx = open_till(tmp_path / "leeds", clock)
    member = enrol(ctx)
    assert sync_status.offline_redeem_allowance(ctx, member.id) is None
    ctx.update_settings({"offline_redeem_cap": "100", "offline_cap_after_hours": "24",
                         "server_url": "http://127.0.0.1:9", "server_token": "t"})  # fmt: skip
    # Never synced: the cap applies at once.
    assert sync_status.offline_redeem_allowance(ctx, member.id) == 100
    with ctx.db.atomic():
        from posloyalty.storage.sync_state import write_state

        write_state(ctx.db, {"last_sync_at": "2025-03-29 11:00:00.000000"})
    assert sync_status.offline_redeem_allowance(ctx, member.id) is None

    clock.advance(hours=30)
    sales.record_sale(ctx, sales.SaleRequest(member.id, 50000))
    sales.redeem_points(ctx, member.id, 70)
    assert sync_status.offline_redeem_allowance(ctx, member.id) == 30
    sync_status.check_offline_redemption(ctx, member.id, 30)
    with pytest.raises(RejectedError, match="may redeem at most 30 more points"):
        sync_status.check_offline_redemption(ctx, member.id, 31)

    # The services that spend points enforce the cap themselves.
    balance = members.get_member(ctx, member.id).balance
    with pytest.raises(RejectedError, match="may redeem at most 30 more points"):
        sales.redeem_points(ctx, member.id, 31)
    with pytest.raises(RejectedError, match="may redeem at most 30 more points"):
        sales.record_sale(ctx, sales.SaleRequest(member.id, 5000, redeem_points=31))
    assert members.get_member(ctx, member.id).balance == balance
    assert sales.redeem_points(ctx, member.id, 30).balance == balance - 30
    ctx.close()


def test_token_is_never_printed_or_logged(tmp_path, cli, data_dir, head_office):
    token = head_office.add_till("Leeds", "Front")
    result = cli("config", "set", "server", head_office.url, "--token", token)
    assert result.exit_code == 0
    assert "server_token=(set)" in result.stdout
    shown = cli("config", "show")
    assert "server_token=(set)" in shown.stdout
    assert cli("sync").exit_code == 0
    everything = shown.stdout + shown.stderr + result.stdout + result.stderr
    everything += (data_dir / "posloyalty.log").read_text()
    assert token not in everything


@pytest.mark.parametrize(
    "args, message",
    [
        pytest.param(("server", "ftp://x"), "invalid server URL", id="bad-url"),
        pytest.param(("server", "http://x"), "missing --token", id="no-token"),
        pytest.param(("region", "GB", "--token", "t"), "--token goes only", id="token"),
        pytest.param(("sync_batch_size", "0"), "invalid sync batch size", id="batch"),
    ],
)
def test_config_set_server_rejects_bad_input(cli, args, message):
    result = cli("config", "set", *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_config_set_key_value_still_works(cli):
    assert cli("config", "set", "region", "FR").exit_code == 0
    assert "region=FR" in cli("config", "show").stdout


def test_sync_without_server_says_how_to_set_it(cli):
    result = cli("sync")
    assert result.exit_code == 2
    assert "config set server URL --token TOKEN" in result.stderr


def test_till_starts_without_server_packages(tmp_path):
    script = (
        "import sys\n"
        "for name in ('fastapi', 'uvicorn', 'psycopg2', 'starlette'):\n"
        "    sys.modules[name] = None\n"
        "from posloyalty.cli.main import main\n"
        "import posloyalty.sync.client\n"
        f"sys.exit(main(['--data-dir', {str(tmp_path / 'till')!r}, 'sync', '--status']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "configured=no" in result.stdout
