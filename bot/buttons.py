"""The persistent buttons, as DynamicItems.

custom_id grammar:
- `scene:{action}:{scene_id}` where action is `regen`, `animate` or `continue` and scene_id a
  decimal scene row id (≤ 19 digits), e.g. `scene:animate:1234` — at most 33 characters, far
  under Discord's 100;
- `story:delete:{story_id}`, the confirm button of /story delete (at most 32 characters).
Everything else (story, guild, model, author) is looked up in the database when the button is
pressed, so buttons keep working after a restart.

The template also takes forged `scene:` ids (unknown action, not a number, beyond SQLite's
64-bit integers): they become NO_SCENE, which answers "no longer exists" ephemerally instead
of leaving the interaction unanswered.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable
from typing import Any

import discord

ACTIONS = ("regen", "animate", "continue")
MAX_SCENE_ID = 2**63 - 1  # SQLite's INTEGER; a larger id cannot even be looked up
NO_SCENE = 0  # never a row id (SQLite's start at 1)
_SCENE_ID = re.compile(r"[0-9]{1,19}")
_LABELS = {
    "regen": ("Regenerate", "🔁"),
    "animate": ("Animate", "🎬"),
    "continue": ("Continue", "➡️"),
}


TEMPLATE = r"scene:(?P<action>[^:]{0,20}):(?P<scene_id>.{0,100})"
DELETE_TEMPLATE = r"story:delete:(?P<story_id>[0-9]{1,19})"
_TEMPLATES = (re.compile(TEMPLATE), re.compile(DELETE_TEMPLATE))


def is_ours(custom_id: str) -> bool:
    """Whether a component's custom_id is in our grammar (forged ids included: they are
    answered by SceneButton as scenes that no longer exist)."""
    return any(template.fullmatch(custom_id) for template in _TEMPLATES)


class SceneButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=TEMPLATE):
    ACTIONS = ACTIONS

    def __init__(self, action: str, scene_id: int) -> None:
        label, emoji = _LABELS[action]
        style = (
            discord.ButtonStyle.primary if action == "continue" else discord.ButtonStyle.secondary
        )
        super().__init__(
            discord.ui.Button(
                label=label, emoji=emoji, style=style, custom_id=f"scene:{action}:{scene_id}"
            )
        )
        self.action = action
        self.scene_id = scene_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> SceneButton:
        action, raw = match["action"], match["scene_id"]
        if action in ACTIONS and _SCENE_ID.fullmatch(raw) and int(raw) <= MAX_SCENE_ID:
            return cls(action, int(raw))
        return cls("regen", NO_SCENE)

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        """While the bot stops (SIGTERM), a press is told to come back instead of started."""
        from bot.errors import RESTARTING
        from bot.respond import answer_unsupported

        if getattr(interaction.client, "draining", False):
            await answer_unsupported(interaction, RESTARTING)
            return False
        return True

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        from bot.scene_actions import on_scene_button  # it renders these buttons

        await _answered(interaction, on_scene_button(interaction, self.action, self.scene_id))


class DeleteButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=DELETE_TEMPLATE,
):
    """/story delete's confirmation; the deletion checks the presser's right again."""

    def __init__(self, story_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Delete for good",
                emoji="🗑️",
                style=discord.ButtonStyle.danger,
                custom_id=f"story:delete:{story_id}",
            )
        )
        self.story_id = story_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
    ) -> DeleteButton:
        return cls(int(match["story_id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        from bot.deletion import on_delete_confirmed  # it renders this button's message

        await _answered(interaction, on_delete_confirmed(interaction, self.story_id))


async def _answered(interaction: discord.Interaction[Any], action: Awaitable[None]) -> None:
    """Run a button's action; an unexpected error still answers the member (buttons have no
    CommandTree.on_error to fall back on)."""
    from bot.respond import report_unexpected  # it imports this module

    try:
        await action
    except Exception as exc:
        await report_unexpected(interaction, exc)
