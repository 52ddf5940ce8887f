"""What a press of a persistent button does; the bot holds one `Presses`, the buttons call it
(so bot/buttons.py, which render builds views from, imports no handler)."""

from __future__ import annotations

from collections.abc import Awaitable

from bot.deletion import on_delete_confirmed
from bot.errors import RESTARTING
from bot.respond import Interaction, answer_unsupported, report_unexpected
from bot.scene_actions import on_scene_button


class Presses:
    async def may_start(self, interaction: Interaction) -> bool:
        """While the bot stops (SIGTERM), a press is told to come back instead of started."""
        if interaction.client.draining:
            await answer_unsupported(interaction, RESTARTING)
            return False
        return True

    async def scene(self, interaction: Interaction, action: str, scene_id: int) -> None:
        await _answered(interaction, on_scene_button(interaction, action, scene_id))

    async def delete(self, interaction: Interaction, story_id: int) -> None:
        await _answered(interaction, on_delete_confirmed(interaction, story_id))


async def _answered(interaction: Interaction, action: Awaitable[None]) -> None:
    """Run a button's action; an unexpected error still answers the member (buttons have no
    CommandTree.on_error to fall back on)."""
    try:
        await action
    except Exception as exc:
        await report_unexpected(interaction, exc)
