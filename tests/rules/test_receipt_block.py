from datetime import UTC, datetime

from ledger_helpers import enrol, sale
from posloyalty.domain.loyalty_block import loyalty_blocks
from posloyalty.domain.receipt import render_text
from posloyalty.services.loyalty import receipt_loyalty_block
from rules_helpers import set_programme


def test_receipt_block_lists_standing(clocked_till, clock):
    set_programme(
        clocked_till,
        tiers={"levels": [{"name": "Silver", "threshold": 100}]},
        rewards=[{"code": "FIVER", "name": "5 off", "kind": "amount_off",
                  "points_cost": 200, "value_minor": 500}],
        challenges=[{"code": "SPEND", "name": "Spend 50", "goal": "spend",
                     "target": 5000, "period": "month", "bonus": 10}],
        expiry_months=12,
    )  # fmt: skip
    member = enrol(clocked_till)
    sale(clocked_till, member, 3000)
    clock.current = datetime(2026, 3, 20, 12, tzinfo=UTC)
    block = receipt_loyalty_block(clocked_till, member.id)
    assert block.expiring == ((datetime(2026, 3, 29).date(), 30),)
    text = render_text(loyalty_blocks(block), 32)
    lines = text.splitlines()
    expiring = [line for line in lines if line.startswith("Expiring 2026-03-29")]
    assert len(expiring) == 1
    assert expiring[0].endswith(" 30")
    assert "To Silver" in text
    assert "70 points" in text
    assert "Next: 5 off" in text
    assert "170 points to go" in text
    assert "0.00/50.00" in text


def test_receipt_block_empty_without_programme(clocked_till):
    member = enrol(clocked_till)
    sale(clocked_till, member, 3000)
    block = receipt_loyalty_block(clocked_till, member.id)
    assert block.is_empty
    assert loyalty_blocks(block) == []


def test_reprint_shows_standing_of_sale_day(clocked_till, clock):
    from posloyalty.domain.receipt import render_receipt_text
    from posloyalty.services.receipts import build_receipt

    set_programme(
        clocked_till,
        tiers={"levels": [{"name": "Silver", "threshold": 100}]},
        rewards=[{"code": "FIVER", "name": "5 off", "kind": "amount_off",
                  "points_cost": 200, "value_minor": 500}],
        challenges=[{"code": "THREE", "name": "Three visits", "goal": "visits",
                     "target": 3, "period": "month", "bonus": 10}],
        expiry_months=12,
    )  # fmt: skip
    member = enrol(clocked_till)
    first = sale(clocked_till, member, 3000)
    printed = render_receipt_text(build_receipt(clocked_till, first.sale_id), 32)
    at_sale = receipt_loyalty_block(clocked_till, member.id, first.sale_id)

    clock.advance(days=2)
    sale(clocked_till, member, 9000)
    sale(clocked_till, member, 2000)
    clock.advance(days=350)
    now = receipt_loyalty_block(clocked_till, member.id)
    assert now.tier_name == "Silver"
    assert now.expiring  # the first sale's points expire within 30 days now

    reprinted = render_receipt_text(build_receipt(clocked_till, first.sale_id), 32)
    assert reprinted == printed
    block = receipt_loyalty_block(clocked_till, member.id, first.sale_id)
    assert block == at_sale
    assert block.tier_name is None
    assert block.to_next_tier == "70 points"
    assert block.to_next_reward == 170
    assert block.expiring == ()
    assert [(c.progress, c.completed) for c in block.challenges] == [("1/3", False)]


def test_reprint_of_return_shows_standing_after_it(clocked_till, clock):
    from posloyalty.services import sales

    set_programme(
        clocked_till, tiers={"levels": [{"name": "Silver", "threshold": 100}]}
    )
    member = enrol(clocked_till)
    bought = sale(clocked_till, member, 15_000)
    returned = sales.return_sale(clocked_till, bought.sale_id)
    after_return = receipt_loyalty_block(clocked_till, member.id, returned.sale_id)
    assert after_return.tier_name is None
    clock.advance(days=1)
    sale(clocked_till, member, 20_000)
    assert receipt_loyalty_block(clocked_till, member.id).tier_name == "Silver"
    at_sale = receipt_loyalty_block(clocked_till, member.id, bought.sale_id)
    assert at_sale.tier_name == "Silver"
    again = receipt_loyalty_block(clocked_till, member.id, returned.sale_id)
    assert again == after_return
