"""Which models draw, now (SPEC §4, §7): the catalog's lifecycle by date, the keys that are set,
the tiers' order of preference, and the models withdrawn after their provider denied them.

Nothing here reads storage or the network, so `check` uses it as the bot does."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.tiers import Tier
from providers.registry import (
    Catalog,
    ModelSpec,
    NoLiveModel,
    Provider,
    Resolved,
    Status,
    retired_text,
    short_date,
)

WITHDRAWN_FOR = timedelta(hours=1)  # a model its provider denies is tried again after this


class Lineup:
    """The models a tier draws with at this moment, by the catalog's clock."""

    def __init__(self, catalog: Catalog, keyed: frozenset[Provider]) -> None:
        self.catalog = catalog
        self.keyed = keyed
        self._withdrawn: dict[str, datetime] = {}  # model key → until when

    def drawable(self, spec: ModelSpec) -> bool:
        """Keyed, not retired today, and not withdrawn after its provider denied it."""
        return spec.provider in self.keyed and self.catalog.live(spec) and not self.withdrawn(spec)

    def withdrawn(self, spec: ModelSpec) -> bool:
        until = self._withdrawn.get(spec.key)
        if until is not None and self.catalog.clock() >= until:
            del self._withdrawn[spec.key]  # the hour is over: try it again
            until = None
        return until is not None

    def withdraw(self, spec: ModelSpec) -> bool:
        """Hide a model its provider says does not exist; False if it was hidden already."""
        if self.withdrawn(spec):
            return False
        self._withdrawn[spec.key] = self.catalog.clock() + WITHDRAWN_FOR
        return True

    def named(self, tier: Tier) -> list[ModelSpec]:
        """The models a tier names, in order of preference; for "all", the catalog's order
        with active models before deprecated ones."""
        if tier.models is not None:
            return [self.catalog.get(key) for key in tier.models]
        return sorted(self.catalog.all, key=self._deprecated)

    def fallback(self, tier: Tier) -> ModelSpec | None:
        """The cheapest drawable model at the tier's quality: what a tier draws with when
        none of its own models can (a bot with one provider's key still serves every tier)."""
        spare = [spec for spec in self.catalog.all if self.drawable(spec)]
        return min(spare, key=lambda spec: spec.cost_usd(tier.image_quality), default=None)

    def models_of(self, tier: Tier) -> list[ModelSpec]:
        """The tier's drawable models, default first; else its fallback alone."""
        usable = [spec for spec in self.named(tier) if self.drawable(spec)]
        if usable:
            return usable
        spare = self.fallback(tier)
        return [spare] if spare is not None else []

    def _deprecated(self, spec: ModelSpec) -> bool:
        return self.catalog.status(spec) is Status.DEPRECATED

    def usable(self, spec: ModelSpec, tier: Tier) -> bool:
        return any(spec.key == allowed.key for allowed in self.models_of(tier))

    def shutdown_note(self, spec: ModelSpec) -> str | None:
        """'retires 1 Dec' for a deprecated model with a date, shown next to its name."""
        if self.catalog.status(spec) is Status.DEPRECATED and spec.shutdown is not None:
            return f"retires {short_date(spec.shutdown)}"
        return None

    def for_tier(self, key: str, tier: Tier) -> Resolved | None:
        """What draws for a stored or typed key on this tier, or None when it may not draw
        here. A retired key goes to its successor, or to the tier's first model when the tier
        cannot draw with the successor; the notice says which and since when."""
        if key not in self.catalog:
            return None  # a MODELS_FILE has since dropped it
        spec = self.catalog.get(key)
        if self.catalog.live(spec):
            return Resolved(spec) if self.usable(spec, tier) else None
        try:
            resolved: Resolved | None = self.catalog.resolve(key)
        except NoLiveModel:
            resolved = None
        if resolved is not None and self.usable(resolved.spec, tier):
            return resolved
        allowed = self.models_of(tier)
        if not allowed:
            return None
        gone, first = retired_text(spec), allowed[0].display
        if resolved is None:
            return Resolved(allowed[0], f"{gone}; drawn with {first}")
        return Resolved(
            allowed[0],
            f"{gone}; its successor {resolved.spec.display} is not available on this "
            f"server's tier, so drawn with {first}",
        )
