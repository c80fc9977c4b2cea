"""Member references and whole numbers typed badly at the command line."""

from __future__ import annotations

import pytest


@pytest.fixture
def gb(cli):
    assert cli("init", "--currency", "GBP", "--region", "GB").exit_code == 0
    return cli


@pytest.fixture
def card(gb) -> str:
    result = gb("member", "add", "--name", "Ann Lee", "--phone", "07700 900123")
    return result.stdout.strip()


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.mark.parametrize("ref", ["", "   ", "\t"])
def test_empty_member_is_usage_error(gb, card, ref):
    result = gb("sale", "--member", ref, "--amount", "5.00")

    assert result.exit_code == 2
    assert "missing member" in _one_line(result.stderr)
    assert "balance=0" in gb("member", "show", card).stdout


@pytest.mark.parametrize(
    ("ref", "exit_code"),
    [
        pytest.param("9" * 100_000, 2, id="long-digits"),
        pytest.param("x" * 100_000, 1, id="long-text"),
        pytest.param("' OR 1=1 --", 1, id="sql"),
        pytest.param("%", 1, id="like-wildcard"),
        pytest.param("\x1b[2J", 1, id="escape-sequence"),
    ],
)
def test_odd_member_reference(gb, card, ref, exit_code):
    result = gb("member", "show", ref)

    assert result.exit_code == exit_code
    line = _one_line(result.stderr)
    assert len(line) < 300
    assert "\x1b" not in line
    assert result.stdout == ""


def test_card_with_bad_check_digit(gb, card):
    last = str((int(card[-1]) + 1) % 10)

    result = gb("sale", "--member", card[:-1] + last, "--amount", "5.00")

    assert result.exit_code == 1
    assert "card not readable" in _one_line(result.stderr)
    assert "balance=0" in gb("member", "show", card).stdout


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["config", "set", "sync_interval_seconds", "²"], id="interval"),
        pytest.param(["config", "set", "offline_redeem_cap", "²"], id="cap"),
        pytest.param(["rules", "tier", "add", "Gold", "--threshold", "²"], id="tier"),
        pytest.param(
            ["rules", "challenge", "add", "five", "--name", "Five", "--goal", "visits",
             "--target", "²", "--bonus", "10"],
            id="challenge",
        ),
    ],
)  # fmt: skip
def test_superscript_digit_rejected(gb, args):
    result = gb(*args)

    assert result.exit_code == 2
    assert "'²'" in _one_line(result.stderr)
