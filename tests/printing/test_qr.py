"""QR codes on cards and receipts: native, raster or text, decoded by zxing-cpp."""

from __future__ import annotations

import pytest
import qrcode
import zxingcpp
from qrcode.constants import ERROR_CORRECT_M

from posloyalty.domain.cards import CARD_NUMBER_LENGTH
from posloyalty.domain.receipt import (
    CARD_QR_VERSION,
    QR_QUIET_ZONE_MODULES,
    QrPayloadError,
    check_qr_payload,
    qr_modules,
)
from posloyalty.printing.decode import decode_escpos
from posloyalty.printing.escpos_lib import profile_data


def _decode_image(image) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(image)]


def _print_card(cli, printer_uri: str, profile: str, width: str = "80") -> str:
    assert cli("init", "--currency", "GBP", "--region", "GB").exit_code == 0
    result = cli("printer", "set", printer_uri, "--profile", profile, "--width", width)
    assert result.exit_code == 0, result.stderr
    card = cli("member", "add", "--name", "Ann Lee", "--phone", "07700 900123").stdout
    card = card.strip()
    printed = cli("card", "print", card)
    assert printed.exit_code == 0, printed.stderr
    return card


def _black_box(image) -> tuple[int, int, int, int]:
    """Return the bounding box (left, top, right, bottom) of the black pixels."""
    inverted = image.point(lambda value: 255 - value)
    box = inverted.getbbox()
    assert box is not None
    return box


def test_native_qr_decodes_to_card_number(cli, network_printer):
    card = _print_card(cli, network_printer.uri, "TM-T88V")

    decoded = decode_escpos(network_printer.received, profile_data("TM-T88V"))

    assert len(decoded.qr_codes) == 1
    qr = decoded.qr_codes[0]
    assert qr.payload == card.encode("ascii")
    assert qr.error_correction == "M"
    assert decoded.images == []
    # Draw the symbol as the printer would, then read it back.
    symbol = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=qr.module_dots)
    symbol.add_data(qr.payload.decode("ascii"))
    assert _decode_image(symbol.make_image().get_image().convert("L")) == [card]


def test_native_qr_has_quiet_zone_on_every_side(cli, network_printer):
    _print_card(cli, network_printer.uri, "TM-T88V")
    decoded = decode_escpos(network_printer.received, profile_data("TM-T88V"))
    qr = decoded.qr_codes[0]
    events = decoded.events
    store = next(i for i, e in enumerate(events) if e.startswith("QR native"))
    quiet_dots = QR_QUIET_ZONE_MODULES * qr.module_dots

    feeds_before = [e for e in events[:store] if e.startswith("ESC J")]
    feeds_after = [e for e in events[store:] if e.startswith("ESC J")]
    assert int(feeds_before[-1].split()[-1]) >= quiet_dots
    assert int(feeds_after[0].split()[-1]) >= quiet_dots
    align = [e for e in events[:store] if e.startswith("ESC a")]
    assert align[-1] == "ESC a 1"
    symbol_dots = qr_modules(CARD_QR_VERSION) * qr.module_dots
    paper_dots = profile_data("TM-T88V")["media"]["width"]["pixels"]
    assert (paper_dots - symbol_dots) // 2 >= quiet_dots
    # Alignment is back to left after the code.
    assert [e for e in events[store:] if e.startswith("ESC a")][0] == "ESC a 0"


def test_raster_qr_on_58mm_fits_paper_and_decodes(cli, network_printer):
    card = _print_card(cli, network_printer.uri, "POS-5890", width="58")

    decoded = decode_escpos(network_printer.received, profile_data("POS-5890"))

    assert decoded.qr_codes == []
    assert len(decoded.images) == 1
    image = decoded.images[0]
    assert image.width <= 384
    picture = image.to_pil()
    assert _decode_image(picture) == [card]
    left, top, right, bottom = _black_box(picture)
    module = (right - left) // qr_modules(CARD_QR_VERSION)
    assert module >= 2
    quiet = QR_QUIET_ZONE_MODULES * module
    assert left >= quiet
    assert image.width - right >= quiet
    assert top >= quiet
    assert image.height - bottom >= quiet
    assert "ESC a 0" in decoded.events[-6:]


def test_receipt_raster_qr_decodes_to_sale_id(cli, network_printer):
    assert cli("init", "--currency", "GBP", "--region", "GB").exit_code == 0
    cli("printer", "set", network_printer.uri, "--profile", "simple", "--width", "58")
    card = cli("member", "add", "--name", "Ann", "--phone", "07700 900124").stdout
    sale = cli("sale", "--member", card.strip(), "--amount", "9.99", "--print")
    sale_id = sale.stdout.split()[0].removeprefix("sale_id=")

    decoded = decode_escpos(network_printer.received, profile_data("simple"))

    assert _decode_image(decoded.images[0].to_pil()) == [sale_id.upper()]
    assert decoded.images[0].width <= 384


@pytest.mark.parametrize("width", ["58", "80"])
def test_impact_printer_prints_card_number_as_text(cli, network_printer, width):
    card = _print_card(cli, network_printer.uri, "TM-U220", width=width)

    data = network_printer.received
    decoded = decode_escpos(data, profile_data("TM-U220"))

    assert b"\x1d(k" not in data
    assert b"\x1dv0" not in data
    assert decoded.images == []
    assert any(line.strip() == card for line in decoded.lines)


def test_longest_card_payload_fits_its_qr_version():
    from posloyalty.domain.cards import CardKeyring

    keyring = CardKeyring({"42": b"k" * 32}, "42")
    number = keyring.issue()
    assert len(number) == CARD_NUMBER_LENGTH
    longest = "9" * CARD_NUMBER_LENGTH

    assert check_qr_payload(longest, CARD_QR_VERSION) == longest
    code = qrcode.QRCode(version=CARD_QR_VERSION, error_correction=ERROR_CORRECT_M)
    code.add_data(longest)
    code.make(fit=False)
    assert code.version == CARD_QR_VERSION
    assert _decode_image(code.make_image().get_image().convert("L")) == [longest]


def test_qr_payload_overflow_is_one_clear_error():
    too_long = "1" * 35

    with pytest.raises(QrPayloadError) as raised:
        check_qr_payload(too_long, CARD_QR_VERSION)

    assert str(raised.value) == (
        "QR payload of 35 characters does not fit QR version 1-M, which holds 34"
        " of this kind: use a shorter payload or a higher version"
    )


@pytest.mark.parametrize("version", [1, 2, 3, 4])
@pytest.mark.parametrize(
    "char", [pytest.param("1", id="numeric"), pytest.param("A", id="alnum"),
             pytest.param("a", id="byte")],
)  # fmt: skip
def test_qr_capacity_table_matches_qrcode(version, char):
    from qrcode.exceptions import DataOverflowError

    from posloyalty.domain.receipt import qr_capacity

    capacity = qr_capacity(version, char)
    fits = qrcode.QRCode(version=version, error_correction=ERROR_CORRECT_M)
    fits.add_data(char * capacity)
    fits.make(fit=False)
    overflows = qrcode.QRCode(version=version, error_correction=ERROR_CORRECT_M)
    overflows.add_data(char * (capacity + 1))

    with pytest.raises(DataOverflowError):
        overflows.make(fit=False)
