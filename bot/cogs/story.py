"""/story start, continue, book, list and delete: parse → check → defer → service → answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import EMPTY_PREMISE, Refusal, attachment_gone_text, too_long_text
from bot.photos import Upload
from bot.policy import UploadInfo
from bot.render import book_message, choice_name, delete_prompt, delete_view, story_list_embed
from bot.respond import Interaction, acknowledge, actor_of, post_answer, post_scene
from bot.video_delivery import upload_limit

if TYPE_CHECKING:
    from bot.app import StoryBot

PREMISE_LIMIT = 1500
DIRECTION_LIMIT = 1000


async def model_autocomplete(
    interaction: Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """The tier's keyed models matching what was typed; memory only, no network."""
    if interaction.guild_id is None:
        return []
    policy = interaction.client.services.policy
    tier = await policy.tier(interaction.guild_id)
    specs = policy.autocomplete(tier, current)
    return [
        app_commands.Choice(
            name=choice_name(spec, tier, policy.shutdown_note(spec)), value=spec.key
        )
        for spec in specs
    ]


async def story_autocomplete(
    interaction: Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """This server's stories by title (never another server's); the value is the story id."""
    if interaction.guild_id is None:
        return []
    stories = await interaction.client.services.books.stories(interaction.guild_id, current)
    return [app_commands.Choice(name=s.title[:100], value=str(s.id)) for s in stories]


async def deletable_autocomplete(
    interaction: Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """The stories this member may delete: their own, or all of the server's for a manager."""
    if interaction.guild_id is None:
        return []
    library = interaction.client.services.library
    manager = interaction.permissions.manage_guild
    stories = await library.deletable_choices(actor_of(interaction), current, manager)
    return [app_commands.Choice(name=s.title[:100], value=str(s.id)) for s in stories[:25]]


def _premise(value: str) -> str:
    """Discord's client enforces the option's length, a forged payload need not: check again."""
    text = value.strip()
    if not text:
        raise Refusal(EMPTY_PREMISE)
    return _within(text, PREMISE_LIMIT, "premise")


def _within(text: str, limit: int, what: str) -> str:
    if len(text) > limit:
        raise Refusal(too_long_text(what, len(text), limit))
    return text


def _upload(attachment: discord.Attachment) -> Upload:
    info = UploadInfo(attachment.filename, attachment.content_type, attachment.size)

    async def read() -> bytes:
        try:
            return await attachment.read()
        except discord.HTTPException as exc:  # 404 on the CDN: deleted before we read it
            raise Refusal(attachment_gone_text(attachment.filename)) from exc

    return Upload(info, read)


@app_commands.guild_only()
class StoryCog(commands.GroupCog, group_name="story", group_description="Illustrated stories"):
    def __init__(self, bot: StoryBot) -> None:
        self.bot = bot

    @app_commands.command(name="start", description="Start a new illustrated story")
    @app_commands.describe(
        premise="What the story is about",
        model="Image model (this server's allowed models)",
        reference="A reference photo (PNG, JPEG or WebP) for characters or style",
        reference2="A second reference photo",
        reference3="A third reference photo",
        video="Animate every scene of this story",
    )
    @app_commands.autocomplete(model=model_autocomplete)
    async def start(
        self,
        interaction: Interaction,
        premise: app_commands.Range[str, 1, PREMISE_LIMIT],
        model: str | None = None,
        reference: discord.Attachment | None = None,
        reference2: discord.Attachment | None = None,
        reference3: discord.Attachment | None = None,
        video: bool | None = None,
    ) -> None:
        stories = self.bot.services.stories
        uploads = [_upload(a) for a in (reference, reference2, reference3) if a is not None]
        premise = _premise(premise)
        ticket = await stories.check_start(actor_of(interaction), model, uploads, video)
        if await acknowledge(interaction, ticket):
            await post_scene(interaction, ticket, stories.start(ticket, premise, video))

    @app_commands.command(name="continue", description="Next scene of your latest story here")
    @app_commands.describe(direction="What should happen next", model="Image model for this scene")
    @app_commands.autocomplete(model=model_autocomplete)
    async def continue_(
        self,
        interaction: Interaction,
        direction: app_commands.Range[str, 1, DIRECTION_LIMIT] | None = None,
        model: str | None = None,
    ) -> None:
        stories = self.bot.services.stories
        if direction is not None:
            direction = _within(direction, DIRECTION_LIMIT, "direction")
        ticket = await stories.check_continue(actor_of(interaction), model)
        if await acknowledge(interaction, ticket):
            await post_scene(interaction, ticket, stories.continue_story(ticket, direction))

    @app_commands.command(name="book", description="The whole story as one page and one film")
    @app_commands.describe(story="Which story (default: your latest one in this channel)")
    @app_commands.autocomplete(story=story_autocomplete)
    async def book(self, interaction: Interaction, story: str | None = None) -> None:
        books = self.bot.services.books
        chosen = await books.choose(actor_of(interaction), story)
        await interaction.response.defer(thinking=True)
        limit = upload_limit(self.bot, chosen.guild_id)
        await post_answer(interaction, books.make(chosen, limit), lambda b: book_message(b, limit))

    @app_commands.command(name="list", description="Your stories on this server")
    async def list_(self, interaction: Interaction) -> None:
        digests = await self.bot.services.library.mine(actor_of(interaction))
        embed = story_list_embed(digests, interaction.guild_id or 0)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(
        name="delete", description="Delete a story with its pictures, videos and photos"
    )
    @app_commands.describe(story="Which story (yours, or any with Manage Server)")
    @app_commands.autocomplete(story=deletable_autocomplete)
    async def delete(self, interaction: Interaction, story: str) -> None:
        library = self.bot.services.library
        manager = interaction.permissions.manage_guild
        found, told = await library.deletable(actor_of(interaction), story, manager)
        await interaction.response.send_message(
            delete_prompt(found, told), view=delete_view(found.id), ephemeral=True
        )
