"""`python -m bot check`: what this configuration offers, without connecting to Discord."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from bot.book.web import web_config
from bot.lineup import Lineup
from bot.settings import Settings
from bot.tiers import Tier, TierTable
from providers.registry import (
    PROVIDERS,
    VIDEO_MODEL,
    Catalog,
    ModelSpec,
    NoLiveModel,
    Provider,
    Status,
    text_model,
)
from storage.pg import redact
from storage.store import DB_FILE_NAME

WARN_AHEAD = timedelta(days=30)  # shutdowns this close that a tier relies on are warned of


def model_state(spec: ModelSpec, lineup: Lineup, tiers: TierTable) -> str:
    """available / missing key / not in any tier / deprecated (date) / retired (→ successor)."""
    catalog = lineup.catalog
    status = catalog.status(spec)
    if status is Status.RETIRED:
        when = f" on {spec.shutdown}" if spec.shutdown and spec.status is None else ""
        try:
            successor = catalog.successor_of(spec)
        except NoLiveModel:
            return f"retired{when}, no live successor"
        return f"retired{when} → {successor.key} ({successor.display})"
    lifecycle = ""
    if status is Status.DEPRECATED:
        day = spec.shutdown
        when = f"shutdown {day} → {_heir(spec, lineup, day)}" if day else "no date"
        lifecycle = f"deprecated ({when}); "
    if spec.provider not in lineup.keyed:
        return f"{lifecycle}missing key ({spec.key_variable})"
    drawn_on = [tier.name for tier in tiers.tiers.values() if lineup.usable(spec, tier)]
    if not drawn_on:
        return f"{lifecycle}not in any tier"
    return f"{lifecycle}available (tiers: {', '.join(drawn_on)})"


def _on(lineup: Lineup, day: date) -> Lineup:
    """The same catalog and keys as they will stand on `day` (from its first UTC moment)."""
    moment = datetime.combine(day, time(), UTC)
    return Lineup(Catalog(lineup.catalog.all, lambda: moment), lineup.keyed)


def _heir(spec: ModelSpec, lineup: Lineup, day: date) -> str:
    """The live model down `spec`'s successor chain on its shutdown day: the chain may pass
    through a model a MODELS_FILE retires earlier."""
    try:
        heir = _on(lineup, day).catalog.successor_of(spec)
    except NoLiveModel:
        return "no live successor"
    return str(spec.successor) if heir is spec else heir.key  # a status keeps it live


def _stand_ins(spec: ModelSpec, day: date, relying: list[Tier], lineup: Lineup) -> str:
    """What each relying tier draws with in `spec`'s place from `day`, its shutdown, on."""
    later = _on(lineup, day)
    if later.catalog.live(spec):  # a MODELS_FILE status overrides the date: nothing changes
        return f"{spec.successor} stands in"
    by_model: dict[str, list[str]] = {}
    for tier in relying:
        resolved = later.for_tier(spec.key, tier)
        by_model.setdefault(resolved.spec.key if resolved else "nothing", []).append(tier.name)
    (first, names), *others = by_model.items()
    if not others:
        return f"{first} stands in"
    rest = "".join(f"; {model} on {', '.join(on)}" for model, on in others)
    return f"{first} stands in on {', '.join(names)}{rest}"


def shutdown_warnings(lineup: Lineup, tiers: TierTable) -> list[str]:
    """Every shutdown within WARN_AHEAD of a model some tier draws with now."""
    today = lineup.catalog.today()
    lines = []
    for spec in lineup.catalog.all:
        if spec.shutdown is None or lineup.catalog.status(spec) is not Status.DEPRECATED:
            continue
        days = (spec.shutdown - today).days
        relying = [tier for tier in tiers.tiers.values() if lineup.usable(spec, tier)]
        if days * timedelta(days=1) <= WARN_AHEAD and relying:
            lines.append(
                f"Warning: {spec.key} retires on {spec.shutdown} (in {days} days) and tier(s) "
                f"{', '.join(tier.name for tier in relying)} still draw with it; "
                f"from then on {_stand_ins(spec, spec.shutdown, relying, lineup)}."
            )
    return lines


def _data_dir_state(path: Path) -> str:
    probe = path if path.exists() else next((p for p in path.parents if p.exists()), Path("/"))
    if not os.access(probe, os.W_OK):
        raise PermissionError(f"DATA_DIR {path} is not writable")
    return "exists" if path.exists() else "will be created"


def _shard_line(settings: Settings) -> str:
    if settings.shard_count is None:
        return "all in this process (Discord's recommended count)"
    ids = settings.shard_ids if settings.shard_ids is not None else range(settings.shard_count)
    syncs = "; syncs commands" if settings.syncs_commands() else ""
    return f"{', '.join(map(str, ids))} of {settings.shard_count}{syncs}"


def _storage_line(settings: Settings) -> str:
    url = settings.database()
    if url is None:
        return f"SQLite at {settings.data_dir.resolve() / DB_FILE_NAME}"
    return f"PostgreSQL at {redact(url)} (media in the database)"


def _tier_lines(tier: Tier, default: str, lineup: Lineup) -> list[str]:
    models = "all" if tier.models is None else ", ".join(tier.models)
    mark = " (default)" if tier.name == default else ""
    lines = [
        f"  {tier.name}{mark}: models {models}; quality {tier.image_quality}; "
        f"video {'yes' if tier.video else 'no'}; "
        f"scenes/day {tier.scenes_per_day} (member {tier.member_scenes_per_day}); "
        f"videos/day {tier.videos_per_day}; references {tier.max_references}"
    ]
    if not any(lineup.drawable(spec) for spec in lineup.named(tier)):
        spare = lineup.fallback(tier)
        lines.append(
            f"    none of its models can draw (no key set); falls back to {spare.key}, "
            "the cheapest model with a key"
            if spare is not None
            else "    none of its models can draw, and no model has a key: nothing to draw with"
        )
    return lines


def _text_line(settings: Settings, keyed: frozenset[Provider]) -> str:
    """Who writes scene text: the first keyed provider of OpenAI, xAI, Gemini, or nobody."""
    text = text_model(keyed, settings.text_model)
    if text is None:
        *first, last = (info.key_variable for info in PROVIDERS.values())
        nobody = f"none (no {', '.join(first)} or {last})"
        return f"{nobody}: scene text is the member's premise or direction"
    source = "TEXT_MODEL" if settings.text_model else "default"
    return f"{text.api_model} ({text.provider.display}, {source}): writes scene text"


def report(settings: Settings, lineup: Lineup, tiers: TierTable) -> list[str]:
    """The lines `check` prints; no secret ever appears, only whether it is set."""
    catalog = lineup.catalog
    keyed = lineup.keyed
    width = max(len(spec.key) for spec in catalog.all)
    lines = [
        f"DISCORD_TOKEN: {'set' if settings.discord_token else 'missing (required to run)'}",
        f"Data dir: {settings.data_dir.resolve()} ({_data_dir_state(settings.data_dir.resolve())})",
        f"Storage: {_storage_line(settings)}",
        f"Shards: {_shard_line(settings)}",
        f"Image models (as of {catalog.today()} UTC):",
    ]
    for spec in catalog.all:
        state = model_state(spec, lineup, tiers)
        lines.append(f"  {spec.key:<{width}}  {spec.display} ({spec.provider.display}): {state}")
    maker = VIDEO_MODEL.provider
    video = "available" if maker in keyed else f"missing key ({maker.key_variable})"
    lines += ["Video model:", f"  {VIDEO_MODEL.key} ({maker.display}): {video}", "Text model:"]
    lines.append(f"  {_text_line(settings, keyed)}")
    lines.append(f"Storybook web server: {web_config(settings)[1]}")
    lines.append("Tiers:")
    for tier in tiers.tiers.values():
        lines += _tier_lines(tier, tiers.default, lineup)
    return lines + shutdown_warnings(lineup, tiers)
