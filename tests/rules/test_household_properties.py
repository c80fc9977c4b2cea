"""Property: a household wallet is the sum of its members' ledgers."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FakeClock
from posloyalty.services import sales
from posloyalty.services.context import TillContext
from posloyalty.services.engagement import set_member_extras
from posloyalty.services.errors import RejectedError
from posloyalty.services.household import wallet_of
from posloyalty.services.ledger import verify
from posloyalty.services.members import NewMember, enrol_member

CARDS = 3
# One step at one of the household's cards: a sale (pence), a sale paid
# partly with points, a redemption, or a return of an earlier sale.
steps = st.lists(
    st.one_of(
        st.tuples(st.just("sale"), st.integers(0, CARDS - 1), st.integers(1, 30_000)),
        st.tuples(st.just("pay"), st.integers(0, CARDS - 1), st.integers(1, 400)),
        st.tuples(st.just("redeem"), st.integers(0, CARDS - 1), st.integers(1, 400)),
        st.tuples(st.just("return"), st.integers(0, CARDS - 1), st.integers(0, 20)),
    ),
    max_size=16,
)


def ledger_sum(ctx, member_id):
    return ctx.db.execute_sql(
        "SELECT COALESCE(SUM(points), 0) FROM ledger_entry WHERE member_id = ?",
        (member_id,),
    ).fetchone()[0]


def entry_count(ctx):
    return ctx.db.execute_sql("SELECT COUNT(*) FROM ledger_entry").fetchone()[0]


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(script=steps)
def test_wallet_is_sum_and_redemption_keeps_it(tmp_path_factory, script):
    ctx = TillContext(tmp_path_factory.mktemp("till"), clock=FakeClock())
    ctx.update_settings({"region": "GB", "currency": "GBP"})
    ids = []
    for number in range(CARDS):
        member = enrol_member(ctx, NewMember(f"Card {number}", f"07700 90000{number}"))
        set_member_extras(ctx, member.id, household_id="HOME")
        ids.append(member.id)
    sale_ids: list[str] = []
    try:
        for kind, card, value in script:
            member_id = ids[card]
            before = wallet_of(ctx, member_id).balance
            spends = kind in ("pay", "redeem")
            try:
                if kind == "sale":
                    request = sales.SaleRequest(member_id, value)
                    sale_ids.append(sales.record_sale(ctx, request).sale_id)
                elif kind == "pay":
                    request = sales.SaleRequest(member_id, 100_000, redeem_points=value)
                    sale_ids.append(sales.record_sale(ctx, request).sale_id)
                elif kind == "redeem":
                    sales.redeem_points(ctx, member_id, value)
                elif sale_ids:
                    sale_id = sale_ids[value % len(sale_ids)]
                    view = sales.get_sale(ctx, sale_id)
                    if view.amount_minor > view.returned_minor:
                        sales.return_sale(ctx, sale_id)
            except RejectedError:
                assert spends
                assert value > before
                continue
            wallet = wallet_of(ctx, member_id)
            assert wallet.balance == sum(ledger_sum(ctx, mid) for mid in ids)
            if spends:
                assert value <= before
                assert wallet.balance >= 0
        assert verify(ctx).ok
    finally:
        ctx.close()
