"""Small helpers for the end-to-end tests: start a story, inspect what reached whom."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from tests.e2e.harness import Harness
from tests.fakes.discord import Guild, InteractionRecord, StoredMessage, Upload, User
from tests.fakes.discord.interactions import OptionValue
from tests.fakes.discord.model import JSON
from tests.fakes.openai_api import EDITS, GENERATIONS
from tests.fakes.xai_api import CHAT as XAI_CHAT

PREMISE = "A fox finds a key"


def image_calls(harness: Harness) -> int:
    """Image requests that reached any provider stand-in (scene text requests are not)."""
    openai = len(harness.openai.requests_to(EDITS)) + len(harness.openai.requests_to(GENERATIONS))
    xai = [r for r in harness.xai.requests if r.route != XAI_CHAT]
    gemini = [r for r in harness.gemini.requests if not r.system]
    return openai + len(xai) + len(gemini)


def provider_calls(harness: Harness) -> int:
    """Every request that reached a provider stand-in (images and scene text)."""
    return len(harness.openai.requests) + len(harness.xai.requests) + len(harness.gemini.requests)


def first_provider_call_at(harness: Harness) -> float:
    stamps = [r.at for r in harness.openai.requests] + [r.at for r in harness.xai.requests]
    return min(stamps + [r.at for r in harness.gemini.requests])


async def start_story(
    harness: Harness,
    premise: str = PREMISE,
    *,
    options: Mapping[str, OptionValue] | None = None,
    attachments: Mapping[str, Upload] | None = None,
    user: User | int | None = None,
    guild: Guild | None = None,
) -> StoredMessage:
    """`/story start` that must succeed; returns the public scene message."""
    ix = await harness.discord.slash(
        "story",
        "start",
        options={"premise": premise, **(options or {})},
        attachments=attachments,
        user=user,
        guild=guild,
    )
    message = await ix.wait_for_final()
    assert message is not None, "the story did not end in a message"
    assert message.embeds, f"no scene: {message.content!r}"
    return message


async def refusal_text(ix: InteractionRecord) -> str:
    """The interaction ended in an ephemeral response (not a deferral): its text."""
    message = await ix.wait_for_final()
    assert message is not None
    assert not ix.deferred, "a cheap refusal must be the response itself, not a deferral"
    assert ix.ephemeral, f"refusal was public: {message.content!r}"
    return message.content


SCENES_USED, VIDEOS_USED = "Scenes (server)", "Videos (server)"  # /usage fields


def custom_id(message: StoredMessage, action: str) -> str:
    """The custom_id of the scene button `action` (regen, animate, continue) on `message`."""
    (found,) = [c for c in message.custom_ids() if c.startswith(f"scene:{action}:")]
    return found


async def usage_field(harness: Harness, name: str) -> str:
    """One field of `/usage`, e.g. "Scenes (server)" → "1 of 25"."""
    ix = await harness.discord.slash("usage")
    shown = await ix.wait_for_final()
    assert shown is not None
    return embed_fields(shown)[name]


def embed_fields(message: StoredMessage) -> dict[str, str]:
    return {field["name"]: field["value"] for field in message.embeds[0].get("fields", [])}


async def error_after_deferral(harness: Harness, ix: InteractionRecord) -> str:
    """A deferred interaction that failed: the public "thinking" placeholder is gone and the
    error went out as an ephemeral follow-up. Returns the error text."""
    await ix.wait_for_followups(1, within=20)
    original = ix.original
    assert original is not None
    assert original.deleted, "the public thinking reply was left behind"
    error = ix.followups[-1]
    assert error.ephemeral, "the error follow-up is public"
    assert not [m for m in harness.discord.messages_in() if m.loading], "left thinking"
    return error.content


def redrawing(message: StoredMessage) -> bool:
    """The scene message says a Regenerate is drawing its new picture."""
    fields = embed_fields(message) if message.embeds else {}
    return "Drawing a new picture" in fields.get("Regenerate", "")


async def regenerated(harness: Harness, scene: StoredMessage) -> StoredMessage:
    """The scene message once a Regenerate has finished redrawing it (or given up)."""
    discord = harness.discord
    await discord.until(lambda: not redrawing(discord.message(scene.id)), 20, "for the redraw")
    return discord.message(scene.id)


def no_public_messages(harness: Harness) -> bool:
    return not harness.discord.messages_in()


def message_bodies(harness: Harness) -> list[JSON]:
    """Every message body the bot sent or edited: replies, follow-ups, edits, channel posts."""
    bodies: list[JSON] = []
    for request in harness.discord.requests:
        body = request.json if isinstance(request.json, dict) else None
        if body is None or request.method not in ("POST", "PATCH"):
            continue
        if request.path.endswith("/callback"):
            data = body.get("data") or {}
            if body.get("type") in (4, 7):
                bodies.append(data)
        elif request.path.startswith(("/webhooks/", "/channels/")):
            bodies.append(body)
    return bodies


def write_tiers(path: Path, **tiers: Mapping[str, object]) -> Path:
    """A TIERS_FILE with the given tiers (each a mapping of the SPEC §7 fields)."""
    lines: list[str] = []
    for name, fields in tiers.items():
        lines.append(f"[tiers.{name}]")
        for key, value in fields.items():
            if isinstance(value, bool):
                shown = "true" if value else "false"
            elif isinstance(value, str):
                shown = f'"{value}"'
            elif isinstance(value, list):
                shown = "[" + ", ".join(f'"{v}"' for v in value) + "]"
            else:
                shown = str(value)
            lines.append(f"{key} = {shown}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def tiny_tier(**overrides: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "models": "all",
        "video": False,
        "scenes_per_day": 100,
        "member_scenes_per_day": 100,
        "videos_per_day": 0,
        "max_references": 3,
    }
    return {**fields, **overrides}


async def press_forged_button(harness: Harness, custom_id: str) -> str:
    """A new scene whose first button carries `custom_id` instead, pressed: the ephemeral
    answer's text. Nothing may be drawn and the scene message stays as it was."""
    scene = await start_story(harness)
    calls = image_calls(harness)
    scene.components[0]["components"][0]["custom_id"] = custom_id
    ix = await harness.discord.click(scene, custom_id)
    text = await refusal_text(ix)
    assert image_calls(harness) == calls
    assert len(harness.discord.messages_in()) == 1
    assert scene.filenames == ["scene.png"]
    assert not scene.edited_timestamp, "the scene message is left as it was"
    return text
