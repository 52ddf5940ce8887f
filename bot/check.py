"""`python -m bot check`: what this configuration offers, without connecting to Discord."""

from __future__ import annotations

import os
from pathlib import Path

from bot.settings import Settings
from bot.tiers import Tier, TierTable
from providers.registry import VIDEO_MODEL, Catalog, ModelSpec, Provider
from storage.pg import redact
from storage.store import DB_FILE_NAME


def model_state(spec: ModelSpec, settings: Settings, catalog: Catalog, tiers: TierTable) -> str:
    if not spec.offered:
        return f"retired, drawn with {catalog.resolve(spec.key).spec.display}"
    if spec.provider not in settings.keyed_providers():
        return f"missing key ({spec.key_variable})"
    allowed = [tier.name for tier in tiers.tiers.values() if tier.allows(spec)]
    if not allowed:
        return "not in any tier"
    return f"available (tiers: {', '.join(allowed)})"


def _data_dir_state(path: Path) -> str:
    probe = path if path.exists() else next((p for p in path.parents if p.exists()), Path("/"))
    if not os.access(probe, os.W_OK):
        raise PermissionError(f"DATA_DIR {path} is not writable")
    return "exists" if path.exists() else "will be created"


def _storage_line(settings: Settings) -> str:
    url = settings.database()
    if url is None:
        return f"SQLite at {settings.data_dir.resolve() / DB_FILE_NAME}"
    return f"PostgreSQL at {redact(url)} (media in the database)"


def _tier_line(tier: Tier, default: str) -> str:
    models = "all" if tier.models is None else ", ".join(sorted(tier.models))
    mark = " (default)" if tier.name == default else ""
    return (
        f"  {tier.name}{mark}: models {models}; video {'yes' if tier.video else 'no'}; "
        f"scenes/day {tier.scenes_per_day} (member {tier.member_scenes_per_day}); "
        f"videos/day {tier.videos_per_day}; references {tier.max_references}"
    )


def report(settings: Settings, catalog: Catalog, tiers: TierTable) -> list[str]:
    """The lines `check` prints; no secret ever appears, only whether it is set."""
    keyed = settings.keyed_providers()
    width = max(len(spec.key) for spec in catalog.all)
    lines = [
        f"DISCORD_TOKEN: {'set' if settings.discord_token else 'missing (required to run)'}",
        f"Data dir: {settings.data_dir.resolve()} ({_data_dir_state(settings.data_dir.resolve())})",
        f"Storage: {_storage_line(settings)}",
        "Image models:",
    ]
    for spec in catalog.all:
        state = model_state(spec, settings, catalog, tiers)
        lines.append(f"  {spec.key:<{width}}  {spec.display} ({spec.provider.display}): {state}")
    video = "available" if VIDEO_MODEL.provider in keyed else "missing key (XAI_API_KEY)"
    lines += ["Video model:", f"  {VIDEO_MODEL.key} (xAI): {video}", "Text model:"]
    if Provider.OPENAI in keyed:
        lines.append(f"  {settings.text_model} (OpenAI): available")
    else:
        lines.append(
            f"  {settings.text_model} (OpenAI): missing key (OPENAI_API_KEY); "
            "scene text is the member's premise or direction"
        )
    lines.append("Tiers:")
    lines += [_tier_line(tier, tiers.default) for tier in tiers.tiers.values()]
    return lines
