"""MODELS_FILE: an operator's TOML that adds catalog entries or overrides fields of built-in ones
(SPEC §4), checked with the same line-precise errors as TIERS_FILE."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from providers.config_file import ConfigFileError, line_of, load_toml, validate
from providers.registry import (
    BUILT_IN,
    Catalog,
    Clock,
    Cost,
    ModelSpec,
    Provider,
    Status,
    utc_now,
)


class _CostTable(BaseModel):
    model_config = ConfigDict(extra="forbid")

    low: float = Field(ge=0)
    medium: float = Field(ge=0)
    high: float = Field(ge=0)


class _ModelEntry(BaseModel):
    """One `[models."key"]` table; omitted fields keep the built-in value."""

    model_config = ConfigDict(extra="forbid")

    display: str | None = Field(default=None, min_length=1)
    provider: Provider | None = None  # one of the provider table's keys
    api_model: str | None = Field(default=None, min_length=1)
    max_references: int | None = Field(default=None, ge=0, le=16)
    input_fidelity: bool | None = None
    quality: bool | None = None
    shutdown: date | None = None
    successor: str | None = Field(default=None, min_length=1)
    status: Literal["active", "deprecated", "retired"] | None = None
    cost_usd: Annotated[float, Field(ge=0)] | _CostTable | None = None


def _fields(entry: _ModelEntry) -> dict[str, object]:
    """The entry as ModelSpec field values, only those the file sets."""
    fields: dict[str, object] = {}
    for name in ("display", "api_model", "max_references", "input_fidelity"):
        value = getattr(entry, name)
        if value is not None:
            fields[name] = value
    if entry.provider is not None:
        fields["provider"] = entry.provider
    if entry.quality is not None:
        fields["takes_quality"] = entry.quality
    if entry.shutdown is not None:
        fields["shutdown"] = entry.shutdown
    if entry.successor is not None:
        fields["successor"] = entry.successor
    if entry.status is not None:
        fields["status"] = Status(entry.status)
    if isinstance(entry.cost_usd, _CostTable):
        fields["cost"] = Cost(entry.cost_usd.low, entry.cost_usd.medium, entry.cost_usd.high)
    elif entry.cost_usd is not None:
        fields["cost"] = Cost.flat(entry.cost_usd)
    return fields


def _merge(key: str, entry: _ModelEntry, base: ModelSpec | None) -> ModelSpec:
    fields = _fields(entry)
    if base is not None:
        return replace(base, **fields)  # type: ignore[arg-type]  # names checked by _fields
    missing = [name for name in ("provider", "api_model") if name not in fields]
    if missing:
        raise ValueError(f"a new model needs {' and '.join(missing)}")
    fields.setdefault("display", key)
    fields.setdefault("max_references", 1)
    fields.setdefault("input_fidelity", False)
    return ModelSpec(key=key, **fields)  # type: ignore[arg-type]  # names checked by _fields


def _successor_problem(spec: ModelSpec, known: Mapping[str, ModelSpec]) -> str | None:
    ends = spec.shutdown is not None or spec.status is Status.RETIRED
    if ends and spec.successor is None:
        return 'a model with a shutdown date or status = "retired" needs a successor'
    if spec.successor is not None and spec.successor not in known:
        return f"successor {spec.successor!r} is not a model of the catalog"
    return None


def load_catalog(models_file: Path | None, clock: Clock = utc_now) -> Catalog:
    """The built-in catalog, with a MODELS_FILE's entries added or overriding by key."""
    specs: dict[str, ModelSpec] = {spec.key: spec for spec in BUILT_IN}
    if models_file is None:
        return Catalog(specs.values(), clock)
    data, text = load_toml(models_file)
    unknown = set(data) - {"models"}
    if unknown:
        raise ConfigFileError(models_file, None, f"unknown table(s): {', '.join(sorted(unknown))}")
    tables = data.get("models", {})
    if not isinstance(tables, Mapping):
        raise ConfigFileError(models_file, None, "[models] must be a table of model tables")
    for key, table in tables.items():
        where = f'models."{key}"'
        entry = validate(_ModelEntry, table, models_file, text, where)
        try:
            specs[key] = _merge(key, entry, specs.get(key))
        except ValueError as exc:
            raise ConfigFileError(models_file, line_of(text, where, None), str(exc)) from exc
    for key in tables:
        problem = _successor_problem(specs[key], specs)
        if problem:
            line = line_of(text, f'models."{key}"', "successor")
            raise ConfigFileError(models_file, line, f'[models."{key}"] {problem}')
    try:
        return Catalog(specs.values(), clock)
    except ValueError as exc:
        raise ConfigFileError(models_file, None, str(exc)) from exc
