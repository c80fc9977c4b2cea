"""The loyalty block of a receipt: tier, pending and expiring points, rewards, challenges.

``services.loyalty.receipt_loyalty_block`` fills a ``LoyaltyBlock`` from the
ledger; ``loyalty_blocks`` lays it out as receipt blocks that the receipt
layout can insert before the member's details.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from posloyalty.domain.receipt import Align, Block, Pair, Rule, TextLine


@dataclass(frozen=True)
class ChallengeLine:
    """One challenge on the receipt, its progress already formatted (``3/5``)."""

    name: str
    progress: str
    completed: bool


@dataclass(frozen=True)
class LoyaltyBlock:
    """What the receipt says about the member's standing.

    Attributes:
        tier_name: the tier held, or ``None``.
        next_tier_name: the tier above, or ``None`` at the top.
        to_next_tier: points (or formatted spend) still missing for it.
        pending: points waiting for the return window to end.
        expiring: (local date, points) expiring soon, earliest first.
        rewards_ready: names of rewards the member can take now.
        next_reward_name: the cheapest reward not yet affordable, or ``None``.
        to_next_reward: points still missing for it.
        challenges: the challenges of the current periods.
        wallet_balance: the balance of the household wallet the member
            shares, or ``None`` for a member who spends alone.
        wallet_members: how many members share the wallet (0 when alone).
    """

    tier_name: str | None
    next_tier_name: str | None
    to_next_tier: str
    pending: int
    expiring: tuple[tuple[date, int], ...]
    rewards_ready: tuple[str, ...]
    next_reward_name: str | None
    to_next_reward: int
    challenges: tuple[ChallengeLine, ...]
    wallet_balance: int | None = None
    wallet_members: int = 0

    @property
    def is_empty(self) -> bool:
        """The programme has nothing to show beyond the balance."""
        return not (
            self.tier_name
            or self.next_tier_name
            or self.pending
            or self.expiring
            or self.rewards_ready
            or self.next_reward_name
            or self.challenges
            or self.wallet_balance is not None
        )


def loyalty_blocks(block: LoyaltyBlock) -> list[Block]:
    """Lay out the loyalty block; an empty list when there is nothing to show."""
    if block.is_empty:
        return []
    blocks: list[Block] = [Rule(), TextLine("Loyalty", Align.CENTER, bold=True)]
    if block.wallet_balance is not None:
        blocks.append(Pair("Household wallet", f"{block.wallet_balance} points"))
    if block.tier_name:
        blocks.append(Pair("Tier", block.tier_name))
    if block.next_tier_name:
        blocks.append(Pair(f"To {block.next_tier_name}", block.to_next_tier))
    if block.pending:
        blocks.append(Pair("Pending points", str(block.pending)))
    for day, points in block.expiring:
        blocks.append(Pair(f"Expiring {day.isoformat()}", str(points)))
    if block.rewards_ready:
        blocks.append(Pair("Rewards ready", ", ".join(block.rewards_ready)))
    if block.next_reward_name:
        blocks.append(
            Pair(
                f"Next: {block.next_reward_name}",
                f"{block.to_next_reward} points to go",
            )
        )
    for challenge in block.challenges:
        value = "done" if challenge.completed else challenge.progress
        blocks.append(Pair(challenge.name, value))
    return blocks
