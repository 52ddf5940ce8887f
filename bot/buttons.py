"""The persistent buttons, as DynamicItems: what each shows and which press its custom_id
names (the grammar is bot/custom_ids.py).

What a press does is the bot's `presses` (bot/presses.py): this module imports no handler, so
render builds its views from these items while the handlers render with them.
"""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.custom_ids import (
    ACTIONS,
    DELETE_TEMPLATE,
    MAX_SCENE_ID,
    NO_SCENE,
    SCENE_TEMPLATE,
    delete_button_id,
    is_ours,
    parse_scene,
    scene_button_id,
)

__all__ = ["MAX_SCENE_ID", "NO_SCENE", "DeleteButton", "SceneButton", "is_ours"]

_LABELS = {
    "regen": ("Regenerate", "🔁"),
    "animate": ("Animate", "🎬"),
    "continue": ("Continue", "➡️"),
}


class SceneButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=SCENE_TEMPLATE):
    ACTIONS = ACTIONS

    def __init__(self, action: str, scene_id: int) -> None:
        label, emoji = _LABELS[action]
        style = (
            discord.ButtonStyle.primary if action == "continue" else discord.ButtonStyle.secondary
        )
        super().__init__(
            discord.ui.Button(
                label=label, emoji=emoji, style=style, custom_id=scene_button_id(action, scene_id)
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
        return cls(*parse_scene(match["action"], match["scene_id"]))

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        """While the bot stops (SIGTERM), a press is told to come back instead of started."""
        return bool(await interaction.client.presses.may_start(interaction))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.client.presses.scene(interaction, self.action, self.scene_id)


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
                custom_id=delete_button_id(story_id),
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
        await interaction.client.presses.delete(interaction, self.story_id)
