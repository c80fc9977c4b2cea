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
