"""/models and /usage: what this server may use, and how much it used today."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.render import EMBED_COLOUR, model_line, usage_embed
from bot.respond import Interaction
from storage import UsageKind

if TYPE_CHECKING:
    from bot.app import StoryBot


@app_commands.guild_only()
class InfoCog(commands.Cog):
    def __init__(self, bot: StoryBot) -> None:
        self.bot = bot

    @app_commands.command(name="models", description="The image models this server may use")
    async def models(self, interaction: Interaction) -> None:
        policy = self.bot.services.policy
        guild_id = interaction.guild_id or 0
        specs = await policy.allowed(guild_id)
        tier = await policy.tier(guild_id)
        lines = [model_line(spec) for spec in specs] or ["No model is available right now."]
        embed = discord.Embed(
            title=f"Image models on the {tier.name} tier",
            description="\n".join(lines),
            colour=EMBED_COLOUR,
        )
        embed.set_footer(text="Cost: $ cheapest · $$ · $$$ dearest")
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="usage", description="This server's use today and its quotas")
    async def usage(self, interaction: Interaction) -> None:
        services = self.bot.services
        guild_id = interaction.guild_id or 0
        tier = await services.policy.tier(guild_id)
        summary = await services.storage.usage.summary_today(guild_id)
        mine = await services.storage.usage.count_today(
            guild_id, UsageKind.SCENE, member_id=interaction.user.id
        )
        embed = usage_embed(summary, tier, mine)
        await interaction.response.send_message(embed=embed, ephemeral=True)
