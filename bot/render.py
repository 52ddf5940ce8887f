"""Domain results → embeds, files and buttons (pure functions, no I/O)."""

from __future__ import annotations

import io
from typing import Any

import discord

from bot.book.service import Storybook
from bot.buttons import DeleteButton, SceneButton
from bot.errors import no_video_text
from bot.library import Deleted
from bot.scene_card import SceneCard, VideoBadge
from bot.standing import Standing
from bot.tiers import Tier
from providers.registry import Catalog, ModelSpec
from storage import GuildSettings, Story, StoryDigest, UsageKind, UsageSummary

BOOK_PAGE_NAME = "storybook.html"
BOOK_FILM_NAME = "storybook.mp4"
IMAGE_NAME = "scene.png"
VIDEO_NAME = "scene.mp4"
EMBED_COLOUR = discord.Colour.from_rgb(88, 101, 242)
NO_PINGS = discord.AllowedMentions.none()


def only_pinging(member_id: int) -> discord.AllowedMentions:
    """Mentions that ping this one member and nobody else (never roles, @everyone or the
    author of a replied-to message)."""
    return discord.AllowedMentions(
        everyone=False, roles=False, users=[discord.Object(member_id)], replied_user=False
    )


def video_ready_text(member_id: int, scene_number: int) -> str:
    return f"<@{member_id}> your video of scene {scene_number} is ready."


_VIDEO_TEXT = {
    VideoBadge.PENDING: "⏳ Animating… the video appears here in a few minutes.",
    VideoBadge.READY: "🎬 The video is attached below.",
    VideoBadge.TOO_LARGE: "🎬 The video is too large to attach on this server; it is kept.",
}


def scene_embed(card: SceneCard) -> discord.Embed:
    embed = discord.Embed(title=card.story_title, description=card.text, colour=EMBED_COLOUR)
    embed.set_author(name=f"Scene {card.number}")
    embed.set_image(url=f"attachment://{IMAGE_NAME}")
    footer = f"Drawn with {card.model_display}"
    if card.notice:
        footer = f"{card.notice}"
    embed.set_footer(text=footer)
    if card.video is VideoBadge.FAILED:
        embed.add_field(name="Video", value=no_video_text(card.video_detail))
    elif card.video is not None:
        embed.add_field(name="Video", value=_VIDEO_TEXT[card.video])
    return embed


def scene_image(card: SceneCard) -> discord.File:
    return discord.File(io.BytesIO(card.png), filename=IMAGE_NAME)


def scene_view(scene_id: int, *, animate: bool, disabled: bool = False) -> discord.ui.View:
    """The persistent buttons (Animate only where the tier has video); their state lives in
    the custom_id."""
    view = discord.ui.View(timeout=None)
    for action in SceneButton.ACTIONS:
        if action == "animate" and not animate:
            continue
        button = SceneButton(action, scene_id)
        button.item.disabled = disabled
        view.add_item(button)
    return view


def as_sent(shown: discord.Embed) -> discord.Embed:
    """A scene embed read back from Discord, pointing at its picture as it was sent: the
    read-back points at a CDN link that expires."""
    embed = shown.copy()
    if shown.image:
        embed.set_image(url=f"attachment://{IMAGE_NAME}")
    return embed


def redrawing_embed(shown: discord.Embed) -> discord.Embed:
    """The scene as it is, saying that a new picture is being drawn."""
    embed = shown.copy()
    embed.add_field(name="Regenerate", value="🔁 Drawing a new picture…", inline=False)
    return embed


def model_line(spec: ModelSpec, tier: Tier, shutdown: str | None) -> str:
    refs = f"up to {spec.max_references} reference photos" if spec.max_references else "no photos"
    line = (
        f"**{spec.display}** (`{spec.key}`) · {spec.provider.display} · {refs} · "
        f"{spec.cost_hint(tier.image_quality)}"
    )
    return f"{line} · {shutdown}" if shutdown else line


def choice_name(spec: ModelSpec, tier: Tier, shutdown: str | None) -> str:
    """'GPT Image 1.5 · OpenAI · $$ · retires 1 Dec' (the date only while deprecated)."""
    name = f"{spec.display} · {spec.provider.display} · {spec.cost_hint(tier.image_quality)}"
    return (f"{name} · {shutdown}" if shutdown else name)[:100]


def usage_embed(summary: UsageSummary, tier: Tier, member_scenes: int) -> discord.Embed:
    scenes = summary.by_kind[UsageKind.SCENE].count
    videos = summary.by_kind[UsageKind.VIDEO].count
    embed = discord.Embed(title=f"Usage today ({tier.name} tier)", colour=EMBED_COLOUR)
    embed.add_field(name="Scenes (server)", value=f"{scenes} of {tier.scenes_per_day}")
    embed.add_field(name="Your scenes", value=f"{member_scenes} of {tier.member_scenes_per_day}")
    embed.add_field(
        name="Videos (server)",
        value=f"{videos} of {tier.videos_per_day}" if tier.video else "not on this tier",
    )
    embed.add_field(name="Estimated cost", value=f"${summary.total_cost_usd:.2f}")
    resets = int(summary.resets_at.timestamp())
    embed.add_field(name="Resets", value=f"<t:{resets}:R> (midnight UTC)")
    return embed


def settings_embed(settings: GuildSettings, tier: Tier, catalog: Catalog) -> discord.Embed:
    key = settings.default_model
    default = catalog.get(key).display if key is not None and key in catalog else None
    embed = discord.Embed(title="Server settings", colour=EMBED_COLOUR)
    embed.add_field(name="Tier", value=tier.name)
    embed.add_field(name="Default model", value=default or "the tier's first")
    embed.add_field(name="Animate new stories", value="yes" if settings.video_default else "no")
    embed.add_field(
        name="Quotas per day",
        value=(
            f"{plural(tier.scenes_per_day, 'scene')} "
            f"({tier.member_scenes_per_day} per member), "
            f"{plural(tier.videos_per_day if tier.video else 0, 'video')}, "
            f"{plural(tier.max_references, 'reference photo')} per story"
        ),
        inline=False,
    )
    return embed


HELP_INTRO = (
    "I tell illustrated stories. Give me a premise with `/story start` and I write the first "
    "scene and draw it, guided by reference photos if you attach some. Under every scene, "
    "**Regenerate** draws the picture again, **Animate** turns it into a short video and "
    "**Continue** writes the next scene."
)


def plural(count: int, word: str) -> str:
    """'1 scene', '2 scenes', '0 scenes'."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def help_embed(commands: list[tuple[str, str]], standing: Standing) -> discord.Embed:
    """/help: what the bot does, the commands this member may use here, and where they stand."""
    embed = discord.Embed(title="StoryBot", description=HELP_INTRO, colour=EMBED_COLOUR)
    lines = [f"`/{name}`: {description}" for name, description in commands]
    embed.add_field(name="Commands you can use here", value="\n".join(lines), inline=False)
    model = standing.default_model or "none available right now"
    embed.add_field(name="This server", value=f"{standing.tier.name} tier · default model {model}")
    left = (
        f"{plural(standing.member_scenes_left, 'scene')} for you, "
        f"{plural(standing.server_scenes_left, 'scene')} for the server"
    )
    if standing.tier.video:
        left += f", {plural(standing.videos_left, 'video')}"
    resets = int(standing.resets_at.timestamp())
    embed.add_field(name="Left today", value=f"{left}; resets <t:{resets}:R>", inline=False)
    return embed


def _mib(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MiB"


def _film_line(book: Storybook, upload_limit: int) -> str:
    film = book.film
    if film is None:
        return (
            "🎬 No scene is animated yet, so there is no film: press **Animate** under a scene, "
            "then ask for the book again."
        )
    scenes = "scene" if len(film.numbers) == 1 else "scenes"
    if book.film_fits:
        return f"🎬 The film: {len(film.numbers)} animated {scenes}, {film.seconds:.0f} s."
    where = ": it plays at the link" if book.link else ""
    return (
        f"🎬 The film ({_mib(len(film.mp4))}) is larger than this server's upload limit "
        f"({_mib(upload_limit)}), so it is not attached; it is kept{where}."
    )


def book_message(book: Storybook, upload_limit: int) -> dict[str, Any]:
    """The `/story book` answer: the page, the film when it fits, and what they hold."""
    scenes = "scene" if book.scenes == 1 else "scenes"
    title = discord.utils.escape_markdown(book.title)
    lines = [f"📖 **{title}**: {book.scenes} {scenes} on one page (open it in a browser)."]
    if book.link:
        lines.append(f"🔗 Full size, with every video: {book.link}")
    lines.append(_film_line(book, upload_limit))
    if book.film is not None and book.film.left_out:
        left_out = ", ".join(str(n) for n in book.film.left_out)
        which = "scene" if len(book.film.left_out) == 1 else "scenes"
        lines.append(f"Not in the film (their videos have another format): {which} {left_out}.")
    files = [discord.File(io.BytesIO(book.page.html), filename=BOOK_PAGE_NAME)]
    if book.film is not None and book.film_fits:
        files.append(discord.File(io.BytesIO(book.film.mp4), filename=BOOK_FILM_NAME))
    return {"content": "\n".join(lines), "attachments": files, "allowed_mentions": NO_PINGS}


DESCRIPTION_LIMIT = 4096  # Discord's embed description


def jump_link(guild_id: int, channel_id: int, message_id: int) -> str:
    return f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"


def story_list_embed(digests: list[StoryDigest], guild_id: int) -> discord.Embed:
    """/story list: the member's stories here, newest first, each with a jump to its latest
    scene."""
    embed = discord.Embed(title="Your stories on this server", colour=EMBED_COLOUR)
    if not digests:
        embed.description = "You have no stories here yet: start one with `/story start`."
        return embed
    lines: list[str] = []
    for shown, digest in enumerate(digests):
        line = _digest_line(digest, guild_id)
        rest = len(digests) - shown
        if sum(len(x) + 1 for x in lines) + len(line) + 40 > DESCRIPTION_LIMIT:
            lines.append(f"…and {rest} older.")
            break
        lines.append(line)
    embed.description = "\n".join(lines)
    return embed


def _digest_line(digest: StoryDigest, guild_id: int) -> str:
    title = discord.utils.escape_markdown(digest.story.title)
    when = int(digest.last_activity.timestamp())
    line = f"**{title}** · {plural(digest.told_scenes, 'scene')} · <t:{when}:R>"
    if digest.latest_channel_id is not None and digest.latest_message_id is not None:
        link = jump_link(guild_id, digest.latest_channel_id, digest.latest_message_id)
        line += f" · [latest scene]({link})"
    return line


def delete_prompt(story: Story, told_scenes: int) -> str:
    title = discord.utils.escape_markdown(story.title)
    return (
        f"Delete **{title}** for good? Its {plural(told_scenes, 'scene')} with their pictures "
        "and videos, and its reference photos, are removed from the bot, and its scene "
        "messages will say the story was deleted. Today's usage counts stay as they are."
    )


def delete_view(story_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(DeleteButton(story_id))
    return view


def deleted_text(deleted: Deleted) -> str:
    return f"Deleted **{discord.utils.escape_markdown(deleted.title)}**."


def deleted_scene_embed() -> discord.Embed:
    """What a scene message of a deleted story shows instead: no picture, no buttons."""
    return discord.Embed(description="🗑️ This story was deleted.", colour=EMBED_COLOUR)
