"""The smallest discord.py client that uses what StoryBot uses: slash groups, attachments,
autocomplete, deferrals, files, persistent dynamic buttons, follow-ups."""

from __future__ import annotations

import io
import re
from typing import Any

import discord
from discord import app_commands

from tests.fakes.pictures import png

MODELS = ["gpt-image-1-mini", "gpt-image-2", "grok-imagine", "gemini"] + [
    f"extra-{n:02d}" for n in range(30)
]


def picture(name: str, color: str = "red") -> discord.File:
    return discord.File(io.BytesIO(png(color=color)), filename=name)


class Regenerate(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=r"scene:regen:(?P<id>\d+)"
):
    def __init__(self, scene: int) -> None:
        super().__init__(discord.ui.Button(label="Regenerate", custom_id=f"scene:regen:{scene}"))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> Regenerate:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer()  # type 6: the message itself changes later
        await interaction.edit_original_response(attachments=[picture("scene.png", "blue")])


class Continue(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=r"scene:next:(?P<id>\d+)"
):
    def __init__(self, scene: int) -> None:
        super().__init__(discord.ui.Button(label="Continue", custom_id=f"scene:next:{scene}"))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> Continue:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True, ephemeral=True)
        await interaction.followup.send("continued", ephemeral=True)


class MiniBot(discord.Client):
    def __init__(self, **options: Any) -> None:  # Any: discord.Client's keyword options
        super().__init__(intents=discord.Intents.default(), guild_ready_timeout=0.05, **options)
        self.tree = app_commands.CommandTree(self)
        self.seen: list[discord.Interaction] = []
        self.references: list[bytes] = []
        _add_commands(self)

    async def setup_hook(self) -> None:
        self.add_dynamic_items(Regenerate, Continue)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        self.seen.append(interaction)


class ShardedMiniBot(MiniBot, discord.AutoShardedClient):
    """MiniBot on discord.py's AutoShardedClient: `shard_ids=[…], shard_count=n`."""

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """discord.py waits 5 s before every IDENTIFY but a process's first; these tests run
        one shard per client, and say themselves when the next may identify."""


def _add_commands(bot: MiniBot) -> None:
    story = app_commands.Group(name="story", description="Stories")

    @story.command(name="start", description="Start a story")
    async def start(
        interaction: discord.Interaction, premise: str, reference: discord.Attachment | None = None
    ) -> None:
        await interaction.response.defer(thinking=True)
        if reference is not None:
            bot.references.append(await reference.read())
        embed = discord.Embed(title="Scene 1", description=premise)
        embed.set_image(url="attachment://scene.png")
        view = discord.ui.View(timeout=None)
        view.add_item(Regenerate(1))
        view.add_item(Continue(1))
        await interaction.edit_original_response(
            embed=embed, attachments=[picture("scene.png")], view=view
        )

    @story.command(name="refuse", description="Always says no")
    async def refuse(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("not allowed", ephemeral=True)

    settings = app_commands.Group(name="settings", description="Settings")

    @settings.command(name="model", description="Default model")
    async def model(interaction: discord.Interaction, model: str) -> None:
        await interaction.response.send_message(f"model={model}")

    @model.autocomplete("model")
    async def model_choices(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        found = [m for m in MODELS if current.lower() in m.lower()]
        return [app_commands.Choice(name=m.upper(), value=m) for m in found[:25]]

    admin = app_commands.Group(name="admin", description="Operators")
    tier = app_commands.Group(name="tier", description="Tiers", parent=admin)

    @tier.command(name="set", description="Set the tier")
    @app_commands.choices(
        tier=[app_commands.Choice(name=t.title(), value=t) for t in ("free", "standard", "premium")]
    )
    async def set_tier(interaction: discord.Interaction, tier: app_commands.Choice[str]) -> None:
        await interaction.response.send_message(f"tier={tier.value}", ephemeral=True)

    @app_commands.command(name="ping", description="Pong")
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong")

    @app_commands.command(name="picture", description="A picture, then a caption")
    async def picture_command(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("here", file=picture("p.png"))
        original = await interaction.original_response()
        await original.edit(content="here it is")

    commands: list[app_commands.Command[Any, ..., Any] | app_commands.Group] = [
        story,
        settings,
        admin,
        ping,
        picture_command,
    ]
    for command in commands:
        bot.tree.add_command(command)
