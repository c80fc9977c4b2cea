"""Import files that are damaged, odd or hostile: one message, nothing half imported."""

from __future__ import annotations

from pathlib import Path

import pytest

from posloyalty.importing.members import import_members
from posloyalty.importing.sales import import_sales
from posloyalty.services.errors import InvalidInputError
from posloyalty.services.ledger import verify

MEMBER_MAP = "name=Name,phone=Phone"
SALES_MAP = "invoice=Inv,member=Cust,time=Time,amount=Amount"
ITEM_MAP = "invoice=Inv,member=Cust,time=Time,quantity=Qty,unit_price=Price"
TIME_FORMAT = "%Y-%m-%d"


def _count(till, table: str) -> int:
    return till.db.execute_sql(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        pytest.param(b"", "is empty", id="empty"),
        pytest.param(bytes(range(256)) * 8, "not UTF-8", id="binary"),
        pytest.param(
            "Name,Phone\nJürgen Weiß,07700 900301\n".encode("latin-1"),
            "not UTF-8",
            id="latin-1",
        ),
        pytest.param(
            'Name,Phone\n"' + "x" * 200_000 + '",07700 900305\n',
            "line 2 is not valid CSV",
            id="huge-field",
        ),
        pytest.param(
            '"' + "y" * 200_000 + '",Phone\n',
            "line 1 is not valid CSV",
            id="huge-header",
        ),
        pytest.param(
            "Name,Phone,Phone\nAnn,07700 900303,07700 900304\n",
            "has 2 columns named 'Phone'",
            id="duplicate-header",
        ),
    ],
)
def test_member_file_rejected(till, tmp_path, content, fragment):
    path = _write(tmp_path, "members.csv", content)

    with pytest.raises(InvalidInputError, match=fragment) as raised:
        import_members(till, path, MEMBER_MAP)

    assert len(str(raised.value)) < 400
    assert _count(till, "member") == 0


def test_member_file_that_is_a_folder(till, tmp_path):
    folder = tmp_path / "members.csv"
    folder.mkdir()

    with pytest.raises(InvalidInputError, match=f"cannot read {folder}"):
        import_members(till, folder, MEMBER_MAP)


def test_member_file_with_bom_and_bad_rows(till, tmp_path):
    path = _write(
        tmp_path,
        "members.csv",
        "\ufeffName,Phone\r\n"
        "Bom Person,07700 900302\r\n"
        "NUL\x00Name,07700 900307\r\n"
        "\u202eeeL nnA,07700 900308\r\n"
        "NoPhone\r\n",
    )

    report = import_members(till, path, MEMBER_MAP)

    assert report.imported == 1
    assert [line for line, _ in report.rejected] == [3, 4, 5]
    assert "U+0000" in report.rejected[0][1]
    assert "U+202E" in report.rejected[1][1]
    assert "no phone and no email" in report.rejected[2][1]


@pytest.mark.parametrize(
    "amount",
    ["Infinity", "-inf", "NaN", "sNaN", "1e999999999", "99999999999999999999"],
)
def test_sales_amount_rejected(till, tmp_path, amount):
    path = _write(
        tmp_path,
        "journal.csv",
        "Inv,Cust,Time,Amount\n1,C1,2025-01-02,5.00\n2,C1,2025-01-02," + amount + "\n",
    )

    with pytest.raises(InvalidInputError, match="journal.csv line 3: invalid Amount"):
        import_sales(till, path, SALES_MAP, TIME_FORMAT, enroll_unknown=True)

    assert _count(till, "sale") == 0
    assert _count(till, "member") == 0


@pytest.mark.parametrize(
    ("row", "column"),
    [
        pytest.param("Infinity,0", "Qty", id="infinite-quantity"),
        pytest.param("2,NaN", "Price", id="nan-price"),
        pytest.param("1e999999,1e999999", "Price", id="product-overflows"),
    ],
)
def test_sales_item_rejected(till, tmp_path, row, column):
    path = _write(
        tmp_path, "journal.csv", f"Inv,Cust,Time,Qty,Price\n1,C1,2025-01-02,{row}\n"
    )

    with pytest.raises(InvalidInputError, match=f"line 2: invalid {column}"):
        import_sales(till, path, ITEM_MAP, TIME_FORMAT, enroll_unknown=True)

    assert _count(till, "sale") == 0


def test_sales_tiny_fraction_rejected(till, tmp_path):
    path = _write(
        tmp_path, "journal.csv", "Inv,Cust,Time,Amount\n1,C1,2025-01-02,1e-999999999\n"
    )

    with pytest.raises(InvalidInputError, match="GBP amounts have 2 decimals"):
        import_sales(till, path, SALES_MAP, TIME_FORMAT, enroll_unknown=True)


def test_sales_largest_amount_imported(till, tmp_path):
    path = _write(
        tmp_path,
        "journal.csv",
        "Inv,Cust,Time,Amount\n1,C1,2025-01-02,10000000000.00\n",
    )

    report = import_sales(till, path, SALES_MAP, TIME_FORMAT, enroll_unknown=True)

    assert report.points == 10_000_000_000
    assert verify(till).ok


def test_sales_invoice_over_two_members(till, tmp_path):
    path = _write(
        tmp_path,
        "journal.csv",
        "Inv,Cust,Time,Amount\n7,C1,2025-01-02,5.00\n7,C2,2025-01-02,6.00\n",
    )

    with pytest.raises(InvalidInputError, match="invoice 7 already belongs to"):
        import_sales(till, path, SALES_MAP, TIME_FORMAT, enroll_unknown=True)

    assert _count(till, "sale") == 0
    assert _count(till, "member") == 0


def test_sales_huge_field_rejected(till, tmp_path):
    path = _write(
        tmp_path,
        "journal.csv",
        "Inv,Cust,Time,Amount\n1,C1,2025-01-02,5.00\n"
        f'2,"{"z" * 200_000}",2025-01-02,5.00\n',
    )

    with pytest.raises(InvalidInputError, match="line 3 is not valid CSV"):
        import_sales(till, path, SALES_MAP, TIME_FORMAT, enroll_unknown=True)

    assert _count(till, "sale") == 0
