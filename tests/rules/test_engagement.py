from datetime import UTC, datetime

import pytest

from ledger_helpers import enrol, ledger_sum, sale
from posloyalty.domain.programme import BasketLine
from posloyalty.importing.engagement import import_engagement
from posloyalty.services import sales
from posloyalty.services.engagement import record_engagement, set_member_extras
from posloyalty.services.errors import InvalidInputError, RejectedError
from posloyalty.services.loyalty import leaderboard, loyalty_status
from rules_helpers import set_programme

ENGAGEMENT = [
    {"kind": "review", "points": 20, "cap": 2, "period": "month"},
    {"kind": "survey", "points": 10},
    {"kind": "referral", "points": 100, "cap": 1, "period": "year"},
]
CHALLENGES = [
    {"code": "THREE", "name": "Three visits", "goal": "visits", "target": 3,
     "period": "month", "bonus": 50},
    {"code": "MIX", "name": "Three products", "goal": "distinct_products",
     "target": 3, "period": "week", "bonus": 30},
]  # fmt: skip


@pytest.fixture
def shop(clocked_till):
    set_programme(clocked_till, engagement=ENGAGEMENT, challenges=CHALLENGES)
    return clocked_till


def test_review_capped_per_month(shop, clock):
    member = enrol(shop)
    paid = [
        record_engagement(shop, member.id, "review", f"r{i}").points for i in range(3)
    ]
    assert paid == [20, 20, 0]
    clock.current = datetime(2025, 4, 1, 12, tzinfo=UTC)
    assert record_engagement(shop, member.id, "review", "r9").points == 20
    assert ledger_sum(shop, member.id) == 60


def test_same_reference_paid_once(shop):
    member = enrol(shop)
    assert record_engagement(shop, member.id, "survey", "S-1").points == 10
    assert record_engagement(shop, member.id, "survey", "S-1").points == 0


def test_unconfigured_kind_rejected(shop):
    member = enrol(shop)
    with pytest.raises(RejectedError, match="no points for social_share"):
        record_engagement(shop, member.id, "social-share")
    with pytest.raises(InvalidInputError, match="invalid engagement kind 'tweet'"):
        record_engagement(shop, member.id, "tweet")


def test_referral_paid_at_first_sale(shop):
    referrer = enrol(shop, "Bea Ray", "07700 900456")
    newcomer = enrol(shop, "Cal Doe", "07700 900789")
    set_member_extras(shop, newcomer.id, referred_by=referrer.id)
    assert ledger_sum(shop, referrer.id) == 0
    first = sale(shop, newcomer, 1000)
    assert first.points_earned == 110
    assert ledger_sum(shop, referrer.id) == 100
    sale(shop, newcomer, 1000)
    assert ledger_sum(shop, referrer.id) == 100
    with pytest.raises(RejectedError, match="already bought"):
        set_member_extras(shop, newcomer.id, referred_by=referrer.id)


def test_import_engagement_csv(shop, tmp_path):
    member = enrol(shop)
    path = tmp_path / "events.csv"
    path.write_text(
        "member,kind,reference\n"
        "07700900123,review,R1\n"
        "07700900123,review,R1\n"
        "07700900999,survey,S1\n"
        "07700900123,survey,S2\n",
        encoding="utf-8",
    )
    report = import_engagement(shop, path)
    assert report.rows == 4
    assert report.points == 30
    assert report.skipped == {"repeat or over the cap": 1, "member not found": 1}
    assert ledger_sum(shop, member.id) == 30
    bad = tmp_path / "bad.csv"
    bad.write_text("member,kind\n07700900123,review\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="missing column reference"):
        import_engagement(shop, bad)


def test_challenge_bonus_once_per_period(shop, clock):
    member = enrol(shop)
    results = []
    for _ in range(4):
        results.append(sale(shop, member, 1000).points_earned)
        clock.advance(hours=1)
    assert results == [10, 10, 60, 10]
    status = {c.code: c for c in loyalty_status(shop, member.id).challenges}
    assert status["THREE"].completed
    assert status["THREE"].progress == 4
    clock.current = datetime(2025, 4, 2, 12, tzinfo=UTC)
    status = {c.code: c for c in loyalty_status(shop, member.id).challenges}
    assert status["THREE"].progress == 0
    assert not status["THREE"].completed


def test_returned_sale_undoes_challenge(shop, clock):
    member = enrol(shop)
    sale(shop, member, 1000)
    sale(shop, member, 1000)
    third = sale(shop, member, 1000)
    assert third.points_earned == 60
    sales.return_sale(shop, third.sale_id)
    status = {c.code: c for c in loyalty_status(shop, member.id).challenges}
    assert status["THREE"].progress == 2
    assert not status["THREE"].completed
    assert ledger_sum(shop, member.id) == 20
    assert sale(shop, member, 1000).points_earned == 60


def test_distinct_products_challenge(shop):
    member = enrol(shop)
    first = sale(shop, member, 300, lines=[BasketLine("A", 100), BasketLine("B", 200)])
    assert first.points_earned == 3
    second = sale(shop, member, 300, lines=[BasketLine("A", 100), BasketLine("C", 200)])
    assert second.points_earned == 33


def test_leaderboard_shows_opted_in_first_name_initial(shop):
    ann = enrol(shop, "Ann Lee", "07700 900123")
    bob = enrol(shop, "Bob Stone", "07700 900456")
    enrol(shop, "Cy Private", "07700 900789")
    set_member_extras(shop, ann.id, leaderboard_opt_in=True)
    set_member_extras(shop, bob.id, leaderboard_opt_in=True)
    for member, visits in ((ann, 1), (bob, 2)):
        for _ in range(visits):
            sale(shop, member, 500)
    challenge, period, rows = leaderboard(shop, "three")
    assert challenge.code == "THREE"
    assert period == "2025-03"
    assert [(r.display_name, r.progress) for r in rows] == [
        ("Bob S.", 2),
        ("Ann L.", 1),
    ]


def test_engagement_and_leaderboard_commands(cli):
    assert cli("init", "--currency", "GBP", "--region", "GB").exit_code == 0
    result = cli("rules", "engagement", "set", "review", "--points", "25", "--cap", "1")
    assert result.exit_code == 0
    card = cli("member", "add", "--name", "Ann Lee", "--phone", "07700 900123")
    card_number = card.stdout.strip()
    paid = cli("engagement", "record", "review", "--member", card_number)
    assert paid.stdout.strip() == "points=25 balance=25"
    capped = cli("engagement", "record", "review", "--member", card_number)
    assert capped.stdout.strip() == "points=0 balance=25"
    set_up = cli(
        "rules", "challenge", "add", "TWO", "--name", "Two visits", "--goal",
        "visits", "--target", "2", "--bonus", "20",
    )  # fmt: skip
    assert set_up.exit_code == 0
    assert cli("member", "extras", card_number, "--leaderboard", "on").exit_code == 0
    cli("sale", "--member", card_number, "--amount", "5.00")
    board = cli("leaderboard", "two")
    assert board.exit_code == 0
    assert "1. Ann L.  1/2" in board.stdout
    missing = cli("leaderboard", "none")
    assert missing.exit_code == 1
    assert "no challenge 'none'" in missing.stderr
