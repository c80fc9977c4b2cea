"""Small builders shared by the service tests."""

from posloyalty.services import members, sales
from posloyalty.services.members import NewMember


def enrol(ctx, name="Ann Lee", phone="07700 900123", **kwargs):
    return members.enrol_member(ctx, NewMember(name, phone, **kwargs))


def sale(ctx, member, amount_minor, **kwargs):
    return sales.record_sale(ctx, sales.SaleRequest(member.id, amount_minor, **kwargs))


def ledger_sum(ctx, member_id):
    row = ctx.db.execute_sql(
        "SELECT COALESCE(SUM(points), 0) FROM ledger_entry WHERE member_id = ?",
        (member_id,),
    ).fetchone()
    return row[0]


def entries(ctx, member_id):
    return ctx.db.execute_sql(
        "SELECT kind, points, reverses_id FROM ledger_entry WHERE member_id = ?"
        " ORDER BY rowid",
        (member_id,),
    ).fetchall()
