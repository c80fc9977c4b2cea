"""Text on the printer: code page commands and bytes, checked byte for byte."""

from __future__ import annotations

import re

import pytest

from posloyalty.printing.decode import decode_escpos
from posloyalty.printing.escpos_lib import profile_data

GERMAN_LINE = "Jürgen Weiß · Guthaben 120 Punkte · Rabatt 2,50 €"


def _setup(cli, printer_uri: str, profile: str, codepages: str = "auto") -> None:
    assert cli("init", "--currency", "EUR", "--region", "DE").exit_code == 0
    result = cli(
        "printer", "set", printer_uri, "--profile", profile, "--codepages", codepages
    )
    assert result.exit_code == 0, result.stderr


def _sale_receipt(cli, name: str) -> str:
    card = cli("member", "add", "--name", name, "--phone", "+49 30 1234567").stdout
    result = cli("sale", "--member", card.strip(), "--amount", "2.50", "--print")
    assert result.exit_code == 0, result.stderr
    assert "receipt printed" in result.stderr
    return card.strip()


def _code_page_before(data: bytes, needle: bytes) -> int:
    """Return n of the last ESC t n before ``needle``."""
    position = data.index(needle)
    commands = [
        m for m in re.finditer(rb"\x1bt(.)", data, re.S) if m.start() < position
    ]
    return commands[-1].group(1)[0]


def test_test_page_prints_german_line_in_cp858(cli, network_printer):
    _setup(cli, network_printer.uri, "TM-T88V", "CP858")

    result = cli("printer", "test")

    assert result.exit_code == 0, result.stderr
    data = network_printer.received
    # 49 characters wrap at the profile's 42 columns, after "Rabatt".
    expected = "Jürgen Weiß · Guthaben 120 Punkte · Rabatt\n2,50 €".encode("cp858")
    assert expected == (
        b"J\x81rgen Wei\xe1 \xfa Guthaben 120 Punkte \xfa Rabatt\n2,50 \xd5"
    )
    assert expected in data
    table = profile_data("TM-T88V")["codePages"]
    assert table["19"] == "CP858"
    assert _code_page_before(data, expected) == 19
    decoded = decode_escpos(data, profile_data("TM-T88V"))
    assert " ".join(decoded.lines).count(GERMAN_LINE) == 1


def test_receipt_name_with_umlaut_in_cp858(cli, network_printer):
    _setup(cli, network_printer.uri, "TM-T88V", "CP858")

    _sale_receipt(cli, "Käthe Bär")

    data = network_printer.received
    assert b"K\x84the B\x84r" in data
    assert _code_page_before(data, b"K\x84the B\x84r") == 19
    assert "Käthe Bär".encode() not in data


def test_turkish_name_uses_cp857(cli, network_printer):
    _setup(cli, network_printer.uri, "TM-T88V", "CP857")

    _sale_receipt(cli, "Şule Işıkgöz")

    data = network_printer.received
    encoded = "Şule Işıkgöz".encode("cp857")
    assert encoded in data
    assert _code_page_before(data, encoded) == 13
    lines = decode_escpos(data, profile_data("TM-T88V")).lines
    assert any(line.endswith("Şule Işıkgöz") for line in lines)


def test_turkish_name_on_cp437_only_is_transliterated(cli, network_printer):
    _setup(cli, network_printer.uri, "simple")

    _sale_receipt(cli, "Şule Işıkgöz")

    data = network_printer.received
    assert b"Sule Isikgoz" in data
    assert "Şule".encode() not in data
    assert b"??" not in data
    assert b"\xc5" not in data  # the lead byte of Ş and ı in UTF-8
    lines = decode_escpos(data, profile_data("simple")).lines
    assert any(line.endswith("Sule Isikgoz") for line in lines)


@pytest.mark.parametrize(
    ("name", "table"),
    [
        pytest.param("Jürgen Weiß", 0, id="german-cp437"),
        pytest.param("François Lefèvre", 0, id="french-cp437"),
        pytest.param("Zofia Łukasiewicz-Żółć", 18, id="polish-cp852"),
        pytest.param("Çağlar Öztürk", 13, id="turkish-cp857"),
        pytest.param("Cœur de Lion", 16, id="french-ligature-cp1252"),
    ],
)
def test_names_choose_a_page_that_holds_them(cli, network_printer, name, table):
    _setup(cli, network_printer.uri, "TM-T88V")

    _sale_receipt(cli, name)

    data = network_printer.received
    decoded = decode_escpos(data, profile_data("TM-T88V"))
    member_lines = [line for line in decoded.lines if line.startswith("Member")]
    assert member_lines == [f"Member{name.rjust(42 - len('Member'))}"]
    page = profile_data("TM-T88V")["codePages"][str(table)]
    assert _code_page_before(data, name.encode(page.lower().replace("_", "-"))) == table


@pytest.mark.parametrize(
    ("name", "printed"),
    [
        pytest.param("Jürgen Weiß", "Jurgen Weiss", id="german"),
        pytest.param("Zofia Łukasiewicz", "Zofia Lukasiewicz", id="polish"),
        pytest.param("Œdipe Müller €", "OEdipe Muller EUR", id="ligature-euro"),
        pytest.param("王小明 Wang", "? Wang", id="chinese-one-mark"),
    ],
)
def test_fallback_is_one_ascii_transliteration(cli, network_printer, name, printed):
    _setup(cli, network_printer.uri, "TM-T88V", "CP437")
    if "ü" in name and "€" not in name:
        # CP437 contains ü and ß, so a German name prints exactly.
        printed = name

    _sale_receipt(cli, name)

    decoded = decode_escpos(network_printer.received, profile_data("TM-T88V"))
    member_lines = [line for line in decoded.lines if line.startswith("Member")]
    assert member_lines == [f"Member{printed.rjust(42 - len('Member'))}"]
    assert all(command == (0, "CP437") for command in decoded.code_page_commands)


def test_code_page_is_sent_after_every_initialisation(cli, network_printer):
    _setup(cli, network_printer.uri, "TM-T88V", "CP858,CP857")
    _sale_receipt(cli, "Şule Işıkgöz")
    _sale_receipt(cli, "Käthe Bär")

    decoded = decode_escpos(network_printer.received, profile_data("TM-T88V"))

    assert len(decoded.initialisations) == 2
    for position in decoded.initialisations:
        assert decoded.events[position + 1] == "ESC t 19 CP858"
    assert (13, "CP857") in decoded.code_page_commands
    assert decoded.unknown == []


def test_control_characters_in_names_print_as_spaces(till, tmp_path):
    from posloyalty.domain.receipt import TextLine
    from posloyalty.printing.documents import render_blocks
    from posloyalty.printing.settings import printer_settings
    from posloyalty.services.receipts import printer_setting_values

    settings = printer_settings(printer_setting_values(till), tmp_path)

    rendered = render_blocks(settings, [TextLine("Ann\x1bd\x05Lee\x1dV")])

    assert b"Ann d Lee V" in rendered.data
    assert b"\x1bd\x05" not in rendered.data


def test_unknown_code_page_is_rejected_at_save(cli, open_till):
    assert cli("init", "--currency", "EUR").exit_code == 0

    result = cli("printer", "set", "none", "--codepages", "CP9999")

    assert result.exit_code == 2
    assert "unknown code page 'CP9999'" in result.stderr
    assert "Traceback" not in result.stderr
    with open_till() as ctx:
        assert "printer_codepages" not in ctx.settings.values


def test_code_page_missing_from_profile_is_rejected(cli):
    result = cli(
        "printer", "set", "none", "--profile", "simple", "--codepages", "CP858"
    )

    assert result.exit_code == 2
    assert "code page CP858 is not in printer profile simple" in result.stderr


def test_config_set_validates_code_pages(cli):
    result = cli("config", "set", "printer_codepages", "latin9000")

    assert result.exit_code == 2
    assert "unknown code page 'latin9000'" in result.stderr
