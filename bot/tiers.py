"""Tier table (SPEC §7): the built-in tiers or a TIERS_FILE that replaces them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from providers.config_file import ConfigFileError, line_of, load_toml, validate
from providers.registry import Catalog, ModelSpec


@dataclass(frozen=True, slots=True)
class Tier:
    name: str
    models: frozenset[str] | None  # None means "all": every offered model of the catalog
    video: bool
    scenes_per_day: int
    member_scenes_per_day: int
    videos_per_day: int
    max_references: int

    def allows(self, spec: ModelSpec) -> bool:
        return spec.offered and (self.models is None or spec.key in self.models)


_STANDARD_MODELS = frozenset({"gpt-image-1-mini", "grok-imagine", "gemini"})  # all but 1.5 and 2
BUILT_IN_TIERS: tuple[Tier, ...] = (
    Tier("free", frozenset({"gpt-image-1-mini"}), False, 25, 10, 0, 1),
    Tier("standard", _STANDARD_MODELS, True, 200, 40, 20, 3),
    Tier("premium", None, True, 1000, 200, 100, 5),
)


class _TierEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    models: list[str] | Literal["all"]
    video: bool
    scenes_per_day: int = Field(ge=0)
    member_scenes_per_day: int = Field(ge=0)
    videos_per_day: int = Field(ge=0)
    max_references: int = Field(ge=0, le=16)


class TierTable:
    """The tiers in force, by name, in file order."""

    def __init__(self, tiers: tuple[Tier, ...], default: str) -> None:
        self.tiers: Mapping[str, Tier] = {tier.name: tier for tier in tiers}
        if default not in self.tiers:
            raise ValueError(f"DEFAULT_TIER {default!r} is not one of: {', '.join(self.tiers)}")
        self.default = default

    def get(self, name: str | None) -> Tier:
        """The named tier; a guild nobody configured, or a tier since removed, gets the default."""
        return self.tiers.get(name or self.default) or self.tiers[self.default]

    def in_any_tier(self, spec: ModelSpec) -> bool:
        return any(tier.allows(spec) for tier in self.tiers.values())


def load_tiers(tiers_file: Path | None, catalog: Catalog) -> tuple[Tier, ...]:
    """Built-in tiers, or the TIERS_FILE that names every tier in full."""
    if tiers_file is None:
        return BUILT_IN_TIERS
    data, text = load_toml(tiers_file)
    tables = data.get("tiers")
    if set(data) != {"tiers"} or not isinstance(tables, Mapping) or not tables:
        raise ConfigFileError(tiers_file, None, "expected [tiers.<name>] tables and nothing else")
    tiers = []
    for name, table in tables.items():
        entry = validate(_TierEntry, table, tiers_file, text, f"tiers.{name}")
        if entry.models != "all":
            unknown = [key for key in entry.models if key not in catalog]
            if unknown:
                line = line_of(text, f"tiers.{name}", "models")
                raise ConfigFileError(tiers_file, line, f"unknown model(s): {', '.join(unknown)}")
        models = None if entry.models == "all" else frozenset(entry.models)
        tiers.append(
            Tier(
                name,
                models,
                entry.video,
                entry.scenes_per_day,
                entry.member_scenes_per_day,
                entry.videos_per_day,
                entry.max_references,
            )
        )
    return tuple(tiers)
