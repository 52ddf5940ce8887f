"""How an interaction ends: a refusal, a scene message or an error — never left thinking."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import discord

from bot.errors import RESTARTED, Refusal, member_text
from bot.render import NO_PINGS, redrawing_embed, scene_embed, scene_image, scene_view
from bot.scene_card import SceneCard
from bot.services import Actor, Ticket
from storage import NotFound

if TYPE_CHECKING:
    from bot.app import StoryBot

    Interaction = discord.Interaction[StoryBot]
else:
    Interaction = discord.Interaction

log = logging.getLogger(__name__)
T = TypeVar("T")


def actor_of(interaction: discord.Interaction[Any]) -> Actor:
    if interaction.guild_id is None or interaction.channel_id is None:
        raise ValueError("StoryBot's commands are guild-only")
    return Actor(interaction.guild_id, interaction.channel_id, interaction.user.id)


async def refuse(interaction: discord.Interaction[Any], exc: BaseException) -> None:
    """An ephemeral answer as the interaction's response, or as a follow-up if already acked."""
    text = member_text(exc)
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)
    else:
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)


async def answer_unsupported(interaction: discord.Interaction[Any], text: str) -> None:
    """What this version does not take (a stale command, a DM, a foreign button, anything while
    the bot stops): an ephemeral answer saying what to do instead, or no choices for an
    autocomplete. Logged at INFO, never as an error."""
    log.info("interaction %s not supported here: %s", interaction.id, text)
    try:
        if interaction.type is discord.InteractionType.autocomplete:
            await interaction.response.autocomplete([])
        else:
            await refuse(interaction, Refusal(text))
    except discord.HTTPException:
        log.warning("could not answer unsupported interaction %s", interaction.id)


async def report_unexpected(interaction: discord.Interaction[Any], exc: BaseException) -> None:
    """The last resort of commands and buttons alike: an error text, never an unanswered
    interaction (member_text logs it under an incident id)."""
    try:
        await refuse(interaction, exc)
    except discord.HTTPException:
        log.warning("could not report an error to interaction %s", interaction.id)


@dataclass(frozen=True, slots=True)
class Redraw:
    """A Regenerate pressed on a scene message: the message is redrawn in place."""

    scene_id: int
    shown: discord.Embed | None  # the message's embed when the button was pressed
    animate: bool  # the message offers Animate


async def acknowledge(
    interaction: Interaction, ticket: Ticket, *, redraw: Redraw | None = None
) -> bool:
    """Defer at once; if even that fails, the held quota slot is given back.

    A Regenerate acknowledges by updating its message: it says a new picture is being drawn,
    and its buttons wait, disabled, for that picture.
    """
    try:
        if redraw is None:
            await interaction.response.defer(thinking=True)
        elif redraw.shown is None:
            await interaction.response.defer()
        else:
            await interaction.response.edit_message(
                embed=redrawing_embed(redraw.shown),
                view=scene_view(redraw.scene_id, animate=redraw.animate, disabled=True),
                allowed_mentions=NO_PINGS,
            )
    except discord.HTTPException:
        log.warning("could not defer interaction %s", interaction.id, exc_info=True)
        interaction.client.acknowledgements.acknowledged(interaction.id)
        await interaction.client.services.stories.release(ticket)
        return False
    return True


async def post_scene(
    interaction: Interaction,
    ticket: Ticket,
    work: Coroutine[object, object, SceneCard],
    *,
    in_place: Redraw | None = None,
) -> None:
    """Run the deferred generation `work` of `ticket` and end the interaction in the scene or
    an error.

    `in_place`: a Regenerate; its scene message is edited, and a failure puts the message back
    as it was, buttons live, and answers ephemerally.
    """
    interaction.client.track_scene()
    try:
        card = await _when_acknowledged(interaction, ticket, work)
    except asyncio.CancelledError:  # stopped after the shutdown grace: say so, then stop
        await _end_in_error(interaction, RESTARTED, in_place=in_place)
        raise
    except Exception as exc:  # every failure ends in a message (SPEC §10)
        await _end_in_error(interaction, member_text(exc), in_place=in_place)
        return
    message: discord.Message
    try:
        message = await interaction.edit_original_response(**scene_message(card))
    except discord.HTTPException:
        # The scene is saved; if the interaction cannot show it, the channel still can.
        log.warning("editing interaction %s failed; showing the scene otherwise", interaction.id)
        message = await _show_without_token(interaction, card, in_place)
    with contextlib.suppress(NotFound):  # the story was deleted meanwhile; nothing to link
        await interaction.client.services.storage.scenes.set_message(
            card.scene_id, channel_id=message.channel.id, message_id=message.id
        )


async def _when_acknowledged(
    interaction: Interaction, ticket: Ticket, work: Coroutine[object, object, SceneCard]
) -> SceneCard:
    """`work`, once no other interaction waits for its acknowledgement (bot/acknowledgements.py).
    If it never starts, its quota slot is given back here, as the work itself would have."""
    bot = interaction.client
    try:
        await bot.acknowledgements.work_after(interaction.id)
    except BaseException:
        work.close()
        await asyncio.shield(bot.services.stories.release(ticket))
        raise
    return await work


async def _show_without_token(
    interaction: Interaction, card: SceneCard, in_place: Redraw | None
) -> discord.Message:
    """The scene through the bot's own token: a Regenerate edits its message in place, a new
    scene is posted in the channel (and the public thinking reply removed)."""
    if in_place is not None and interaction.message is not None:
        with contextlib.suppress(discord.HTTPException):
            return await interaction.message.edit(**scene_message(card))
    channel = interaction.client.get_partial_messageable(interaction.channel_id or 0)
    message = await channel.send(**scene_post(card))
    if in_place is None:
        with contextlib.suppress(discord.HTTPException):
            await interaction.delete_original_response()
    return message


async def post_answer(
    interaction: Interaction, work: Awaitable[T], render: Callable[[T], dict[str, Any]]
) -> None:
    """Run deferred work and end the interaction in its rendered answer or an error."""
    interaction.client.track_scene()
    try:
        result = await work
        await interaction.edit_original_response(**render(result))
    except asyncio.CancelledError:  # stopped after the shutdown grace: say so, then stop
        await _fail(interaction, RESTARTED)
        raise
    except Exception as exc:  # every failure ends in a message (SPEC §10)
        await _fail(interaction, member_text(exc))


async def _end_in_error(interaction: Interaction, text: str, *, in_place: Redraw | None) -> None:
    if in_place is not None:
        await _restore(interaction, in_place)
        await _followup(interaction, text)
    else:
        await _fail(interaction, text)


def scene_message(card: SceneCard) -> dict[str, Any]:
    return {
        "embed": scene_embed(card),
        "attachments": [scene_image(card)],
        "view": scene_view(card.scene_id, animate=card.animate),
        "allowed_mentions": NO_PINGS,
    }


def scene_post(card: SceneCard) -> dict[str, Any]:
    """The scene as a new channel message: `send` takes `files`, not an edit's `attachments`."""
    post = scene_message(card)
    post["files"] = post.pop("attachments")
    return post


async def _restore(interaction: Interaction, redraw: Redraw) -> None:
    """The scene message as it was before a Regenerate that failed, buttons live again."""
    if redraw.shown is None:
        return
    embed, view = redraw.shown, scene_view(redraw.scene_id, animate=redraw.animate)
    try:
        await interaction.edit_original_response(embed=embed, view=view, allowed_mentions=NO_PINGS)
    except discord.HTTPException:  # the token died: the bot's own token still can
        if interaction.message is not None:
            with contextlib.suppress(discord.HTTPException):
                await interaction.message.edit(embed=embed, view=view, allowed_mentions=NO_PINGS)


async def _followup(interaction: Interaction, text: str) -> None:
    with contextlib.suppress(discord.HTTPException):
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)


async def _fail(interaction: Interaction, text: str) -> None:
    """Swap the public thinking reply for an ephemeral error; edit it if that is not possible."""
    try:
        await interaction.delete_original_response()
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)
    except discord.HTTPException:
        with contextlib.suppress(discord.HTTPException):
            await interaction.edit_original_response(
                content=text, embed=None, attachments=[], view=None, allowed_mentions=NO_PINGS
            )
