"""The model catalog (SPEC §4) as data: one entry per model, extended by MODELS_FILE."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from providers.config_file import ConfigFileError, line_of, load_toml, validate


class Provider(StrEnum):
    OPENAI = "openai"
    XAI = "xai"
    GEMINI = "gemini"

    @property
    def display(self) -> str:
        return {"openai": "OpenAI", "xai": "xAI", "gemini": "Google"}[self.value]

    @property
    def key_variable(self) -> str:
        return {"openai": "OPENAI_API_KEY", "xai": "XAI_API_KEY", "gemini": "GEMINI_API_KEY"}[
            self.value
        ]


class Status(StrEnum):
    ACTIVE = "active"
    DEPRECATED = "deprecated"
    RETIRED = "retired"


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """One image model: who serves it, what it accepts, what it costs, whether it still lives."""

    key: str
    display: str
    provider: Provider
    api_model: str
    max_references: int
    input_fidelity: bool  # send input_fidelity="high" with reference photos
    status: Status = Status.ACTIVE
    successor: str | None = None
    cost_usd: float = 0.04

    @property
    def key_variable(self) -> str:
        return self.provider.key_variable

    @property
    def offered(self) -> bool:
        """Retired models are never offered nor called; deprecated ones still work."""
        return self.status is not Status.RETIRED

    @property
    def cost_hint(self) -> str:
        return "$" if self.cost_usd < 0.02 else "$$" if self.cost_usd < 0.06 else "$$$"


@dataclass(frozen=True, slots=True)
class VideoModelSpec:
    key: str
    display: str
    provider: Provider
    api_model: str
    cost_usd_per_second: float


VIDEO_MODEL = VideoModelSpec(
    key="grok-imagine-video",
    display="Grok Imagine Video",
    provider=Provider.XAI,
    api_model="grok-imagine-video",
    cost_usd_per_second=0.07,
)

BUILT_IN: tuple[ModelSpec, ...] = (
    ModelSpec("gpt-image-1", "GPT Image 1", Provider.OPENAI, "gpt-image-1", 16, True,
              Status.RETIRED, "gpt-image-1.5", 0.042),
    ModelSpec("gpt-image-1-mini", "GPT Image 1 Mini", Provider.OPENAI, "gpt-image-1-mini", 16,
              False, cost_usd=0.011),
    ModelSpec("gpt-image-1.5", "GPT Image 1.5", Provider.OPENAI, "gpt-image-1.5", 16, True,
              cost_usd=0.034),
    ModelSpec("gpt-image-2", "GPT Image 2", Provider.OPENAI, "gpt-image-2", 16, False,
              cost_usd=0.05),
    ModelSpec("grok-imagine", "Grok Imagine", Provider.XAI, "grok-imagine-image", 3, False,
              cost_usd=0.02),
    ModelSpec("gemini", "Gemini", Provider.GEMINI, "gemini-2.5-flash-image", 3, False,
              cost_usd=0.039),
)  # fmt: skip


class UnknownModel(LookupError):
    """A model key that is not in the catalog."""


@dataclass(frozen=True, slots=True)
class Resolved:
    """The model to call for a requested key; `retired` is set when a successor stands in."""

    spec: ModelSpec
    retired: ModelSpec | None = None

    @property
    def notice(self) -> str | None:
        if self.retired is None:
            return None
        return f"{self.retired.display} is retired; drawn with {self.spec.display}"


class Catalog:
    """Look-ups over the model table. Built once at start; immutable afterwards."""

    def __init__(self, specs: Iterable[ModelSpec]) -> None:
        self._specs: dict[str, ModelSpec] = {spec.key: spec for spec in specs}
        for spec in self._specs.values():
            self._follow(spec)  # a broken successor chain fails at start, not mid-story

    def __contains__(self, key: object) -> bool:
        return key in self._specs

    @property
    def all(self) -> tuple[ModelSpec, ...]:
        return tuple(self._specs.values())

    def get(self, key: str) -> ModelSpec:
        try:
            return self._specs[key]
        except KeyError:
            raise UnknownModel(key) from None

    def offered(self) -> tuple[ModelSpec, ...]:
        return tuple(spec for spec in self._specs.values() if spec.offered)

    def resolve(self, key: str) -> Resolved:
        """The model that draws for `key`: itself, or its successor when it is retired."""
        spec = self.get(key)
        final = self._follow(spec)
        return Resolved(final, spec if final is not spec else None)

    def _follow(self, spec: ModelSpec) -> ModelSpec:
        seen = {spec.key}
        while spec.status is Status.RETIRED:
            if spec.successor is None or spec.successor not in self._specs:
                raise ValueError(f"retired model {spec.key!r} needs a known successor")
            spec = self._specs[spec.successor]
            if spec.key in seen:
                raise ValueError(f"successor chain of {spec.key!r} loops")
            seen.add(spec.key)
        return spec


class _ModelEntry(BaseModel):
    """One `[models."key"]` table of a MODELS_FILE; omitted fields keep the built-in value."""

    model_config = ConfigDict(extra="forbid")

    display: str | None = Field(default=None, min_length=1)
    provider: Literal["openai", "xai", "gemini"] | None = None
    api_model: str | None = Field(default=None, min_length=1)
    max_references: int | None = Field(default=None, ge=0, le=16)
    input_fidelity: bool | None = None
    status: Literal["active", "deprecated", "retired"] | None = None
    successor: str | None = None
    cost_usd: float | None = Field(default=None, ge=0)


def _merge(key: str, entry: _ModelEntry, base: ModelSpec | None) -> ModelSpec:
    fields = entry.model_dump(exclude_none=True)
    if base is not None:
        status = fields.pop("status", None)
        spec = replace(base, **fields)
        return replace(spec, status=Status(status)) if status else spec
    missing = [name for name in ("provider", "api_model") if name not in fields]
    if missing:
        raise ValueError(f"a new model needs {' and '.join(missing)}")
    return ModelSpec(
        key=key,
        display=fields.get("display", key),
        provider=Provider(fields["provider"]),
        api_model=fields["api_model"],
        max_references=fields.get("max_references", 1),
        input_fidelity=fields.get("input_fidelity", False),
        status=Status(fields.get("status", "active")),
        successor=fields.get("successor"),
        cost_usd=fields.get("cost_usd", 0.04),
    )


def load_catalog(models_file: Path | None) -> Catalog:
    """The built-in catalog, with a MODELS_FILE's entries added or overriding by key."""
    specs: dict[str, ModelSpec] = {spec.key: spec for spec in BUILT_IN}
    if models_file is None:
        return Catalog(specs.values())
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
    try:
        return Catalog(specs.values())
    except ValueError as exc:
        raise ConfigFileError(models_file, None, str(exc)) from exc
