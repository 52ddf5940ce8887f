"""What the scene buttons do: Regenerate, Animate, Continue (SPEC §5 "Buttons")."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from bot.errors import BUTTONS_IN_SERVERS, Refusal
from bot.render import NO_PINGS, as_sent, scene_embed
from bot.respond import Interaction, Redraw, acknowledge, actor_of, post_scene

if TYPE_CHECKING:
    from bot.services import StoryService

log = logging.getLogger(__name__)


async def on_scene_button(interaction: Interaction, action: str, scene_id: int) -> None:
    if interaction.guild_id is None:
        raise Refusal(BUTTONS_IN_SERVERS)
    handler = {"regen": _regenerate, "animate": _animate, "continue": _continue}[action]
    await handler(interaction, interaction.client.services.stories, scene_id)


async def _regenerate(interaction: Interaction, stories: StoryService, scene_id: int) -> None:
    ticket = await stories.check_regenerate(actor_of(interaction), scene_id)
    message = interaction.message
    shown = as_sent(message.embeds[0]) if message is not None and message.embeds else None
    redraw = Redraw(scene_id, shown, stories.animates(ticket))
    if await acknowledge(interaction, ticket, redraw=redraw):  # the message itself changes
        await post_scene(interaction, ticket, stories.regenerate(ticket), in_place=redraw)


async def _continue(interaction: Interaction, stories: StoryService, scene_id: int) -> None:
    ticket = await stories.check_continue(actor_of(interaction), None, from_scene=scene_id)
    if await acknowledge(interaction, ticket):
        await post_scene(interaction, ticket, stories.continue_story(ticket, None))


async def _animate(interaction: Interaction, stories: StoryService, scene_id: int) -> None:
    pressed_on = interaction.message.id if interaction.message is not None else None
    card = await stories.animate(actor_of(interaction), scene_id, pressed_on=pressed_on)
    try:
        await interaction.response.edit_message(embed=scene_embed(card), allowed_mentions=NO_PINGS)
    except discord.HTTPException:  # the job is queued all the same; the loop edits later
        log.warning("could not show the pending video on scene %s", scene_id, exc_info=True)
