"""Receipts built from the committed ledger, and the receipt commands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from posloyalty.domain.receipt import render_receipt_text
from posloyalty.printing.decode import decode_escpos
from posloyalty.printing.escpos_lib import profile_data
from posloyalty.services import receipts, sales
from posloyalty.services.members import NewMember, enrol_member
from posloyalty.services.sales import SaleRequest


def _member(ctx, name: str = "Ann Lee") -> str:
    return enrol_member(ctx, NewMember(name, phone="07700 900126")).id


def test_receipt_shows_ledger_values(till):
    member_id = _member(till)
    sales.record_sale(till, SaleRequest(member_id, 10000))  # 100 points
    sale = sales.record_sale(till, SaleRequest(member_id, 1000, redeem_points=50))

    receipt = receipts.build_receipt(till, sale.sale_id)

    assert receipt.points_redeemed == 50
    assert receipt.discount_minor == 50
    assert receipt.points_earned == 9  # 10.00 less 0.50 paid with points
    assert receipt.balance == 100 - 50 + 9
    assert receipt.amount_minor == 1000
    assert receipt.member_name == "Ann Lee"
    assert receipt.masked_card_number.endswith(receipt.card_number[-4:])
    assert set(receipt.masked_card_number[:-4]) == {"*"}


def test_receipt_balance_is_as_of_the_sale(till):
    member_id = _member(till)
    first = sales.record_sale(till, SaleRequest(member_id, 2000))
    sales.record_sale(till, SaleRequest(member_id, 3000))

    assert receipts.build_receipt(till, first.sale_id).balance == 20


def test_return_receipt_shows_points_taken_back(till):
    member_id = _member(till)
    sale = sales.record_sale(till, SaleRequest(member_id, 4500))
    returned = sales.return_sale(till, sale.sale_id, 1500)

    receipt = receipts.build_receipt(till, returned.sale_id)

    assert receipt.is_return
    assert receipt.points_reversed == -15
    assert receipt.balance == 30
    text = render_receipt_text(receipt, 32)
    assert "Points taken back" in text
    assert "-15" in text
    assert "Return" in text


def test_preview_masks_card_and_fits_width(till):
    member_id = _member(till, "Jürgen Weiß")
    sale = sales.record_sale(till, SaleRequest(member_id, 999))

    preview = receipts.receipt_preview(till, sale.sale_id, 32)

    receipt = receipts.build_receipt(till, sale.sale_id)
    assert receipt.card_number not in preview
    assert receipt.card_number[-4:] in preview
    assert all(len(line) <= 32 for line in preview.splitlines())
    assert "Points earned" in preview
    assert "+9" in preview  # 9.99 at one point per 1.00


def test_receipt_show_text_matches_printed_lines(cli, network_printer):
    assert cli("init", "--currency", "GBP", "--region", "GB").exit_code == 0
    cli("printer", "set", network_printer.uri, "--profile", "TM-T88V")
    card = cli("member", "add", "--name", "Ann", "--phone", "07700 900123").stdout
    sale = cli("sale", "--member", card.strip(), "--amount", "12.00", "--print")
    sale_id = sale.stdout.split()[0].removeprefix("sale_id=")

    shown = cli("receipt", "show", sale_id)

    assert shown.exit_code == 0
    printed = decode_escpos(network_printer.received, profile_data("TM-T88V"))
    text_lines = [line.strip() for line in printed.lines if line.strip()]
    preview_lines = [
        line.strip()
        for line in shown.stdout.splitlines()
        if line.strip() and not line.strip().startswith("[QR")
    ]
    assert preview_lines == text_lines


def test_receipt_show_escpos_writes_bytes(cli, data_dir: Path):
    assert cli("init", "--currency", "EUR", "--region", "DE").exit_code == 0
    cli("printer", "set", "none", "--profile", "TM-T88V", "--codepages", "CP858")
    card = cli("member", "add", "--name", "Käthe", "--phone", "+49 30 1234567").stdout
    sale = cli("sale", "--member", card.strip(), "--amount", "5.00")
    sale_id = sale.stdout.split()[0].removeprefix("sale_id=")
    script = Path(sys.executable).parent / "posloyalty"

    result = subprocess.run(
        [str(script), "--data-dir", str(data_dir), "receipt", "show", sale_id,
         "--format", "escpos"],
        capture_output=True, timeout=60, check=False,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(b"\x1b@\x1bt\x13")
    assert b"K\x84the" in result.stdout
    assert result.stderr == b""


def test_receipt_show_unknown_sale(cli):
    result = cli("receipt", "show", "no-such-sale")

    assert result.exit_code == 1
    assert "sale 'no-such-sale' not found" in result.stderr


def test_receipt_show_decoded(cli):
    assert cli("init", "--currency", "GBP", "--region", "GB").exit_code == 0
    card = cli("member", "add", "--name", "Ann", "--phone", "07700 900123").stdout
    sale = cli("sale", "--member", card.strip(), "--amount", "1.00")
    sale_id = sale.stdout.split()[0].removeprefix("sale_id=")

    result = cli("receipt", "show", sale_id, "--format", "decoded")

    lines = result.stdout.splitlines()
    assert lines[:2] == ["ESC @", "ESC t 0 CP437"]
    assert any(line.startswith("QR native ") for line in lines)
    assert "GS V cut" in lines


def test_card_print_unknown_member(cli):
    assert cli("init", "--currency", "GBP", "--region", "GB").exit_code == 0

    result = cli("card", "print", "07700 900999")

    assert result.exit_code == 1
    assert "no member with phone" in result.stderr
