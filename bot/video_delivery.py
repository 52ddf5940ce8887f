"""Show a finished video job on its scene message: attach the MP4 next to the PNG, or say why
there is none. Edits go through the channel endpoint (interaction tokens die after 15 min)."""

from __future__ import annotations

import io
import logging
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

import discord

from bot.errors import VIDEO_FILE_MISSING
from bot.render import NO_PINGS, VIDEO_NAME, only_pinging, scene_embed, video_ready_text
from bot.respond import scene_post
from bot.scene_card import SceneCard, VideoBadge
from storage import JobState, VideoJob, utc_now

if TYPE_CHECKING:
    from bot.app import StoryBot

log = logging.getLogger(__name__)
DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024
TOO_LARGE_CODE = 40005
# A video-mode job is queued before its scene is posted; until the interaction token dies
# (15 minutes) the post may still land, so a job finished early waits for its message.
POST_GRACE = timedelta(minutes=16)


async def deliver(bot: StoryBot, job: VideoJob) -> bool:
    """True once the message shows the outcome (or can never show it); False to retry later."""
    scene = await bot.services.storage.scenes.get(job.scene_id)
    if scene is None:
        return True  # the story was deleted
    if scene.message_id is None:  # not posted yet, or it never reached Discord
        return utc_now() - job.created_at > POST_GRACE
    if scene.image_version != job.image_version:
        return True  # Regenerate replaced the picture (and the message) since
    card, video = await _outcome(bot, job)
    channel = bot.get_partial_messageable(scene.channel_id, guild_id=job.guild_id)
    try:
        message = await channel.fetch_message(scene.message_id)
        try:
            await _edit(message, card, video)
        except discord.HTTPException as exc:
            if not _too_large(exc):
                raise
            await _edit(message, _with(card, VideoBadge.TOO_LARGE, None), None)
        else:
            if video is not None:
                await _tell_requester(bot, message, job, card)
    except discord.NotFound:
        return await _repost(bot, channel, card, video)
    except discord.Forbidden:
        log.warning("no access to channel %s for video job %s", scene.channel_id, job.id)
    except discord.HTTPException as exc:
        log.warning("editing scene %s failed (%s); retrying next tick", scene.id, exc.status)
        return False
    return True


async def _outcome(bot: StoryBot, job: VideoJob) -> tuple[SceneCard, bytes | None]:
    """The scene as it is now, and the MP4 to attach if the job made one that fits here."""
    media = bot.services.storage.media
    card = await bot.services.cards.stored(job.scene_id)
    if job.state is not JobState.DONE:
        return card, None
    size = await media.video_size(job.scene_id)
    if size is None:
        return _with(card, VideoBadge.FAILED, VIDEO_FILE_MISSING), None
    if size > upload_limit(bot, job.guild_id):
        return _with(card, VideoBadge.TOO_LARGE, None), None
    return card, await media.read_video(job.scene_id)


async def _tell_requester(
    bot: StoryBot, message: discord.Message, job: VideoJob, card: SceneCard
) -> None:
    """A short reply to the scene that pings the member who asked for the video, and no one
    else. Best effort: the video is attached whether or not the reply goes out."""
    usage = bot.services.storage.usage
    member = await usage.member_of(job.usage_id) if job.usage_id is not None else None
    if member is None:
        return
    try:
        await message.reply(
            video_ready_text(member, card.number),
            allowed_mentions=only_pinging(member),
            mention_author=False,
        )
    except discord.HTTPException as exc:
        log.warning("could not tell member %s of video job %s (%s)", member, job.id, exc.status)


async def _edit(message: discord.Message, card: SceneCard, video: bytes | None) -> None:
    keep = [a for a in message.attachments if not a.filename.endswith(".mp4")]
    files = [discord.File(io.BytesIO(video), filename=VIDEO_NAME)] if video is not None else []
    await message.edit(
        embed=scene_embed(card), attachments=[*keep, *files], allowed_mentions=NO_PINGS
    )


async def _repost(
    bot: StoryBot, channel: discord.PartialMessageable, card: SceneCard, video: bytes | None
) -> bool:
    """The scene message was deleted: post the scene again, so a finished video is not lost,
    and remember the new message (later videos and edits go there)."""
    try:
        try:
            message = await _send(channel, card, video)
        except discord.HTTPException as exc:
            if video is None or not _too_large(exc):
                raise
            message = await _send(channel, _with(card, VideoBadge.TOO_LARGE, None), None)
    except discord.Forbidden:
        log.warning("no access to channel %s to repost scene %s", channel.id, card.scene_id)
        return True
    except discord.NotFound:
        log.warning("channel %s is gone; scene %s stays on disk", channel.id, card.scene_id)
        return True
    except discord.HTTPException as exc:
        log.warning("reposting scene %s failed (%s); retrying next tick", card.scene_id, exc.status)
        return False
    await bot.services.storage.scenes.set_message(
        card.scene_id, channel_id=channel.id, message_id=message.id
    )
    return True


async def _send(
    channel: discord.PartialMessageable, card: SceneCard, video: bytes | None
) -> discord.Message:
    post = scene_post(card)
    if video is not None:
        post["files"].append(discord.File(io.BytesIO(video), filename=VIDEO_NAME))
    return await channel.send(**post)


def _too_large(exc: discord.HTTPException) -> bool:
    """Discord's answer to a file over the guild's upload limit."""
    return exc.code == TOO_LARGE_CODE or exc.status == 413


def upload_limit(bot: StoryBot, guild_id: int) -> int:
    """What the bot may attach in this guild (10, 50 or 100 MiB by boost level)."""
    guild = bot.get_guild(guild_id)
    return guild.filesize_limit if guild is not None else DEFAULT_UPLOAD_LIMIT


def _with(card: SceneCard, badge: VideoBadge, detail: str | None) -> SceneCard:
    return replace(card, video=badge, video_detail=detail)
