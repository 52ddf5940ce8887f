"""/story delete's confirm button: delete the story, then clear its scene messages."""

from __future__ import annotations

import logging

import discord

from bot.library import Deleted
from bot.render import NO_PINGS, deleted_scene_embed, deleted_text
from bot.respond import Interaction, actor_of

log = logging.getLogger(__name__)


async def on_delete_confirmed(interaction: Interaction, story_id: int) -> None:
    library = interaction.client.services.library
    manager = interaction.permissions.manage_guild
    deleted = await library.delete(actor_of(interaction), str(story_id), manager)
    await interaction.response.edit_message(
        content=deleted_text(deleted), view=None, allowed_mentions=NO_PINGS
    )
    await clear_scene_messages(interaction.client, interaction.guild_id or 0, deleted)


async def clear_scene_messages(client: discord.Client, guild_id: int, deleted: Deleted) -> None:
    """Each scene message of the deleted story loses its picture, video and buttons and says
    the story was deleted. A message Discord no longer has, or cannot be reached, is skipped."""
    for channel_id, message_id in deleted.messages:
        channel = client.get_partial_messageable(channel_id, guild_id=guild_id)
        message = channel.get_partial_message(message_id)
        try:
            await message.edit(
                content=None,
                embed=deleted_scene_embed(),
                attachments=[],
                view=None,
                allowed_mentions=NO_PINGS,
            )
        except discord.HTTPException as exc:
            log.warning("could not clear scene message %s (%s)", message_id, exc.status)
