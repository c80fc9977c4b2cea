"""Explaining how the points of a past sale were computed, from its rule version."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from posloyalty.domain.money import Currency
from posloyalty.domain.programme import EarningContext, compute_earning
from posloyalty.services.context import TillContext
from posloyalty.services.earning import lines_from_inputs
from posloyalty.services.errors import NotFoundError
from posloyalty.services.programme import rules_of_version
from posloyalty.storage import models
from posloyalty.storage.programme import SaleEarning

logger = logging.getLogger(__name__)

_ENTRIES_SQL = (
    "SELECT kind, points, rule_version, reason FROM ledger_entry WHERE sale_id = ?"
    " ORDER BY rowid"
)


@dataclass(frozen=True)
class SaleExplanation:
    """The steps that turned a sale into points, and whether they match the ledger.

    Attributes:
        sale_id: the sale.
        rule_version: the version its entries name.
        steps: (label, value) lines from basket to points, in order.
        computed_points: the earn entry's points as recomputed now.
        ledger_points: the earn entry's points as recorded.
    """

    sale_id: str
    rule_version: int | None
    steps: tuple[tuple[str, str], ...]
    computed_points: int
    ledger_points: int

    @property
    def matches(self) -> bool:
        """The recomputed points equal the recorded ones."""
        return self.computed_points == self.ledger_points


def _money(currency: Currency, minor: int | Decimal) -> str:
    if isinstance(minor, Decimal) and minor != minor.to_integral_value():
        return f"{minor / currency.minor_per_unit} {currency.code}"
    return f"{currency.format_plain(int(minor))} {currency.code}"


def explain_sale(ctx: TillContext, sale_id: str) -> SaleExplanation:
    """Recompute a sale's points step by step with the rules its entries name.

    Raises:
        NotFoundError: no such sale.
    """
    sale = models.Sale.get_or_none(models.Sale.id == sale_id.strip())
    if sale is None:
        raise NotFoundError(
            f"sale {sale_id!r} not found: use the sale_id printed when it was recorded"
        )
    entries = ctx.db.execute_sql(_ENTRIES_SQL, (sale.id,)).fetchall()
    versions = [version for _kind, _points, version, _reason in entries if version]
    version = versions[0] if versions else None
    rules = rules_of_version(ctx, version)
    currency = Currency.from_code(sale.currency)
    steps: list[tuple[str, str]] = [
        ("sale", sale.id),
        ("rule version", str(version) if version else "none recorded"),
    ]
    ledger_earned = sum(points for kind, points, _v, _r in entries if kind == "earn")

    if sale.original_sale_id is not None or sale.amount_minor < 0:
        steps.append(("return of", sale.original_sale_id or "(no sale named)"))
        steps += _entry_steps(entries)
        taken = sum(points for _k, points, _v, _r in entries)
        return SaleExplanation(sale.id, version, tuple(steps), taken, taken)

    row = SaleEarning.get_or_none(SaleEarning.sale_id == sale.id)
    programme, rule = rules.programme, rules.rule
    if row is not None:
        inputs = json.loads(row.inputs)
        lines = lines_from_inputs(inputs)
        local = datetime.fromisoformat(inputs["local_time"])
        amount = inputs["amount_minor"] if inputs.get("earns", True) else 0
        if not inputs.get("earns", True):
            lines = []
            steps.append(("marked to earn nothing", "yes"))
        context = EarningContext(
            local_time=local,
            tier=programme.tier(inputs.get("tier")),
            discount_minor=inputs.get("discount_minor", 0),
            birthday_bonus_due=bool(inputs.get("birthday_bonus")),
        )
    else:
        # A sale imported from a journal stores only its eligible total.
        # TODO(sync): sale_earning rows do not sync, so a sale pulled from another
        # till is explained the same way, without its basket lines, tier or bonus.
        lines = []
        amount = sale.eligible_minor
        local = sale.occurred_at.astimezone(ctx.settings.timezone)
        context = EarningContext(local_time=local)
        programme = type(programme)()
        steps.append(("earned on", "the eligible total recorded with the sale"))

    earning = compute_earning(programme, rule, currency, amount, lines, context)
    steps.append(("local time", f"{local:%Y-%m-%d %H:%M} {ctx.settings.timezone}"))
    for line in earning.lines:
        if line.excluded_by:
            shown = (
                f"{_money(currency, line.amount_minor)}, excluded ({line.excluded_by})"
            )
        else:
            shown = f"{_money(currency, line.basis_minor)} x{line.multiplier}"
        steps.append((f"line {line.sku or '-'}", shown))
    if earning.discount_minor:
        steps.append(
            (
                "paid with points or reward",
                f"-{_money(currency, earning.discount_minor)}",
            )
        )
    steps.append(("eligible total", _money(currency, earning.eligible_minor)))
    if earning.weighted_minor != earning.eligible_minor:
        steps.append(
            ("with line multipliers", _money(currency, earning.weighted_minor))
        )
    steps.append(("earn rate", f"{rule.earn_rate} points per 1.00"))
    if earning.below_minimum:
        steps.append(
            (
                "minimum spend",
                f"{_money(currency, rule.minimum_spend_minor)} not reached",
            )
        )
    if earning.tier_name:
        steps.append((f"tier {earning.tier_name}", f"x{earning.tier_multiplier}"))
    if earning.bonus_period:
        steps.append(
            (f"bonus period {earning.bonus_period}", f"x{earning.bonus_multiplier}")
        )
    steps.append(("exact points", str(earning.exact_points)))
    steps.append(("rounded toward zero", str(earning.points)))
    steps += _entry_steps(entries)
    return SaleExplanation(
        sale.id, version, tuple(steps), earning.points, ledger_earned
    )


def _entry_steps(entries: list[tuple]) -> list[tuple[str, str]]:
    steps = []
    for kind, points, _version, reason in entries:
        label = f"ledger {kind}" + (f" ({reason})" if reason else "")
        steps.append((label, f"{points:+d}"))
    total = sum(points for _kind, points, _v, _r in entries)
    steps.append(("ledger total", f"{total:+d}"))
    return steps
