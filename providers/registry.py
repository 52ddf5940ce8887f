"""The model catalog (SPEC §4) as data: one entry per model with its lifecycle, extended by
MODELS_FILE. Whether a model is live is decided from the injected clock at each look-up, so a
shutdown date takes effect on its morning without a release."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from types import MappingProxyType

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Provider(StrEnum):
    OPENAI = "openai"
    XAI = "xai"
    GEMINI = "gemini"

    @property
    def display(self) -> str:
        return PROVIDERS[self].display

    @property
    def key_variable(self) -> str:
        return PROVIDERS[self].key_variable


@dataclass(frozen=True, slots=True)
class ProviderInfo:
    """One provider as data: its name for members, the settings that reach it (SPEC §3) and the
    model that writes scene text on it by default."""

    display: str
    key_variable: str
    base_url_variable: str
    text_model: str


# The provider table that settings, wiring, `check` and the lineup read. Its order is the order
# in which providers are asked to write scene text (the first with a key writes it).
PROVIDERS: Mapping[Provider, ProviderInfo] = MappingProxyType(
    {
        Provider.OPENAI: ProviderInfo(
            "OpenAI", "OPENAI_API_KEY", "OPENAI_BASE_URL", "gpt-5.4-mini"
        ),
        Provider.XAI: ProviderInfo("xAI", "XAI_API_KEY", "XAI_BASE_URL", "grok-4.20-non-reasoning"),
        Provider.GEMINI: ProviderInfo(
            "Google", "GEMINI_API_KEY", "GEMINI_BASE_URL", "gemini-3.8-flash"
        ),
    }
)


class Status(StrEnum):
    ACTIVE = "active"
    DEPRECATED = "deprecated"
    RETIRED = "retired"


class Quality(StrEnum):
    """A tier's image_quality, sent as `quality` to the models that take one."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


@dataclass(frozen=True, slots=True)
class Cost:
    """Estimated USD per image at each quality (one figure for models without a quality)."""

    low: float
    medium: float
    high: float

    @classmethod
    def flat(cls, usd: float) -> Cost:
        return cls(usd, usd, usd)

    def at(self, quality: Quality) -> float:
        return {Quality.LOW: self.low, Quality.MEDIUM: self.medium, Quality.HIGH: self.high}[
            quality
        ]


DEFAULT_COST = Cost.flat(0.04)  # a MODELS_FILE entry that names no cost


def short_date(day: date) -> str:
    """'1 Dec', as autocomplete and /models show a shutdown."""
    return f"{day.day} {day:%b}"


def long_date(day: date) -> str:
    """'1 Dec 2026', as a scene notice names the day a model was retired."""
    return f"{day.day} {day:%b %Y}"


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """One image model: who serves it, what it accepts, what it costs, and when it ends."""

    key: str
    display: str
    provider: Provider
    api_model: str
    max_references: int
    input_fidelity: bool  # send input_fidelity="high" with reference photos
    takes_quality: bool = False  # send the tier's image_quality as `quality`
    cost: Cost = DEFAULT_COST
    shutdown: date | None = None  # retired from this UTC day on
    successor: str | None = None
    status: Status | None = None  # an operator's override of what the dates say

    @property
    def key_variable(self) -> str:
        return self.provider.key_variable

    def status_on(self, today: date) -> Status:
        if self.status is not None:
            return self.status
        if self.shutdown is None:
            return Status.ACTIVE
        return Status.RETIRED if today >= self.shutdown else Status.DEPRECATED

    def cost_usd(self, quality: Quality) -> float:
        return self.cost.at(quality)

    def cost_hint(self, quality: Quality) -> str:
        usd = self.cost_usd(quality)
        return "$" if usd < 0.02 else "$$" if usd < 0.06 else "$$$"


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


@dataclass(frozen=True, slots=True)
class TextModel:
    """The chat model that writes scene text, and the provider that serves it."""

    provider: Provider
    api_model: str


# Who writes scene text: the first provider with a key, in the table's order, with its default
# model (SPEC §3); TEXT_MODEL replaces the model on the provider chosen.
TEXT_MODELS: tuple[TextModel, ...] = tuple(
    TextModel(provider, info.text_model) for provider, info in PROVIDERS.items()
)


def text_model(keyed: Iterable[Provider], override: str | None = None) -> TextModel | None:
    """The scene writer's model for these keyed providers; None: no key, no writer."""
    have = frozenset(keyed)
    for default in TEXT_MODELS:
        if default.provider in have:
            return TextModel(default.provider, override or default.api_model)
    return None


_GPT_IMAGE_2_COST = Cost(0.006, 0.053, 0.211)
BUILT_IN: tuple[ModelSpec, ...] = (
    ModelSpec("gpt-image-1", "GPT Image 1", Provider.OPENAI, "gpt-image-1", 16, True, True,
              Cost(0.011, 0.042, 0.167), date(2026, 10, 23), "gpt-image-2"),
    ModelSpec("gpt-image-1-mini", "GPT Image 1 Mini", Provider.OPENAI, "gpt-image-1-mini", 16,
              False, True, Cost(0.005, 0.011, 0.036), date(2026, 12, 1), "gpt-image-2"),
    ModelSpec("gpt-image-1.5", "GPT Image 1.5", Provider.OPENAI, "gpt-image-1.5", 16, True, True,
              Cost(0.009, 0.034, 0.133), date(2026, 12, 1), "gpt-image-2"),
    ModelSpec("gpt-image-2", "GPT Image 2", Provider.OPENAI, "gpt-image-2", 16, False, True,
              _GPT_IMAGE_2_COST),
    ModelSpec("gpt-image-2.6-flare", "GPT Image 2.6 Flare", Provider.OPENAI,
              "gpt-image-2.6-flare", 16, False, True, _GPT_IMAGE_2_COST),
    ModelSpec("gpt-image-2.6-sunburst", "GPT Image 2.6 Sunburst", Provider.OPENAI,
              "gpt-image-2.6-sunburst", 16, False, True, _GPT_IMAGE_2_COST),
    ModelSpec("grok-imagine", "Grok Imagine", Provider.XAI, "grok-imagine-image", 3, False,
              False, Cost.flat(0.02)),
    ModelSpec("gemini", "Gemini Flash Image", Provider.GEMINI, "gemini-3.1-flash-image", 14,
              False, False, Cost.flat(0.067)),
    ModelSpec("gemini-pro", "Gemini Pro Image", Provider.GEMINI, "gemini-3-pro-image", 14,
              False, False, Cost.flat(0.134)),
)  # fmt: skip


class UnknownModel(LookupError):
    """A model key that is not in the catalog."""


class NoLiveModel(LookupError):
    """A retired model whose successor chain ends in no live model."""


@dataclass(frozen=True, slots=True)
class Resolved:
    """The model to call for a requested key, and why it is not the one asked for, if so."""

    spec: ModelSpec
    notice: str | None = None


class Catalog:
    """Look-ups over the model table; the table is fixed at start, its statuses are not."""

    def __init__(self, specs: Iterable[ModelSpec], clock: Clock = utc_now) -> None:
        self._specs: dict[str, ModelSpec] = {spec.key: spec for spec in specs}
        self.clock = clock
        for spec in self._specs.values():
            self._check_chain(spec)

    def __contains__(self, key: object) -> bool:
        return key in self._specs

    @property
    def all(self) -> tuple[ModelSpec, ...]:
        return tuple(self._specs.values())

    def today(self) -> date:
        return self.clock().astimezone(UTC).date()

    def get(self, key: str) -> ModelSpec:
        try:
            return self._specs[key]
        except KeyError:
            raise UnknownModel(key) from None

    def status(self, spec: ModelSpec) -> Status:
        return spec.status_on(self.today())

    def live(self, spec: ModelSpec) -> bool:
        """Offered and sent to its provider: anything not retired today."""
        return self.status(spec) is not Status.RETIRED

    def offered(self) -> tuple[ModelSpec, ...]:
        return tuple(spec for spec in self._specs.values() if self.live(spec))

    def resolve(self, key: str) -> Resolved:
        """The model that draws for `key`: itself, or the first live model of its successor
        chain, with the notice the scene shows. NoLiveModel when the chain ends in none."""
        asked = self.get(key)
        spec = self.successor_of(asked)
        if spec is asked:
            return Resolved(asked)
        return Resolved(spec, f"{retired_text(asked)}; drawn with {spec.display}")

    def successor_of(self, spec: ModelSpec) -> ModelSpec:
        """`spec` if live, else the first live model down its successor chain."""
        seen = {spec.key}
        while not self.live(spec):
            if spec.successor is None or spec.successor not in self._specs:
                raise NoLiveModel(spec.key)
            spec = self._specs[spec.successor]
            if spec.key in seen:
                raise NoLiveModel(spec.key)
            seen.add(spec.key)
        return spec

    def validate_today(self) -> None:
        """At start and in `check`: a retired entry must reach a live model."""
        for spec in self._specs.values():
            if not self.live(spec):
                try:
                    self.successor_of(spec)
                except NoLiveModel:
                    raise ValueError(
                        f"model {spec.key!r} is retired and has no live successor: "
                        f'give [models."{spec.key}"] a successor that is live'
                    ) from None

    def _check_chain(self, spec: ModelSpec) -> None:
        """Successors must exist and never loop, whatever the date."""
        seen = {spec.key}
        while spec.successor is not None:
            if spec.successor not in self._specs:
                raise ValueError(
                    f"model {spec.key!r} names an unknown successor {spec.successor!r}"
                )
            spec = self._specs[spec.successor]
            if spec.key in seen:
                raise ValueError(f"successor chain of {spec.key!r} loops")
            seen.add(spec.key)


def retired_text(spec: ModelSpec) -> str:
    """'GPT Image 1 Mini was retired on 1 Dec 2026' (without a date for an operator's retire)."""
    if spec.status is Status.RETIRED or spec.shutdown is None:
        return f"{spec.display} was retired"
    return f"{spec.display} was retired on {long_date(spec.shutdown)}"
