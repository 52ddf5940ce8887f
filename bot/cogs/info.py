"""/models and /usage: what this server may use, and how much it used today."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.render import EMBED_COLOUR, help_embed, model_line, usage_embed
from bot.respond import Interaction

if TYPE_CHECKING:
    from bot.app import StoryBot


def usable_commands(
    tree: app_commands.CommandTree[StoryBot], *, manager: bool, operator: bool
) -> list[tuple[str, str]]:
    """Every command and subcommand a member may run here, by the `who` of its extras
    ("manager": Manage Server, "operator": OWNER_IDS; anyone otherwise)."""
    allowed = {None, *(["manager"] if manager else []), *(["operator"] if operator else [])}
    found = []
    for command in tree.get_commands():
        subcommands = command.commands if isinstance(command, app_commands.Group) else [command]
        for sub in subcommands:
            if isinstance(sub, app_commands.Command) and sub.extras.get("who") in allowed:
                found.append((sub.qualified_name, sub.description))
    return found


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
        lines = [model_line(spec, tier, policy.shutdown_note(spec)) for spec in specs] or [
            "No model is available right now."
        ]
        embed = discord.Embed(
            title=f"Image models on the {tier.name} tier",
            description="\n".join(lines),
            colour=EMBED_COLOUR,
        )
        embed.set_footer(text="Cost: $ cheapest · $$ · $$$ dearest")
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="help", description="What StoryBot does and what you can do here")
    async def help(self, interaction: Interaction) -> None:
        services = self.bot.services
        guild_id = interaction.guild_id or 0
        usable = usable_commands(
            self.bot.tree,
            manager=interaction.permissions.manage_guild,
            operator=services.policy.is_operator(interaction.user.id),
        )
        now = await services.standings.standing(guild_id, interaction.user.id)
        await interaction.response.send_message(embed=help_embed(usable, now), ephemeral=True)

    @app_commands.command(name="usage", description="This server's use today and its quotas")
    async def usage(self, interaction: Interaction) -> None:
        standings = self.bot.services.standings
        today = await standings.usage(interaction.guild_id or 0, interaction.user.id)
        embed = usage_embed(today.summary, today.tier, today.member_scenes)
        await interaction.response.send_message(embed=embed, ephemeral=True)
