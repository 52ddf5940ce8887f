"""What the scene buttons do: Regenerate, Animate, Continue (SPEC §5 "Buttons")."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from bot.errors import Refusal
from bot.render import NO_PINGS, scene_embed
from bot.respond import Interaction, acknowledge, actor_of, post_scene, refuse
from storage import QuotaExceeded

if TYPE_CHECKING:
    from bot.services import StoryService

log = logging.getLogger(__name__)
REFUSALS = (Refusal, QuotaExceeded)


async def on_scene_button(interaction: Interaction, action: str, scene_id: int) -> None:
    stories = interaction.client.services.stories
    if interaction.guild_id is None:
        await refuse(interaction, Refusal("StoryBot's buttons work in servers only."))
        return
    if action == "animate":
        await _animate(interaction, stories, scene_id)
        return
    actor = actor_of(interaction)
    try:
        if action == "regen":
            regen = await stories.check_regenerate(actor, scene_id)
        else:
            follow = await stories.check_continue(actor, None, from_scene=scene_id)
    except REFUSALS as exc:
        await refuse(interaction, exc)
        return
    if action == "regen":
        if await acknowledge(interaction, regen, thinking=False):
            await post_scene(interaction, stories.regenerate(regen), in_place=True)
    elif await acknowledge(interaction, follow):
        await post_scene(interaction, stories.continue_story(follow, None))


async def _animate(interaction: Interaction, stories: StoryService, scene_id: int) -> None:
    try:
        card = await stories.animate(actor_of(interaction), scene_id)
    except REFUSALS as exc:
        await refuse(interaction, exc)
        return
    try:
        await interaction.response.edit_message(embed=scene_embed(card), allowed_mentions=NO_PINGS)
    except discord.HTTPException:  # the job is queued all the same; the loop edits later
        log.warning("could not show the pending video on scene %s", scene_id, exc_info=True)
