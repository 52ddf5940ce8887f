"""xAI's own cost figure: `usage.cost_in_usd_ticks` in image answers and finished video polls.

1 USD = 10¹⁰ ticks (xAI's `MediaUsage`; the TypeScript SDK's TICKS_PER_USD). When present it is
recorded for /usage instead of the catalog's estimate."""

from __future__ import annotations

from collections.abc import Mapping

TICKS_PER_USD = 10_000_000_000


def reported_cost(usage: object) -> float | None:
    """USD from a `usage` object or mapping, or None when it carries no usable figure."""
    if isinstance(usage, Mapping):
        ticks = usage.get("cost_in_usd_ticks")
    else:
        ticks = getattr(usage, "cost_in_usd_ticks", None)
    if isinstance(ticks, bool) or not isinstance(ticks, int) or ticks < 0:
        return None
    return ticks / TICKS_PER_USD
