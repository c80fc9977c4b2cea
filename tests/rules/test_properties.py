"""Property tests: returns, expiry and replays against real SQLite tills."""

import sqlite3
import uuid
from datetime import UTC, date, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FakeClock
from posloyalty.paths import DATABASE_FILE
from posloyalty.services import sales
from posloyalty.services.context import TillContext
from posloyalty.services.expiry import run_expiry
from posloyalty.services.ledger import verify
from posloyalty.services.loyalty import loyalty_status
from posloyalty.services.members import NewMember, enrol_member
from rules_helpers import set_programme

PROGRAMME = {
    "tiers": {
        "period_months": 3,
        "grace_days": 10,
        "levels": [
            {"name": "Silver", "threshold": 50, "multiplier": "1.5"},
            {"name": "Gold", "threshold": 200, "multiplier": "2"},
        ],
    },
    "challenges": [
        {"code": "TWO", "name": "Two visits", "goal": "visits", "target": 2,
         "period": "week", "bonus": 25},
    ],
    "expiry_months": 2,
}  # fmt: skip

# One step of a member's life: a sale (amount in pence), a redemption, a
# return of an earlier sale (by index) or days passing.
steps = st.lists(
    st.one_of(
        st.tuples(st.just("sale"), st.integers(min_value=1, max_value=30_000)),
        st.tuples(st.just("redeem"), st.integers(min_value=1, max_value=300)),
        st.tuples(st.just("return"), st.integers(min_value=0, max_value=20)),
        st.tuples(st.just("wait"), st.integers(min_value=1, max_value=40)),
    ),
    max_size=14,
)
PROPERTY_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def open_till(folder, clock):
    ctx = TillContext(folder, clock=clock)
    ctx.update_settings(
        {"region": "GB", "currency": "GBP", "timezone": "Europe/London"}
    )
    set_programme(ctx, **PROGRAMME)
    member = enrol_member(ctx, NewMember("Ann Lee", "07700 900123"))
    return ctx, member


def play(ctx, clock, member_id, script):
    sale_ids = []
    for kind, value in script:
        if kind == "sale":
            sale_ids.append(
                sales.record_sale(ctx, sales.SaleRequest(member_id, value)).sale_id
            )
        elif kind == "redeem":
            balance = loyalty_status(ctx, member_id).spendable
            if balance >= value:
                sales.redeem_points(ctx, member_id, value)
        elif kind == "return" and sale_ids:
            sale_id = sale_ids[value % len(sale_ids)]
            view = sales.get_sale(ctx, sale_id)
            if view.amount_minor > view.returned_minor:
                sales.return_sale(ctx, sale_id)
        elif kind == "wait":
            clock.advance(days=value)
    return sale_ids


def standing(ctx, member_id):
    status = loyalty_status(ctx, member_id)
    tier = status.tier.tier.name if status.tier.tier else None
    challenges = tuple((c.code, c.progress, c.completed) for c in status.challenges)
    return status.balance, tier, status.tier.qualifying, challenges


@PROPERTY_SETTINGS
@given(script=steps, amount=st.integers(min_value=1, max_value=60_000))
def test_returning_a_sale_restores_balance_and_tier(tmp_path_factory, script, amount):
    clock = FakeClock()
    ctx, member = open_till(tmp_path_factory.mktemp("till"), clock)
    try:
        play(ctx, clock, member.id, script)
        before = standing(ctx, member.id)
        result = sales.record_sale(ctx, sales.SaleRequest(member.id, amount))
        sales.return_sale(ctx, result.sale_id)
        assert standing(ctx, member.id) == before
        assert verify(ctx).ok
    finally:
        ctx.close()


@PROPERTY_SETTINGS
@given(script=steps, day_offsets=st.lists(st.integers(0, 400), max_size=4))
def test_expiry_never_takes_more_than_is_left(tmp_path_factory, script, day_offsets):
    clock = FakeClock()
    ctx, member = open_till(tmp_path_factory.mktemp("till"), clock)
    try:
        play(ctx, clock, member.id, script)
        for offset in sorted(day_offsets):
            day = date.fromordinal(date(2025, 3, 29).toordinal() + offset)
            balance = loyalty_status(ctx, member.id).balance
            report = run_expiry(ctx, day)
            assert report.points <= max(balance, 0)
            after = loyalty_status(ctx, member.id).balance
            assert after == balance - report.points
            assert after >= min(balance, 0)
            assert run_expiry(ctx, day).points == 0
        assert verify(ctx).ok
    finally:
        ctx.close()


def copy_ledger(source_dir, target_ctx):
    """Replay a till's sales and ledger into another till's database, row by row."""
    source = sqlite3.connect(source_dir / DATABASE_FILE)
    try:
        for table in ("member", "card", "sale", "sale_earning", "member_profile",
                      "ledger_entry"):  # fmt: skip
            rows = source.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
            if not rows:
                continue
            marks = ", ".join("?" * len(rows[0]))
            with target_ctx.db.atomic():
                for row in rows:
                    target_ctx.db.execute_sql(
                        f"INSERT OR IGNORE INTO {table} VALUES ({marks})", row
                    )
    finally:
        source.close()


@PROPERTY_SETTINGS
@given(script=steps)
def test_replayed_ledger_gives_same_tiers_and_challenges(tmp_path_factory, script):
    clock = FakeClock()
    first_dir = tmp_path_factory.mktemp("till")
    ctx, member = open_till(first_dir, clock)
    try:
        play(ctx, clock, member.id, script)
        expected = standing(ctx, member.id)
    finally:
        ctx.close()
    replay_dir = tmp_path_factory.mktemp("replay")
    replay = TillContext(replay_dir, clock=clock)
    try:
        replay.update_settings({"region": "GB", "currency": "GBP",
                                "timezone": "Europe/London"})  # fmt: skip
        set_programme(replay, **PROGRAMME)
        replay.db.execute_sql("DELETE FROM card")
        copy_ledger(first_dir, replay)
        replay.db.execute_sql(
            "UPDATE member SET balance = (SELECT COALESCE(SUM(points), 0)"
            " FROM ledger_entry WHERE member_id = member.id)"
        )
        assert standing(replay, member.id) == expected
    finally:
        replay.close()


def test_property_helpers_reach_every_step(tmp_path):
    """The scripted steps do reach tiers, challenges and returns."""
    clock = FakeClock(datetime(2025, 3, 24, 9, tzinfo=UTC))
    ctx, member = open_till(tmp_path / str(uuid.uuid4()), clock)
    try:
        play(ctx, clock, member.id,
             [("sale", 30_000), ("sale", 1000), ("return", 1), ("wait", 1)])  # fmt: skip
        balance, tier, qualifying, challenges = standing(ctx, member.id)
        assert tier == "Gold"
        assert qualifying == 300
        assert challenges == (("TWO", 1, False),)
    finally:
        ctx.close()
