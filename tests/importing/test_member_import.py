import shutil

import pytest

from conftest import DATA_DIR
from posloyalty.importing.members import import_members
from posloyalty.services import members
from posloyalty.services.errors import InvalidInputError

MEMBERS = DATA_DIR / "members"


@pytest.mark.parametrize(
    "name",
    [
        "shopify_customers.csv",
        "shopify_customers_excel_bom.csv",
        "square_customers.csv",
    ],
)
def test_full_exports_import_eleven(till, name):
    report = import_members(till, MEMBERS / name)
    assert report.imported == 11
    assert len(report.rejected) == 1
    line, reason = report.rejected[0]
    assert line == 13
    assert "Małgorzata Kowalczyk" in reason
    assert "no phone and no email" in reason


def test_shopify_details(till):
    import_members(till, MEMBERS / "shopify_customers.csv")
    household = members.find_by_phone(till, "+447700900412")
    assert sorted(m.name for m in household) == [
        "Krzysztof Wiśniewski",
        "Zofia Wiśniewska",
    ]
    lukas = members.find_by_external_id(till, "7412003300101")[0]
    assert lukas.name == "Lukas Schäfer"
    assert lukas.phone == "+447700900101"
    assert lukas.consent_email is True
    assert lukas.consent_sms is True
    elif_ = members.find_by_external_id(till, "7412003300214")[0]
    assert elif_.consent_email is False
    mehmet = members.search_by_name(till, "Mehmet")[0]
    assert mehmet.email is None
    assert mehmet.phone == "+447700900952"
    francois = members.search_by_name(till, "François")[0]
    assert francois.phone is None
    assert francois.email == "fx.lefevre@example.com"
    arabic = members.find_by_external_id(till, "7412003300730")[0]
    assert arabic.name == "ليلى حداد"


def test_bom_does_not_change_first_column(till):
    report = import_members(till, MEMBERS / "shopify_customers_excel_bom.csv")
    assert report.layout == "Shopify"
    assert members.find_by_external_id(till, "7412003300101")[0].name == "Lukas Schäfer"


def test_legacy_layout_imports_five(till):
    report = import_members(till, MEMBERS / "shopify_customers_legacy.csv")
    assert report.layout == "Shopify (older layout)"
    assert report.imported == 5
    assert len(report.rejected) == 1
    assert members.find_by_phone(till, "07700 900327")[0].name == "Émilie Dubois"


def test_second_import_adds_nobody(till):
    import_members(till, MEMBERS / "shopify_customers.csv")
    again = import_members(till, MEMBERS / "shopify_customers.csv")
    assert again.imported == 0
    assert again.already_present == 11
    legacy = import_members(till, MEMBERS / "shopify_customers_legacy.csv")
    assert legacy.imported == 0


def test_square_after_shopify_adds_nobody(till):
    import_members(till, MEMBERS / "shopify_customers.csv")
    square = import_members(till, MEMBERS / "square_customers.csv")
    assert square.imported == 0
    assert square.already_present == 11
    count = till.db.execute_sql("SELECT COUNT(*) FROM member").fetchone()[0]
    assert count == 11


def test_custom_map_and_damaged_phone(till, tmp_path):
    path = tmp_path / "members.csv"
    path.write_text(
        "Name,Mobile,Mail\nAnn Lee,07700 900123,\nBad,12,\n", encoding="utf-8"
    )
    report = import_members(till, path, "name=Name,phone=Mobile,email=Mail")
    assert report.imported == 1
    assert report.rejected[0][0] == 3
    assert "invalid phone number '12'" in report.rejected[0][1]


def test_unknown_layout_needs_map(till, tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("Who,Tel\nAnn,07700 900123\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="give --map"):
        import_members(till, path)


def test_missing_mapped_column_named(till, tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("Who,Tel\nAnn,07700 900123\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="no column 'Phone'"):
        import_members(till, path, "name=Who,phone=Phone")


def test_cli_reports_rejected_line(cli, tmp_path):
    shutil.copy(MEMBERS / "shopify_customers.csv", tmp_path / "c.csv")
    cli("init", "--region", "GB", "--currency", "GBP")
    result = cli("import", "members", str(tmp_path / "c.csv"))
    assert result.exit_code == 0
    assert "line 13: rejected" in result.stdout
    assert "imported=11 already_present=0 rejected=1" in result.stdout
