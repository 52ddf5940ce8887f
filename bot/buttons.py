"""The scene buttons as one persistent DynamicItem.

custom_id grammar: `scene:{action}:{scene_id}` where action is `regen`, `animate` or `continue`
and scene_id a decimal scene row id (≤ 19 digits), e.g. `scene:animate:1234` — at most
33 characters, far under Discord's 100. Everything else (story, guild, model) is looked up
in the database when the button is pressed, so buttons keep working after a restart.
"""

from __future__ import annotations

import re
from typing import Any

import discord

ACTIONS = ("regen", "animate", "continue")
_LABELS = {
    "regen": ("Regenerate", "🔁"),
    "animate": ("Animate", "🎬"),
    "continue": ("Continue", "➡️"),
}


class SceneButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"scene:(?P<action>regen|animate|continue):(?P<scene_id>[0-9]{1,19})",
):
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
        return cls(match["action"], int(match["scene_id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        from bot.scene_actions import on_scene_button

        await on_scene_button(interaction, self.action, self.scene_id)
