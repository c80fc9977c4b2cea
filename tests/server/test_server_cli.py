"""The ``posloyalty-server`` command line against real databases."""

from __future__ import annotations

import pytest

from sync_helpers import check, run


def test_add_till_prints_token_alone_on_last_line(server_url):
    out = check("posloyalty-server", "--database", server_url, "add-till",
                "--store", "Leeds", "--till", "Front")  # fmt: skip
    token = out.splitlines()[-1]
    assert token.startswith("plt_")
    assert " " not in token
    listing = check("posloyalty-server", "--database", server_url, "tills")
    assert "Leeds\tFront\tactive" in listing
    assert token not in listing


def test_add_till_twice_is_rejected(server_url):
    args = ("--database", server_url, "add-till", "--store", "Leeds", "--till", "A")
    check("posloyalty-server", *args)
    result = run("posloyalty-server", *args)
    assert result.returncode == 1
    assert "exists already" in result.stderr


def test_revoke_unknown_till_names_it(server_url):
    result = run("posloyalty-server", "--database", server_url, "revoke-till",
                 "--store", "Leeds", "--till", "Ghost")  # fmt: skip
    assert result.returncode == 1
    assert "'Ghost' of store 'Leeds' not found" in result.stderr


def test_rules_set_and_show(server_url):
    out = check("posloyalty-server", "--database", server_url, "rules", "set",
                "--earn-rate", "1.5", "--exclude-sku", "post, dot")  # fmt: skip
    assert "rule_version=1000001" in out
    assert "earn_rate=1.5" in out
    assert "excluded_skus=DOT,POST" in out


@pytest.mark.parametrize(
    "args, message",
    [
        pytest.param(("--earn-rate", "-1"), "invalid earn rate", id="negative"),
        pytest.param(("--point-value", "abc"), "point value", id="not-a-number"),
        pytest.param((), "nothing to change", id="empty"),
    ],
)
def test_rules_set_rejects_bad_values(server_url, args, message):
    result = run("posloyalty-server", "--database", server_url, "rules", "set", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_export_and_reports_on_empty_programme(server_url, tmp_path):
    target = tmp_path / "balances.csv"
    check("posloyalty-server", "--database", server_url, "export", "balances",
          str(target))  # fmt: skip
    assert target.read_text() == (
        "member_id,external_id,card_number,phone,name,balance\n"
    )
    assert check("posloyalty-server", "--database", server_url, "report",
                 "below-zero") == ""  # fmt: skip
    assert "ok:" in check("posloyalty-server", "--database", server_url, "verify")


@pytest.mark.parametrize(
    "args, message",
    [
        pytest.param(("--database", "mysql://x/y", "tills"), "use postgresql://",
                     id="scheme"),
        pytest.param(("--database", "postgresql://postgres@127.0.0.1:1/x", "tills"),
                     "cannot open the database", id="unreachable"),
        pytest.param(("--listen", "nowhere", "serve"), "invalid --listen", id="listen"),
        pytest.param(("--listen", "127.0.0.1:²", "serve"), "invalid --listen",
                     id="superscript-port"),
    ],
)  # fmt: skip
def test_bad_options_give_one_line(tmp_path, args, message):
    result = run("posloyalty-server", "--data-dir", str(tmp_path), *args)
    assert result.returncode in (1, 2)
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_default_database_in_data_folder(tmp_path):
    check("posloyalty-server", "--data-dir", str(tmp_path), "tills")
    assert (tmp_path / "server.sqlite3").exists()
