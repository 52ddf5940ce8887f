"""Tier table (SPEC §7): the built-in tiers or a TIERS_FILE that replaces them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from providers.config_file import ConfigFileError, line_of, load_toml, validate
from providers.registry import Catalog, ModelSpec, Quality


@dataclass(frozen=True, slots=True)
class Tier:
    name: str
    models: tuple[str, ...] | None  # in order of preference; None means "all" live models
    video: bool
    scenes_per_day: int
    member_scenes_per_day: int
    videos_per_day: int
    max_references: int
    image_quality: Quality = Quality.MEDIUM

    def names(self, spec: ModelSpec) -> bool:
        """Whether the tier lists the model (any model, for "all"); liveness is not its say."""
        return self.models is None or spec.key in self.models


BUILT_IN_TIERS: tuple[Tier, ...] = (
    Tier("free", ("gpt-image-2", "grok-imagine"), False, 25, 10, 0, 1, Quality.LOW),
    Tier("standard", ("gpt-image-2", "grok-imagine", "gemini"), True, 200, 40, 20, 3,
         Quality.MEDIUM),
    Tier("premium", None, True, 1000, 200, 100, 5, Quality.HIGH),
)  # fmt: skip


class _TierEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    models: list[str] | Literal["all"]
    image_quality: Literal["low", "medium", "high"] = "medium"
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
        models = None if entry.models == "all" else tuple(dict.fromkeys(entry.models))
        tiers.append(
            Tier(
                name,
                models,
                entry.video,
                entry.scenes_per_day,
                entry.member_scenes_per_day,
                entry.videos_per_day,
                entry.max_references,
                Quality(entry.image_quality),
            )
        )
    return tuple(tiers)
